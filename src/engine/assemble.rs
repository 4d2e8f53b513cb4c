//! The workers' figures made into one `Measured`: histograms and time series merged exactly,
//! totals summed, rates over the longest worker's measured time.

use super::worker::WorkerStats;
use crate::backend::SubmitTimes;
use crate::base::stats::{self, SeriesRecorder};
use crate::observe::evidence::Evidence;
use crate::os::usage::Usage;
use crate::result::{CacheEvidence, Cpu, Faults, Measured, Series, SubmitStats, SyncStats, ThreadFigures};

/// The run's figures, without what only the caller knows (backend setup, evidence, pattern).
pub(crate) fn assemble(
    workers: &[WorkerStats],
    usage: Usage,
    resident: f64,
    final_sync_ns: Option<u64>,
    interval_ns: u64,
) -> Measured {
    let mut hist = stats::new_hist();
    let mut sync_hist = stats::new_hist();
    for w in workers {
        stats::merge(&mut hist, &w.series.total);
        stats::merge(&mut sync_hist, &w.sync_hist);
    }
    let read_ops: u64 = workers.iter().map(|w| w.read_ops).sum();
    let write_ops: u64 = workers.iter().map(|w| w.write_ops).sum();
    let ops = read_ops + write_ops;
    let bytes: u64 = workers.iter().map(|w| w.bytes).sum();
    let runtime_ns = workers.iter().map(|w| w.runtime_ns).max().unwrap_or(0).max(1);
    let secs = runtime_ns as f64 / 1e9;
    let per_thread = workers
        .iter()
        .map(|w| ThreadFigures {
            ops: w.read_ops + w.write_ops,
            bytes: w.bytes,
            runtime_ns: w.runtime_ns,
            iops: (w.read_ops + w.write_ops) as f64 / (w.runtime_ns.max(1) as f64 / 1e9),
            latency_ns: stats::summarize(&w.series.total),
        })
        .collect();
    let series_parts: Vec<&SeriesRecorder> = workers.iter().map(|w| &w.series).collect();
    Measured {
        ops,
        read_ops,
        write_ops,
        bytes,
        runtime_ns,
        iops: ops as f64 / secs,
        bw_bytes_per_s: bytes as f64 / secs,
        latency_ns: stats::summarize(&hist),
        latency_histogram: stats::encode(&hist),
        sync: (!sync_hist.is_empty()).then(|| SyncStats {
            ops: sync_hist.len(),
            latency_ns: stats::summarize(&sync_hist),
            latency_histogram: stats::encode(&sync_hist),
        }),
        final_sync_ns,
        durable_bw_bytes_per_s: final_sync_ns.map(|f| bytes as f64 / ((runtime_ns + f) as f64 / 1e9)),
        cpu: Cpu { user_s: usage.user_ns as f64 / 1e9, sys_s: usage.sys_ns as f64 / 1e9 },
        faults: Faults { minor: usage.minor_faults, major: usage.major_faults },
        ctx_switches: usage.vol_ctx_switches + usage.invol_ctx_switches,
        cache: CacheEvidence { resident_before_pct: resident * 100.0 },
        verified_blocks: workers.iter().map(|w| w.verified_blocks).sum(),
        per_thread,
        series: Series { interval_ns, points: stats::series::merge_series(interval_ns, &series_parts) },
        backend_setup: serde_json::Map::new(),
        submit: submit_stats(workers.iter().filter_map(|w| w.submit.as_ref())),
        evidence: Evidence::default(),
        pattern: None,
    }
}

/// The workers' submit-side times merged into the results' summary; `None` if nothing was recorded.
fn submit_stats<'a>(parts: impl Iterator<Item = &'a SubmitTimes>) -> Option<SubmitStats> {
    let mut total: Option<SubmitTimes> = None;
    for p in parts {
        match &mut total {
            Some(t) => t.merge(p),
            None => total = Some(p.clone()),
        }
    }
    let t = total.filter(|t| !t.hist.is_empty())?;
    Some(SubmitStats {
        measures: t.measures.to_string(),
        calls: t.hist.len(),
        ops: t.ops,
        latency_ns: stats::summarize(&t.hist),
        latency_histogram: stats::encode(&t.hist),
    })
}
