//! `iobench calibrate`: iobench and fio on the same file, alternating (iobench, fio, iobench,
//! fio…), for every backend fio also has, with the same work on both sides (consume mode,
//! fio's default advice, random map, cache state). A ratio far from 1 is an artifact of one
//! harness, and CI runs the quick calibration so such an artifact cannot land unseen.
//!
//! `cells` holds the fixed cells, `fio` runs and parses fio, `render` writes the table,
//! `calibration.md` and `calibration.json`. iobench runs in-process through the library.

pub(crate) mod cells;
pub mod fio;
mod options;
pub mod render;

use options::default_out;
pub use options::{Flags, Options};

use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::observe::environment::Environment;
use crate::result::RunStatus;
use crate::workload::plan::{CacheState, Plan, PlanContext};
use cells::{Cell, Start, Target};
use fio::{Figures, Fio, RunError};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// How one cell went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// iobench's backend cannot run here (io_uring disabled…): nothing to compare.
    Skipped,
    /// A run failed on either side; `reason` says which and why.
    Failed,
    /// Ctrl-C before the cell finished.
    Interrupted,
}

/// One iobench run and the fio run after it.
#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    pub iobench: Figures,
    pub fio: Figures,
    /// iobench ÷ fio on the cell's metric.
    pub ratio: f64,
}

/// One cell's settings on both sides and its figures.
#[derive(Debug, Clone, Serialize)]
pub struct CellResult {
    pub id: String,
    /// The figure the ratio compares: `iops` or `bw_bytes_per_s`.
    pub metric: &'static str,
    /// The work both sides do, in words (consume mode, advice).
    pub matched_work: String,
    /// fio's job in words.
    pub fio_job: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Median of the per-pair ratios (iobench ÷ fio).
    pub ratio: Option<f64>,
    pub iobench_median: Option<Figures>,
    pub fio_median: Option<Figures>,
    pub pairs: Vec<Pair>,
    /// iobench's validated workload, as in its results files.
    pub iobench_workload: Plan,
    pub iobench_notes: Vec<String>,
    /// fio's command line (the program is `Calibration::fio_path`).
    pub fio_args: Vec<String>,
}

/// The whole calibration: what `calibration.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub schema_version: u32,
    pub iobench_version: String,
    pub created_unix_s: u64,
    pub command: String,
    /// False when Ctrl-C ended it early: the cells that finished are kept.
    pub complete: bool,
    pub pairs: u32,
    pub runtime_ns: u64,
    pub size_bytes: u64,
    pub min_ratio: f64,
    pub fio_version: String,
    pub fio_path: PathBuf,
    pub environment: Environment,
    pub cells: Vec<CellResult>,
    /// Where the files go (not part of the document).
    #[serde(skip)]
    pub out_dir: PathBuf,
}

impl Calibration {
    /// Cells that ran to the end (ok, skipped or failed), not cut short by Ctrl-C.
    pub fn finished(&self) -> usize {
        self.cells.iter().filter(|c| c.status != Status::Interrupted).count()
    }

    /// Cells that fail `--min-ratio`: a ratio below it, or a failed run (no ratio at all).
    pub(crate) fn below(&self) -> Vec<&CellResult> {
        self.cells
            .iter()
            .filter(|c| match c.status {
                Status::Ok => c.ratio.is_some_and(|r| r < self.min_ratio),
                Status::Failed => true,
                Status::Skipped | Status::Interrupted => false,
            })
            .collect()
    }
}

/// A calibration ready to run: fio found, every cell's plan validated.
pub struct Calibrate {
    opts: Options,
    fio: Fio,
    cells: Vec<(Cell, Plan, Vec<String>)>,
}

