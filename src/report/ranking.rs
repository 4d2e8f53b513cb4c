//! Ranking tables: one per workload, best throughput first, with the ratio to the best.
//! Built once as rows of text; the terminal, Markdown and HTML exporters only lay them out.

use super::cells::{Cell, Group, Metric};
use crate::base::units::format_ns;
use crate::result::patterns::PatternFigures;

/// A table: headers and rows of already formatted cells.
pub(crate) struct Table {
    pub(crate) title: String,
    pub(crate) headers: Vec<&'static str>,
    pub(crate) rows: Vec<Vec<String>>,
    /// Record and scan workloads: what each backend's runs checked (updates verified, lines and
    /// matches counted), shown under the rows.
    pub(crate) notes: Vec<(String, String)>,
    /// Backends without a measurement in this workload, with the reason.
    pub(crate) missing: Vec<(String, String)>,
}

pub(crate) fn table(group: &Group<'_>) -> Table {
    let metric = group.metric;
    let ranked = group.ranked();
    let best = ranked.first().map(|c| c.throughput(metric).median).unwrap_or(0.0);
    let durable =
        ranked.iter().any(|c| c.ok.iter().any(|r| r.measured.as_ref().is_some_and(|m| m.final_sync_ns.is_some())));
    let scan = metric == Metric::Scan;
    let (p50, p99) = match metric {
        Metric::Records => ("p50/update", "p99/update"),
        Metric::Scan => ("p50/scan", "p99/scan"),
        _ => ("p50", "p99"),
    };
    let mut headers = vec!["#", "backend", metric.heading()];
    if scan {
        headers.push("M lines/s");
    }
    headers.extend(["vs best", "range", p50, p99, "CPU s/GB", "majflt/GB", "runs"]);
    if durable {
        headers.push(if metric == Metric::Records { "durable K records/s" } else { "durable MB/s" });
    }
    let floor = group.floor();
    let rows = ranked
        .iter()
        .chain(floor.iter())
        .enumerate()
        .map(|(i, c)| {
            let t = c.throughput(metric);
            let range = if t.n > 1 { format!("±{:.0}%", t.rel_range() * 50.0) } else { "-".into() };
            let label = match () {
                _ if c.is_null() => format!("{} (harness floor)", c.label()),
                _ if super::warnings::turned_warm(c).is_some() => format!("{} {TURNED_WARM}", c.label()),
                _ => c.label(),
            };
            let mut row =
                vec![if c.is_null() { "-".into() } else { (i + 1).to_string() }, label, metric.cell(t.median)];
            if scan {
                row.push(c.lines_per_s().map_or("-".into(), |l| format!("{:.1}", l / 1e6)));
            }
            row.extend([
                if best > 0.0 && !c.is_null() { format!("{:.2}", t.median / best) } else { "-".into() },
                range,
                format_ns(c.p50.median),
                format_ns(c.p99.median),
                format!("{:.2}", c.cpu_s_per_gb.median),
                format!("{:.0}", c.majflt_per_gb.median),
                c.ok.len().to_string(),
            ]);
            if durable {
                let d: Vec<f64> = c.ok.iter().filter_map(|r| durable_rate(r.measured.as_ref()?, metric)).collect();
                row.push(if d.is_empty() { "-".into() } else { format!("{:.1}", super::cells::median(&d)) });
            }
            row
        })
        .collect();
    let notes = table_notes(&ranked);
    let missing = group
        .cells
        .iter()
        .filter(|c| !c.is_measured())
        .map(|c| {
            let r = c.not_ok.first();
            let status = r.map(|r| format!("{:?}", r.status).to_lowercase()).unwrap_or_default();
            let reason = r.and_then(|r| r.reason.clone()).unwrap_or_default();
            (c.label(), format!("{status}: {reason}"))
        })
        .collect();
    let title = table_title(group);
    Table { title, headers, rows, notes, missing }
}

