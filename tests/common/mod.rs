//! Helpers shared by the integration tests: private data directories and running the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A data directory private to one test, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("iobench-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn str(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the iobench binary with `args`.
pub fn iobench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iobench")).args(args).output().expect("iobench binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A test that cannot run here says why on stderr and returns; with `IOBENCH_REQUIRE_ALL=1`
/// (set by CI) it fails instead, naming what was missing.
pub fn skip(test: &str, missing: &str) {
    if std::env::var("IOBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{test}: {missing} (IOBENCH_REQUIRE_ALL=1 forbids skipping)");
    }
    eprintln!("{test}: skipped: {missing}");
}
