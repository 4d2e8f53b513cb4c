//! `iobench merge`: runs of the same cell (from several invocations or hosts) become one run,
//! exactly: latency histograms are added, counts summed, and percentiles recomputed from the
//! merged histogram. Runs are treated as happening one after another, so rates are total
//! work over total measured time.

use super::cells::cell_key;
use crate::base::error::{Error, Result};
use crate::base::stats::{self, Hist};
use crate::result::{Measured, Results, RunResult, RunStatus, Series, SyncStats};

/// Merges every document's runs, cell by cell, in first-seen order.
pub fn merge(docs: &[Results]) -> Result<Results> {
    let first = docs.first().ok_or_else(|| Error::invalid("merge", "give at least one results file"))?;
    let mut cells: Vec<(String, Vec<&RunResult>)> = Vec::new();
    for run in docs.iter().flat_map(|d| d.runs.iter()) {
        let key = cell_key(&run.workload);
        match cells.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(run),
            None => cells.push((key, vec![run])),
        }
    }
    let mut suites: Vec<&str> = docs.iter().map(|d| d.suite.as_str()).collect();
    suites.dedup();
    let mut out = Results::new(&suites.join("+"), first.environment.clone());
    out.created_unix_s = docs.iter().map(|d| d.created_unix_s).max().unwrap_or(out.created_unix_s);
    for (_, runs) in cells {
        out.runs.push(merge_cell(&runs)?);
    }
    Ok(out)
}

/// One run from all the runs of a cell; a cell never measured keeps its first run (and reason).
pub(crate) fn merge_cell(runs: &[&RunResult]) -> Result<RunResult> {
    let ok: Vec<&RunResult> =
        runs.iter().copied().filter(|r| r.status == RunStatus::Ok && r.measured.is_some()).collect();
    let Some(first) = ok.first() else { return Ok(runs[0].clone()) };
    if ok.len() == 1 {
        return Ok((*first).clone());
    }
    let ms: Vec<&Measured> = ok.iter().filter_map(|r| r.measured.as_ref()).collect();
    let name = &first.workload.name;
    let decode = |text: &str| -> Result<Hist> {
        stats::decode(text).map_err(|e| {
            Error::Damaged(format!("{name} on {}: {e}; that results file is damaged: re-run it", first.backend))
        })
    };
    let mut hist = stats::new_hist();
    let mut sync_hist = stats::new_hist();
    for m in &ms {
        stats::merge(&mut hist, &decode(&m.latency_histogram)?);
        if let Some(s) = &m.sync {
            stats::merge(&mut sync_hist, &decode(&s.latency_histogram)?);
        }
    }
    let sum = |f: &dyn Fn(&Measured) -> u64| ms.iter().map(|m| f(m)).sum::<u64>();
    let ops = sum(&|m| m.ops);
    let bytes = sum(&|m| m.bytes);
    let runtime_ns = sum(&|m| m.runtime_ns).max(1);
    let secs = runtime_ns as f64 / 1e9;
    let final_sync: Vec<u64> = ms.iter().filter_map(|m| m.final_sync_ns).collect();
    let final_sync_ns = (!final_sync.is_empty()).then(|| final_sync.iter().sum::<u64>());
    let resident = ms.iter().map(|m| m.cache.resident_before_pct);
    // Keep the worst case for the state that was asked for, so warnings still fire.
    let resident_before_pct = if first.workload.cache == crate::workload::plan::CacheState::Cold {
        resident.fold(0.0, f64::max)
    } else {
        resident.fold(100.0, f64::min)
    };
    // Start from a copy so fields added later (evidence…) survive; every summed figure is set.
    let mut m = ms[0].clone();
    m.ops = ops;
    m.read_ops = sum(&|m| m.read_ops);
    m.write_ops = sum(&|m| m.write_ops);
    m.bytes = bytes;
    m.runtime_ns = runtime_ns;
    m.iops = ops as f64 / secs;
    m.bw_bytes_per_s = bytes as f64 / secs;
    m.latency_ns = stats::summarize(&hist);
    m.latency_histogram = stats::encode(&hist);
    m.sync = (!sync_hist.is_empty()).then(|| SyncStats {
        ops: sync_hist.len(),
        latency_ns: stats::summarize(&sync_hist),
        latency_histogram: stats::encode(&sync_hist),
    });
    m.final_sync_ns = final_sync_ns;
    m.durable_bw_bytes_per_s = final_sync_ns.map(|f| bytes as f64 / ((runtime_ns + f) as f64 / 1e9));
    m.cpu.user_s = ms.iter().map(|m| m.cpu.user_s).sum();
    m.cpu.sys_s = ms.iter().map(|m| m.cpu.sys_s).sum();
    m.faults.minor = sum(&|m| m.faults.minor);
    m.faults.major = sum(&|m| m.faults.major);
    m.ctx_switches = sum(&|m| m.ctx_switches);
    m.cache.resident_before_pct = resident_before_pct;
    m.verified_blocks = sum(&|m| m.verified_blocks);
    m.per_thread = ms.iter().flat_map(|m| m.per_thread.iter().cloned()).collect();
    m.series = concat_series(&ms);
    let measured = m;
    let mut notes: Vec<String> = Vec::new();
    for n in ok.iter().flat_map(|r| r.notes.iter()) {
        if !notes.contains(n) {
            notes.push(n.clone());
        }
    }
    notes.push(format!("merged from {} runs (iobench merge)", ok.len()));
    Ok(RunResult { notes, measured: Some(measured), ..(*first).clone() })
}

/// The runs' series one after another; runs with another interval are left out.
fn concat_series(ms: &[&Measured]) -> Series {
    let interval_ns = ms[0].series.interval_ns;
    let mut points = Vec::new();
    let mut offset = 0;
    for m in ms.iter().filter(|m| m.series.interval_ns == interval_ns) {
        let mut end = offset;
        for p in &m.series.points {
            let mut p = p.clone();
            p.t_ns += offset;
            end = p.t_ns;
            points.push(p);
        }
        offset = end;
    }
    let mut series = ms[0].series.clone();
    series.points = points;
    series
}