impl Calibrate {
    /// Finds fio (missing: an error saying to install it) and validates every cell for `opts`.
    pub fn new(opts: Options) -> Result<Calibrate> {
        let fio = fio::locate()?;
        let policy = crate::datafile::safety::Policy { keep_files: opts.keep_files, ..Default::default() };
        let mut cells = Vec::new();
        for cell in cells::all() {
            let raw = cell.raw(&opts.dir, opts.size_bytes, opts.runtime_ms)?;
            let (mut plan, notes) = Plan::from_raw(&raw, PlanContext::default())?;
            crate::datafile::safety::admit(&mut plan, &policy)?;
            cells.push((cell, plan, notes));
        }
        check_write_file(&opts)?;
        Ok(Calibrate { opts, fio, cells })
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    pub fn fio(&self) -> &Fio {
        &self.fio
    }

    /// How many cells will run.
    pub fn cells(&self) -> usize {
        self.cells.len()
    }

    /// Runs every cell in order; `on_cell` sees each as soon as it is done. Data files this
    /// created are removed at the end unless `keep_files`; Ctrl-C ends it after the current run.
    pub fn run(&self, mut on_cell: impl FnMut(&CellResult)) -> Result<Calibration> {
        let _files = crate::datafile::cleanup::Scope::enter(self.opts.keep_files);
        let dir = &self.opts.dir;
        crate::datafile::cleanup::create_dir_all(dir)
            .context(|| format!("cannot create data directory {}", dir.display()))?;
        // calibration.md names the memory ceilings warm cells are bounded by (about 0.5 s, once).
        let environment = Environment::capture_with_ceilings(dir);
        let out_dir = self.opts.out.clone().unwrap_or_else(|| default_out(&environment.cpu_model, now_unix_s()));
        // Made now, so an unusable --out fails before minutes of measuring, not after.
        std::fs::create_dir_all(&out_dir).map_err(|e| {
            Error::invalid("--out", format!("cannot create {}: {e}; choose another --out", out_dir.display()))
        })?;
        let mut cal = Calibration {
            schema_version: 1,
            iobench_version: env!("CARGO_PKG_VERSION").to_string(),
            created_unix_s: now_unix_s(),
            command: self.opts.command(),
            complete: false,
            pairs: self.opts.pairs,
            runtime_ns: self.opts.runtime_ms * 1_000_000,
            size_bytes: self.opts.size_bytes,
            min_ratio: self.opts.min_ratio,
            fio_version: self.fio.version.clone(),
            fio_path: self.fio.path.clone(),
            environment,
            cells: Vec::new(),
            out_dir,
        };
        for (cell, plan, notes) in &self.cells {
            if stopped() {
                break;
            }
            let result = self.run_cell(cell, plan, notes);
            on_cell(&result);
            cal.cells.push(result);
        }
        cal.complete = !stopped() && cal.cells.len() == self.cells.len();
        Ok(cal)
    }

    /// `pairs` times: iobench, then fio, on the same file.
    fn run_cell(&self, cell: &Cell, plan: &Plan, notes: &[String]) -> CellResult {
        let size = self.opts.size_bytes;
        let data = DataFile {
            path: DataFile::default_path(&plan.dir, plan.size_bytes, plan.seed),
            size: plan.size_bytes,
            seed: plan.seed,
        };
        let file = match cell.target() {
            Target::None => None,
            Target::DataFile => Some(data.path.clone()),
            Target::WriteFile => Some(fio::write_file_path(&self.opts.dir, size)),
        };
        let mut result = CellResult {
            id: cell.id.into(),
            metric: cell.metric().key(),
            matched_work: cell.matched_work(),
            fio_job: cell.fio_label(),
            status: Status::Ok,
            reason: None,
            ratio: None,
            iobench_median: None,
            fio_median: None,
            pairs: Vec::new(),
            iobench_workload: plan.clone(),
            iobench_notes: notes.to_vec(),
            fio_args: cell.fio_args(file.as_deref(), size, self.opts.runtime_ms),
        };
        if cell.target() == Target::WriteFile {
            // fio's own file, written whole by iobench once (so fio never lays it out), and
            // recorded for removal; fio's default invalidate=1 evicts it before every run.
            if let Err(e) = DataFile::prepare(&self.opts.dir, size, fio::WRITE_FILE_SEED) {
                return result.ended(Status::Failed, format!("fio's write file: {e}"));
            }
        }
        for _ in 0..self.opts.pairs {
            match self.pair(cell, plan, notes, &data, &result.fio_args) {
                Ok(pair) => result.pairs.push(pair),
                Err(Outcome::Skipped(why)) => return result.ended(Status::Skipped, why),
                Err(Outcome::Failed(why)) => return result.ended(Status::Failed, why),
                Err(Outcome::Interrupted) => return result.ended(Status::Interrupted, "by Ctrl-C or SIGTERM".into()),
            }
        }
        result.summarize();
        result
    }

    /// One iobench run, then one fio run.
    fn pair(
        &self,
        cell: &Cell,
        plan: &Plan,
        notes: &[String],
        data: &DataFile,
        fio_args: &[String],
    ) -> std::result::Result<Pair, Outcome> {
        let iobench = iobench_side(plan, notes)?;
        if cell.start == Start::Warm && cell.target() == Target::DataFile {
            // iobench's run made the file resident; fio's buffered reads must find it so.
            let warm = data.set_cache_state(CacheState::Warm);
            warm.map_err(|e| Outcome::Failed(format!("before fio: {e}")))?;
        }
        // Generous: fio's start-up and end; its files exist already, so it lays out nothing.
        let timeout = Duration::from_millis(self.opts.runtime_ms * 2) + Duration::from_secs(120);
        let fio = self.fio.run(fio_args, cell.writes(), timeout).map_err(|e| match e {
            RunError::Interrupted => Outcome::Interrupted,
            RunError::Failed(m) => Outcome::Failed(m),
        })?;
        let metric = |f: &Figures| if cell.metric() == cells::Metric::Iops { f.iops } else { f.bw_bytes_per_s };
        Ok(Pair { iobench, fio, ratio: metric(&iobench) / metric(&fio) })
    }
}

/// Why a cell ended early.
enum Outcome {
    Skipped(String),
    Failed(String),
    Interrupted,
}

/// One in-process iobench run.
fn iobench_side(plan: &Plan, notes: &[String]) -> std::result::Result<Figures, Outcome> {
    let run = crate::engine::execute(plan, notes.to_vec());
    if stopped() {
        return Err(Outcome::Interrupted);
    }
    let run = run.map_err(|e| Outcome::Failed(format!("iobench: {e}")))?;
    match (run.status, run.measured) {
        (RunStatus::Ok, Some(m)) => {
            Ok(Figures { iops: m.iops, bw_bytes_per_s: m.bw_bytes_per_s, p50_ns: m.latency_ns.p50 as f64 })
        }
        (RunStatus::Skipped, _) => Err(Outcome::Skipped(run.reason.unwrap_or_default())),
        _ => Err(Outcome::Failed(format!("iobench: {}", run.reason.unwrap_or_else(|| "no figures".into())))),
    }
}

impl CellResult {
    fn ended(mut self, status: Status, reason: String) -> CellResult {
        self.status = status;
        self.reason = Some(reason);
        self
    }

