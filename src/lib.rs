//! iobench: one run loop, many ways to move bytes between a file and memory.
//!
//! Flow: `workload` (raw TOML/CLI) → `plan` (validated) → `session` (runs in order) →
//! `run` (the loop, driving a `backend`) → `result` (JSON) → `report`.

pub mod article;
pub mod backend;
pub mod buffers;
pub mod calibrate;
pub mod ceilings;
pub mod cleanup;
pub mod clock;
pub mod data;
pub mod env;
pub mod env_text;
pub mod error;
pub mod evidence;
pub mod genfile;
pub mod ipc;
pub mod isolate;
pub mod keys;
pub mod kinds;
pub mod limits;
pub mod logscan;
pub mod offsets;
pub mod os;
pub mod pattern;
pub mod plan;
pub mod records;
pub mod report;
pub mod result;
pub mod run;
pub mod safety;
pub mod session;
pub mod stats;
pub mod suites;
pub mod sysinfo;
pub mod tuning;
pub mod units;
pub mod workload;

pub use error::{Error, Result};
