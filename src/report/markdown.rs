//! report.md: the same sections as the HTML report, with the plots as SVG files beside it.

use super::document::{Report, environment_rows};
use super::ranking;

pub(crate) fn render(r: &Report) -> String {
    let mut out = format!("# {}\n\n{}\n\n", r.title, r.summary);
    out.push_str("## Environment\n\n");
    for (label, env) in &r.environments {
        if r.environments.len() > 1 {
            out.push_str(&format!("**{label}**\n\n"));
        }
        out.push_str("| | |\n|---|---|\n");
        for (k, v) in environment_rows(env) {
            out.push_str(&format!("| {k} | {} |\n", v.replace('|', "\\|")));
        }
        out.push('\n');
    }
    out.push_str("## Warnings\n\n");
    if r.warnings.is_empty() {
        out.push_str("None.\n\n");
    }
    for w in &r.warnings {
        out.push_str(&format!("- {w}\n"));
    }
    if !r.warnings.is_empty() {
        out.push('\n');
    }
    out.push_str("## Rankings\n\nBest first; \"vs best\" is the ratio of medians; \"range\" is ±half the min..max spread of repeats.\n\n");
    for t in &r.tables {
        out.push_str(&ranking::render_markdown(t));
        out.push('\n');
    }
    for (label, ipc) in &r.ipc {
        // The ipc module's own section, with where it came from under its heading.
        let section = crate::report::ipc::markdown(ipc);
        match section.split_once("\n\n") {
            Some((heading, rest)) => out.push_str(&format!("{heading}\n\nFrom {label}.\n\n{rest}\n")),
            None => out.push_str(&format!("{section}\n")),
        }
    }
    out.push_str("## Plots\n\n");
    for s in &r.sections {
        out.push_str(&format!("### {}\n\n", s.heading));
        for p in &s.plots {
            out.push_str(&format!("![{}](plots/{}.svg)\n\n", p.title.replace(['[', ']'], ""), p.id));
        }
    }
    out
}
