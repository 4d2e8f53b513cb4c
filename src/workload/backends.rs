//! The backends a plan can name, and what each can do. Validation needs these facts before any
//! backend is opened (`iodepth` only on queue backends, O_DIRECT alignment, reads in place), so
//! they live here, below the backends themselves.

use crate::base::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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
