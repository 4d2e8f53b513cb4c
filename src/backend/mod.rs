//! The backend contract: how bytes move between a file and memory. The run loop owns
//! everything else (offsets, timing, queue depth, verification, statistics).

pub(crate) mod buffered;
pub mod buffers;
mod mmap;
mod null;
pub mod open;
pub mod probes;
mod queue;
mod rmw;
mod scan;
mod tokio;
#[cfg(feature = "uring")]
pub mod uring;
#[cfg(not(feature = "uring"))]
#[path = "uring_off.rs"]
pub mod uring;

use crate::backend::buffers::BufferPool;
use crate::base::error::{Error, Result};
pub(crate) use crate::workload::backends::BackendKind;

pub(crate) use buffered::PreadBackend;
pub(crate) use open::required_alignment;
pub use open::{BackendFactory, BuiltIn, open};
pub use probes::{MappedRegion, Probes, SubmitTimes};
pub(crate) use queue::SlotBuf;

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

/// How a backend moves bytes. One instance serves one worker thread; the loop owns everything
/// else (offsets, timing, queue depth, verification, the consumer, statistics). Eight methods,
/// in the order the loop calls them, each with its contract:
///
/// - once, untimed: `register`; before each run, untimed: `bind_thread`;
/// - per operation, timed: `submit`, `reap`, and for reads `view`;
/// - after the measured interval: `probes` and `describe` (evidence, results), then `flush`
///   (the final sync, timed on its own).
///
/// The loop guarantees a slot's buffer is neither read nor reused between `submit` and the
/// completion carrying that slot, so a queue backend may keep pointers into it until then.
pub trait Backend: Send {
    /// Starts `op` on the slot's buffer `buf` (where a read lands, what a write stores; empty
    /// for `Sync`); a synchronous backend completes it before returning.
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()>;

    /// Appends to `done` at least `min` operations completed since the last call (fewer only
    /// when fewer are in flight), waiting for them if need be.
    fn reap(&mut self, min: usize, done: &mut Vec<Completion>) -> Result<()>;

    /// The bytes a completed read delivered: by default the slot's buffer; a backend that reads
    /// in place (mmap) returns its own memory and ignores `buf`, and `null` returns nothing.
    fn view<'a>(&'a self, op: &Op, buf: &'a [u8]) -> &'a [u8] {
        &buf[..op.len as usize]
    }

    /// Makes every write so far durable (fsync, msync): the run's final sync, timed on its own.
    fn flush(&mut self) -> Result<()>;

    /// Called once, untimed, with the worker's buffers (which outlive the backend): io_uring
    /// `fixedbufs` registers them with the kernel.
    fn register(&mut self, _pool: &mut BufferPool) -> Result<()> {
        Ok(())
    }

    /// Called on the worker's own thread before each run, untimed: a backend tied to the thread
    /// that submits (an io_uring SINGLE_ISSUER ring) attaches to it here.
    fn bind_thread(&mut self) -> Result<()> {
        Ok(())
    }

    /// What is in force (setup flags, registrations, runtime threads: `backend_setup` in
    /// results) and what setup did (madvise, prefault, windows: evidence notes).
    fn describe(&self) -> Setup {
        Setup::default()
    }

    /// The observation hooks: the region it mapped, and its submit-side times (queue backends;
    /// the loop resets them when measurement starts and collects them at the end).
    fn probes(&mut self) -> Probes<'_> {
        Probes::default()
    }
}

/// What a backend says about its setup (`Backend::describe`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Setup {
    /// What is in force, stored in results as `backend_setup`.
    pub(crate) in_force: serde_json::Map<String, serde_json::Value>,
    /// What setup did and how it went, kept with the evidence.
    pub(crate) notes: Vec<String>,
}

/// The error of a backend handed an operation kind that reaches it only through an adapter.
pub(crate) fn not_native(op: &Op, backend: &str) -> Error {
    Error::Bug(format!("{backend} was handed a {:?} operation directly; this is a bug in iobench", op.kind))
}
