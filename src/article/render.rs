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

/// The whole-file mapping of a file larger than the process's address space: the row's point.
fn expected_failure(r: &crate::result::RunResult) -> bool {
    let small = r.workload.limits.address_space_limit_bytes.is_some() || r.workload.limits.child_arch.is_some();
    small && r.workload.limits.window_bytes.is_none() && r.reason.as_deref().is_some_and(|m| m.contains("mmap failed"))
}

/// Lines about how the runs ran: their order, steal time, and what the guard needs to know.
fn run_notes(results: &Results) -> Vec<String> {
    let mut lines = Vec::new();
    match super::reproduce::order_seed_of(results) {
        Some(seed) => lines.push(format!(
            "- Cells ran in a shuffled order, each repeat shuffled anew (seed {seed}; every run's notes give its place)."
        )),
        None => lines.push("- The cell order is not recorded in these results (the suite's order, repeats interleaved).".into()),
    }
    let steals: Vec<f64> = results.runs.iter().filter_map(|r| r.measured.as_ref()?.evidence.steal_pct).collect();
    if steals.is_empty() {
        lines.push(
            "- Steal time is not recorded in these results (it needs evidence.steal_pct, from /proc/stat, per run)."
                .into(),
        );
    } else {
        let high = steals.iter().filter(|s| **s > super::STEAL_SHOWN).count();
        let max = steals.iter().copied().fold(0.0, f64::max);
        lines.push(format!(
            "- Steal time (/proc/stat, share of the machine's CPU the host took): at most {max:.1}% in a run; {high} of \
             {} runs above {}% (named in their rows).",
            steals.len(),
            super::STEAL_SHOWN
        ));
    }
    lines
}

/// One finding's section: figures, observations, parts, what the guard left out, steal time,
/// plots, verdict and rule.
fn section(out: &mut String, n: usize, f: &Finding, links: &Links) {
    let _ = writeln!(out, "\n<a id=\"{}\"></a>\n## {n}. {}\n", f.id, f.title);
    let _ = writeln!(out, "**The article says:** {}\n", f.article);
    let workloads: Vec<String> = f.workloads.iter().map(|w| format!("`{w}`")).collect();
    let _ = writeln!(out, "**Measured here** (workloads {}):\n", workloads.join(", "));
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
    let parts: Vec<String> = f.parts.iter().map(|(label, v)| format!("{label}: {}", verdict_text(v))).collect();
    let lists = [
        ("**Verdict per part:**".to_string(), &parts),
        ("**Left out by the anomaly guard** (these runs decide nothing here):".to_string(), &f.left_out),
        (format!("**Steal time above {}%:**", super::STEAL_SHOWN), &f.steal),
    ];
    for (heading, items) in lists {
        if !items.is_empty() {
            let _ = writeln!(out, "\n{heading}\n");
            for l in items {
                let _ = writeln!(out, "- {l}");
            }
        }
    }
    for (title, path, _) in links.plots.iter().filter(|p| p.2 == f.id) {
        let _ = writeln!(out, "\n![{title}]({path})");
    }
    let detail = f.verdict.detail().map(|d| format!(" — {d}")).unwrap_or_default();
    let _ = writeln!(out, "\n**Verdict: {}**{detail}\n", f.verdict.label());
    let _ = writeln!(out, "*Rule:* {}", f.rule);
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
    for line in run_notes(results) {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
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
        section(&mut out, i + 1, f, links);
    }
    let unexpected: Vec<_> =
        results.runs.iter().filter(|r| r.status != RunStatus::Ok).filter(|r| !expected_failure(r)).collect();
    let _ = writeln!(out, "\n## Runs that did not complete\n");
    if unexpected.is_empty() {
        let _ = writeln!(
            out,
            "None, apart from the whole-file mappings of the address-space row, which are expected to fail."
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
