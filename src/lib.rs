//! iobench: one run loop, many ways to move bytes between a file and memory.
//!
//! Flow: `workload` (raw TOML/CLI) → `plan` (validated) → `session` (runs in order) →
//! `run` (the loop, driving a `backend`) → `result` (JSON) → `report`.

pub mod article;
pub mod base;
pub mod datafile;
pub mod backend;
pub mod buffers;
pub mod ceilings;
pub mod env;
pub mod env_text;
pub mod evidence;
pub mod ipc;
pub mod isolate;
pub mod keys;
pub mod kinds;
pub mod limits;
pub mod offsets;
pub mod os;
pub mod patterns;
pub mod plan;
pub mod report;
pub mod result;
pub mod run;
pub mod session;
pub mod suites;
pub mod tuning;
pub mod workload;

pub use base::error::{Error, Result};