    /// Medians over the pairs: the ratio of each pair, and each figure on its own.
    fn summarize(&mut self) {
        let median_of = |f: &dyn Fn(&Pair) -> f64| median(self.pairs.iter().map(f).collect());
        let side = |pick: fn(&Pair) -> &Figures| Figures {
            iops: median_of(&|p| pick(p).iops),
            bw_bytes_per_s: median_of(&|p| pick(p).bw_bytes_per_s),
            p50_ns: median_of(&|p| pick(p).p50_ns),
        };
        self.ratio = Some(median_of(&|p| p.ratio));
        self.iobench_median = Some(side(|p| &p.iobench));
        self.fio_median = Some(side(|p| &p.fio));
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn stopped() -> bool {
    crate::base::stop::requested()
}

fn now_unix_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// fio's write file must be iobench's own (or absent): fio overwrites it.
fn check_write_file(opts: &Options) -> Result<()> {
    let path = fio::write_file_path(&opts.dir, opts.size_bytes);
    match crate::datafile::safety::classify(&path, opts.size_bytes, fio::WRITE_FILE_SEED) {
        crate::datafile::safety::Target::Missing
        | crate::datafile::safety::Target::Ours
        | crate::datafile::safety::Target::Stale => Ok(()),
        _ => Err(Error::invalid(
            "--dir",
            format!("{} exists and was not written by iobench; remove it or choose another --dir", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0]), 2.5);
    }
}
