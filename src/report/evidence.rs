//! Evidence as the terminal shows it: one line under each run's row of the table.

use crate::observe::evidence::Evidence;

/// The evidence line the terminal table prints under a run's row (indented, with a newline),
/// labelled with the run's non-default tuning so side-by-side variants can be told apart.
pub(crate) fn table_line(run: &crate::result::RunResult) -> Option<String> {
    let m = run.measured.as_ref()?;
    let label = run.workload.tuning.label();
    let label = if label.is_empty() { String::new() } else { format!(" ({label})") };
    Some(format!("    evidence{label}: {}\n", summary(&m.evidence, m.faults.major)))
}

/// The figures that tell what the kernel did, on one line.
pub(crate) fn summary(e: &Evidence, major_faults: u64) -> String {
    let mut parts = vec![format!("majflt {major_faults}")];
    match (e.process_read_amplification, e.read_amplification) {
        (Some(p), Some(d)) => parts.push(format!("read amp {p:.2}x (device {d:.2}x)")),
        (Some(a), None) | (None, Some(a)) => parts.push(format!("read amp {a:.2}x")),
        (None, None) => {}
    }
    // Readahead per miss: 4 KiB means none, more means read-around.
    if let Some(d) = e.process_read_bytes.or(e.device_read_bytes).filter(|_| major_faults > 0) {
        parts.push(format!("{:.1} KiB read per majflt", d as f64 / 1024.0 / major_faults as f64));
    }
    if let Some(a) = e.write_amplification {
        parts.push(format!("write amp {a:.2}x"));
    }
    if let (Some(s), Some(t)) = (e.resident_start_pct, e.resident_end_pct) {
        parts.push(format!("cached {s:.0}%→{t:.0}%"));
    }
    if let Some(p) = e.cache_served_min_pct.filter(|p| *p >= 1.0) {
        parts.push(format!("≥{p:.0}% of bytes read from the page cache"));
    }
    if let Some(m) = &e.mapping {
        parts.push(format!("PMD-mapped {:.0}% of mapping", m.pmd_mapped_pct));
    }
    let thp: u64 =
        ["thp_fault_alloc", "thp_file_alloc", "thp_collapse_alloc"].iter().filter_map(|k| e.vmstat_delta.get(*k)).sum();
    if thp > 0 {
        parts.push(format!("THP allocs {thp}"));
    }
    let anon_huge = e.smaps_rollup_end.get("anon_huge_pages_bytes").copied().unwrap_or(0);
    if anon_huge > 0 {
        parts.push(format!("AnonHuge {}", crate::base::units::format_size(anon_huge)));
    }
    // pgscan_anon + pgscan_file count every scan once (the per-reclaimer counters overlap them).
    let scanned: u64 = ["pgscan_anon", "pgscan_file"].iter().filter_map(|k| e.vmstat_delta.get(*k)).sum();
    if scanned > 0 {
        parts.push(format!("reclaim scanned {scanned}"));
    }
    if let Some(n) = e.iowq_workers_max {
        parts.push(format!("io-wq workers {n}"));
    }
    // Only when it matters: a few percent of stolen CPU slows a CPU-bound run by as much.
    if let Some(s) = e.steal_pct.filter(|s| *s > 2.0) {
        parts.push(format!("steal {s:.1}%"));
    }
    parts.join(", ")
}
