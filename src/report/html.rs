//! report.html: one standalone file (inline CSS and SVG, no scripts, no network) that opens
//! from disk in any browser.

use super::document::{Report, environment_rows};
use super::ranking::Table;
use crate::base::units::format_ns;
use crate::result::RunStatus;
use crate::result::ipc::IpcReport;

const STYLE: &str = "body{font-family:sans-serif;margin:24px auto;max-width:1500px;padding:0 16px;color:#222}\
h1{font-size:24px}h2{font-size:20px;margin-top:32px;border-bottom:1px solid #ccc}h3{font-size:16px}\
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}\
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f2f2f2}\
td:nth-child(2),th:nth-child(2),table.env td,table.env th{text-align:left}\
.warnings li{margin:4px 0}.warn{color:#8a4b00}.missing{color:#666;font-size:13px}\
.plots{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;border:1px solid #ddd;padding:4px}\
figure svg{max-width:100%;height:auto;display:block}figcaption{font-size:12px;color:#555}\
ul.pattern{font-size:13px;color:#333;margin:-8px 0 16px}\
table.ipc td:nth-child(2),table.ipc th:nth-child(2){text-align:right}\
table.ipc td:first-child,table.ipc td:last-child,table.ipc th:first-child,table.ipc th:last-child{text-align:left}";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn table(t: &Table) -> String {
    let mut out = format!("<h3>{}</h3>\n<table class=\"ranking\"><tr>", esc(&t.title));
    for h in &t.headers {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for c in row {
            out.push_str(&format!("<td>{}</td>", esc(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    if !t.notes.is_empty() {
        out.push_str("<ul class=\"pattern\">\n");
        for (backend, note) in &t.notes {
            out.push_str(&format!("<li><b>{}</b>: {}</li>\n", esc(backend), esc(note)));
        }
        out.push_str("</ul>\n");
    }
    for (backend, why) in &t.missing {
        out.push_str(&format!("<p class=\"missing\"><b>{}</b> {}</p>\n", esc(backend), esc(why)));
    }
    out
}

pub(crate) fn render(r: &Report) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(&r.title)
    );
    out.push_str(&format!("<h1>{}</h1>\n<p>{}</p>\n", esc(&r.title), esc(&r.summary)));
    out.push_str("<h2 id=\"environment\">Environment</h2>\n");
    for (label, env) in &r.environments {
        if r.environments.len() > 1 {
            out.push_str(&format!("<h3>{}</h3>\n", esc(label)));
        }
        out.push_str("<table class=\"env\">");
        for (k, v) in environment_rows(env) {
            out.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v)));
        }
        out.push_str("</table>\n");
    }
    out.push_str("<h2 id=\"warnings\">Warnings</h2>\n");
    if r.warnings.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<ul class=\"warnings\">\n");
        for w in &r.warnings {
            out.push_str(&format!("<li class=\"warn\">{}</li>\n", esc(&w.to_string())));
        }
        out.push_str("</ul>\n");
    }
    out.push_str(
        "<h2 id=\"rankings\">Rankings</h2>\n<p>Best first; \"vs best\" is the ratio of medians; \
         \"range\" is ±half the min..max spread of repeats.</p>\n",
    );
    for t in &r.tables {
        out.push_str(&table(t));
    }
    if !r.ipc.is_empty() {
        out.push_str("<h2 id=\"ipc\">Processes sharing a mapping (iobench ipc)</h2>\n");
        for (label, ipc) in &r.ipc {
            out.push_str(&ipc_section(label, ipc));
        }
    }
    out.push_str("<h2 id=\"plots\">Plots</h2>\n");
    for s in &r.sections {
        out.push_str(&format!("<h3>{}</h3>\n<div class=\"plots\">\n", esc(&s.heading)));
        for p in &s.plots {
            out.push_str(&format!(
                "<figure id=\"{}\" class=\"plot\">{}<figcaption>{}</figcaption></figure>\n",
                esc(&p.id),
                strip_xml_decl(&p.svg),
                esc(&p.title)
            ));
        }
        out.push_str("</div>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// One `iobench ipc` measurement: round trips per mode, then the claims' outcomes (the same
/// content as `ipc::markdown`).
fn ipc_section(label: &str, r: &IpcReport) -> String {
    let mut out = format!(
        "<p>From {}: two processes pass a counter back and forth, up to {} round trips or {} per mode.</p>\n",
        esc(label),
        r.exchanges_requested,
        format_ns(r.runtime_limit_ns as f64)
    );
    out.push_str(
        "<table class=\"ipc\"><tr><th>mode</th><th>round trips/s</th><th>p50</th><th>p99</th><th>p99.9</th>\
         <th>round trips</th><th>how</th></tr>\n",
    );
    for m in &r.modes {
        let l = &m.round_trip_ns;
        if m.status == RunStatus::Ok {
            out.push_str(&format!(
                "<tr><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(m.mode.name()),
                m.round_trips_per_s,
                format_ns(l.p50 as f64),
                format_ns(l.p99 as f64),
                format_ns(l.p99_9 as f64),
                m.round_trips,
                esc(&m.what)
            ));
        } else {
            out.push_str(&format!(
                "<tr><td>{}</td><td class=\"warn\" colspan=\"6\">failed: {}</td></tr>\n",
                esc(m.mode.name()),
                esc(m.reason.as_deref().unwrap_or(""))
            ));
        }
    }
    out.push_str("</table>\n");
    let mut claims = Vec::new();
    if let Some(v) = &r.visibility {
        let held = v.seen_by_fresh_mapping && v.seen_by_read;
        let yes = |b: bool| if b { "yes" } else { "NO" };
        claims.push(format!(
            "<li{}>Visibility without msync: a writer stored through MAP_SHARED and exited without msync; a fresh \
             mapping saw the value: <b>{}</b>, read() saw it: <b>{}</b> ({}).</li>",
            if held { "" } else { " class=\"warn\"" },
            yes(v.seen_by_fresh_mapping),
            yes(v.seen_by_read),
            if held { "the claim holds: the page cache is shared" } else { "the claim did not hold here" }
        ));
    }
    if let Some(c) = &r.msync {
        claims.push(format!(
            "<li>Cost of durability per update ({} updates): store alone p50 {}; store + msync(MS_SYNC) p50 {}, \
             p99 {}; store + msync(MS_ASYNC) p50 {}.</li>",
            c.updates,
            format_ns(c.store_ns.p50 as f64),
            format_ns(c.store_msync_sync_ns.p50 as f64),
            format_ns(c.store_msync_sync_ns.p99 as f64),
            format_ns(c.store_msync_async_ns.p50 as f64)
        ));
    }
    if !claims.is_empty() {
        out.push_str(&format!("<h3>Claims</h3>\n<ul class=\"claims\">\n{}\n</ul>\n", claims.join("\n")));
    }
    out
}

/// An SVG document without any `<?xml …?>` line, so it can sit inside HTML.
fn strip_xml_decl(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}
