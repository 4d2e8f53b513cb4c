//! The anomaly guard: cold read runs that did not measure what a cold read is about.
//!
//! A cold read should wait on the device. A run whose CPU time (user + system, every thread)
//! is at least `CPU_BOUND` of its runtime × threads was busy the whole time instead: on this
//! project's VM that was the host re-faulting free memory it had taken back (see
//! `os::freemem`), not the I/O path. A cell with at least half of its runs CPU-bound is
//! CPU-bound and left out whole; otherwise its CPU-bound runs are left out, and if the rest
//! still differ more than `MAX_SPREAD`× the cell is left out whole. Left out means counted in
//! no verdict. Warm cells are CPU-bound by nature and are not guarded.

use crate::result::{Measured, RunResult, RunStatus};
use crate::workload::plan::{CacheState, Plan, Rw};

/// CPU time ÷ (runtime × threads) at or above which a cold read run counts as CPU-bound.
pub(crate) const CPU_BOUND: f64 = 0.9;
/// Largest ratio of the fastest to the slowest repeat of a cold cell that is still kept.
pub(crate) const MAX_SPREAD: f64 = 2.0;

/// Whether the guard applies to runs of `plan`.
pub(crate) fn guarded(plan: &Plan) -> bool {
    plan.cache == CacheState::Cold && matches!(plan.rw, Rw::Read | Rw::Randread)
}

/// CPU time ÷ (runtime × threads) of one run.
pub(crate) fn cpu_share(m: &Measured, threads: u32) -> f64 {
    let wall = m.runtime_ns as f64 / 1e9 * threads.max(1) as f64;
    if wall > 0.0 { (m.cpu.user_s + m.cpu.sys_s) / wall } else { 0.0 }
}

/// What the guard decided for one cell's runs: which to keep, and why others were left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub(crate) keep: Vec<bool>,
    /// One line per reason, empty if nothing was left out.
    pub(crate) reasons: Vec<String>,
    /// True if no run of the cell is left.
    pub whole_cell: bool,
    /// The reason in a few words, for verdict texts ("CPU-bound: 2 of 3 runs").
    pub(crate) short: String,
}

/// Applies the guard to the runs of one cell (all of one plan's configuration).
pub(crate) fn decide(runs: &[&RunResult]) -> Decision {
    let mut d = Decision { keep: vec![true; runs.len()], ..Default::default() };
    if !runs.first().is_some_and(|r| guarded(&r.workload)) {
        return d;
    }
    let ok = |r: &RunResult| r.status == RunStatus::Ok && r.measured.is_some();
    let total = runs.iter().filter(|r| ok(r)).count();
    let mut bound = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        let Some(m) = r.measured.as_ref().filter(|_| ok(r)) else { continue };
        let share = cpu_share(m, r.workload.threads);
        if share >= CPU_BOUND {
            d.keep[i] = false;
            bound.push(format!(
                "{:.2} s of CPU (user {:.2} s, system {:.2} s) in {:.2} s",
                m.cpu.user_s + m.cpu.sys_s,
                m.cpu.user_s,
                m.cpu.sys_s,
                m.runtime_ns as f64 / 1e9
            ));
        }
    }
    if !bound.is_empty() {
        let whole = bound.len() * 2 >= total;
        d.reasons.push(format!(
            "{}{} of {total} runs CPU-bound (at least {:.0}% of runtime × threads), not waiting on the device: {}",
            if whole { "the cell is CPU-bound: " } else { "" },
            bound.len(),
            CPU_BOUND * 100.0,
            bound.join("; ")
        ));
        d.short = format!("CPU-bound: {} of {total} runs", bound.len());
        if whole {
            d.keep.iter_mut().for_each(|k| *k = false);
            d.whole_cell = true;
            return d;
        }
    }
    let kept: Vec<f64> = runs
        .iter()
        .zip(&d.keep)
        .filter(|(r, k)| **k && ok(r))
        .filter_map(|(r, _)| r.measured.as_ref())
        .map(|m| m.bw_bytes_per_s)
        .collect();
    let (lo, hi) = kept.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
    if kept.len() > 1 && lo > 0.0 && hi / lo > MAX_SPREAD {
        d.keep.iter_mut().for_each(|k| *k = false);
        d.short = format!("repeats differ {:.1}×", hi / lo);
        d.reasons.push(format!(
            "its repeats differ {:.1}× ({:.3}–{:.3} GB/s), more than {MAX_SPREAD}×",
            hi / lo,
            lo / 1e9,
            hi / 1e9
        ));
    }
    d.whole_cell = total > 0 && runs.iter().zip(&d.keep).all(|(r, k)| !*k || !ok(r));
    d
}
