//! From runs to cells: runs of the same workload on the same backend (repeats, or the same
//! cell from several results files) form one cell with a median and a spread; cells of the
//! same workload form a group, which the ranking tables and plots compare.

use crate::base::stats::{self, Hist};
use crate::result::{RunResult, RunStatus};
use crate::workload::plan::Plan;
use serde_json::{Map, Value};

/// Median and spread of one figure over a cell's runs.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spread {
    pub n: usize,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    /// Median absolute deviation from the median.
    pub mad: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Spread {
        if values.is_empty() {
            return Spread::default();
        }
        let median = median(values);
        let deviations: Vec<f64> = values.iter().map(|v| (v - median).abs()).collect();
        Spread {
            n: values.len(),
            median,
            min: values.iter().copied().fold(f64::INFINITY, f64::min),
            max: values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mad: median_of(deviations),
        }
    }

    /// (max − min) ÷ median: 0.12 means the repeats span 12% of the median.
    pub fn rel_range(&self) -> f64 {
        if self.median > 0.0 { (self.max - self.min) / self.median } else { 0.0 }
    }

    /// The standard deviation of one run's figure, relative (on a log scale), estimated from
    /// the repeats: range ÷ d2(n) for up to five (d2: the expected range of n normal draws, in
    /// σ), 1.4826 × MAD ÷ median beyond. `None` without repeats.
    pub(crate) fn rel_sigma(&self) -> Option<f64> {
        // Hartley's d2 for n = 2..=5.
        const D2: [f64; 4] = [1.128, 1.693, 2.059, 2.326];
        match self.n {
            0 | 1 => None,
            n if n <= 5 => Some(if self.min > 0.0 { (self.max / self.min).ln() / D2[n - 2] } else { 0.0 }),
            _ => Some(if self.median > 0.0 { 1.4826 * self.mad / self.median } else { 0.0 }),
        }
    }
}

pub(crate) fn median(values: &[f64]) -> f64 {
    median_of(values.to_vec())
}

fn median_of(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 { v[mid] } else { (v[mid - 1] + v[mid]) / 2.0 }
}

/// Which throughput figure a workload is judged by: operations for small blocks, bytes for large;
/// records/s for record updates (one op = one update) and GB/s for log scans (one op = one whole
/// scan, so an op rate would mean little).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Iops,
    Bandwidth,
    /// rw = records / seqrecords: updates per second (the raw figure is ops/s).
    Records,
    /// rw = scan: bytes scanned per second, shown as GB/s.
    Scan,
}

impl Metric {
    pub(crate) fn for_bs(bs_bytes: u64) -> Metric {
        if bs_bytes < 128 * 1024 { Metric::Iops } else { Metric::Bandwidth }
    }
    /// The figure of a plan's kind: records/s, scan GB/s, or by block size.
    pub(crate) fn for_plan(plan: &Plan) -> Metric {
        match plan.rw {
            crate::workload::plan::Rw::Scan => Metric::Scan,
            rw if rw.is_records() => Metric::Records,
            _ => Metric::for_bs(plan.bs_bytes),
        }
    }
    /// True when the raw figure is operations per second, false when bytes per second.
    pub(crate) fn counts_ops(self) -> bool {
        matches!(self, Metric::Iops | Metric::Records)
    }
    pub(crate) fn axis(self) -> &'static str {
        match self {
            Metric::Iops => "throughput (K IOPS)",
            Metric::Bandwidth => "throughput (MB/s)",
            Metric::Records => "record updates (K records/s)",
            Metric::Scan => "scan rate (GB/s)",
        }
    }
    /// The column heading of the figure in ranking tables.
    pub(crate) fn heading(self) -> &'static str {
        match self {
            Metric::Iops => "K IOPS",
            Metric::Bandwidth => "MB/s",
            Metric::Records => "K records/s",
            Metric::Scan => "GB/s",
        }
    }
    /// Converts a raw figure (ops/s or bytes/s) to the unit the axis shows.
    pub(crate) fn scale(self, v: f64) -> f64 {
        match self {
            Metric::Iops | Metric::Records => v / 1e3,
            Metric::Bandwidth => v / 1e6,
            Metric::Scan => v / 1e9,
        }
    }
    /// What one latency sample times, for plot titles: `` (per update)``, or nothing for blocks.
    pub(crate) fn per_op(self) -> &'static str {
        match self {
            Metric::Records => " (per update)",
            Metric::Scan => " (per whole scan)",
            _ => "",
        }
    }
    /// A scaled figure as a table cell: GB/s needs two decimals, the others one.
    pub fn cell(self, v: f64) -> String {
        match self {
            Metric::Scan => format!("{:.2}", self.scale(v)),
            _ => format!("{:.1}", self.scale(v)),
        }
    }
    pub(crate) fn format(self, v: f64) -> String {
        match self {
            Metric::Iops => format!("{:.1}K IOPS", v / 1e3),
            Metric::Bandwidth => format!("{:.0} MB/s", v / 1e6),
            Metric::Records => format!("{:.1}K records/s", v / 1e3),
            Metric::Scan => format!("{:.2} GB/s", v / 1e9),
        }
    }
}

