//! `iobench compare BASE NEW`: per matching cell, the ratio of throughput and of p99 with a
//! verdict that accounts for noise, and whether the change is a regression worth failing CI.

use super::cells::{self, Cell, Group, Spread, cell_key};
use crate::result::Results;

/// A noise band is never narrower than this, even when repeats happened to agree closely.
pub const MIN_BAND: f64 = 0.05;

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
    pub fn text(self) -> &'static str {
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
    pub workload: String,
    pub backend: String,
    pub base: Spread,
    pub new: Spread,
    /// new ÷ base throughput: above 1 is faster.
    pub ratio: f64,
    /// The fraction either way that counts as noise for this cell.
    pub band: f64,
    /// True when neither side had repeats and the default band was used.
    pub default_band: bool,
    pub verdict: Verdict,
    pub p99_ratio: f64,
    /// For p99, "faster" means lower latency.
    pub p99_verdict: Verdict,
    pub regression: bool,
}

pub struct Comparison {
    pub rows: Vec<Row>,
    /// Cells measured on one side only: (side, workload, backend).
    pub unmatched: Vec<(&'static str, String, String)>,
    pub options: Options,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.rows.iter().filter(|r| r.regression).count()
    }
    fn count(&self, v: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == v).count()
    }
}

/// The band for two spreads: the wider relative range of the sides that have repeats.
fn band(a: &Spread, b: &Spread, opts: &Options) -> (f64, bool) {
    let measured = [a, b].iter().filter(|s| s.n > 1).map(|s| s.rel_range()).fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))));
    match measured {
        Some(r) => (r.max(MIN_BAND), false),
        None => (opts.noise, true),
    }
}

fn verdict(ratio: f64, band: f64) -> Verdict {
    if ratio > 1.0 + band {
        Verdict::Faster
    } else if ratio < 1.0 - band {
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
            .flat_map(|g| g.cells.iter().filter(|c| c.is_measured()).map(move |c| (cell_key(c.plan), g.label.clone(), c.backend.clone())))
            .collect()
    };
    let cell_of = |groups: &'_ [Group<'_>], key: &str| -> Option<(Spread, Spread)> {
        groups
            .iter()
            .flat_map(|g| g.cells.iter().map(move |c| (g.metric, c)))
            .find(|(_, c)| c.is_measured() && cell_key(c.plan) == key)
            .map(|(m, c): (_, &Cell)| (c.throughput(m), c.p99))
    };
    let base_cells = measured(&base_groups);
    let new_cells = measured(&new_groups);
    let mut rows = Vec::new();
    let mut unmatched = Vec::new();
    for (key, workload, backend) in &base_cells {
        let (Some((b, bp99)), Some((n, np99))) = (cell_of(&base_groups, key), cell_of(&new_groups, key)) else {
            unmatched.push(("base only", workload.clone(), backend.clone()));
            continue;
        };
        let ratio = if b.median > 0.0 { n.median / b.median } else { 1.0 };
        let (band_t, default_band) = band(&b, &n, &options);
        let verdict = verdict(ratio, band_t);
        let p99_ratio = if bp99.median > 0.0 { np99.median / bp99.median } else { 1.0 };
        let (band_l, _) = band(&bp99, &np99, &options);
        // Lower latency is better: invert so that "faster" means the same thing for both.
        let p99_verdict = verdict_inverse(p99_ratio, band_l);
        let regression = verdict == Verdict::Slower && 1.0 - ratio > options.fail_above;
        rows.push(Row {
            workload: workload.clone(),
            backend: backend.clone(),
            base: b,
            new: n,
            ratio,
            band: band_t,
            default_band,
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
    Comparison { rows, unmatched, options }
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
    let rows: Vec<Vec<String>> = c
        .rows
        .iter()
        .map(|r| {
            let unit = if r.base.median >= 1e6 { 1e6 } else { 1e3 };
            let fmt = |s: &Spread| if unit == 1e6 { format!("{:.2}M", s.median / unit) } else { format!("{:.1}K", s.median / unit) };
            let mut verdict = r.verdict.text().to_string();
            if r.regression {
                verdict.push_str(" (REGRESSION)");
            }
            vec![
                r.workload.clone(),
                r.backend.clone(),
                fmt(&r.base),
                fmt(&r.new),
                format!("{:.3}", r.ratio),
                format!("±{:.0}%{}", r.band * 100.0, if r.default_band { "*" } else { "" }),
                verdict,
                format!("{:.3}", r.p99_ratio),
                r.p99_verdict.text().replace("faster", "better").replace("slower", "worse"),
            ]
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i < 2 || i == 6 || i == 8 { s.push_str(&format!("{c:<w$}  ")) } else { s.push_str(&format!("{c:>w$}  ")) }
        }
        s.trim_end().to_string() + "\n"
    };
    out.push_str(&line(headers.to_vec()));
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out.push_str("\nThroughput is the workload's figure (IOPS for blocks under 128k, else bytes/s); ratio = new ÷ base.\n");
    if c.rows.iter().any(|r| r.default_band) {
        out.push_str(&format!(
            "* one run per side, so the spread is unknown: a default band of ±{:.0}% was used (--noise); \
             set repeat = 3 in the suite for a verdict from the measured spread.\n",
            c.options.noise * 100.0
        ));
    }
    if c.rows.iter().any(|r| !r.default_band) {
        out.push_str(&format!(
            "Bands from repeats are the wider min..max range of either side (at least ±{:.0}%).\n",
            MIN_BAND * 100.0
        ));
    }
    for (side, w, b) in &c.unmatched {
        out.push_str(&format!("not compared ({side}): {w} on {b}\n"));
    }
    out.push_str(&format!("\n{}\n", summary(c)));
    out
}

/// One line: counts, and the overall verdict.
pub fn summary(c: &Comparison) -> String {
    let (faster, slower, same) = (c.count(Verdict::Faster), c.count(Verdict::Slower), c.count(Verdict::WithinNoise));
    let overall = if c.rows.is_empty() {
        "nothing to compare: no cell was measured in both (same workload, parameters and backend)".to_string()
    } else if c.regressions() > 0 {
        format!("REGRESSION: {} cell(s) slower by more than {:.0}% beyond noise", c.regressions(), c.options.fail_above * 100.0)
    } else if faster == 0 && slower == 0 {
        "within noise".to_string()
    } else {
        format!("{faster} faster, {slower} slower beyond noise; no regression above {:.0}%", c.options.fail_above * 100.0)
    };
    format!("{} cells: {same} within noise, {faster} faster, {slower} slower. Overall: {overall}", c.rows.len())
}

/// `5%`, `5` or `0.05` → 0.05. `flag` names the option in the error.
pub fn parse_fraction(flag: &str, text: &str) -> crate::error::Result<f64> {
    let t = text.trim();
    let (number, pct) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), true),
        None => (t, false),
    };
    let v: f64 = number
        .parse()
        .map_err(|_| crate::error::Error::invalid(flag, format!("'{text}' is not a percentage (examples: 5%, 10%)")))?;
    // A bare number above 1 can only mean percent.
    let v = if pct || v > 1.0 { v / 100.0 } else { v };
    if !(0.0..1.0).contains(&v) || !v.is_finite() {
        return Err(crate::error::Error::invalid(flag, format!("'{text}' must be from 0% to below 100%")));
    }
    Ok(v)
}
