//! The results document: what `--output` and `results.json` hold. Every number's unit is in
//! its key. Bump `SCHEMA_VERSION` on any incompatible change; readers refuse newer versions.

use crate::base::error::{Error, Result};
use crate::base::stats::{IntervalPoint, LatencySummary};
use crate::observe::environment::Environment;
use crate::workload::plan::Plan;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub mod ipc;
pub mod patterns;

/// 2: `workload.backend` is an object (name, description, capabilities) for a backend from
/// outside iobench; everything else is as in 1, which is read as it is.
pub(crate) const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    pub schema_version: u32,
    pub iobench_version: String,
    pub created_unix_s: u64,
    pub suite: String,
    pub environment: Environment,
    pub runs: Vec<RunResult>,
    /// `iobench ipc`: round trips between two processes and the shared-mapping claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipc: Option<crate::result::ipc::IpcReport>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Ok,
    /// The backend cannot run here (kernel lacks a feature, filesystem refuses O_DIRECT…).
    Skipped,
    /// The run started and failed; `reason` says why.
    Failed,
}

/// One backend × workload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub workload: Plan,
    pub backend: String,
    pub status: RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<Measured>,
}

/// The figures of a run that completed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measured {
    /// Data operations (reads + writes) completed in the measured interval.
    pub ops: u64,
    pub read_ops: u64,
    pub write_ops: u64,
    pub bytes: u64,
    pub runtime_ns: u64,
    pub iops: f64,
    pub bw_bytes_per_s: f64,
    /// Per data operation: handed to the backend → completion observed and bytes consumed.
    pub latency_ns: LatencySummary,
    /// HdrHistogram V2, base64, of `latency_ns`: merge or re-analyse runs with it.
    pub latency_histogram: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncStats>,
    /// Time of the final fsync/msync after the measured interval (write workloads only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_sync_ns: Option<u64>,
    /// Bytes ÷ (runtime + final sync): throughput counting the time to make it durable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable_bw_bytes_per_s: Option<f64>,
    pub cpu: Cpu,
    pub faults: Faults,
    pub ctx_switches: u64,
    pub cache: CacheEvidence,
    /// Blocks checked against the data pattern (0 without --verify).
    pub verified_blocks: u64,
    pub per_thread: Vec<ThreadFigures>,
    pub series: Series,
    /// How the backend was set up: io_uring flags in force, registrations, runtime threads.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub backend_setup: serde_json::Map<String, serde_json::Value>,
    /// Queue backends: time spent handing operations over (fio's slat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<SubmitStats>,
    /// What the kernel did in the measured interval (vmstat, smaps, residency, device bytes).
    #[serde(default)]
    pub evidence: crate::observe::evidence::Evidence,
    /// rw = records / scan: records/s and updates verified, or lines/s and counts (see `kinds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<crate::result::patterns::PatternFigures>,
}

/// Submission side of a queue backend: one record per hand-off (a submitting io_uring_enter, a
/// message to a runtime task), in the measured interval.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmitStats {
    /// What one record times.
    pub measures: String,
    pub calls: u64,
    /// Operations handed over by those calls (ops ÷ calls is the batch size).
    pub ops: u64,
    pub latency_ns: LatencySummary,
    pub latency_histogram: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncStats {
    pub ops: u64,
    pub latency_ns: LatencySummary,
    pub latency_histogram: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Cpu {
    pub user_s: f64,
    pub sys_s: f64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Faults {
    pub minor: u64,
    pub major: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct CacheEvidence {
    /// Share of the file's pages in the page cache just before measurement, in percent.
    pub resident_before_pct: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThreadFigures {
    pub ops: u64,
    pub bytes: u64,
    pub runtime_ns: u64,
    pub iops: f64,
    pub latency_ns: LatencySummary,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Series {
    pub interval_ns: u64,
    pub points: Vec<IntervalPoint>,
}

impl RunResult {
    /// A run that completed, with its figures.
    pub fn ok(plan: &Plan, notes: Vec<String>, measured: Measured) -> RunResult {
        RunResult::of(plan, notes, RunStatus::Ok, None, Some(measured))
    }

    /// A run the backend cannot do here (kernel feature missing, refused): `reason` says why.
    pub fn skipped(plan: &Plan, notes: Vec<String>, reason: String) -> RunResult {
        RunResult::of(plan, notes, RunStatus::Skipped, Some(reason), None)
    }

    /// A run that started and failed: `reason` says why.
    pub fn failed(plan: &Plan, notes: Vec<String>, reason: String) -> RunResult {
        RunResult::of(plan, notes, RunStatus::Failed, Some(reason), None)
    }

    fn of(
        plan: &Plan,
        notes: Vec<String>,
        status: RunStatus,
        reason: Option<String>,
        measured: Option<Measured>,
    ) -> RunResult {
        RunResult { workload: plan.clone(), backend: plan.backend.to_string(), status, reason, notes, measured }
    }
}

impl Measured {
    /// CPU seconds (user + system) per GB moved.
    pub(crate) fn cpu_s_per_gb(&self) -> f64 {
        if self.bytes == 0 { 0.0 } else { (self.cpu.user_s + self.cpu.sys_s) / (self.bytes as f64 / 1e9) }
    }
}

impl Results {
    pub fn new(suite: &str, environment: Environment) -> Self {
        Results {
            schema_version: SCHEMA_VERSION,
            iobench_version: env!("CARGO_PKG_VERSION").to_string(),
            created_unix_s: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            suite: suite.to_string(),
            environment,
            runs: Vec::new(),
            ipc: None,
        }
    }

    /// Writes the document atomically: a temporary file beside `path`, synced, then renamed,
    /// so a reader never sees half a file.
    pub fn write_atomic(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("results always serialize");
        write_atomic(path, text.as_bytes())
    }

    pub fn read(path: &Path) -> Result<Results> {
        let bad = |message: String| Error::invalid(path.display().to_string(), message);
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            bad(if e.is_eof() {
                format!("ends too early ({e}): it was cut short; rerun the workloads that wrote it")
            } else {
                format!("is not JSON ({e}); name a results.json written by iobench run")
            })
        })?;
        let version = value
            .get("schema_version")
            .and_then(|v| v.as_u64())
            .ok_or_else(|| bad("is not an iobench results file (no schema_version)".into()))?;
        if version > SCHEMA_VERSION as u64 {
            return Err(bad(format!(
                "has schema_version {version}, newer than this iobench understands ({SCHEMA_VERSION}); upgrade iobench"
            )));
        }
        serde_json::from_value(value).map_err(|e| bad(format!("is not a valid iobench results file: {e}")))
    }
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::FileTypeExt;
    // A rename would replace `-o /dev/null` or `-o /dev/stdout` (a device node, a link) with a
    // regular file: write into those instead. A block device or directory is refused.
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if let Ok(meta) = std::fs::metadata(path) {
        let ft = meta.file_type();
        if ft.is_block_device() || ft.is_dir() {
            return Err(Error::invalid(
                path.display().to_string(),
                "is a block device or directory, not a results file; choose another --output",
            ));
        }
        if link || !ft.is_file() {
            let write = || -> std::io::Result<()> {
                let mut f = std::fs::OpenOptions::new().write(true).truncate(ft.is_file()).open(path)?;
                f.write_all(bytes)
            };
            return write().map_err(|e| Error::io(format!("cannot write {}", path.display()), e));
        }
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write {}", path.display()), e)
    })
}