/// One workload on one backend: all its runs.
pub struct Cell<'a> {
    pub(crate) backend: String,
    /// What sets this cell apart from others of its workload besides the backend
    /// (`QD32`, `advice=random`); empty when only the backend differs.
    pub(crate) variant: String,
    pub(crate) plan: &'a Plan,
    pub(crate) ok: Vec<&'a RunResult>,
    pub(crate) not_ok: Vec<&'a RunResult>,
    pub(crate) iops: Spread,
    pub(crate) bw: Spread,
    pub(crate) p50: Spread,
    pub(crate) p99: Spread,
    pub(crate) cpu_s_per_gb: Spread,
    pub(crate) majflt_per_gb: Spread,
    /// Every ok run's latencies, merged exactly.
    pub(crate) hist: Hist,
}

impl<'a> Cell<'a> {
    fn new(runs: Vec<&'a RunResult>) -> Cell<'a> {
        let (ok, not_ok): (Vec<&RunResult>, Vec<&RunResult>) =
            runs.iter().partition(|r| r.status == RunStatus::Ok && r.measured.is_some());
        let figures = |f: &dyn Fn(&crate::result::Measured) -> f64| -> Spread {
            Spread::of(&ok.iter().filter_map(|r: &&RunResult| r.measured.as_ref()).map(f).collect::<Vec<_>>())
        };
        let mut hist = stats::new_hist();
        for m in ok.iter().filter_map(|r| r.measured.as_ref()) {
            if let Ok(h) = stats::decode(&m.latency_histogram) {
                stats::merge(&mut hist, &h);
            }
        }
        let per_gb = |count: u64, bytes: u64| if bytes == 0 { 0.0 } else { count as f64 / (bytes as f64 / 1e9) };
        Cell {
            backend: runs[0].backend.clone(),
            variant: String::new(),
            plan: &runs[0].workload,
            iops: figures(&|m| m.iops),
            bw: figures(&|m| m.bw_bytes_per_s),
            p50: figures(&|m| m.latency_ns.p50 as f64),
            p99: figures(&|m| m.latency_ns.p99 as f64),
            cpu_s_per_gb: figures(&|m| m.cpu_s_per_gb()),
            majflt_per_gb: figures(&|m| per_gb(m.faults.major, m.bytes)),
            ok,
            not_ok,
            hist,
        }
    }

    /// The throughput figure `metric` judges, raw (IOPS or bytes/s).
    pub fn throughput(&self, metric: Metric) -> Spread {
        if metric.counts_ops() { self.iops } else { self.bw }
    }

    /// Scans: the median over the ok runs of lines counted per second.
    pub(crate) fn lines_per_s(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .ok
            .iter()
            .filter_map(|r| match r.measured.as_ref()?.pattern.as_ref()? {
                crate::result::patterns::PatternFigures::Scan { lines_per_s, .. } => Some(*lines_per_s),
                _ => None,
            })
            .collect();
        (!v.is_empty()).then(|| median(&v))
    }

    /// The ok run whose throughput is closest to the median: the one whose time series is shown.
    pub(crate) fn median_run(&self) -> Option<&'a RunResult> {
        let target = self.bw.median;
        self.ok.iter().copied().min_by(|a, b| {
            let d = |r: &RunResult| r.measured.as_ref().map(|m| (m.bw_bytes_per_s - target).abs()).unwrap_or(f64::MAX);
            d(a).total_cmp(&d(b))
        })
    }

