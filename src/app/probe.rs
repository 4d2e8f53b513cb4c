//! `iobench probe`: the device's ceilings under a directory, measured through the library's own
//! run loop: O_DIRECT sequential 1 MiB reads at depth 32 and 4 KiB random reads at depth 128
//! (io_uring, or O_DIRECT threads where io_uring is unavailable). They bound cold runs.

use crate::base::error::{Error, Result};
use crate::result::RunStatus;
use crate::workload::plan::{Plan, PlanContext};
use crate::workload::raw::{RawWorkload, cli_value};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One device measurement and how it was made.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceFigure {
    pub backend: String,
    pub rw: String,
    pub bs_bytes: u64,
    pub iodepth: u32,
    pub threads: u32,
    pub iops: f64,
    pub bw_bytes_per_s: f64,
    /// Why the preferred backend was not used, if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

/// The device's ceilings under `dir`, as `iobench probe` measures them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceCeilings {
    pub sequential_read: DeviceFigure,
    pub random_read_4k: DeviceFigure,
}

/// Runs one probe workload through the library's run loop.
fn probe_run(dir: &Path, size: &str, runtime: &str, cell: (&str, &str, &str, u32, u32)) -> Result<DeviceFigure> {
    let (backend, rw, bs, iodepth, threads) = cell;
    let raw = RawWorkload {
        name: Some(format!("probe-{rw}-{bs}")),
        backend: Some(backend.into()),
        rw: Some(rw.into()),
        bs: Some(cli_value(bs)),
        size: Some(cli_value(size)),
        runtime: Some(cli_value(runtime)),
        iodepth: Some(iodepth as i64),
        threads: Some(threads as i64),
        cache: Some("as-is".into()),
        dir: Some(dir.to_string_lossy().into_owned()),
        // Physically contiguous buffers: a 1 MiB buffer of 4 KiB pages needs 256 segments, and
        // a device that takes fewer per request (virtio-blk here: 254) gets every read split in
        // two; measured here, 0.8-1.0 GB/s that way against 2.2-2.6 GB/s from huge pages.
        buffers: Some("hugepage".into()),
        consume: Some("none".into()),
        ..Default::default()
    };
    let (plan, _) = Plan::from_raw(&raw, PlanContext::default())?;
    let result = crate::engine::execute(&plan, Vec::new())?;
    match (result.status, result.measured) {
        (RunStatus::Ok, Some(m)) => Ok(DeviceFigure {
            backend: backend.into(),
            rw: rw.into(),
            bs_bytes: plan.bs_bytes,
            iodepth,
            threads,
            iops: m.iops,
            bw_bytes_per_s: m.bw_bytes_per_s,
            fallback_reason: None,
        }),
        _ => Err(Error::Unsupported {
            backend: backend.into(),
            reason: result.reason.unwrap_or_else(|| "no result".into()),
        }),
    }
}

/// Tries io_uring with O_DIRECT at depth, then falls back to O_DIRECT pread with threads.
fn probe_one(dir: &Path, size: &str, runtime: &str, cell: (&str, &str, u32, u32)) -> Result<DeviceFigure> {
    let (rw, bs, depth, threads) = cell;
    match probe_run(dir, size, runtime, ("uring-direct", rw, bs, depth, 1)) {
        Ok(f) => Ok(f),
        Err(Error::Unsupported { reason, .. }) => {
            let mut f = probe_run(dir, size, runtime, ("direct", rw, bs, 1, threads))?;
            f.fallback_reason = Some(format!("uring-direct: {reason}"));
            Ok(f)
        }
        Err(e) => Err(e),
    }
}

/// O_DIRECT sequential 1 MiB reads at depth 32 and random 4 KiB reads at depth 128 over a
/// file of `size` in `dir`, each for `runtime`.
pub fn measure_device(dir: &Path, size: &str, runtime: &str) -> Result<DeviceCeilings> {
    // The data file (and directory) made for the probe are removed afterwards.
    let _files = crate::datafile::cleanup::Scope::enter(false);
    let _ = crate::datafile::cleanup::create_dir_all(dir);
    Ok(DeviceCeilings {
        sequential_read: probe_one(dir, size, runtime, ("read", "1m", 32, 4))?,
        random_read_4k: probe_one(dir, size, runtime, ("randread", "4k", 128, 16))?,
    })
}
