//! The terminal table: one row per run, grouped by workload.

use crate::base::units::format_ns;
use crate::result::patterns::PatternFigures;
use crate::result::{RunResult, RunStatus};

/// Formats runs as aligned text: a header per workload, a row per backend.
pub fn render(runs: &[RunResult]) -> String {
    let mut out = String::new();
    let mut current = None;
    let durable = runs.iter().any(|r| r.measured.as_ref().is_some_and(|m| m.durable_bw_bytes_per_s.is_some()));
    for run in runs {
        let w = &run.workload;
        let consume = if w.consume == crate::workload::plan::Consume::Sum {
            String::new()
        } else {
            format!(" consume={}", w.consume.name())
        };
        let heading = format!(
            "{}: rw={} bs={} size={} iodepth={} threads={} cache={} durability={}{consume}",
            w.name,
            serde_json::to_value(w.rw).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
            crate::base::units::format_size(w.bs_bytes),
            crate::base::units::format_size(w.size_bytes),
            w.iodepth,
            w.threads,
            w.cache,
            w.durability,
        );
        if current.as_ref() != Some(&heading) {
            if current.is_some() {
                out.push('\n');
            }
            out.push_str(&heading);
            out.push('\n');
            out.push_str(&header(durable));
            current = Some(heading);
        }
        out.push_str(&row(run, durable));
    }
    out
}

fn header(durable: bool) -> String {
    let mut h = format!(
        "  {:<13} {:>11} {:>10} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "backend", "IOPS", "MB/s", "p50", "p99", "p99.9", "CPU s/GB", "majflt"
    );
    if durable {
        h.push_str(&format!(" {:>11} {:>10}", "durable MB/s", "final sync"));
    }
    h.push('\n');
    h
}

fn row(run: &RunResult, durable: bool) -> String {
    let Some(m) = run.measured.as_ref().filter(|_| run.status == RunStatus::Ok) else {
        let status = if run.status == RunStatus::Skipped { "skipped" } else { "FAILED" };
        return format!("  {:<13} {status}: {}\n", run.backend, run.reason.as_deref().unwrap_or(""));
    };
    let l = &m.latency_ns;
    let mut r = format!(
        "  {:<13} {:>11.0} {:>10.1} {:>9} {:>9} {:>9} {:>8.2} {:>8}",
        run.backend,
        m.iops,
        m.bw_bytes_per_s / 1e6,
        format_ns(l.p50 as f64),
        format_ns(l.p99 as f64),
        format_ns(l.p99_9 as f64),
        m.cpu_s_per_gb(),
        m.faults.major,
    );
    if durable {
        match (m.durable_bw_bytes_per_s, m.final_sync_ns) {
            (Some(d), Some(f)) => r.push_str(&format!(" {:>11.1} {:>10}", d / 1e6, format_ns(f as f64))),
            _ => r.push_str(&format!(" {:>11} {:>10}", "-", "-")),
        }
    }
    if let Some(s) = &m.sync {
        r.push_str(&format!("  ({} syncs, p50 {})", s.ops, format_ns(s.latency_ns.p50 as f64)));
    }
    if m.verified_blocks > 0 {
        r.push_str(&format!("  verified {} blocks", m.verified_blocks));
    }
    r.push('\n');
    if let Some(p) = &m.pattern {
        r.push_str(&format!("    {}\n", pattern_summary(p)));
    }
    r.extend(crate::report::evidence::table_line(run));
    for n in &run.notes {
        r.push_str(&format!("    note: {n}\n"));
    }
    r
}

/// One short line for the terminal table under a record or scan run.
fn pattern_summary(p: &PatternFigures) -> String {
    match p {
        PatternFigures::Records { records_per_s, durable_records_per_s, updates_checked, io_unit, .. } => {
            let durable = durable_records_per_s.map(|d| format!(", durable {d:.0}/s")).unwrap_or_default();
            format!("{records_per_s:.0} records/s{durable} ({io_unit}); {updates_checked} updates verified")
        }
        PatternFigures::Scan { gb_per_s, lines_per_s, scans_checked, lines_per_scan, matches_per_scan, .. } => {
            format!(
                "{gb_per_s:.2} GB/s, {:.1} M lines/s; {scans_checked} scans counted {lines_per_scan} lines, \
                 {matches_per_scan} matches",
                lines_per_s / 1e6
            )
        }
    }
}
