//! Ranking tables: one per workload, best throughput first, with the ratio to the best.
//! Built once as rows of text; the terminal, Markdown and HTML exporters only lay them out.

use super::cells::{Group, Metric};
use crate::units::format_ns;

/// A table: headers and rows of already formatted cells.
pub struct Table {
    pub title: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Backends without a measurement in this workload, with the reason.
    pub missing: Vec<(String, String)>,
}

pub fn table(group: &Group<'_>) -> Table {
    let metric = group.metric;
    let ranked = group.ranked();
    let best = ranked.first().map(|c| c.throughput(metric).median).unwrap_or(0.0);
    let durable = ranked.iter().any(|c| c.ok.iter().any(|r| r.measured.as_ref().is_some_and(|m| m.final_sync_ns.is_some())));
    let mut headers = vec![
        "#",
        "backend",
        match metric {
            Metric::Iops => "K IOPS",
            Metric::Bandwidth => "MB/s",
        },
        "vs best",
        "range",
        "p50",
        "p99",
        "CPU s/GB",
        "majflt/GB",
        "runs",
    ];
    if durable {
        headers.push("durable MB/s");
    }
    let floor = group.floor();
    let rows = ranked
        .iter()
        .chain(floor.iter())
        .enumerate()
        .map(|(i, c)| {
            let t = c.throughput(metric);
            let range = if t.n > 1 { format!("±{:.0}%", t.rel_range() * 50.0) } else { "-".into() };
            let mut row = vec![
                if c.is_null() { "-".into() } else { (i + 1).to_string() },
                if c.is_null() { format!("{} (harness floor)", c.label()) } else { c.label() },
                format!("{:.1}", metric.scale(t.median)),
                if best > 0.0 && !c.is_null() { format!("{:.2}", t.median / best) } else { "-".into() },
                range,
                format_ns(c.p50.median),
                format_ns(c.p99.median),
                format!("{:.2}", c.cpu_s_per_gb.median),
                format!("{:.0}", c.majflt_per_gb.median),
                c.ok.len().to_string(),
            ];
            if durable {
                let d: Vec<f64> =
                    c.ok.iter().filter_map(|r| r.measured.as_ref()?.durable_bw_bytes_per_s).collect();
                row.push(if d.is_empty() { "-".into() } else { format!("{:.1}", super::cells::median(&d) / 1e6) });
            }
            row
        })
        .collect();
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
    let p = group.plan;
    let title = format!(
        "{} ({}, {} file, {})",
        group.label,
        super::cells::describe(p, &group.varying.iter().map(String::as_str).collect::<Vec<_>>()),
        crate::units::format_size(p.size_bytes),
        match (p.runtime_ns, p.io_size_bytes) {
            (Some(ns), _) => format!("{} per run", format_ns(ns as f64)),
            (None, Some(b)) => format!("{} per thread", crate::units::format_size(b)),
            _ => String::new(),
        }
    );
    Table { title, headers, rows, missing }
}

/// Aligned text for the terminal.
pub fn render_text(t: &Table) -> String {
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
    for (backend, why) in &t.missing {
        out.push_str(&format!("    {backend} {why}\n"));
    }
    out
}

/// A Markdown table.
pub fn render_markdown(t: &Table) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!("### {}\n\n", esc(&t.title));
    out.push_str(&format!("| {} |\n", t.headers.join(" | ")));
    out.push_str(&format!("|{}\n", t.headers.iter().enumerate().map(|(i, _)| if i == 1 { "---|" } else { "---:|" }).collect::<String>()));
    for row in &t.rows {
        out.push_str(&format!("| {} |\n", row.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")));
    }
    for (backend, why) in &t.missing {
        out.push_str(&format!("\n*{backend}* {}", esc(why)));
    }
    if !t.missing.is_empty() {
        out.push('\n');
    }
    out
}
