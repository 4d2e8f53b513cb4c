//! `iobench compare BASE NEW`: per matching cell, the ratio of throughput and of p99 with a
//! verdict that accounts for noise, and whether the change is a regression worth failing CI.

use super::cells::{self, Cell, Group, Metric, Spread, cell_key};
use crate::result::Results;

/// A noise band is never narrower than this, even when repeats happened to agree closely.
pub(crate) const MIN_BAND: f64 = 0.05;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// A throughput drop beyond noise and beyond this fraction is a regression (exit 1).
    pub fail_above: f64,
    /// Noise band for cells with a single run on both sides (their spread is unknown).
    pub noise: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options { fail_above: 0.05, noise: 0.10 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Faster,
    Slower,
    WithinNoise,
}

impl Verdict {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Verdict::Faster => "faster",
            Verdict::Slower => "slower",
            Verdict::WithinNoise => "within noise",
        }
    }
}

/// One cell present in both documents.
#[derive(Debug, Clone)]
pub struct Row {
    pub(crate) workload: String,
    pub(crate) backend: String,
    /// The figure compared: IOPS for small blocks, bytes/s for large ones.
    pub(crate) metric: Metric,
    pub(crate) base: Spread,
    pub(crate) new: Spread,
    /// new ÷ base throughput: above 1 is faster.
    pub(crate) ratio: f64,
    /// The fraction either way that counts as noise for this cell.
    pub(crate) band: f64,
    /// Where the band came from.
    pub(crate) source: BandSource,
    pub verdict: Verdict,
    pub(crate) p99_ratio: f64,
    /// For p99, "faster" means lower latency.
    pub(crate) p99_verdict: Verdict,
    pub(crate) regression: bool,
}

/// What set a cell's noise band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BandSource {
    /// 99% confidence from the spread of the cell's repeats (at least `MIN_BAND`).
    Repeats,
    /// One run per side: `Options::noise`.
    Default,
    /// One run per side, whose throughput swung more than `Options::noise` between the
    /// intervals of its own time series: 3 σ (robust) of those swings.
    Intervals,
    /// The scatter of every cell's ratio was wider: the machine's noise between the two runs.
    Scatter,
}

/// Cells needed before the scatter of their ratios is trusted as a noise estimate.
pub const MIN_CELLS_FOR_SCATTER: usize = 8;

pub struct Comparison {
    pub rows: Vec<Row>,
    /// 3 σ of the cells' throughput ratios (log scale, robust), when enough cells were compared.
    pub(crate) scatter_band: Option<f64>,
    /// Cells measured on one side only: (side, workload, backend).
    pub(crate) unmatched: Vec<(&'static str, String, String)>,
    pub(crate) options: Options,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.rows.iter().filter(|r| r.regression).count()
    }
    fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }
}

/// The band for two spreads. With repeats on either side: the 99% confidence half-width of the
/// ratio of the two medians, on a log scale: Student's t for the repeats' degrees of freedom ×
/// σ (estimated from the repeats, pooled over the sides that have them) × √(1/n_base + 1/n_new).
/// A bare min..max range would understate it: two repeats that happen to agree say little, and
/// t grows as repeats get few (9.9 for two per side, 4.6 for three, 3.4 for five). Without
/// repeats: the single runs' interval swings when wider than the default, else the default.
/// Widened to the cells' common scatter when that is larger.
fn band(a: &Spread, b: &Spread, swings: f64, opts: &Options, scatter: Option<f64>) -> (f64, BandSource) {
    let sigmas: Vec<f64> = [a, b].iter().filter_map(|s| s.rel_sigma()).collect();
    let (own, source) = if sigmas.is_empty() {
        if swings > opts.noise { (swings, BandSource::Intervals) } else { (opts.noise, BandSource::Default) }
    } else {
        let pooled = (sigmas.iter().map(|s| s * s).sum::<f64>() / sigmas.len() as f64).sqrt();
        let n = |s: &Spread| s.n.max(1) as f64;
        let df = a.n.saturating_sub(1) + b.n.saturating_sub(1);
        let log_band = t99(df) * pooled * (1.0 / n(a) + 1.0 / n(b)).sqrt();
        (log_band.exp_m1().max(MIN_BAND), BandSource::Repeats)
    };
    match scatter {
        Some(s) if s > own => (s, BandSource::Scatter),
        _ => (own, source),
    }
}

