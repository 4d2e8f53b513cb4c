//! Running fio as a subprocess and reading the figures out of its JSON.

use crate::base::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The fio found on PATH.
#[derive(Debug, Clone)]
pub struct Fio {
    pub(crate) path: PathBuf,
    /// As `fio --version` prints it: `fio-3.33`.
    pub version: String,
}

/// One side's figures of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub iops: f64,
    pub bw_bytes_per_s: f64,
    /// Median total latency of an operation.
    pub p50_ns: f64,
}

/// How a fio run went wrong.
#[derive(Debug)]
pub(crate) enum RunError {
    /// Ctrl-C or SIGTERM (`base::stop`): fio was stopped, its figures are partial.
    Interrupted,
    Failed(String),
}

/// Finds fio on PATH and asks its version. Missing fio is the user's to fix: exit 2.
pub(crate) fn locate() -> Result<Fio> {
    let path = find_on_path("fio")
        .ok_or_else(|| Error::invalid("fio not found on PATH", "install fio (apt-get install fio) to calibrate"))?;
    let out = Command::new(&path).arg("--version").stdin(Stdio::null()).output().map_err(|e| {
        Error::invalid(
            format!("fio ({}) does not run", path.display()),
            format!("{e}; install fio (apt-get install fio) to calibrate"),
        )
    })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Ok(Fio { path, version })
}

/// The first executable file called `name` in the directories of PATH.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

impl Fio {
    /// Runs fio with `args` and returns the figures of its one (grouped) job. Stops fio when
    /// `base::stop` is set, and kills it after `timeout`.
    pub(crate) fn run(
        &self,
        args: &[String],
        writes: bool,
        timeout: Duration,
    ) -> std::result::Result<Figures, RunError> {
        let mut child = Command::new(&self.path)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| RunError::Failed(format!("cannot start {}: {e}", self.path.display())))?;
        // Read both pipes while fio runs, so a full pipe can never block it.
        let stdout = reader(child.stdout.take());
        let stderr = reader(child.stderr.take());
        let status = wait(&mut child, timeout);
        let stdout = stdout.join().unwrap_or_default();
        let stderr = stderr.join().unwrap_or_default();
        let status = status?;
        if !status.success() {
            let why = first_line(&stderr).unwrap_or_else(|| format!("exit status {status}"));
            return Err(RunError::Failed(format!("fio failed: {why}")));
        }
        parse(&stdout, writes).map_err(RunError::Failed)
    }
}

fn reader(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_string(&mut text);
        }
        text
    })
}

/// Waits for fio, polling so that Ctrl-C and the timeout are seen while it runs.
fn wait(child: &mut Child, timeout: Duration) -> std::result::Result<std::process::ExitStatus, RunError> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                return if crate::base::stop::requested() { Err(RunError::Interrupted) } else { Ok(status) };
            }
            Ok(None) => {}
            Err(e) => return Err(RunError::Failed(format!("cannot wait for fio: {e}"))),
        }
        let stop = crate::base::stop::requested();
        if stop || started.elapsed() > timeout {
            stop_child(child);
            return Err(if stop {
                RunError::Interrupted
            } else {
                RunError::Failed(format!("fio did not finish within {} s: stopped", timeout.as_secs()))
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM first (fio then ends its job cleanly), SIGKILL if it lingers.
fn stop_child(child: &mut Child) {
    // SAFETY: kill(2) on our own child's pid, which stays ours until we reap it below.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn first_line(text: &str) -> Option<String> {
    text.lines().map(str::trim).find(|l| !l.is_empty()).map(String::from)
}

/// The figures of fio's first job (with `group_reporting`, all jobs together): `read` or
/// `write` side, `iops`, `bw_bytes`, and the p50 of total latency (`lat_ns`, present with
/// `lat_percentiles=1`; else `clat_ns`).
pub(crate) fn parse(text: &str, writes: bool) -> std::result::Result<Figures, String> {
    // fio may print notes before its JSON document.
    let start = text.find('{').ok_or_else(|| "fio printed no JSON".to_string())?;
    let doc: serde_json::Value =
        serde_json::from_str(&text[start..]).map_err(|e| format!("fio's JSON could not be read: {e}"))?;
    let job = doc.pointer("/jobs/0").ok_or("fio's JSON has no jobs")?;
    if let Some(code) = job.get("error").and_then(|e| e.as_i64()).filter(|c| *c != 0) {
        return Err(format!("fio's job failed with error {code} ({})", std::io::Error::from_raw_os_error(code as i32)));
    }
    let side = job.get(if writes { "write" } else { "read" }).ok_or("fio's JSON has no read or write figures")?;
    let number = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_f64());
    let iops = number(side.get("iops")).ok_or("fio's JSON has no iops")?;
    let bw = number(side.get("bw_bytes")).ok_or("fio's JSON has no bw_bytes")?;
    let p50 = ["/lat_ns/percentile/50.000000", "/clat_ns/percentile/50.000000"]
        .iter()
        .find_map(|p| number(side.pointer(p)))
        .unwrap_or(0.0);
    if iops <= 0.0 {
        return Err("fio completed no I/O".into());
    }
    Ok(Figures { iops, bw_bytes_per_s: bw, p50_ns: p50 })
}

/// Where fio writes in the write cell: a file of iobench's own making (so cleanup and the
/// safety checks treat it like any data file), with a seed of its own, so it is never the file
/// iobench's cells read.
pub(crate) fn write_file_path(dir: &Path, size_bytes: u64) -> PathBuf {
    crate::datafile::blocks::DataFile::default_path(dir, size_bytes, WRITE_FILE_SEED)
}

/// Seed of fio's write file: any seed other than the workloads' default.
pub(crate) const WRITE_FILE_SEED: u64 = 0xf10;

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"note: both iodepth >= 1 and synchronous I/O engine are selected
{
  "fio version" : "fio-3.33",
  "jobs" : [ { "jobname" : "x", "error" : 0,
      "read" : { "io_bytes" : 4096, "bw_bytes" : 5990632106, "iops" : 1462556.666667,
                 "clat_ns" : { "percentile" : { "50.000000" : 900 } },
                 "lat_ns" : { "percentile" : { "50.000000" : 1032 } } },
      "write" : { "io_bytes" : 0, "bw_bytes" : 0, "iops" : 0.0 } } ]
}"#;

    #[test]
    fn parses_the_read_side_and_total_latency() {
        let f = parse(SAMPLE, false).unwrap();
        assert_eq!(f, Figures { iops: 1462556.666667, bw_bytes_per_s: 5990632106.0, p50_ns: 1032.0 });
        assert_eq!(parse(SAMPLE, true).unwrap_err(), "fio completed no I/O");
    }

    #[test]
    fn failures_are_named() {
        assert_eq!(parse("fio: engine not loadable", false).unwrap_err(), "fio printed no JSON");
        let failed = SAMPLE.replace(r#""error" : 0"#, r#""error" : 22"#);
        assert!(parse(&failed, false).unwrap_err().contains("error 22"));
        assert!(parse("{\"jobs\": []}", false).unwrap_err().contains("no jobs"));
    }
}