    /// The backend and the variant: `uring QD32`.
    pub fn label(&self) -> String {
        if self.variant.is_empty() { self.backend.clone() } else { format!("{} {}", self.backend, self.variant) }
    }

    /// The null backend moves no data: its figures are the harness's own cost.
    pub(crate) fn is_null(&self) -> bool {
        self.backend == "null"
    }

    /// At least one run completed.
    pub fn is_measured(&self) -> bool {
        !self.ok.is_empty()
    }
}

/// Cells of one workload: every cell expanded from the same named workload (the backend and
/// any listed parameter vary), so a ranking compares everything the user asked to compare.
pub struct Group<'a> {
    pub label: String,
    pub plan: &'a Plan,
    pub metric: Metric,
    /// Plan keys (flattened) whose values differ between the cells.
    pub(crate) varying: Vec<String>,
    pub cells: Vec<Cell<'a>>,
}

impl Group<'_> {
    /// Measured cells that move data, best throughput first. The null backend is left out:
    /// it is the harness's floor, not a contender (see `floor`).
    pub fn ranked(&self) -> Vec<&Cell<'_>> {
        let mut cells: Vec<&Cell> = self.cells.iter().filter(|c| c.is_measured() && !c.is_null()).collect();
        cells.sort_by(|a, b| b.throughput(self.metric).median.total_cmp(&a.throughput(self.metric).median));
        cells
    }

    /// The null backend's cells: what the harness alone achieves on this workload.
    pub(crate) fn floor(&self) -> Vec<&Cell<'_>> {
        self.cells.iter().filter(|c| c.is_measured() && c.is_null()).collect()
    }

    /// True when some cell differs from another in more than its backend.
    pub(crate) fn has_variants(&self) -> bool {
        self.cells.iter().any(|c| !c.variant.is_empty())
    }
}

/// A plan as JSON without the keys named, for grouping (the data directory never matters).
pub(crate) fn plan_key(plan: &Plan, without: &[&str]) -> Map<String, Value> {
    let mut map = match serde_json::to_value(plan) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    map.remove("dir");
    for k in without {
        map.remove(*k);
    }
    map
}

/// A plan's settings as one flat map: nested option tables (`tuning`, `uring`) contribute
/// their own keys, and unset (null) settings are left out.
pub(crate) fn flat_key(plan: &Plan) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in plan_key(plan, &["name", "backend"]) {
        match v {
            Value::Object(inner) if !inner.contains_key("kind") => {
                out.extend(inner.into_iter().filter(|(_, v)| !v.is_null()));
            }
            Value::Null => {}
            v => {
                out.insert(k, v);
            }
        }
    }
    out
}

/// The identity of a cell: workload name, every parameter and the backend.
pub fn cell_key(plan: &Plan) -> String {
    Value::Object(plan_key(plan, &[])).to_string()
}

