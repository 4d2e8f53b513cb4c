//! The suites shipped in `workloads/`, built into the binary so `iobench run NAME` and
//! `iobench list` work from any directory.

use crate::base::error::{Error, Result};
use crate::workload::raw::Suite;
use std::path::Path;

/// (name, TOML text) of every shipped suite, in the order `iobench list` shows them.
pub const SHIPPED: &[(&str, &str)] = &[
    ("quick", include_str!("../../workloads/quick.toml")),
    ("random-read", include_str!("../../workloads/random-read.toml")),
    ("sequential", include_str!("../../workloads/sequential.toml")),
    ("block-size", include_str!("../../workloads/block-size.toml")),
    ("queue-depth", include_str!("../../workloads/queue-depth.toml")),
    ("writes-durability", include_str!("../../workloads/writes-durability.toml")),
    ("madvise-thp", include_str!("../../workloads/madvise-thp.toml")),
    ("article", include_str!("../../workloads/article.toml")),
    ("records", include_str!("../../workloads/records.toml")),
    ("scan", include_str!("../../workloads/scan.toml")),
    ("cargo-bench", include_str!("../../workloads/cargo-bench.toml")),
];

/// The suite a bare `iobench run` runs.
pub const DEFAULT: &str = "quick";

/// A shipped suite by name.
pub fn shipped(name: &str) -> Option<Result<Suite>> {
    SHIPPED.iter().find(|(n, _)| *n == name).map(|(n, text)| {
        Suite::parse(n, text)
            .map_err(|message| Error::WorkloadFile { path: format!("workloads/{n}.toml").into(), message })
    })
}

/// A suite argument: a file when one exists at that path, else a shipped suite's name.
pub fn resolve(arg: &Path) -> Result<Suite> {
    if arg.exists() {
        return Suite::load(arg);
    }
    let name = arg.to_string_lossy();
    let name = name.strip_prefix("workloads/").unwrap_or(&name);
    let name = name.strip_suffix(".toml").unwrap_or(name);
    shipped(name).unwrap_or_else(|| {
        let names: Vec<&str> = SHIPPED.iter().map(|(n, _)| *n).collect();
        Err(Error::WorkloadFile {
            path: arg.to_path_buf(),
            message: format!("no such file, and not a shipped suite (shipped: {})", names.join(", ")),
        })
    })
}

/// (name, description) of every shipped suite.
pub(crate) fn list() -> Vec<(&'static str, String)> {
    SHIPPED
        .iter()
        .map(|(name, text)| {
            let description = Suite::parse(name, text).ok().and_then(|s| s.description).unwrap_or_default();
            (*name, description)
        })
        .collect()
}
