//! The run: a plan made ready (data file in its cache state, system knobs set, backends open,
//! buffers allocated), then the one loop every backend runs in, and its figures assembled.

pub(crate) mod assemble;
pub(crate) mod checks;
pub(crate) mod completion;
pub(crate) mod offsets;
pub mod prepared;
pub(crate) mod system;
pub mod worker;

pub use prepared::Prepared;

use crate::backend::{BackendFactory, BuiltIn};
use crate::base::error::{Error, Result};
use crate::result::{Measured, RunResult};
use crate::workload::plan::Plan;
use std::time::Duration;

/// Interval of the time series kept in every result.
pub(crate) const DEFAULT_SERIES_INTERVAL: Duration = Duration::from_secs(1);

/// When a measured run ends: after `runtime`, after `ops_per_thread` operations per worker,
/// whichever comes first (at least one must be set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopAt {
    pub(crate) runtime: Option<Duration>,
    pub(crate) ops_per_thread: Option<u64>,
}

impl StopAt {
    /// The plan's `runtime` and `io_size` (bytes per thread, as operations).
    pub(crate) fn from_plan(plan: &Plan) -> StopAt {
        let op_bytes = plan.op_bytes();
        StopAt { runtime: plan.runtime(), ops_per_thread: plan.io_size_bytes.map(|b| (b / op_bytes).max(1)) }
    }
    /// Exactly `n` operations per worker, however long they take (criterion's `iter_custom`).
    pub fn ops(n: u64) -> StopAt {
        StopAt { runtime: None, ops_per_thread: Some(n.max(1)) }
    }
}

/// Prepares the file, runs `plan` on its (built-in) backend, and returns the result. A backend
/// that cannot run here comes back as a skipped result, not an error.
pub fn execute(plan: &Plan, notes: Vec<String>) -> Result<RunResult> {
    run_on(plan, notes, DEFAULT_SERIES_INTERVAL, &BuiltIn)
}

/// `execute` with the caller's time-series interval (a `series_interval` key overrides it).
pub(crate) fn execute_with(plan: &Plan, notes: Vec<String>, series_interval: Duration) -> Result<RunResult> {
    run_on(plan, notes, series_interval, &BuiltIn)
}

/// The one way a plan runs, on the backends `factory` opens: its data file prepared and put in
/// its cache state, the same loop (offsets, timing, queue depth, verification, consume,
/// histograms), evidence around the measured interval, and a result the reports read like any
/// other. How a backend from outside iobench runs (see `backend::BackendFactory`).
pub fn run_on(
    plan: &Plan,
    notes: Vec<String>,
    series_interval: Duration,
    factory: &dyn BackendFactory,
) -> Result<RunResult> {
    match measure(plan, series_interval, factory) {
        Ok(measured) => Ok(RunResult::ok(plan, notes, measured)),
        Err(Error::Unsupported { reason, .. }) => Ok(RunResult::skipped(plan, notes, reason)),
        Err(e) => Err(e),
    }
}

fn measure(plan: &Plan, series_interval: Duration, factory: &dyn BackendFactory) -> Result<Measured> {
    let mut prepared = Prepared::with_factory(plan, factory)?;
    // A series_interval key in the workload overrides the caller's default.
    prepared.series_interval = plan.series_interval_ns.map(Duration::from_nanos).unwrap_or(series_interval);
    prepared.run(StopAt::from_plan(plan))
}
