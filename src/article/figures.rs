//! Picking runs out of a results document and reducing them to the figures the rules compare:
//! a `Cell` is every run of one configuration (repeats included), summarized by its median and
//! the spread of its repeats. Cold read cells pass the anomaly guard first (`guard`): the runs
//! it leaves out count nowhere, and the cell says why.

use super::guard::{self, Decision};
use crate::report::cells::Spread;
use crate::result::{Measured, Results, RunResult, RunStatus};
use crate::workload::plan::Plan;
use serde_json::Value;

/// Two figures differ only if they differ by more than this share, whatever the repeats say
/// (the machine is noisy: ±15% between single runs is common).
pub(crate) const NOISE_FLOOR: f64 = 0.10;

/// The runs of one configuration.
#[derive(Debug, Clone, Default)]
pub struct Cell<'a> {
    pub(crate) runs: Vec<&'a RunResult>,
    /// What the anomaly guard kept and why it left runs out.
    pub guard: Decision,
}

impl<'a> Cell<'a> {
    /// Runs of workload `name` whose plan matches `pred`, in document order.
    pub fn select(results: &'a Results, name: &str, pred: impl Fn(&Plan) -> bool) -> Cell<'a> {
        let runs: Vec<&RunResult> =
            results.runs.iter().filter(|r| r.workload.name == name && pred(&r.workload)).collect();
        let guard = guard::decide(&runs);
        Cell { runs, guard }
    }

    /// Completed runs the guard kept.
    pub fn ok(&self) -> impl Iterator<Item = &'a Measured> + '_ {
        self.runs
            .iter()
            .enumerate()
            .filter(|(i, r)| r.status == RunStatus::Ok && self.guard.keep.get(*i).copied().unwrap_or(true))
            .filter_map(|(_, r)| r.measured.as_ref())
    }

    /// The guard's reasons on one line, if it left anything out.
    pub fn guard_note(&self) -> Option<String> {
        (!self.guard.reasons.is_empty()).then(|| self.guard.reasons.join("; "))
    }

    /// The highest steal time (percent of the machine's CPU) of its completed runs.
    pub(crate) fn steal_max(&self) -> Option<f64> {
        self.runs.iter().filter_map(|r| r.measured.as_ref()?.evidence.steal_pct).reduce(f64::max)
    }

    pub fn is_measured(&self) -> bool {
        self.ok().next().is_some()
    }

    /// Median and spread of `f` over the cell's completed runs.
    pub(crate) fn spread(&self, f: impl Fn(&Measured) -> f64) -> Spread {
        let values: Vec<f64> = self.ok().map(f).collect();
        Spread::of(&values)
    }

    /// Median of `f`, or None if no run completed.
    pub(crate) fn median(&self, f: impl Fn(&Measured) -> f64) -> Option<f64> {
        self.is_measured().then(|| self.spread(f).median)
    }

    /// Why the cell has no figures: the first failure or skip reason.
    pub(crate) fn why_missing(&self) -> String {
        if self.guard.whole_cell {
            return format!("left out by the anomaly guard: {}", self.guard.short);
        }
        match self.runs.iter().find(|r| r.status != RunStatus::Ok) {
            Some(r) => format!("{} {}", status_word(r.status), r.reason.as_deref().unwrap_or("without a reason")),
            None if self.runs.is_empty() => "not in the results".into(),
            None => "no figures".into(),
        }
    }

    /// A figure from each completed run's JSON (for fields this module does not type, such as
    /// `evidence` or `backend_setup`), median over runs.
    pub(crate) fn json_median(&self, pointer: &str) -> Option<f64> {
        let values: Vec<f64> = self.ok().filter_map(|m| json_f64(m, pointer)).collect();
        (!values.is_empty()).then(|| Spread::of(&values).median)
    }
}

fn status_word(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Ok => "ok:",
        RunStatus::Skipped => "skipped:",
        RunStatus::Failed => "failed:",
    }
}

/// A number at a JSON pointer of the serialized `Measured` (e.g. `/evidence/mapping/pmd_mapped_pct`).
pub(crate) fn json_f64(m: &Measured, pointer: &str) -> Option<f64> {
    json_at(m, pointer)?.as_f64()
}

/// The value at a JSON pointer of the serialized `Measured`; `backend_setup` and `evidence`
/// are looked up alone (serializing a whole run, histograms included, per figure is slow).
pub(crate) fn json_at(m: &Measured, pointer: &str) -> Option<Value> {
    if let Some(rest) = pointer.strip_prefix("/backend_setup") {
        return Value::Object(m.backend_setup.clone()).pointer(rest).cloned();
    }
    if let Some(rest) = pointer.strip_prefix("/evidence") {
        return serde_json::to_value(&m.evidence).ok()?.pointer(rest).cloned();
    }
    serde_json::to_value(m).ok()?.pointer(pointer).cloned()
}

/// A number at a JSON pointer of the results' environment.
pub(crate) fn env_f64(results: &Results, pointer: &str) -> Option<f64> {
    let v: Value = serde_json::to_value(&results.environment).ok()?;
    v.pointer(pointer)?.as_f64().filter(|x| *x > 0.0)
}

/// `a` is below `b` by more than `margin`: `b` exceeds `a` by more than that share of `a`. A
/// ratio test, so a spread of repeats above 100% still lets a tenfold difference count.
pub(crate) fn below(a: f64, b: f64, margin: f64) -> bool {
    a * (1.0 + margin) < b
}

