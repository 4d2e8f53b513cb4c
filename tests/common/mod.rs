//! Helpers shared by the integration tests: private data directories, running the binary, and
//! skips that say why. `safety` holds the reliability and safety tests' helpers (mounts,
//! background runs, signals), `article` the fixed results documents of the article's rules.
#![allow(dead_code)]

pub mod article;
pub mod safety;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// A committed results file of `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

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

/// The folder every run of the binary starts in: one per test process under the temporary
/// directory, so a run without `--out`, `--output` or `--dir` writes its `results/` (and moves
/// `results/latest`) and `iobench-data/` there, never into the checkout.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("iobench-test-cwd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// The iobench binary, to be started in `scratch()`.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_iobench"));
    cmd.current_dir(scratch());
    cmd
}

/// Runs the iobench binary with `args`.
pub fn iobench(args: &[&str]) -> Output {
    command().args(args).output().expect("iobench binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A test (or part of one) that cannot run here says why on stderr; with
/// `IOBENCH_REQUIRE_ALL=1` (set by CI) it fails instead, naming what was missing.
pub fn skip(test: &str, missing: &str) {
    if std::env::var("IOBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1") {
        panic!("{test}: {missing} (IOBENCH_REQUIRE_ALL=1 forbids skipping)");
    }
    eprintln!("{test}: skipped: {missing}");
}
