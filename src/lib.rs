//! iobench: one run loop, many ways to move bytes between a file and memory.
//!
//! Flow: `workload` (raw TOML/CLI) → `plan` (validated) → `session` (runs in order) →
//! `run` (the loop, driving a `backend`) → `result` (JSON) → `report`.

pub mod article;
pub mod base;
pub mod datafile;
pub mod engine;
pub mod backend;
pub mod buffers;
pub mod ceilings;
pub mod env;
pub mod env_text;
pub mod evidence;
pub mod ipc;
pub mod isolate;
pub mod offsets;
pub mod os;
pub mod patterns;
pub mod report;
pub mod result;
pub mod run;
pub mod session;
pub mod workload;

pub use base::error::{Error, Result};
