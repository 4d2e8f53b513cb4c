//! A validated workload for one backend: what backends and the run loop see. The checks that
//! make a `Plan` from a raw workload are in `validate`.

use crate::workload::backends::BackendKind;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Direction mix of the data operations, with fio's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rw {
    Read,
    Write,
    Randread,
    Randwrite,
    Rw,
    Randrw,
    /// In-place updates of random records (uniform or zipf), see `crate::patterns::records`.
    Records,
    /// In-place updates of records in file order.
    Seqrecords,
    /// Whole scans of a generated text log, counting lines and matches (see `crate::patterns::scan`).
    Scan,
}

impl Rw {
    pub const NAMES: [&'static str; 9] =
        ["read", "write", "randread", "randwrite", "rw", "randrw", "records", "seqrecords", "scan"];

    pub(crate) fn is_random(self) -> bool {
        matches!(self, Rw::Randread | Rw::Randwrite | Rw::Randrw | Rw::Records)
    }
    pub fn has_writes(self) -> bool {
        !matches!(self, Rw::Read | Rw::Randread | Rw::Scan)
    }
    pub(crate) fn has_reads(self) -> bool {
        !matches!(self, Rw::Write | Rw::Randwrite)
    }
    /// Record updates, in random or file order.
    pub(crate) fn is_records(self) -> bool {
        matches!(self, Rw::Records | Rw::Seqrecords)
    }
    /// Block patterns (fio's), as opposed to the article's record and scan patterns.
    pub(crate) fn is_blocks(self) -> bool {
        !self.is_records() && self != Rw::Scan
    }
}

/// How random offsets are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Distribution {
    Uniform,
    /// fio's `zipf:θ`: rank r has weight 1/r^θ; ranks are scattered over the file.
    Zipf {
        theta: f64,
    },
}

/// When written data is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Durability {
    None,
    Fsync {
        every: u32,
    },
    Fdatasync {
        every: u32,
    },
    /// The file is opened with O_DSYNC: every write is durable when it returns.
    Odsync,
    /// mmap only: `msync(MS_SYNC)` every N writes.
    Msync {
        every: u32,
    },
    /// mmap only: `msync(MS_ASYNC)` every N writes (a no-op on modern Linux, measured anyway).
    MsyncAsync {
        every: u32,
    },
}

impl Durability {
    /// Writes between two sync operations, if the policy issues sync operations.
    pub(crate) fn every(self) -> Option<u32> {
        match self {
            Durability::Fsync { every }
            | Durability::Fdatasync { every }
            | Durability::Msync { every }
            | Durability::MsyncAsync { every } => Some(every),
            Durability::None | Durability::Odsync => None,
        }
    }
}

impl std::fmt::Display for Durability {
    /// The same spelling the `durability` key takes (`fdatasync:32`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Durability::None => f.write_str("none"),
            Durability::Odsync => f.write_str("odsync"),
            Durability::Fsync { every } => write!(f, "fsync:{every}"),
            Durability::Fdatasync { every } => write!(f, "fdatasync:{every}"),
            Durability::Msync { every } => write!(f, "msync:{every}"),
            Durability::MsyncAsync { every } => write!(f, "msync-async:{every}"),
        }
    }
}

/// What the loop does with the bytes each read delivered, inside the timed operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consume {
    /// Every 8-byte word is summed: what an application that uses all of its data pays.
    #[default]
    Sum,
    /// One byte per 4 KiB page is read: the least that still makes an mmap read fault
    /// (mmapbench's choice).
    Touch,
    /// The bytes are left alone, as fio does; mmap, whose reads happen only when touched, touches.
    None,
    /// mmap copies each block out of the mapping into the slot's buffer, as fio's mmap engine
    /// does; descriptor backends' reads already copied it there, so they do nothing more.
    Copy,
}

impl Consume {
    pub(crate) const NAMES: [&'static str; 4] = ["sum", "touch", "none", "copy"];

    pub fn name(self) -> &'static str {
        match self {
            Consume::Sum => "sum",
            Consume::Touch => "touch",
            Consume::None => "none",
            Consume::Copy => "copy",
        }
    }
}

/// Page-cache state the file must be in when measurement starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheState {
    /// The whole file is read first; at least 99% must be resident.
    Warm,
    /// fsync + `posix_fadvise(DONTNEED)`; at most 1% may stay resident.
    Cold,
    /// Left as the previous run left it.
    AsIs,
}

impl std::fmt::Display for CacheState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CacheState::Warm => "warm",
            CacheState::Cold => "cold",
            CacheState::AsIs => "as-is",
        })
    }
}

