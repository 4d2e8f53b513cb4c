//! The backend contract: how bytes move between a file and memory. The run loop owns
//! everything else (offsets, timing, queue depth, verification, statistics).

pub mod buffered;
pub mod buffers;
mod mmap;
mod null;
pub mod probes;
mod queue;
mod rmw;
mod scan;
mod tokio;
pub mod uring;

use crate::backend::buffers::BufferPool;
use crate::datafile::blocks::DataFile;
use crate::base::error::{Error, Result};
use crate::workload::plan::Plan;
pub use crate::workload::backends::BackendKind;

pub use buffered::PreadBackend;
pub use probes::{MappedRegion, SubmitTimes};
pub use queue::SlotBuf;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Read,
    Write,
    /// Make earlier writes durable, as the plan's durability policy says (fsync, msync…).
    Sync,
    /// `rw = records`: read-modify-write of the record at `offset` (`len` = record size), see
    /// `crate::patterns::records`. mmap updates in place; descriptor backends get it from `rmw::Rmw`.
    Update,
    /// `rw = scan`: one whole scan of the log, counting lines and matches (see `crate::patterns::scan`).
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
    fn mapped_region(&self) -> Option<crate::backend::MappedRegion> {
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
    if plan.rw == crate::workload::plan::Rw::Scan {
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
                out.push(Box::new(mmap::window::WindowedMmap::open(plan, data, window)?));
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
    Error::Bug(format!("{backend} was handed a {:?} operation directly; this is a bug in iobench", op.kind))
}
