//! The backend contract: how bytes move between a file and memory. The run loop owns
//! everything else (offsets, timing, queue depth, verification, statistics).

mod buffered;
mod mmap;
mod mmap_tuning;
mod mmap_window;
mod null;
mod queue;
mod rmw;
mod scan;
mod tokio;
#[cfg(feature = "uring")]
pub mod uring;
#[cfg(not(feature = "uring"))]
#[path = "uring_off.rs"]
pub mod uring;

use crate::buffers::BufferPool;
use crate::data::DataFile;
use crate::error::{Error, Result};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use buffered::PreadBackend;
pub use queue::{SlotBuf, SubmitTimes};

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Read,
    Write,
    /// Make earlier writes durable, as the plan's durability policy says (fsync, msync…).
    Sync,
    /// `rw = records`: read-modify-write of the record at `offset` (`len` = record size), see
    /// `crate::records`. mmap updates in place; descriptor backends get it from `rmw::Rmw`.
    Update,
    /// `rw = scan`: one whole scan of the log, counting lines and matches (see `crate::logscan`).
    /// The backend stores the counts in the slot's buffer and reports the bytes scanned.
    Scan,
}

/// One operation handed to a backend. `slot` names the buffer and is echoed in its completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Op {
    pub kind: OpKind,
    pub offset: u64,
    pub len: u32,
    pub slot: u32,
}

/// A finished operation: bytes moved, or a negative errno.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Completion {
    pub slot: u32,
    pub result: i64,
}

/// How a backend moves bytes. One instance serves one worker thread.
///
/// The loop guarantees a slot's buffer is neither read nor reused between `submit` and the
/// completion carrying that slot, so a queue backend may keep pointers into it until then.
pub trait Backend: Send {
    /// Starts `op`. `buf` is the slot's buffer: where a read lands, or what a write stores
    /// (empty for `Sync`). A synchronous backend completes the operation before returning.
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()>;

    /// Waits until at least `min` operations have completed since the last call (or none
    /// remain in flight) and appends them to `done`.
    fn reap(&mut self, min: usize, done: &mut Vec<Completion>) -> Result<()>;

    /// The bytes a completed read delivered. Defaults to the slot's buffer; a backend that
    /// reads in place (mmap) returns its own memory and ignores `buf`, and `null` returns nothing.
    fn view<'a>(&'a self, op: &Op, buf: &'a [u8]) -> &'a [u8] {
        &buf[..op.len as usize]
    }

    /// Makes every write durable (fsync, msync). Timed separately as the run's final sync.
    fn flush(&mut self) -> Result<()>;

    /// What setup applied (madvise, prefault, fadvise…), kept as evidence in the result.
    fn setup_notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// A region this backend mapped: its smaps entry is read as evidence before it is unmapped.
    fn mapped_region(&self) -> Option<crate::evidence::MappedRegion> {
        None
    }

    /// Registers the worker's buffers with the kernel (io_uring `fixedbufs`). Called once,
    /// untimed, after the pool is allocated; the pool outlives the backend.
    fn register(&mut self, _pool: &mut BufferPool) -> Result<()> {
        Ok(())
    }

    /// Called on the worker thread before each run, untimed: a backend bound to the thread
    /// that submits (io_uring SINGLE_ISSUER) attaches to it here.
    fn start(&mut self) -> Result<()> {
        Ok(())
    }

    /// What was in force (setup flags, registrations, runtime threads): `backend_setup` in results.
    fn setup(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// Submit-side times (queue backends only); the loop resets them when measurement starts.
    fn submit_times(&mut self) -> Option<&mut SubmitTimes> {
        None
    }
}

/// Every backend iobench knows, by the name used on the CLI and in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    Buffered,
    Direct,
    Mmap,
    Uring,
    UringDirect,
    Tokio,
    TokioPread,
    Null,
    /// `rw = scan` only: `BufReader::lines()` as naive code writes it.
    Lines,
}

impl BackendKind {
    pub const ALL: [BackendKind; 9] = [
        BackendKind::Buffered,
        BackendKind::Direct,
        BackendKind::Mmap,
        BackendKind::Uring,
        BackendKind::UringDirect,
        BackendKind::Tokio,
        BackendKind::TokioPread,
        BackendKind::Null,
        BackendKind::Lines,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Buffered => "buffered",
            BackendKind::Direct => "direct",
            BackendKind::Mmap => "mmap",
            BackendKind::Uring => "uring",
            BackendKind::UringDirect => "uring-direct",
            BackendKind::Tokio => "tokio",
            BackendKind::TokioPread => "tokio-pread",
            BackendKind::Null => "null",
            BackendKind::Lines => "lines",
        }
    }

    /// One line for `iobench list` and `--help`.
    pub fn describe(self) -> &'static str {
        match self {
            BackendKind::Buffered => "pread/pwrite through the page cache",
            BackendKind::Direct => "pread/pwrite with O_DIRECT (aligned buffers, no page cache)",
            BackendKind::Mmap => "shared mapping: reads consume the mapping in place, writes copy into it",
            BackendKind::Uring => "io_uring through the page cache, iodepth operations in flight",
            BackendKind::UringDirect => "io_uring with O_DIRECT, iodepth operations in flight",
            BackendKind::Tokio => "tokio::fs::File (seek + read/write on tokio's blocking pool), iodepth tasks",
            BackendKind::TokioPread => "spawn_blocking around pread/pwrite, iodepth tasks",
            BackendKind::Null => "no I/O at all: the harness's own cost per operation",
            BackendKind::Lines => "rw = scan only: std BufReader::lines() as naive code writes it (a String per line)",
        }
    }

    /// Queue backends keep `iodepth` operations in flight; the others complete inline.
    pub fn is_queue(self) -> bool {
        matches!(self, BackendKind::Uring | BackendKind::UringDirect | BackendKind::Tokio | BackendKind::TokioPread)
    }

    /// Backends whose reads hand back their own memory (`Backend::view`) instead of filling the
    /// slot's buffer: the read happens when the loop touches it.
    pub fn reads_in_place(self) -> bool {
        self == BackendKind::Mmap
    }

    /// Backends that bypass the page cache and need aligned buffers and offsets.
    pub fn is_direct(self) -> bool {
        matches!(self, BackendKind::Direct | BackendKind::UringDirect)
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        BackendKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<_> = BackendKind::ALL.iter().map(|k| k.name()).collect();
            Error::invalid("backend", format!("unknown backend '{s}' (expected one of {})", names.join(", ")))
        })
    }
}

