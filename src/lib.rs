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

pub use base::error::{Error, Result};
