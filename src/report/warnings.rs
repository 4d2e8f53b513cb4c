//! Warnings above a report: each says what went wrong with the measurement and what to do.

use super::cells::{Cell, Group};
use crate::plan::CacheState;
use crate::result::RunStatus;
use crate::units::format_ns;
use std::fmt;

/// Repeats spanning more than this share of their median make a ranking doubtful.
pub const MAX_SPREAD: f64 = 0.10;
/// More cells than this with a wide spread are told as one warning (the rankings show each).
pub const MAX_SPREAD_LISTED: usize = 4;
/// The harness's own cost per operation (null backend's p50) above this share of an op's p50.
pub const MAX_OVERHEAD: f64 = 0.05;

#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    ColdButResident {
        workload: String,
        backend: String,
        pct: f64,
    },
    WarmButEvicted {
        workload: String,
        backend: String,
        pct: f64,
    },
    Spread {
        workload: String,
        backend: String,
        pct: f64,
        runs: usize,
    },
    /// Many cells with a wide spread: how many of how many, and the widest.
    SpreadMany {
        cells: usize,
        of: usize,
        widest: Box<Warning>,
    },
    Skipped {
        backend: String,
        reason: String,
        cells: usize,
    },
    Failed {
        workload: String,
        backend: String,
        reason: String,
    },
    Overhead {
        workload: String,
        backend: String,
        null_p50_ns: f64,
        p50_ns: f64,
    },
    SingleRuns,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ColdButResident { workload, backend, pct } => write!(
                f,
                "{workload} on {backend}: cache = cold was requested but {pct:.1}% of the file was cached at the start; \
                 another process keeps it mapped or open: stop it, or drop caches as root (echo 1 > /proc/sys/vm/drop_caches)"
            ),
            Warning::WarmButEvicted { workload, backend, pct } => write!(
                f,
                "{workload} on {backend}: cache = warm was requested but only {pct:.1}% of the file was cached; \
                 the file does not fit in free memory: use a smaller size"
            ),
            Warning::Spread { workload, backend, pct, runs } => write!(
                f,
                "{workload} on {backend}: its {runs} repeats span {pct:.0}% of their median (over 10%); \
                 the machine was noisy: close other work, raise runtime, or raise repeat"
            ),
            Warning::SpreadMany { cells, of, widest } => {
                let Warning::Spread { workload, backend, pct, .. } = widest.as_ref() else { return Ok(()) };
                write!(
                    f,
                    "{cells} of {of} cells have repeats spanning over 10% of their median (widest: {workload} on \
                     {backend}, {pct:.0}%; the rankings show each cell's spread); the machine was noisy: close other \
                     work, raise runtime, or raise repeat"
                )
            }
            Warning::Skipped { backend, reason, cells } => {
                write!(f, "{backend} was skipped in {cells} run{}: {reason}", if *cells == 1 { "" } else { "s" })
            }
            Warning::Failed { workload, backend, reason } => {
                write!(f, "{workload} on {backend} failed: {reason}")
            }
            Warning::Overhead { workload, backend, null_p50_ns, p50_ns } => write!(
                f,
                "{workload} on {backend}: the harness's own cost per operation ({}, the null backend's p50) is {:.0}% \
                 of its p50 ({}); differences this small are the harness's: compare with larger blocks or with fio",
                format_ns(*null_p50_ns),
                null_p50_ns / p50_ns * 100.0,
                format_ns(*p50_ns)
            ),
            Warning::SingleRuns => write!(
                f,
                "every cell ran once, so no spread is known and rankings within ±15% may be noise: \
                 set repeat = 3 in the suite for medians and spreads"
            ),
        }
    }
}

/// Every warning for these groups, in the order a reader should see them.
pub fn collect(groups: &[Group<'_>]) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut skipped: Vec<(String, String, usize)> = Vec::new();
    // Without a null run in the same workload, the cheapest null run anywhere stands in.
    let any_null = groups
        .iter()
        .flat_map(|g| g.cells.iter())
        .filter(|c| c.backend == "null" && c.is_measured())
        .map(|c| c.p50.median)
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.min(v))));
    for g in groups {
        let null_p50 =
            g.cells.iter().find(|c| c.backend == "null" && c.is_measured()).map(|c| c.p50.median).or(any_null);
        for c in &g.cells {
            let workload = g.label.clone();
            let backend = c.label();
            for r in &c.not_ok {
                let reason = r.reason.clone().unwrap_or_default();
                if r.status == RunStatus::Skipped {
                    match skipped.iter_mut().find(|(b, why, _)| *b == c.backend && *why == reason) {
                        Some(s) => s.2 += 1,
                        None => skipped.push((c.backend.clone(), reason, 1)),
                    }
                } else {
                    out.push(Warning::Failed { workload: workload.clone(), backend: backend.clone(), reason });
                }
            }
            cache_warnings(c, &workload, &mut out);
            let t = c.throughput(g.metric);
            if t.n > 1 && t.rel_range() > MAX_SPREAD && !c.is_null() {
                out.push(Warning::Spread {
                    workload: workload.clone(),
                    backend: backend.clone(),
                    pct: t.rel_range() * 100.0,
                    runs: t.n,
                });
            }
            if let Some(null) = null_p50
                && c.backend != "null"
                && c.is_measured()
                && c.p50.median > 0.0
                && null > MAX_OVERHEAD * c.p50.median
            {
                out.push(Warning::Overhead { workload, backend, null_p50_ns: null, p50_ns: c.p50.median });
            }
        }
    }
    for (backend, reason, cells) in skipped {
        out.push(Warning::Skipped { backend, reason, cells });
    }
    let measured: Vec<&Cell> = groups.iter().flat_map(|g| g.cells.iter()).filter(|c| c.is_measured()).collect();
    collapse_spreads(&mut out, measured.len());
    if !measured.is_empty() && measured.iter().all(|c| c.ok.len() == 1) {
        out.push(Warning::SingleRuns);
    }
    out
}

/// Replaces more than `MAX_SPREAD_LISTED` spread warnings by one, where the first of them was.
fn collapse_spreads(out: &mut Vec<Warning>, measured: usize) {
    let spread = |w: &Warning| matches!(w, Warning::Spread { .. });
    let count = out.iter().filter(|w| spread(w)).count();
    if count <= MAX_SPREAD_LISTED {
        return;
    }
    let pct = |w: &Warning| if let Warning::Spread { pct, .. } = w { *pct } else { 0.0 };
    let Some(at) = out.iter().position(spread) else { return };
    let widest = out.iter().filter(|w| spread(w)).max_by(|a, b| pct(a).total_cmp(&pct(b))).cloned();
    let Some(widest) = widest else { return };
    out.retain(|w| !spread(w));
    out.insert(at.min(out.len()), Warning::SpreadMany { cells: count, of: measured, widest: Box::new(widest) });
}

fn cache_warnings(c: &Cell<'_>, workload: &str, out: &mut Vec<Warning>) {
    // Direct backends never use the cache, so its state does not matter to them.
    if c.plan.backend.is_direct() {
        return;
    }
    for m in c.ok.iter().filter_map(|r| r.measured.as_ref()) {
        let pct = m.cache.resident_before_pct;
        let w = match c.plan.cache {
            CacheState::Cold if pct >= 1.0 => {
                Warning::ColdButResident { workload: workload.into(), backend: c.label(), pct }
            }
            CacheState::Warm if pct < 99.0 => {
                Warning::WarmButEvicted { workload: workload.into(), backend: c.label(), pct }
            }
            _ => continue,
        };
        out.push(w);
        return;
    }
}