/// Groups runs into workloads by name (in first-seen order) and cells (in run order).
pub fn group(runs: &[RunResult]) -> Vec<Group<'_>> {
    // (workload name, [(cell key, runs)]) in first-seen order.
    type Cells<'r> = Vec<(String, Vec<&'r RunResult>)>;
    let mut groups: Vec<(String, Cells<'_>)> = Vec::new();
    for run in runs {
        let name = run.workload.name.clone();
        let ckey = cell_key(&run.workload);
        let gi = match groups.iter().position(|(k, _)| *k == name) {
            Some(i) => i,
            None => {
                groups.push((name, Vec::new()));
                groups.len() - 1
            }
        };
        let cells = &mut groups[gi].1;
        match cells.iter_mut().find(|(k, _)| *k == ckey) {
            Some((_, v)) => v.push(run),
            None => cells.push((ckey, vec![run])),
        }
    }
    groups
        .into_iter()
        .map(|(name, cells)| {
            let mut cells: Vec<Cell> = cells.into_iter().map(|(_, runs)| Cell::new(runs)).collect();
            let varying = set_variants(&mut cells);
            let plan = cells[0].plan;
            let same_bs = cells.iter().all(|c| c.plan.bs_bytes == plan.bs_bytes);
            // Records and scans have their own figure; blocks of mixed sizes compare by bytes/s.
            let pattern = |p: &Plan| Some(Metric::for_plan(p)).filter(|m| matches!(m, Metric::Records | Metric::Scan));
            let same_kind = cells.iter().all(|c| pattern(c.plan) == pattern(plan));
            let metric = match pattern(plan) {
                Some(m) if same_kind => m,
                None if same_kind && same_bs => Metric::for_bs(plan.bs_bytes),
                _ => Metric::Bandwidth,
            };
            Group { label: name, plan, metric, varying, cells }
        })
        .collect()
}

/// Names each cell's settings that vary within its group; returns the varying keys.
fn set_variants(cells: &mut [Cell<'_>]) -> Vec<String> {
    let keys: Vec<Map<String, Value>> = cells.iter().map(|c| flat_key(c.plan)).collect();
    let mut varying: Vec<String> = Vec::new();
    for k in keys.iter().flat_map(|m| m.keys()) {
        if varying.contains(k) {
            continue;
        }
        // A setting only some backends have (io_uring options) varies only if its values differ.
        let mut values: Vec<&Value> = keys.iter().filter_map(|m| m.get(k)).collect();
        values.dedup();
        if values.iter().any(|v| *v != values[0]) {
            varying.push(k.clone());
        }
    }
    for (cell, key) in cells.iter_mut().zip(&keys) {
        let parts: Vec<String> = varying
            .iter()
            .filter_map(|k| {
                let text = format_value(k, key.get(k)?);
                Some(match k.as_str() {
                    "iodepth" => format!("QD{text}"),
                    "threads" => format!("{text} threads"),
                    "bs_bytes" => text,
                    _ => format!("{}={text}", short_key(k)),
                })
            })
            .collect();
        cell.variant = parts.join(" ");
    }
    varying
}

/// `bs_bytes` → `bs`, `runtime_ns` → `runtime`.
pub(crate) fn short_key(key: &str) -> &str {
    ["_bytes", "_ns", "_pct"].iter().find_map(|s| key.strip_suffix(s)).unwrap_or(key)
}

/// A plan value as a user writes it: `4k`, `2s`, `fdatasync:64`, `zipf:1.2`.
pub(crate) fn format_value(key: &str, v: &Value) -> String {
    match v {
        Value::Number(n) if key.ends_with("_bytes") => {
            n.as_u64().map(crate::base::units::format_size).unwrap_or_default()
        }
        Value::Number(n) if key.ends_with("_ns") => {
            n.as_u64().map(|ns| crate::base::units::format_ns(ns as f64)).unwrap_or_default()
        }
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
            let rest: Vec<String> = o.iter().filter(|(k, _)| *k != "kind").map(|(_, v)| format_value("", v)).collect();
            if rest.is_empty() { kind.to_string() } else { format!("{kind}:{}", rest.join(":")) }
        }
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// A short description of a plan's shape: `randread 4k cold`, with depth and threads when above 1.
pub(crate) fn describe(plan: &Plan, without: &[&str]) -> String {
    let mut parts = Vec::new();
    let key = plan_key(plan, &[]);
    for k in ["rw", "bs_bytes", "iodepth", "threads", "cache", "durability", "consume"] {
        if without.contains(&k) {
            continue;
        }
        let Some(v) = key.get(k) else { continue };
        let text = format_value(k, v);
        match k {
            "iodepth" | "threads" if text == "1" => {}
            "durability" if text == "none" => {}
            "consume" if text == "sum" => {}
            "consume" => parts.push(format!("consume={text}")),
            "iodepth" => parts.push(format!("QD{text}")),
            "threads" => parts.push(format!("{text} threads")),
            _ => parts.push(text),
        }
    }
    parts.join(" ")
}