/// Alignment the loop must give buffers, offsets and lengths for this plan's backend.
pub fn required_alignment(plan: &Plan, data: &DataFile) -> Result<u64> {
    if !plan.backend.is_direct() {
        Ok(1)
    } else if plan.rw.is_records() {
        // Record updates move aligned windows around the record, whatever its size.
        Ok(rmw::direct_alignment(data))
    } else {
        buffered::direct_alignment(plan, data)
    }
}

/// Opens one backend instance per worker thread on `data`.
pub fn open(plan: &Plan, data: &DataFile) -> Result<Vec<Box<dyn Backend>>> {
    // The article's patterns: scans have their own readers except on mmap, buffered and direct
    // (see `scan`); record updates on descriptor backends are read-modify-writes (see `rmw`).
    if plan.rw == crate::plan::Rw::Scan {
        return scan::open(plan, data, open_plain);
    }
    if plan.rw.is_records() {
        return rmw::open(plan, data, open_plain);
    }
    open_plain(plan, data)
}

/// How `open` opens the block backends; `scan` and `rmw` build on it.
type OpenPlain = fn(&Plan, &DataFile) -> Result<Vec<Box<dyn Backend>>>;

fn open_plain(plan: &Plan, data: &DataFile) -> Result<Vec<Box<dyn Backend>>> {
    let threads = plan.threads as usize;
    let mut out: Vec<Box<dyn Backend>> = Vec::with_capacity(threads);
    match plan.backend {
        BackendKind::Buffered | BackendKind::Direct => {
            for _ in 0..threads {
                out.push(Box::new(PreadBackend::open(plan, data)?));
            }
        }
        BackendKind::Mmap if plan.limits.window_bytes.is_some() => {
            let window = plan.limits.window_bytes.unwrap_or(plan.size_bytes);
            for _ in 0..threads {
                out.push(Box::new(mmap_window::WindowedMmap::open(plan, data, window)?));
            }
        }
        BackendKind::Mmap => {
            let shared = mmap::SharedMap::open(plan, data)?;
            for _ in 0..threads {
                out.push(Box::new(shared.instance()));
            }
        }
        BackendKind::Uring | BackendKind::UringDirect => {
            for _ in 0..threads {
                out.push(Box::new(uring::UringBackend::open(plan, data)?));
            }
        }
        BackendKind::Tokio | BackendKind::TokioPread => {
            let rt = self::tokio::runtime()?;
            for _ in 0..threads {
                out.push(Box::new(self::tokio::TokioBackend::open(plan, data, rt.clone())?));
            }
        }
        BackendKind::Null => {
            for _ in 0..threads {
                out.push(Box::new(null::NullBackend::default()));
            }
        }
        BackendKind::Lines => return Err(scan::lines_elsewhere()),
    }
    Ok(out)
}

/// The error of a backend handed an operation kind that reaches it only through an adapter.
pub(crate) fn not_native(op: &Op, backend: &str) -> Error {
    Error::Precondition(format!("{backend} was handed a {:?} operation directly; this is a bug in iobench", op.kind))
}

/// Turns a completion's result into an error naming the operation, or the byte count.
pub fn check_completion(op: &Op, result: i64, data: &DataFile) -> Result<()> {
    if op.kind == OpKind::Sync {
        return if result < 0 {
            Err(Error::io(
                format!("sync of {}", data.path.display()),
                std::io::Error::from_raw_os_error(-result as i32),
            ))
        } else {
            Ok(())
        };
    }
    let what = match op.kind {
        OpKind::Read => "read",
        OpKind::Update => "update",
        OpKind::Scan => "scan",
        OpKind::Write | OpKind::Sync => "write",
    };
    // A scan reports the whole file's bytes; every other operation its own length.
    let expected = if op.kind == OpKind::Scan { data.size } else { op.len as u64 };
    if result < 0 {
        return Err(Error::io(
            format!("{what} of {expected} bytes at offset {} of {}", op.offset, data.path.display()),
            std::io::Error::from_raw_os_error(-result as i32),
        ));
    }
    if result as u64 != expected {
        return Err(Error::Precondition(format!(
            "short {what} at offset {} of {}: {result} of {expected} bytes (was the file truncated?)",
            op.offset,
            data.path.display(),
        )));
    }
    Ok(())
}
