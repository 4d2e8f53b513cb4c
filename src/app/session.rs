//! One invocation of `iobench run`: validate every workload first, then run them one after
//! another, writing the results file after each run so a crash loses at most the run in progress.

use crate::backend::{BackendFactory, BuiltIn};
use crate::base::error::{Error, Result};
use crate::engine;
use crate::observe::environment::Environment;
use crate::result::{Results, RunResult};
use crate::workload::backends::{BackendKind, OutsideBackend};
use crate::workload::plan::{Plan, PlanContext};
use crate::workload::raw::Suite;
use std::path::PathBuf;
use toml::Table;

#[derive(Default)]
pub struct Session {
    pub suite: Suite,
    /// CLI flags, applied over every workload of the suite.
    pub overrides: Table,
    /// Where the results document goes (rewritten atomically after every run).
    pub output: Option<PathBuf>,
    /// What the invocation may touch beyond iobench's own files, and whether to keep them.
    pub safety: crate::datafile::safety::Policy,
    /// Whether the results' environment carries the memory ceilings (about 0.15 s, once):
    /// `iobench run` wants them beside warm-cache runs; library users and tests may skip them.
    pub measure_ceilings: bool,
    /// Backends from outside iobench that workloads may name, with their factories.
    pub outside: Vec<(BackendKind, Box<dyn BackendFactory + Send>)>,
}

impl Session {
    /// Lets workloads name the backend `spec` declares (`backend = "NAME"`), opened by `factory`:
    /// it runs through the same loop, checks, evidence and results as iobench's own.
    pub fn with_backend(
        mut self,
        spec: &'static OutsideBackend,
        factory: impl BackendFactory + Send + 'static,
    ) -> Self {
        self.outside.push((BackendKind::Outside(spec), Box::new(factory)));
        self
    }

    /// The backend a workload names: one of iobench's, or one added with `with_backend`.
    fn backend_named(&self, name: &str) -> Result<BackendKind> {
        if let Some((kind, _)) = self.outside.iter().find(|(k, _)| k.name() == name) {
            return Ok(*kind);
        }
        name.parse::<BackendKind>().map_err(|e| match e {
            Error::Invalid { key, message } if !self.outside.is_empty() => {
                let outside: Vec<&str> = self.outside.iter().map(|(k, _)| k.name()).collect();
                Error::Invalid { key, message: format!("{message}, or from outside iobench {}", outside.join(", ")) }
            }
            e => e,
        })
    }

    /// The factory that opens `kind`'s backends.
    fn factory_of(&self, kind: BackendKind) -> &dyn BackendFactory {
        match self.outside.iter().find(|(k, _)| *k == kind) {
            Some((_, factory)) => factory.as_ref(),
            None => &BuiltIn,
        }
    }

    /// Expands and validates every workload, in run order, before anything runs.
    pub fn plans(&self) -> Result<Vec<(Plan, Vec<String>)>> {
        for (kind, _) in &self.outside {
            if BackendKind::ALL.iter().any(|b| b.name() == kind.name()) {
                let message = format!("{kind} is the name of one of iobench's own backends; name yours otherwise");
                return Err(Error::invalid("backend", message));
            }
        }
        let raws = self.suite.expand(&self.overrides)?;
        let kinds: Vec<_> = raws
            .iter()
            .map(|r| self.backend_named(r.backend.as_deref().unwrap_or("buffered")))
            .collect::<Result<_>>()?;
        let ctx = PlanContext {
            mixed_backends: kinds.iter().any(|k| k.is_queue()) && kinds.iter().any(|k| !k.is_queue()),
            several_backends: kinds.iter().any(|k| *k != kinds[0]),
        };
        let mut plans =
            raws.iter().zip(&kinds).map(|(r, k)| Plan::for_backend(r, ctx, *k)).collect::<Result<Vec<_>>>()?;
        for (plan, _) in &mut plans {
            crate::datafile::safety::admit(plan, &self.safety)?;
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
    /// (`base::stop`) the cell in progress is dropped and every finished one is kept.
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
        let _files = crate::datafile::cleanup::Scope::enter(self.safety.keep_files);
        let total = plans.len();
        let dir = plans.first().map(|(p, _)| p.dir.clone()).unwrap_or_default();
        let _ = crate::datafile::cleanup::create_dir_all(&dir);
        let environment =
            if self.measure_ceilings { Environment::capture_with_ceilings(&dir) } else { Environment::capture(&dir) };
        let mut results = Results::new(&self.suite.name, environment);
        for (index, (plan, notes)) in plans.into_iter().enumerate() {
            if crate::base::stop::requested() {
                break;
            }
            progress(Progress::Start { index, total, plan: &plan });
            // In a child process when the plan sets memory_limit or address_space_limit.
            let factory = self.factory_of(plan.backend);
            let outcome = crate::app::isolate::execute(&plan, notes.clone(), series_interval(&plan), factory);
            if crate::base::stop::requested() {
                break;
            }
            let result = match outcome {
                Ok(r) => r,
                Err(e @ (Error::Invalid { .. } | Error::WorkloadFile { .. })) => return Err(e),
                Err(e) => RunResult::failed(&plan, notes, e.to_string()),
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
pub(crate) fn series_interval(plan: &Plan) -> std::time::Duration {
    if let Some(ns) = plan.series_interval_ns {
        return std::time::Duration::from_nanos(ns);
    }
    let fallback = engine::DEFAULT_SERIES_INTERVAL;
    let wanted = plan.runtime().map(|r| r / 10).unwrap_or(fallback);
    wanted.clamp(std::time::Duration::from_millis(100), fallback)
}