/// Student's t at 99.5% (two-sided 99%) for `df` degrees of freedom.
fn t99(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        63.657, 9.925, 5.841, 4.604, 4.032, 3.707, 3.499, 3.355, 3.250, 3.169, 3.106, 3.055, 3.012, 2.977, 2.947,
        2.921, 2.898, 2.878, 2.861, 2.845, 2.831, 2.819, 2.807, 2.797, 2.787, 2.779, 2.771, 2.763, 2.756, 2.750,
    ];
    match df {
        0 => TABLE[0],
        1..=30 => TABLE[df - 1],
        // Within 0.005 of the table up to df = 120, tending to the normal 2.576.
        _ => 2.576 + 5.2 / df as f64,
    }
}

/// Robust 3 σ of the log ratios around their median, as a fraction: how far apart two runs of
/// unchanged code land on this machine. A change confined to a minority of cells leaves it alone.
pub fn scatter(ratios: &[f64]) -> Option<f64> {
    let logs: Vec<f64> = ratios.iter().filter(|r| **r > 0.0 && r.is_finite()).map(|r| r.ln()).collect();
    if logs.len() < MIN_CELLS_FOR_SCATTER {
        return None;
    }
    let s = Spread::of(&logs);
    Some((3.0 * 1.4826 * s.mad).exp() - 1.0)
}

/// How much a single run's throughput swung between the intervals of its own time series:
/// robust 3 σ of the per-interval figures around their median, as a fraction (0 with fewer than
/// four full intervals, or with repeats, whose spread is used instead). A device that delivers
/// 2 GB/s one second and 1 GB/s the next cannot be judged on a ±10% band.
fn interval_swings(cell: &Cell, metric: Metric) -> f64 {
    let [run] = cell.ok.as_slice() else { return 0.0 };
    let Some(m) = run.measured.as_ref() else { return 0.0 };
    let points = &m.series.points;
    // The last interval is usually partial.
    let full = &points[..points.len().saturating_sub(1)];
    if full.len() < 4 {
        return 0.0;
    }
    let values: Vec<f64> =
        full.iter().map(|p| if metric.counts_ops() { p.ops as f64 } else { p.bytes as f64 }).collect();
    let s = Spread::of(&values);
    if s.median > 0.0 { 3.0 * 1.4826 * s.mad / s.median } else { 0.0 }
}

/// Symmetric on a log scale: with a 10% band, 1.10× is faster and 1/1.10× is slower.
fn verdict(ratio: f64, band: f64) -> Verdict {
    if ratio > 1.0 + band {
        Verdict::Faster
    } else if ratio < 1.0 / (1.0 + band) {
        Verdict::Slower
    } else {
        Verdict::WithinNoise
    }
}