/// The margin two cells must differ by: the noise floor, or the larger relative range of their
/// repeats for the compared figure.
pub(crate) fn margin(a: &Cell<'_>, b: &Cell<'_>, f: impl Fn(&Measured) -> f64 + Copy) -> f64 {
    NOISE_FLOOR.max(a.spread(f).rel_range()).max(b.spread(f).rel_range())
}

// The figures themselves, each with its unit in its name.

pub(crate) fn gb_per_s(m: &Measured) -> f64 {
    m.bw_bytes_per_s / 1e9
}

pub(crate) fn kiops(m: &Measured) -> f64 {
    m.iops / 1e3
}

/// CPU time (user + system, every thread) per KiB moved, in ns.
pub(crate) fn cpu_ns_per_kib(m: &Measured) -> f64 {
    if m.bytes == 0 { 0.0 } else { (m.cpu.user_s + m.cpu.sys_s) * 1e9 / (m.bytes as f64 / 1024.0) }
}

/// CPU time (user + system, every thread) per GB moved, in s.
pub(crate) fn cpu_s_per_gb(m: &Measured) -> f64 {
    user_s_per_gb(m) + sys_s_per_gb(m)
}

pub(crate) fn user_s_per_gb(m: &Measured) -> f64 {
    if m.bytes == 0 { 0.0 } else { m.cpu.user_s / (m.bytes as f64 / 1e9) }
}

pub(crate) fn sys_s_per_gb(m: &Measured) -> f64 {
    if m.bytes == 0 { 0.0 } else { m.cpu.sys_s / (m.bytes as f64 / 1e9) }
}

/// CPU time ÷ runtime (all threads): 1.0 means one core busy throughout.
pub(crate) fn cpu_share(m: &Measured) -> f64 {
    let wall = m.runtime_ns as f64 / 1e9;
    if wall > 0.0 { (m.cpu.user_s + m.cpu.sys_s) / wall } else { 0.0 }
}

pub(crate) fn mean_us(m: &Measured) -> f64 {
    m.latency_ns.mean / 1e3
}

/// Bytes this process caused the device to read per byte it read (the device's own count if
/// the process's is missing).
pub(crate) fn read_amp(m: &Measured) -> f64 {
    m.evidence.process_read_amplification.or(m.evidence.read_amplification).unwrap_or(0.0)
}

/// Share of operations that took a major fault (at most one counted per operation).
pub(crate) fn major_fault_share(m: &Measured) -> f64 {
    if m.ops == 0 { 0.0 } else { (m.faults.major as f64 / m.ops as f64).min(1.0) }
}

pub(crate) fn p50_us(m: &Measured) -> f64 {
    m.latency_ns.p50 as f64 / 1e3
}

pub(crate) fn p99_us(m: &Measured) -> f64 {
    m.latency_ns.p99 as f64 / 1e3
}

/// Page faults (minor + major) per GB moved.
pub(crate) fn faults_per_gb(m: &Measured) -> f64 {
    if m.bytes == 0 { 0.0 } else { (m.faults.minor + m.faults.major) as f64 / (m.bytes as f64 / 1e9) }
}

pub(crate) fn major_faults(m: &Measured) -> f64 {
    m.faults.major as f64
}

/// What one write costs until it is durable, in µs: the write's own mean latency plus its share
/// of the sync operations (their mean latency × syncs per write).
pub(crate) fn durable_write_us(m: &Measured) -> f64 {
    let writes = m.write_ops.max(1) as f64;
    let sync = m.sync.as_ref().map_or(0.0, |s| s.latency_ns.mean * s.ops as f64 / writes);
    (m.latency_ns.mean + sync) / 1e3
}

/// Time the final sync took after the measured interval, in ms: what was left to write back.
pub(crate) fn final_sync_ms(m: &Measured) -> f64 {
    m.final_sync_ns.unwrap_or(0) as f64 / 1e6
}

/// Operations per second in the first and in the last full interval of the time series.
pub(crate) fn first_last_iops(m: &Measured) -> Option<(f64, f64)> {
    let step = m.series.interval_ns.max(1) as f64 / 1e9;
    let full: Vec<_> = m.series.points.iter().filter(|p| p.t_ns <= m.runtime_ns).collect();
    let (first, last) = (full.first()?, full.last()?);
    Some((first.ops as f64 / step, last.ops as f64 / step))
}

/// Formats a number with three significant digits.
pub(crate) fn sig(x: f64) -> String {
    let a = x.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// `value ± range/2 unit (n runs)` when a cell has repeats, else `value unit`.
pub(crate) fn show(cell: &Cell<'_>, f: impl Fn(&Measured) -> f64, unit: &str) -> String {
    if !cell.is_measured() {
        return format!("— ({})", cell.why_missing());
    }
    let s = cell.spread(f);
    // Units that are symbols (×, %) sit on the number; words get a space.
    let sep = if unit.is_empty() || unit == "×" || unit == "%" { "" } else { " " };
    if s.n > 1 {
        format!("{}{sep}{unit} (range {}–{}, {} runs)", sig(s.median), sig(s.min), sig(s.max), s.n)
    } else {
        format!("{}{sep}{unit}", sig(s.median))
    }
}

/// The ratio a / b as `1.23×`.
pub(crate) fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 { format!("{}×", sig(a / b)) } else { "—".into() }
}
