//! What `iobench ipc` measured (`ipc` in the results document): each mode's round trips, and
//! the article's claims about shared mappings (visibility without msync, the cost of msync).

use crate::base::error::{Error, Result};
use crate::base::stats::LatencySummary;
use crate::result::RunStatus;
use serde::{Deserialize, Serialize};

/// A way to pass the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    MmapSpin,
    MmapFutex,
    Pipe,
    Socket,
}

impl Mode {
    pub const ALL: [Mode; 4] = [Mode::MmapSpin, Mode::MmapFutex, Mode::Pipe, Mode::Socket];

    pub fn name(self) -> &'static str {
        match self {
            Mode::MmapSpin => "mmap-spin",
            Mode::MmapFutex => "mmap-futex",
            Mode::Pipe => "pipe",
            Mode::Socket => "socket",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Mode::MmapSpin => "atomic counter in a MAP_SHARED file, both sides spinning",
            Mode::MmapFutex => "atomic counter in a MAP_SHARED file, futex wait/wake",
            Mode::Pipe => "8-byte messages over two pipes",
            Mode::Socket => "8-byte messages over a Unix socket pair",
        }
    }

    /// Parses a comma-separated list of mode names.
    pub fn parse_list(text: &str) -> Result<Vec<Mode>> {
        text.split(',')
            .map(|s| {
                Mode::ALL.into_iter().find(|m| m.name() == s.trim()).ok_or_else(|| {
                    let names: Vec<_> = Mode::ALL.iter().map(|m| m.name()).collect();
                    Error::invalid("modes", format!("unknown mode '{s}' (expected {})", names.join(", ")))
                })
            })
            .collect()
    }
}

/// One mode's outcome.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModeResult {
    pub mode: Mode,
    pub what: String,
    pub status: RunStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub round_trips: u64,
    /// What the child counted: equal to `round_trips` when both sides agree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_round_trips: Option<u64>,
    pub round_trips_per_s: f64,
    /// Write of the counter → the other side's answer observed (first 1% left out as warm-up).
    pub round_trip_ns: LatencySummary,
    pub latency_histogram: String,
}

/// What `iobench ipc` measured: `ipc` in the results document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IpcReport {
    pub exchanges_requested: u64,
    pub runtime_limit_ns: u64,
    pub modes: Vec<ModeResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msync: Option<MsyncCost>,
}

impl IpcReport {
    pub fn failed(&self) -> bool {
        self.modes.iter().any(|m| m.status != RunStatus::Ok)
            || self.visibility.as_ref().is_some_and(|v| !(v.seen_by_fresh_mapping && v.seen_by_read))
    }
}

/// Did a fresh reader see what an exited writer stored without msync?
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Visibility {
    pub value_written: u64,
    /// The writer stored through its mapping and called `_exit` without msync or munmap.
    pub writer_exit_code: Option<i32>,
    pub seen_by_fresh_mapping: bool,
    pub seen_by_read: bool,
}

/// Time of one 8-byte store to a mapped page, alone and followed by msync of that page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MsyncCost {
    pub updates: u64,
    pub store_ns: LatencySummary,
    /// Store + `msync(MS_SYNC)` of the page: a durable update.
    pub store_msync_sync_ns: LatencySummary,
    pub store_msync_sync_histogram: String,
    /// Store + `msync(MS_ASYNC)` (a no-op on modern Linux).
    pub store_msync_async_ns: LatencySummary,
}