/// A validated workload for one backend. Serialized into every result as `workload`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub backend: BackendKind,
    pub rw: Rw,
    /// Percentage of reads for `rw` and `randrw`.
    pub rwmixread_pct: u32,
    pub bs_bytes: u64,
    pub size_bytes: u64,
    /// Measured time; the run ends at whichever of runtime and io_size comes first.
    pub runtime_ns: Option<u64>,
    /// Measured bytes per thread (fio's `io_size`).
    pub io_size_bytes: Option<u64>,
    pub ramp_ns: u64,
    pub iodepth: u32,
    pub threads: u32,
    pub seed: u64,
    pub distribution: Distribution,
    pub durability: Durability,
    pub cache: CacheState,
    pub dir: PathBuf,
    /// A file named by the user instead of iobench's own file in `dir` (fio's `filename`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<PathBuf>,
    /// What the invocation allowed beyond iobench's own files (set by `safety::admit`).
    #[serde(skip)]
    pub permit: Permit,
    pub verify: bool,
    /// What reads' bytes go through (absent in results older than the key: they summed).
    #[serde(default)]
    pub consume: Consume,
    /// Uniform random offsets visit each block once per pass (fio's random map; `norandommap`
    /// turns it off). Absent in older results, which drew offsets with replacement.
    #[serde(default)]
    pub randommap: bool,
    /// Completions the loop waits for before refilling the queue (fio's iodepth_batch_complete_min).
    #[serde(default = "one")]
    pub iodepth_batch_complete_min: u32,
    /// Most completions a queue backend hands back per wait (fio's iodepth_batch_complete_max):
    /// with 1, each freed slot is refilled before the next completion is looked at.
    #[serde(default = "one")]
    pub iodepth_batch_complete_max: u32,
    /// io_uring options; present only for `uring` and `uring-direct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uring: Option<UringOptions>,
    /// madvise/fadvise/THP/readahead/cache settings (see `tuning`).
    #[serde(default)]
    pub tuning: crate::workload::tuning::Tuning,
    /// Time-series interval; null = the session's default.
    #[serde(default)]
    pub series_interval_ns: Option<u64>,
    /// memory_limit, address_space_limit (run in a child process) and the mmap window.
    #[serde(default)]
    pub limits: crate::workload::resources::ResourceLimits,
    /// rw = records / seqrecords: record size and update I/O unit (see `kinds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<crate::workload::pattern_keys::RecordOptions>,
    /// rw = scan: read-ahead depth and the match pattern (see `kinds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<crate::workload::pattern_keys::ScanOptions>,
}

/// What `admit` allowed one plan beyond iobench's own files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permit {
    pub(crate) overwrite: bool,
    pub(crate) device: bool,
}

fn one() -> u32 {
    1
}

/// io_uring options, with fio's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UringOptions {
    /// The buffers are registered once (IORING_REGISTER_BUFFERS) and used by READ/WRITE_FIXED.
    pub fixedbufs: bool,
    /// The data file is registered once (IORING_REGISTER_FILES): no file lookup per operation.
    pub registerfiles: bool,
    /// A kernel thread polls the submission queue (IORING_SETUP_SQPOLL).
    pub sqthread_poll: bool,
    /// Idle time after which the polling thread sleeps until woken.
    pub sqthread_poll_idle_ms: u32,
    /// Operations per submitting io_uring_enter (fio's default 1); 0 hands over all queued before
    /// the loop waits, which saves system calls when reads hit the page cache.
    pub iodepth_batch_submit: u32,
}

pub const DEFAULT_DIR: &str = "iobench-data";

/// What the whole invocation looks like, for checks that depend on the other workloads.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanContext {
    /// The invocation mixes queue and sync backends: sync ones run at depth 1 with a note
    /// instead of failing on `iodepth`.
    pub mixed_backends: bool,
    /// The invocation runs more than one backend: settings that do not apply to a backend are
    /// left off with a note instead of failing (see `tuning`).
    pub several_backends: bool,
}

impl Plan {
    pub(crate) fn runtime(&self) -> Option<Duration> {
        self.runtime_ns.map(Duration::from_nanos)
    }
    pub(crate) fn ramp(&self) -> Duration {
        Duration::from_nanos(self.ramp_ns)
    }
    pub(crate) fn blocks(&self) -> u64 {
        self.size_bytes / self.bs_bytes
    }
    /// Bytes one operation covers: the whole file for a scan, else one block or record.
    pub(crate) fn op_bytes(&self) -> u64 {
        if self.rw == Rw::Scan { self.size_bytes } else { self.bs_bytes }
    }
}

/// The pattern's name as the `rw` key spells it.
pub(crate) fn rw_name(rw: Rw) -> &'static str {
    match rw {
        Rw::Read => "read",
        Rw::Write => "write",
        Rw::Randread => "randread",
        Rw::Randwrite => "randwrite",
        Rw::Rw => "rw",
        Rw::Randrw => "randrw",
        Rw::Records => "records",
        Rw::Seqrecords => "seqrecords",
        Rw::Scan => "scan",
    }
}
