//! One invocation of `iobench run`: validate every workload first, then run them one after
//! another, writing the results file after each run so a crash loses at most the run in progress.

use crate::env::Environment;
use crate::error::{Error, Result};
use crate::plan::{Plan, PlanContext};
use crate::result::{Results, RunResult, RunStatus};
use crate::run;
use crate::workload::Suite;
use std::path::PathBuf;
use toml::Table;

pub struct Session {
    pub suite: Suite,
    /// CLI flags, applied over every workload of the suite.
    pub overrides: Table,
    /// Where the results document goes (rewritten atomically after every run).
    pub output: Option<PathBuf>,
    /// What the invocation may touch beyond iobench's own files, and whether to keep them.
    pub safety: crate::safety::Policy,
}

impl Session {
    /// Expands and validates every workload, in run order, before anything runs.
    pub fn plans(&self) -> Result<Vec<(Plan, Vec<String>)>> {
        let raws = self.suite.expand(&self.overrides)?;
        let kinds: Vec<_> = raws
            .iter()
            .map(|r| r.backend.as_deref().unwrap_or("buffered").parse::<crate::backend::BackendKind>())
            .collect::<Result<_>>()?;
        let ctx = PlanContext {
            mixed_backends: kinds.iter().any(|k| k.is_queue()) && kinds.iter().any(|k| !k.is_queue()),
            several_backends: kinds.iter().any(|k| *k != kinds[0]),
        };
        let mut plans = raws.iter().map(|r| Plan::from_raw(r, ctx)).collect::<Result<Vec<_>>>()?;
        for (plan, _) in &mut plans {
            crate::safety::admit(plan, &self.safety)?;
        }
        // Repeats run interleaved (A B C A B C) so drift hits every cell alike.
        let mut ordered = Vec::with_capacity(plans.len() * self.suite.repeat as usize);
        for _ in 0..self.suite.repeat {
            ordered.extend(plans.iter().cloned());
        }
        Ok(ordered)
    }

    /// Runs every plan; `on_result` sees each result as soon as it exists.
    pub fn run(&self, mut on_result: impl FnMut(&RunResult)) -> Result<Results> {
        self.run_with(|p| {
            if let Progress::Done { result, .. } = p {
                on_result(result)
            }
        })
    }

    /// Runs every plan, telling `progress` when each cell starts and ends. After Ctrl-C
    /// (`run::STOP`) the cell in progress is dropped and every finished one is kept.
    pub fn run_with(&self, progress: impl FnMut(Progress<'_>)) -> Result<Results> {
        self.run_plans(self.plans()?, progress)
    }

    /// Runs `plans` (from `plans`, perhaps reordered or filtered, as `iobench reproduce` does).
    pub fn run_plans(
        &self,
        plans: Vec<(Plan, Vec<String>)>,
        mut progress: impl FnMut(Progress<'_>),
    ) -> Result<Results> {
        // Removes what this invocation created when the session ends, however it ends.
        let _files = crate::cleanup::Scope::enter(self.safety.keep_files);
        let total = plans.len();
        let dir = plans.first().map(|(p, _)| p.dir.clone()).unwrap_or_default();
        let _ = crate::cleanup::create_dir_all(&dir);
        let mut results = Results::new(&self.suite.name, Environment::capture(&dir));
        for (index, (plan, notes)) in plans.into_iter().enumerate() {
            if run::STOP.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            progress(Progress::Start { index, total, plan: &plan });
            // In a child process when the plan sets memory_limit or address_space_limit.
            let outcome = crate::isolate::execute(&plan, notes.clone(), series_interval(&plan));
            if run::STOP.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let result = match outcome {
                Ok(r) => r,
                Err(e @ (Error::Invalid { .. } | Error::WorkloadFile { .. })) => return Err(e),
                Err(e) => RunResult {
                    workload: plan.clone(),
                    backend: plan.backend.to_string(),
                    status: RunStatus::Failed,
                    reason: Some(e.to_string()),
                    notes,
                    measured: None,
                },
            };
            progress(Progress::Done { index, total, result: &result });
            results.runs.push(result);
            if let Some(path) = &self.output {
                results.write_atomic(path)?;
            }
        }
        Ok(results)
    }
}

/// What `Session::run_with` reports while it works.
pub enum Progress<'a> {
    /// Cell `index` (from 0) of `total` is about to run.
    Start { index: usize, total: usize, plan: &'a Plan },
    /// A cell finished: ok, skipped or failed.
    Done { index: usize, total: usize, result: &'a RunResult },
}

/// The plan's `series_interval`, else about ten points per run, between 100 ms and 1 s apart.
pub fn series_interval(plan: &Plan) -> std::time::Duration {
    if let Some(ns) = plan.series_interval_ns {
        return std::time::Duration::from_nanos(ns);
    }
    let fallback = run::DEFAULT_SERIES_INTERVAL;
    let wanted = plan.runtime().map(|r| r / 10).unwrap_or(fallback);
    wanted.clamp(std::time::Duration::from_millis(100), fallback)
}
