//! A report: what `iobench report` and `iobench run` write into a results folder. Built once
//! from one or more results documents, then exported as Markdown (with SVG files beside it)
//! and as standalone HTML (SVGs inline).

use super::cells::{self, Group};
use super::plots::{self, Plot, bars, latency, series, sweep};
use super::ranking::{self, Table};
use super::warnings::{self, Warning};
use crate::base::error::{Error, Result};
use crate::observe::environment::Environment;
use crate::result::ipc::IpcReport;
use crate::result::{Results, RunResult};
use std::path::{Path, PathBuf};

/// A titled list of plots.
pub struct Section {
    pub(crate) heading: String,
    pub plots: Vec<Plot>,
}

pub struct Report {
    pub(crate) title: String,
    /// One line: how many runs from which documents, when.
    pub(crate) summary: String,
    /// (label, environment) of every distinct machine the runs came from.
    pub(crate) environments: Vec<(String, Environment)>,
    pub warnings: Vec<Warning>,
    pub(crate) tables: Vec<Table>,
    pub sections: Vec<Section>,
    /// (label, measurement) of every results document with an `ipc` block (`iobench ipc`).
    pub(crate) ipc: Vec<(String, IpcReport)>,
}

/// The files a report was written to.
pub struct Written {
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub plots: usize,
}

impl Report {
    pub fn build(docs: &[Results]) -> Result<Report> {
        let runs: Vec<RunResult> = docs.iter().flat_map(|d| d.runs.iter().cloned()).collect();
        let groups = cells::group(&runs);
        let mut suites: Vec<&str> = docs.iter().map(|d| d.suite.as_str()).collect();
        suites.dedup();
        let title = format!("iobench report: {}", suites.join(", "));
        let created = docs.iter().map(|d| d.created_unix_s).max().unwrap_or(0);
        let mut summary = format!(
            "{} runs in {} cells from {} results file{}, newest {}; iobench {}.",
            runs.len(),
            groups.iter().map(|g| g.cells.len()).sum::<usize>(),
            docs.len(),
            if docs.len() == 1 { "" } else { "s" },
            utc(created),
            env!("CARGO_PKG_VERSION"),
        );
        let mut environments: Vec<(String, Environment)> = Vec::new();
        for d in docs {
            let e = &d.environment;
            let same = |x: &Environment| x.hostname == e.hostname && x.kernel == e.kernel && x.device == e.device;
            if !environments.iter().any(|(_, x)| same(x)) {
                environments.push((format!("{} ({})", e.hostname, d.suite), e.clone()));
            }
        }
        let warnings = warnings::collect(&groups);
        let tables = groups.iter().map(ranking::table).collect();
        let sections = plot_sections(&groups)?;
        let ipc: Vec<(String, IpcReport)> = docs
            .iter()
            .filter_map(|d| {
                let r = d.ipc.clone()?;
                Some((format!("{} ({}), {}", d.environment.hostname, d.suite, utc(d.created_unix_s)), r))
            })
            .collect();
        if !ipc.is_empty() {
            summary.push_str(&format!(
                " With {} iobench ipc measurement{} (processes sharing a mapping).",
                ipc.len(),
                if ipc.len() == 1 { "" } else { "s" }
            ));
        }
        Ok(Report { title, summary, environments, warnings, tables, sections, ipc })
    }