/// The notes under a ranking: the patterns' figures, writes the page cache absorbed, and what
/// the turned-warm mark means.
fn table_notes(ranked: &[&Cell<'_>]) -> Vec<(String, String)> {
    let mut notes: Vec<(String, String)> = ranked.iter().filter_map(|c| Some((c.label(), pattern_note(c)?))).collect();
    notes.extend(ranked.iter().filter_map(|c| Some((c.label(), absorbed_note(c)?))));
    if ranked.iter().any(|c| super::warnings::turned_warm(c).is_some()) {
        notes.push((
            TURNED_WARM.into(),
            "cache = cold was asked for, but the page cache served most of the reads (see the warnings)".into(),
        ));
    }
    notes
}

/// `randread-4k-warm (randread 4k warm, 256m file, 5s per run)`.
fn table_title(group: &Group<'_>) -> String {
    let p = group.plan;
    format!(
        "{} ({}, {} file, {})",
        group.label,
        super::cells::describe(p, &group.varying.iter().map(String::as_str).collect::<Vec<_>>()),
        crate::base::units::format_size(p.size_bytes),
        match (p.runtime_ns, p.io_size_bytes) {
            (Some(ns), _) => format!("{} per run", format_ns(ns as f64)),
            (None, Some(b)) => format!("{} per thread", crate::base::units::format_size(b)),
            _ => String::new(),
        }
    )
}

/// Marks a cold cell that turned warm in rankings.
pub(crate) const TURNED_WARM: &str = "(turned warm)";

/// Beside durable MB/s: how much of what a write cell wrote reached the device through its final sync.
fn absorbed_note(c: &Cell<'_>) -> Option<String> {
    let m = c.median_run()?.measured.as_ref()?;
    let (written, device) = super::warnings::absorbed_writes(c.plan, m)?;
    Some(format!(
        "durable MB/s: {} written, {} reached the device by the end of the final sync (the page cache absorbed \
         overwrites)",
        crate::base::units::format_bytes(written),
        crate::base::units::format_bytes(device)
    ))
}

/// Throughput counting the final sync, in the durable column's unit: K records/s for records,
/// else MB/s.
fn durable_rate(m: &crate::result::Measured, metric: Metric) -> Option<f64> {
    match (&m.pattern, metric) {
        (Some(PatternFigures::Records { durable_records_per_s, .. }), Metric::Records) => {
            durable_records_per_s.map(|r| r / 1e3)
        }
        _ => m.durable_bw_bytes_per_s.map(|b| b / 1e6),
    }
}

/// What a record or scan cell's runs checked, in one line; `None` for block workloads.
pub(crate) fn pattern_note(c: &Cell<'_>) -> Option<String> {
    let figures: Vec<&PatternFigures> = c.ok.iter().filter_map(|r| r.measured.as_ref()?.pattern.as_ref()).collect();
    let median = c.median_run().and_then(|r| r.measured.as_ref()?.pattern.as_ref()).or(figures.first().copied())?;
    let runs = if figures.len() > 1 { format!(" ({} runs)", figures.len()) } else { String::new() };
    Some(match median {
        PatternFigures::Records {
            record_size_bytes,
            records,
            io_unit,
            records_updated_ever,
            max_updates_one_record,
            ..
        } => {
            let checked: u64 = figures
                .iter()
                .map(|f| if let PatternFigures::Records { updates_checked, .. } = f { *updates_checked } else { 0 })
                .sum();
            format!(
                "{checked} updates verified{runs}: {records} records of {record_size_bytes} B intact, update \
                 counts adding up; {records_updated_ever} ever updated, the hottest {max_updates_one_record}×; \
                 I/O per update: {io_unit}"
            )
        }
        PatternFigures::Scan { lines_per_scan, matches_per_scan, needle, .. } => {
            let checked: u64 = figures
                .iter()
                .map(|f| if let PatternFigures::Scan { scans_checked, .. } = f { *scans_checked } else { 0 })
                .sum();
            format!(
                "{checked} scans checked{runs}: each counted {lines_per_scan} lines and {matches_per_scan} \
                 matching \"{}\", as the log's header says",
                needle.trim()
            )
        }
    })
}

/// Aligned text for the terminal.
pub(crate) fn render_text(t: &Table) -> String {
    let mut widths: Vec<usize> = t.headers.iter().map(|h| h.chars().count()).collect();
    for row in &t.rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::from(" ");
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            // The backend name reads best left-aligned, numbers right-aligned.
            if i == 1 { s.push_str(&format!(" {c:<w$}")) } else { s.push_str(&format!(" {c:>w$}")) }
        }
        s.push('\n');
        s
    };
    let mut out = format!("{}\n", t.title);
    out.push_str(&line(t.headers.clone()));
    for row in &t.rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    for (backend, note) in &t.notes {
        out.push_str(&format!("    {backend}: {note}\n"));
    }
    for (backend, why) in &t.missing {
        out.push_str(&format!("    {backend} {why}\n"));
    }
    out
}

/// A Markdown table.
pub(crate) fn render_markdown(t: &Table) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("### {}\n\n", esc(&t.title));
    out.push_str(&format!("| {} |\n", t.headers.join(" | ")));
    out.push_str(&format!(
        "|{}\n",
        t.headers.iter().enumerate().map(|(i, _)| if i == 1 { "---|" } else { "---:|" }).collect::<String>()
    ));
    for row in &t.rows {
        out.push_str(&format!("| {} |\n", row.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
    }
    if !t.notes.is_empty() {
        out.push('\n');
    }
    for (backend, note) in &t.notes {
        out.push_str(&format!("- *{backend}*: {}\n", esc(note)));
    }
    for (backend, why) in &t.missing {
        out.push_str(&format!("\n*{backend}* {}", esc(why)));
    }
    if !t.missing.is_empty() {
        out.push('\n');
    }
    out
}
