//! ARTICLE.md: the article's table with a measured verdict per row, each backed by its figures
//! and the rule that decided it.

use super::{Finding, Verdict};
use crate::report::plots::Plot;
use crate::result::{Results, RunStatus};
use std::fmt::Write;

/// What ARTICLE.md links to besides the findings.
#[derive(Debug, Clone, Default)]
pub(crate) struct Links {
    /// `iobench reproduce` or `iobench reproduce --quick`.
    pub(crate) command: String,
    /// (plot, path relative to ARTICLE.md, finding id it belongs to).
    pub(crate) plots: Vec<(String, String, &'static str)>,
    /// The general report, relative to ARTICLE.md, if it was written.
    pub(crate) report: Option<String>,
}

/// Which finding each of the article's plots illustrates.
pub(crate) fn plot_owner(plot: &Plot) -> &'static str {
    if plot.id.contains("memory-limit") { "memory-pressure" } else { "sequential" }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn verdict_text(v: &Verdict) -> String {
    match v.detail() {
        Some(d) => format!("**{}**: {d}", v.label()),
        None => format!("**{}**", v.label()),
    }
}

pub(crate) fn markdown(results: &Results, findings: &[Finding], links: &Links) -> String {
    let e = &results.environment;
    let ram = format!("{:.1} GiB", e.memory_bytes as f64 / (1u64 << 30) as f64);
    let mut out = String::new();
    let _ = writeln!(out, "# The article's mmap vs read()/write() table, measured\n");
    let _ = writeln!(
        out,
        "Measured by `{}` (iobench {}) on {}: {} ({} cores), {} of RAM, kernel {}, {} on {}, transparent huge \
         pages `{}`; {}. Every verdict below is computed from `results.json` by the rule printed beside it \
         (src/article/); nothing in this file is written by hand.\n",
        links.command,
        results.iobench_version,
        if e.hostname.is_empty() { "this machine" } else { &e.hostname },
        e.cpu_model,
        e.cpus,
        ram,
        e.kernel,
        e.fs_type,
        e.device,
        e.thp_enabled,
        crate::report::document::utc(results.created_unix_s),
    );
    let _ = writeln!(out, "| # | Claim | The article says | Verdict here |\n|---|---|---|---|");
    for (i, f) in findings.iter().enumerate() {
        let _ = writeln!(
            out,
            "| {} | [{}](#{}) | {} | {} |",
            i + 1,
            f.title,
            f.id,
            cell(f.article),
            cell(&verdict_text(&f.verdict))
        );
    }
    for (i, f) in findings.iter().enumerate() {
        let _ = writeln!(out, "\n<a id=\"{}\"></a>\n## {}. {}\n", f.id, i + 1, f.title);
        let _ = writeln!(out, "**The article says:** {}\n", f.article);
        let _ = writeln!(
            out,
            "**Measured here** (workloads {}):\n",
            f.workloads.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ")
        );
        if !f.measured.is_empty() {
            let _ = writeln!(out, "| Figure | Value |\n|---|---|");
            for (k, v) in &f.measured {
                let _ = writeln!(out, "| {} | {} |", cell(k), cell(v));
            }
            out.push('\n');
        }
        for o in &f.observations {
            let _ = writeln!(out, "- {o}");
        }
        for (title, path, _) in links.plots.iter().filter(|p| p.2 == f.id) {
            let _ = writeln!(out, "\n![{title}]({path})");
        }
        let _ = writeln!(
            out,
            "\n**Verdict: {}**{}\n",
            f.verdict.label(),
            f.verdict.detail().map(|d| format!(" — {d}")).unwrap_or_default()
        );
        let _ = writeln!(out, "*Rule:* {}", f.rule);
    }
    let unexpected: Vec<_> = results
        .runs
        .iter()
        .filter(|r| r.status != RunStatus::Ok)
        .filter(|r| {
            !(r.workload.limits.address_space_limit_bytes.is_some()
                && r.reason.as_deref().is_some_and(|m| m.contains("ENOMEM")))
        })
        .collect();
    let _ = writeln!(out, "\n## Runs that did not complete\n");
    if unexpected.is_empty() {
        let _ = writeln!(
            out,
            "None, apart from the whole-file mappings under the address-space limit, which are expected to fail."
        );
    } else {
        for r in unexpected {
            let _ = writeln!(
                out,
                "- `{}` on {}: {}",
                r.workload.name,
                r.backend,
                r.reason.as_deref().unwrap_or("no reason given")
            );
        }
    }
    let _ = writeln!(out, "\n## Files\n");
    let _ = writeln!(out, "- `results.json`: every run, with latency histograms and time series");
    let _ = writeln!(out, "- `environment.json`: the machine, kernel, filesystem, device and memory ceilings");
    if let Some(report) = &links.report {
        let _ = writeln!(out, "- [`{report}`]({report}): the general report, with every plot");
    }
    out
}
