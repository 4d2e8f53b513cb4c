//! `iobench ipc` as people read it: the terminal table, and a Markdown section for reports.

use crate::result::RunStatus;
use crate::result::ipc::IpcReport;

/// The terminal table.
pub fn render(r: &IpcReport) -> String {
    use crate::base::units::format_ns;
    let mut out = format!(
        "ipc: two processes, up to {} round trips or {} per mode\n  {:<11} {:>10} {:>9} {:>9} {:>9} {:>9}  {}\n",
        r.exchanges_requested,
        format_ns(r.runtime_limit_ns as f64),
        "mode",
        "trips/s",
        "p50",
        "p99",
        "p99.9",
        "max",
        "how"
    );
    for m in &r.modes {
        let l = &m.round_trip_ns;
        if m.status == RunStatus::Ok {
            out.push_str(&format!(
                "  {:<11} {:>10.0} {:>9} {:>9} {:>9} {:>9}  {} ({} round trips, counters match)\n",
                m.mode.name(),
                m.round_trips_per_s,
                format_ns(l.p50 as f64),
                format_ns(l.p99 as f64),
                format_ns(l.p99_9 as f64),
                format_ns(l.max as f64),
                m.what,
                m.round_trips
            ));
        } else {
            out.push_str(&format!("  {:<11} FAILED: {}\n", m.mode.name(), m.reason.as_deref().unwrap_or("")));
        }
    }
    if let Some(v) = &r.visibility {
        let yes = |b: bool| if b { "yes" } else { "NO" };
        out.push_str(&format!(
            "visibility: a writer stored {:#x} through MAP_SHARED and exited without msync (exit {:?}); a fresh \
             mapping saw it: {}, read() saw it: {} (the page cache is shared; durable only after msync/fsync)\n",
            v.value_written,
            v.writer_exit_code,
            yes(v.seen_by_fresh_mapping),
            yes(v.seen_by_read)
        ));
    }
    if let Some(c) = &r.msync {
        out.push_str(&format!(
            "msync cost per update ({} updates): store alone p50 {} (a write fault: msync leaves the page clean), \
             store + msync(MS_SYNC) p50 {} p99 {}, store + msync(MS_ASYNC) p50 {}\n",
            c.updates,
            format_ns(c.store_ns.p50 as f64),
            format_ns(c.store_msync_sync_ns.p50 as f64),
            format_ns(c.store_msync_sync_ns.p99 as f64),
            format_ns(c.store_msync_async_ns.p50 as f64)
        ));
    }
    out
}

/// A Markdown section for reports (`## Processes sharing a mapping`).
pub(crate) fn markdown(r: &IpcReport) -> String {
    use crate::base::units::format_ns;
    let mut out = String::from("## Processes sharing a mapping (iobench ipc)\n\n");
    out.push_str("| mode | round trips/s | p50 | p99 | p99.9 | round trips | how |\n|---|---|---|---|---|---|---|\n");
    for m in &r.modes {
        let l = &m.round_trip_ns;
        if m.status == RunStatus::Ok {
            out.push_str(&format!(
                "| {} | {:.0} | {} | {} | {} | {} | {} |\n",
                m.mode.name(),
                m.round_trips_per_s,
                format_ns(l.p50 as f64),
                format_ns(l.p99 as f64),
                format_ns(l.p99_9 as f64),
                m.round_trips,
                m.what
            ));
        } else {
            out.push_str(&format!("| {} | failed: {} | | | | | |\n", m.mode.name(), m.reason.as_deref().unwrap_or("")));
        }
    }
    if let Some(v) = &r.visibility {
        out.push_str(&format!(
            "\nA writer that stored through MAP_SHARED and exited without msync was seen by a fresh mapping: {}, \
             by read(): {}.\n",
            v.seen_by_fresh_mapping, v.seen_by_read
        ));
    }
    if let Some(c) = &r.msync {
        out.push_str(&format!(
            "\nPer update ({} updates): store p50 {}; store + msync(MS_SYNC) p50 {}, p99 {}; store + msync(MS_ASYNC) p50 {}.\n",
            c.updates,
            format_ns(c.store_ns.p50 as f64),
            format_ns(c.store_msync_sync_ns.p50 as f64),
            format_ns(c.store_msync_sync_ns.p99 as f64),
            format_ns(c.store_msync_async_ns.p50 as f64)
        ));
    }
    out
}