    /// Writes `report.md`, `report.html` and `plots/*.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Written> {
        let plot_dir = dir.join("plots");
        std::fs::create_dir_all(&plot_dir)
            .map_err(|e| Error::io(format!("cannot create {}", plot_dir.display()), e))?;
        let mut count = 0;
        for plot in self.sections.iter().flat_map(|s| s.plots.iter()) {
            crate::result::write_atomic(&plot_dir.join(format!("{}.svg", plot.id)), plot.svg.as_bytes())?;
            count += 1;
        }
        let markdown = dir.join("report.md");
        crate::result::write_atomic(&markdown, super::markdown::render(self).as_bytes())?;
        let html = dir.join("report.html");
        crate::result::write_atomic(&html, super::html::render(self).as_bytes())?;
        Ok(Written { markdown, html, plots: count })
    }

    /// Every plot in the report.
    pub fn plot_count(&self) -> usize {
        self.sections.iter().map(|s| s.plots.len()).sum()
    }

    /// The ranking tables and warnings as terminal text.
    pub fn terminal_text(&self) -> String {
        let mut out = String::new();
        for t in &self.tables {
            out.push('\n');
            out.push_str(&ranking::render_text(t));
        }
        for (label, r) in &self.ipc {
            out.push_str(&format!("\n{label}\n{}", crate::report::ipc::render(r)));
        }
        if !self.warnings.is_empty() {
            out.push_str("\nWarnings:\n");
            for w in &self.warnings {
                out.push_str(&format!("  - {w}\n"));
            }
        }
        out
    }
}

/// Reads every results document named; a folder stands for its `results.json`.
pub fn read_all(paths: &[PathBuf]) -> Result<Vec<Results>> {
    paths.iter().map(|p| Results::read(&results_path(p))).collect()
}

/// `DIR` → `DIR/results.json`; a file path is kept.
pub fn results_path(p: &Path) -> PathBuf {
    if p.is_dir() { p.join("results.json") } else { p.to_path_buf() }
}

fn plot_sections(groups: &[Group<'_>]) -> Result<Vec<Section>> {
    let mut sections = Vec::new();
    let mut n = 0;
    let mut next_id = |kind: &str, label: &str| {
        n += 1;
        format!("{n:02}-{kind}-{}", plots::slug(label))
    };
    for g in groups {
        let mut section = Section { heading: g.label.clone(), plots: Vec::new() };
        section.plots.extend(bars::throughput(g, next_id("throughput", &g.label))?);
        section.plots.extend(latency::spectrum(g, next_id("spectrum", &g.label))?);
        section.plots.extend(latency::cdf(g, next_id("cdf", &g.label))?);
        section.plots.extend(series::plot(g, next_id("series", &g.label))?);
        if !section.plots.is_empty() {
            sections.push(section);
        }
    }
    let sweeps = sweep::find(groups);
    if !sweeps.is_empty() {
        let mut section = Section { heading: "Sweeps".into(), plots: Vec::new() };
        for s in &sweeps {
            let label = cells::describe(s.cells[0].plan, &[s.param]);
            section.plots.push(sweep::plot(s, next_id(&format!("sweep-{}", cells::short_key(s.param)), &label))?);
        }
        sections.push(section);
    }
    let mut cost = Section { heading: "Cost per GB".into(), plots: Vec::new() };
    cost.plots.extend(bars::cost(groups, bars::Cost::CpuPerGb, next_id("cpu", "per-gb"))?);
    cost.plots.extend(bars::cost(groups, bars::Cost::MajorFaultsPerGb, next_id("majflt", "per-gb"))?);
    if !cost.plots.is_empty() {
        sections.push(cost);
    }
    Ok(sections)
}

/// `2024-05-01 12:00:00 UTC` from Unix seconds.
pub fn utc(unix_s: u64) -> String {
    let (y, m, d, hh, mm, ss) = crate::base::units::utc_parts(unix_s);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} UTC")
}

/// An environment as (key, value) rows, every field included (new ones appear on their own).
pub(crate) fn environment_rows(env: &Environment) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(env) else { return Vec::new() };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) if k.ends_with("_bytes") => {
                    n.as_u64().map(human_bytes).unwrap_or_default()
                }
                other => plain(&other),
            };
            (k, text)
        })
        .collect()
}

fn human_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b => crate::base::units::format_size(b),
    }
}

/// A JSON value as a reader wants it: `a=1, b=x` for objects, `x, y` for lists, no quotes.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        serde_json::Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| format!("{k}={}", plain(v))).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}
