//! Ceilings measured by iobench itself, so results can be read against them: one core's memory
//! read bandwidth (the loop's own `patterns::consume` over a buffer much larger than the caches)
//! and memcpy bandwidth bound warm-cache runs; the device's O_DIRECT sequential throughput and
//! 4 KiB random-read IOPS at depth bound cold ones (`iobench probe`).

use crate::base::error::{Error, Result};
use crate::workload::plan::{Plan, PlanContext};
use crate::result::RunStatus;
use crate::workload::raw::{RawWorkload, cli_value};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

/// One core's memory bandwidth, best of a few passes over `buffer_bytes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryCeilings {
    pub buffer_bytes: u64,
    /// Read and sum every 8-byte word of the buffer (what every read path does with its bytes).
    pub read_bytes_per_s: f64,
    /// memcpy from one half of the buffer to the other: bytes copied per second.
    pub memcpy_bytes_per_s: f64,
}

/// Measures both memory ceilings on the calling thread over one anonymous buffer of
/// `buffer_bytes` (huge pages where THP allows: faster to set up, and no TLB misses lower the
/// ceiling). About 0.15 s for 256 MiB, most of it faulting the buffer in.
pub fn measure_memory(buffer_bytes: usize, passes: u32) -> MemoryCeilings {
    let buffer_bytes = buffer_bytes.max(2 * crate::os::fsinfo::page_size());
    let Ok(mut map) = memmap2::MmapMut::map_anon(buffer_bytes) else { return MemoryCeilings::default() };
    // Best effort: without THP the pages are simply 4 KiB.
    let _ = crate::os::advice::apply_madvise(map.as_mut_ptr(), buffer_bytes, crate::os::advice::Advice::Hugepage);
    map.fill(0x5a);
    let mut best_read = f64::INFINITY;
    for _ in 0..passes.max(1) {
        let t = Instant::now();
        black_box(crate::patterns::consume::consume(black_box(&map[..])));
        best_read = best_read.min(t.elapsed().as_secs_f64());
    }
    let half = buffer_bytes / 2;
    let mut best_copy = f64::INFINITY;
    for _ in 0..passes.max(1) {
        let (src, dst) = map.split_at_mut(half);
        let t = Instant::now();
        dst[..half].copy_from_slice(black_box(&src[..]));
        black_box(&mut dst[..]);
        best_copy = best_copy.min(t.elapsed().as_secs_f64());
    }
    let rate = |bytes: usize, secs: f64| if secs > 0.0 { bytes as f64 / secs } else { 0.0 };
    MemoryCeilings {
        buffer_bytes: buffer_bytes as u64,
        read_bytes_per_s: rate(buffer_bytes, best_read),
        memcpy_bytes_per_s: rate(half, best_copy),
    }
}

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
        ..Default::default()
    };
    let (plan, _) = Plan::from_raw(&raw, PlanContext::default())?;
    let result = crate::run::execute(&plan, Vec::new())?;
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
