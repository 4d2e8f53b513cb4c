//! `iobench reproduce`: run the article suite through the normal session, then write the
//! results folder: results.json, environment.json, ARTICLE.md (+ article.json with the same
//! verdicts for scripts), the general report (report.md, report.html) and plots/.
//!
//! Three things differ from `iobench run article`. The cells of every repeat run in a shuffled
//! order (seeded; the seed and each cell's place are in its notes), so a state one cell leaves
//! behind does not always fall on the same neighbour. The RLIMIT_AS emulation of a 32-bit
//! process runs only where no i686 build of iobench exists. (Before every cold start, in any
//! suite, the engine touches and frees as much free memory as the cell can fill: see
//! `engine::prepared` and `os::freemem`.)

use super::{Finding, evaluate, plots, render, suite};
use crate::app::session::{Progress, Session};
use crate::base::error::{Error, Result};
use crate::result::{Results, write_atomic};
use crate::workload::plan::Plan;
use std::path::{Path, PathBuf};
use toml::Table;

pub struct Options {
    pub scale: suite::Scale,
    /// Directory for the data files (the suite's `dir`); default `./iobench-data`.
    pub data_dir: Option<PathBuf>,
    /// The results folder.
    pub out: PathBuf,
    pub keep_files: bool,
    /// Seed of the cell order; None: from the clock (recorded either way).
    pub order_seed: Option<u64>,
}

/// What was written.
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub article: PathBuf,
    pub report: Option<PathBuf>,
    /// Why the general report could not be written, if it could not (ARTICLE.md is written anyway).
    pub report_error: Option<String>,
    pub plots: usize,
}

/// `results/<yyyy-mm-dd>-<hostname>` (with `-quick` for a scaled-down run).
pub fn default_out(scale: suite::Scale) -> PathBuf {
    let quick = scale != suite::Scale::Full;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let date: String = crate::report::document::utc(now).chars().take(10).collect();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let host = crate::report::plots::slug(if host.is_empty() { "machine" } else { &host });
    Path::new("results").join(format!("{date}-{host}{}", if quick { "-quick" } else { "" }))
}

/// The session that runs the article suite as `opts` says.
pub fn session(opts: &Options) -> Result<Session> {
    let suite = suite::load(opts.scale)?;
    let mut overrides = Table::new();
    if let Some(d) = &opts.data_dir {
        overrides.insert("dir".into(), toml::Value::String(d.display().to_string()));
    }
    Ok(Session {
        suite,
        overrides,
        output: Some(opts.out.join("results.json")),
        safety: crate::datafile::safety::Policy { keep_files: opts.keep_files, ..Default::default() },
        // The copies row counts copies against one core's memcpy and read bandwidth.
        measure_ceilings: true,
        ..Default::default()
    })
}

/// Runs `plans` (from `plans`) and writes the folder.
pub fn run(
    opts: &Options,
    session: &Session,
    plans: Vec<(Plan, Vec<String>)>,
    progress: impl FnMut(Progress<'_>),
) -> Result<Outcome> {
    // Cold starts recycle free memory in the engine (`os::freemem`); its notes say how it went.
    let results = session.run_plans(plans, progress)?;
    if let Some(path) = &session.output {
        results.write_atomic(path)?;
    }
    write(&opts.out, &command(opts.scale), &results)
}

/// The session's plans, each repeat shuffled, with the emulation left out where the real 32-bit
/// child can run. Each plan's notes record the seed and its place.
pub fn plans(session: &Session, seed: Option<u64>) -> Result<Vec<(Plan, Vec<String>)>> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let have_i686 = crate::app::isolate::arch::binary(crate::workload::resources::ChildArch::I686).is_ok();
    let all = session.plans()?;
    let repeats = session.suite.repeat.max(1) as usize;
    let per_repeat = all.len() / repeats;
    let seed = seed.unwrap_or_else(clock_seed);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(all.len());
    for (r, chunk) in all.chunks(per_repeat.max(1)).enumerate() {
        let mut chunk: Vec<_> = chunk
            .iter()
            .filter(|(p, _)| {
                !(have_i686 && p.name == suite::ADDRESS_SPACE && p.limits.address_space_limit_bytes.is_some())
            })
            .cloned()
            .collect();
        chunk.shuffle(&mut rng);
        let n = chunk.len();
        for (i, (plan, mut notes)) in chunk.into_iter().enumerate() {
            notes.push(order_note(seed, (r + 1, repeats), (i + 1, n)));
            out.push((plan, notes));
        }
    }
    Ok(out)
}

/// Where each cell's note on its place in the order starts.
pub(crate) const ORDER_NOTE: &str = "cell order: shuffled with seed ";

fn order_note(seed: u64, repeat: (usize, usize), position: (usize, usize)) -> String {
    format!(
        "{ORDER_NOTE}{seed} (iobench reproduce --order-seed {seed}); repeat {} of {}, position {} of {}",
        repeat.0, repeat.1, position.0, position.1
    )
}

/// The order seed recorded in a results document's notes, if any.
pub(crate) fn order_seed_of(results: &Results) -> Option<u64> {
    results.runs.iter().flat_map(|r| &r.notes).find_map(|n| n.strip_prefix(ORDER_NOTE)?.split(' ').next()?.parse().ok())
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

pub fn command(scale: suite::Scale) -> String {
    match scale {
        suite::Scale::Full => "iobench reproduce".into(),
        suite::Scale::Quick => "iobench reproduce --quick".into(),
        suite::Scale::Tiny => "iobench reproduce --tiny".into(),
    }
}

/// The scale a results document was run at, from its suite name.
pub fn scale_of(results: &Results) -> suite::Scale {
    match results.suite.as_str() {
        "article-quick" => suite::Scale::Quick,
        "article-tiny" => suite::Scale::Tiny,
        _ => suite::Scale::Full,
    }
}

/// Writes everything but results.json (the session wrote it) into `out` from `results`.
pub fn write(out: &Path, command: &str, results: &Results) -> Result<Outcome> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    let env = serde_json::to_vec_pretty(&results.environment).map_err(|e| Error::Bug(e.to_string()))?;
    write_atomic(&out.join("environment.json"), &env)?;
    let findings = evaluate(results);
    let json = serde_json::to_vec_pretty(&findings).map_err(|e| Error::Bug(e.to_string()))?;
    write_atomic(&out.join("article.json"), &json)?;

    let plot_dir = out.join("plots");
    std::fs::create_dir_all(&plot_dir).map_err(|e| Error::io(format!("cannot create {}", plot_dir.display()), e))?;
    let mut links = render::Links { command: command.to_string(), ..Default::default() };
    let ours = plots::all(results)?;
    for p in &ours {
        write_atomic(&plot_dir.join(format!("{}.svg", p.id)), p.svg.as_bytes())?;
        links.plots.push((p.title.clone(), format!("plots/{}.svg", p.id), render::plot_owner(p)));
    }
    // The general report (every cell's tables and plots); ARTICLE.md does not depend on it.
    let (report, report_error, report_plots) =
        match crate::report::document::Report::build(std::slice::from_ref(results)).and_then(|r| r.write(out)) {
            Ok(w) => (Some(w.html), None, w.plots),
            Err(e) => (None, Some(e.to_string()), 0),
        };
    links.report = report.as_ref().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
    let article = out.join("ARTICLE.md");
    write_atomic(&article, render::markdown(results, &findings, &links).as_bytes())?;
    Ok(Outcome { findings, article, report, report_error, plots: ours.len() + report_plots })
}
