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
}

impl Session {
    /// Expands and validates every workload, in run order, before anything runs.
    pub fn plans(&self) -> Result<Vec<(Plan, Vec<String>)>> {
        let raws = self.suite.expand(&self.overrides)?;
        let kinds: Vec<_> = raws
            .iter()
            .map(|r| r.backend.as_deref().unwrap_or("buffered").parse::<crate::backend::BackendKind>())
            .collect::<Result<_>>()?;
        let ctx =
            PlanContext { mixed_backends: kinds.iter().any(|k| k.is_queue()) && kinds.iter().any(|k| !k.is_queue()) };
        let plans = raws.iter().map(|r| Plan::from_raw(r, ctx)).collect::<Result<Vec<_>>>()?;
        // Repeats run interleaved (A B C A B C) so drift hits every cell alike.
        let mut ordered = Vec::with_capacity(plans.len() * self.suite.repeat as usize);
        for _ in 0..self.suite.repeat {
            ordered.extend(plans.iter().cloned());
        }
        Ok(ordered)
    }

    /// Runs every plan; `on_result` sees each result as soon as it exists.
    pub fn run(&self, mut on_result: impl FnMut(&RunResult)) -> Result<Results> {
        let plans = self.plans()?;
        let dir = plans.first().map(|(p, _)| p.dir.clone()).unwrap_or_default();
        let _ = std::fs::create_dir_all(&dir);
        let mut results = Results::new(&self.suite.name, Environment::capture(&dir));
        for (plan, notes) in plans {
            if run::STOP.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let result = match run::execute(&plan, notes.clone()) {
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
            on_result(&result);
            results.runs.push(result);
            if let Some(path) = &self.output {
                results.write_atomic(path)?;
            }
        }
        Ok(results)
    }
}