pub fn compare(base: &Results, new: &Results, options: Options) -> Comparison {
    let base_groups = cells::group(&base.runs);
    let new_groups = cells::group(&new.runs);
    let measured = |groups: &'_ [Group<'_>]| -> Vec<(String, String, String)> {
        groups
            .iter()
            .flat_map(|g| {
                g.cells
                    .iter()
                    .filter(|c| c.is_measured())
                    .map(move |c| (cell_key(c.plan), g.label.clone(), c.backend.clone()))
            })
            .collect()
    };
    let cell_of = |groups: &'_ [Group<'_>], key: &str| -> Option<(Spread, Spread, Metric, f64)> {
        groups
            .iter()
            .flat_map(|g| g.cells.iter().map(move |c| (g.metric, c)))
            .find(|(_, c)| c.is_measured() && cell_key(c.plan) == key)
            .map(|(m, c): (_, &Cell)| (c.throughput(m), c.p99, m, interval_swings(c, m)))
    };
    let base_cells = measured(&base_groups);
    let new_cells = measured(&new_groups);
    let mut pairs = Vec::new();
    let mut unmatched = Vec::new();
    for (key, workload, backend) in &base_cells {
        match (cell_of(&base_groups, key), cell_of(&new_groups, key)) {
            (Some(b), Some(n)) => pairs.push((workload, backend, b, n)),
            _ => unmatched.push(("base only", workload.clone(), backend.clone())),
        }
    }
    let ratio = |b: &Spread, n: &Spread| if b.median > 0.0 { n.median / b.median } else { 1.0 };
    let scatter_t = scatter(&pairs.iter().map(|(_, _, b, n)| ratio(&b.0, &n.0)).collect::<Vec<_>>());
    let scatter_l = scatter(&pairs.iter().map(|(_, _, b, n)| ratio(&b.1, &n.1)).collect::<Vec<_>>());
    let mut rows = Vec::new();
    for (workload, backend, (b, bp99, metric, swings_b), (n, np99, _, swings_n)) in pairs {
        let ratio_t = ratio(&b, &n);
        let (band_t, source) = band(&b, &n, swings_b.max(swings_n), &options, scatter_t);
        let verdict = verdict(ratio_t, band_t);
        let p99_ratio = ratio(&bp99, &np99);
        let (band_l, _) = band(&bp99, &np99, 0.0, &options, scatter_l);
        // Lower latency is better: invert so that "faster" means the same thing for both.
        let p99_verdict = verdict_inverse(p99_ratio, band_l);
        let regression = verdict == Verdict::Slower && 1.0 - ratio_t > options.fail_above;
        rows.push(Row {
            workload: workload.clone(),
            backend: backend.clone(),
            metric,
            base: b,
            new: n,
            ratio: ratio_t,
            band: band_t,
            source,
            verdict,
            p99_ratio,
            p99_verdict,
            regression,
        });
    }
    for (key, workload, backend) in &new_cells {
        if !base_cells.iter().any(|(k, ..)| k == key) {
            unmatched.push(("new only", workload.clone(), backend.clone()));
        }
    }
    Comparison { rows, scatter_band: scatter_t, unmatched, options }
}

fn verdict_inverse(ratio: f64, band: f64) -> Verdict {
    match verdict(ratio, band) {
        Verdict::Faster => Verdict::Slower,
        Verdict::Slower => Verdict::Faster,
        v => v,
    }
}

/// The comparison as terminal text, ending with a one-line summary.
pub fn render_text(c: &Comparison, base_name: &str, new_name: &str) -> String {
    let mut out = format!("base: {base_name}\nnew:  {new_name}\n\n");
    let headers = ["workload", "backend", "base", "new", "ratio", "noise", "verdict", "p99 ratio", "p99 verdict"];
    let rows: Vec<Vec<String>> = c.rows.iter().map(row_cells).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i < 2 || i == 6 || i == 8 {
                s.push_str(&format!("{c:<w$}  "))
            } else {
                s.push_str(&format!("{c:>w$}  "))
            }
        }
        s.trim_end().to_string() + "\n"
    };
    out.push_str(&line(headers.to_vec()));
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push_str(&footnotes(c));
    for (side, w, b) in &c.unmatched {
        out.push_str(&format!("not compared ({side}): {w} on {b}\n"));
    }
    out.push_str(&format!("\n{}\n", summary(c)));
    out
}

/// One row of the comparison table, as its cells.
fn row_cells(r: &Row) -> Vec<String> {
    let fmt = |s: &Spread| r.metric.format(s.median);
    let mut verdict = r.verdict.text().to_string();
    if r.regression {
        verdict.push_str(" (REGRESSION)");
    }
    let mark = match r.source {
        BandSource::Repeats => "",
        BandSource::Default => "*",
        BandSource::Intervals => "†",
        BandSource::Scatter => "~",
    };
    vec![
        r.workload.clone(),
        r.backend.clone(),
        fmt(&r.base),
        fmt(&r.new),
        format!("{:.3}", r.ratio),
        format!("±{:.0}%{mark}", r.band * 100.0),
        verdict,
        format!("{:.3}", r.p99_ratio),
        r.p99_verdict.text().replace("faster", "better").replace("slower", "worse"),
    ]
}

