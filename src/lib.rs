//! iobench: one run loop, many ways to move bytes between a file and memory.
//!
//! Layers, bottom to top; each imports only from the layers below it (`tests/architecture.rs`
//! checks): `base` < `os` < `patterns` < `workload` < `datafile` < `backend` < `observe` <
//! `result` < `engine` < `app` < `report` < `article`.

pub mod app;
pub mod article;
pub mod backend;
pub mod base;
pub mod datafile;
pub mod engine;
pub mod observe;
pub mod os;
pub mod patterns;
pub mod report;
pub mod result;
pub mod workload;

// What a program using iobench as a library needs, a backend from outside iobench included
// (`examples/custom_backend.rs`): plans, sessions, the backend contract, results and reports.
pub use app::session::Session;
pub use backend::buffers::BufferPool;
pub use backend::{Backend, BackendFactory, Completion, MappedRegion, Op, OpKind, Probes, Setup, SubmitTimes};
pub use base::error::{Error, Result};
pub use datafile::blocks::DataFile;
pub use engine::run_on;
pub use report::document::Report;
pub use result::{Measured, Results, RunResult, RunStatus};
pub use workload::backends::{BackendKind, Capabilities, OutsideBackend};
pub use workload::plan::{Plan, PlanContext};
pub use workload::raw::{RawWorkload, Suite};
