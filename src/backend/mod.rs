//! The backend contract: how bytes move between a file and memory. The run loop owns
//! everything else (offsets, timing, queue depth, verification, statistics).

mod buffered;
mod mmap;
mod null;

use crate::data::DataFile;
use crate::error::{Error, Result};
use crate::plan::Plan;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use buffered::PreadBackend;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Read,
    Write,
    /// Make earlier writes durable, as the plan's durability policy says (fsync, msync…).
    Sync,
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
    /// reads in place (mmap) returns its own memory, and `null` returns nothing.
    fn view<'a>(&'a self, op: &Op, buf: &'a [u8]) -> &'a [u8] {
        &buf[..op.len as usize]
    }

    /// Makes every write durable (fsync, msync). Timed separately as the run's final sync.
    fn flush(&mut self) -> Result<()>;
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
}

impl BackendKind {
    pub const ALL: [BackendKind; 8] = [
        BackendKind::Buffered,
        BackendKind::Direct,
        BackendKind::Mmap,
        BackendKind::Uring,
        BackendKind::UringDirect,
        BackendKind::Tokio,
        BackendKind::TokioPread,
        BackendKind::Null,
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
        }
    }

    /// Queue backends keep `iodepth` operations in flight; the others complete inline.
    pub fn is_queue(self) -> bool {
        matches!(self, BackendKind::Uring | BackendKind::UringDirect | BackendKind::Tokio | BackendKind::TokioPread)
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
    if plan.backend.is_direct() { buffered::direct_alignment(plan, data) } else { Ok(1) }
}

/// Opens one backend instance per worker thread on `data`.
pub fn open(plan: &Plan, data: &DataFile) -> Result<Vec<Box<dyn Backend>>> {
    let threads = plan.threads as usize;
    let mut out: Vec<Box<dyn Backend>> = Vec::with_capacity(threads);
    match plan.backend {
        BackendKind::Buffered | BackendKind::Direct => {
            for _ in 0..threads {
                out.push(Box::new(PreadBackend::open(plan, data)?));
            }
        }
        BackendKind::Mmap => {
            let shared = mmap::SharedMap::open(plan, data)?;
            for _ in 0..threads {
                out.push(Box::new(shared.instance()));
            }
        }
        BackendKind::Null => {
            for _ in 0..threads {
                out.push(Box::new(null::NullBackend::default()));
            }
        }
        other => {
            return Err(Error::Unsupported {
                backend: other.to_string(),
                reason: "not available in this build".into(),
            });
        }
    }
    Ok(out)
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
    if result < 0 {
        let what = if op.kind == OpKind::Read { "read" } else { "write" };
        return Err(Error::io(
            format!("{what} of {} bytes at offset {} of {}", op.len, op.offset, data.path.display()),
            std::io::Error::from_raw_os_error(-result as i32),
        ));
    }
    if result as u64 != op.len as u64 {
        return Err(Error::Precondition(format!(
            "short {} at offset {} of {}: {} of {} bytes (was the file truncated?)",
            if op.kind == OpKind::Read { "read" } else { "write" },
            op.offset,
            data.path.display(),
            result,
            op.len
        )));
    }
    Ok(())
}