/// What the figures and the marks of the noise column mean.
fn footnotes(c: &Comparison) -> String {
    let mut out = String::from(
        "\nThroughput is the workload's figure (IOPS for blocks under 128k, else bytes/s; records/s for record updates, GB/s for scans); ratio = new ÷ base.\n",
    );
    let single = c.rows.iter().any(|r| r.base.n < 2 && r.new.n < 2);
    if single {
        out.push_str(&format!(
            "* one run per side, so the spread is unknown: a default band of ±{:.0}% was used (--noise); \
             set repeat = 3 in the suite for a verdict from the measured spread.\n\
             † one run per side whose throughput swung more than that between its own time-series intervals: \
             the band is 3 σ of those swings.\n",
            c.options.noise * 100.0
        ));
    }
    if c.rows.iter().any(|r| r.base.n > 1 || r.new.n > 1) {
        out.push_str(&format!(
            "Bands from repeats are the 99% confidence interval of the ratio of medians (Student's t on the repeats' spread, \
             at least ±{:.0}%): with few repeats they are wide, so raise repeat to see smaller changes.\n",
            MIN_BAND * 100.0
        ));
    }
    if let Some(s) = c.scatter_band {
        out.push_str(&format!(
            "~ the {} cells' ratios scatter by ±{:.0}% (3 σ, robust): that is how far apart these two runs land \
             for unchanged code, so no cell is judged on a narrower band.\n",
            c.rows.len(),
            s * 100.0
        ));
        if s > 0.25 {
            out.push_str(
                "  The machine was noisy between these runs: rerun both on an idle machine, or with repeat = 3.\n",
            );
        }
    }
    out
}

/// How many of `cells` unchanged cells may land beyond their 99% bands by chance: the 95th
/// percentile of a Poisson count with mean 1% of the cells (0 for up to 5 cells, 1 up to 35,
/// 2 up to 81).
pub(crate) fn chance_calls(cells: usize) -> usize {
    let mean = 0.01 * cells as f64;
    let (mut k, mut term) = (0usize, (-mean).exp());
    let mut total = term;
    while total < 0.95 {
        k += 1;
        term *= mean / k as f64;
        total += term;
    }
    k
}

/// One line: counts, and the overall verdict.
pub(crate) fn summary(c: &Comparison) -> String {
    let (faster, slower, same) = (c.count(Verdict::Faster), c.count(Verdict::Slower), c.count(Verdict::WithinNoise));
    let overall = if c.rows.is_empty() {
        "nothing to compare: no cell was measured in both (same workload, parameters and backend)".to_string()
    } else if c.regressions() > 0 {
        format!(
            "REGRESSION: {} cell(s) slower by more than {:.0}% beyond noise",
            c.regressions(),
            c.options.fail_above * 100.0
        )
    } else if faster == 0 && slower == 0 {
        "within noise".to_string()
    } else if faster + slower <= chance_calls(c.rows.len()) {
        format!(
            "within noise: {} of {} cells beyond a 99% band is what chance alone gives (up to {} at this many \
             cells, in 19 of 20 comparisons of unchanged code); rerun to see whether it stays",
            faster + slower,
            c.rows.len(),
            chance_calls(c.rows.len())
        )
    } else {
        format!(
            "{faster} faster, {slower} slower beyond noise; no regression above {:.0}%",
            c.options.fail_above * 100.0
        )
    };
    format!("{} cells: {same} within noise, {faster} faster, {slower} slower. Overall: {overall}", c.rows.len())
}

/// `5%`, `5` or `0.05` → 0.05. `flag` names the option in the error.
pub fn parse_fraction(flag: &str, text: &str) -> crate::base::error::Result<f64> {
    let t = text.trim();
    let (number, pct) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let v: f64 = number.parse().map_err(|_| {
        crate::base::error::Error::invalid(flag, format!("'{text}' is not a percentage (examples: 5%, 10%)"))
    })?;
    // A bare number above 1 can only mean percent.
    let v = if pct || v > 1.0 { v / 100.0 } else { v };
    if !(0.0..1.0).contains(&v) || !v.is_finite() {
        return Err(crate::base::error::Error::invalid(flag, format!("'{text}' must be from 0% to below 100%")));
    }
    Ok(v)
}
