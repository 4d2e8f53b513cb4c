//! The backends a plan can name, and what each can do. Validation needs these facts before any
//! backend is opened (`iodepth` only on queue backends, O_DIRECT alignment, reads in place,
//! which keys apply), so they live here, below the backends themselves.
//!
//! Besides iobench's own backends, a plan may name a backend from outside iobench
//! (`BackendKind::Outside`): its name and capabilities are declared by its crate, and plans are
//! validated against them as for the built-in ones.

use crate::base::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

/// Every backend a plan can run on, by the name used on the CLI and in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// A backend from outside iobench (see `backend::BackendFactory`).
    Outside(&'static OutsideBackend),
}

/// What a backend can do, which decides which keys apply to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// Keeps `iodepth` operations in flight: `submit` queues them and `reap` waits. Otherwise
    /// each `submit` completes its operation, and `iodepth` does not apply (threads do).
    pub queue: bool,
    /// Bypasses the page cache: buffers, offsets and lengths are aligned for O_DIRECT, and
    /// `cache = warm` means nothing to it.
    pub direct: bool,
    /// Reads hand back the backend's own memory (`Backend::view`) instead of filling the slot's
    /// buffer: they happen when the loop touches them, and the `buffers` key does not apply.
    pub reads_in_place: bool,
    /// Maps the file: `advice`, `populate`, `collapse`, `map`, `window` and msync durability
    /// apply, fsync, fdatasync and odsync do not.
    pub maps_file: bool,
    /// Reads through a descriptor and the page cache: `fadvise` applies.
    pub fadvise: bool,
    /// The io_uring options apply (`fixedbufs`, `registerfiles`, `sqthread_poll`,
    /// `iodepth_batch_submit`), and io-wq threads are counted in the evidence.
    pub io_uring: bool,
    /// Moves bytes (every backend but `null`): `verify` has something to check.
    pub moves_data: bool,
}

impl Capabilities {
    /// A synchronous backend that reads into the slot's buffers through the page cache, and
    /// takes no backend-specific keys: what a backend from outside iobench usually is.
    pub const SYNC: Capabilities = Capabilities {
        queue: false,
        direct: false,
        reads_in_place: false,
        maps_file: false,
        fadvise: false,
        io_uring: false,
        moves_data: true,
    };

    /// Reads and writes go through the slot's buffers (`buffers` applies).
    pub(crate) fn has_buffers(self) -> bool {
        self.moves_data && !self.reads_in_place
    }
}

/// A backend from outside iobench, as its crate declares it (usually in a `static`).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OutsideBackend {
    /// The name plans and results use; it must not be a built-in backend's.
    pub name: &'static str,
    /// One line for listings.
    pub describe: &'static str,
    pub capabilities: Capabilities,
}

impl BackendKind {
    /// iobench's own backends.
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
            BackendKind::Outside(o) => o.name,
        }
    }

    /// One line for `iobench list` and `--help`.
    pub(crate) fn describe(self) -> &'static str {
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
            BackendKind::Outside(o) => o.describe,
        }
    }

    /// What the backend can do (see `Capabilities`).
    pub fn capabilities(self) -> Capabilities {
        let sync = Capabilities::SYNC;
        match self {
            BackendKind::Buffered => Capabilities { fadvise: true, ..sync },
            BackendKind::Direct => Capabilities { direct: true, ..sync },
            BackendKind::Mmap => Capabilities { reads_in_place: true, maps_file: true, ..sync },
            BackendKind::Uring => Capabilities { queue: true, fadvise: true, io_uring: true, ..sync },
            BackendKind::UringDirect => Capabilities { queue: true, direct: true, io_uring: true, ..sync },
            BackendKind::Tokio | BackendKind::TokioPread => Capabilities { queue: true, fadvise: true, ..sync },
            BackendKind::Null => Capabilities { moves_data: false, ..sync },
            BackendKind::Lines => sync,
            BackendKind::Outside(o) => o.capabilities,
        }
    }

    /// Queue backends keep `iodepth` operations in flight; the others complete inline.
    pub(crate) fn is_queue(self) -> bool {
        self.capabilities().queue
    }

    /// Backends whose reads hand back their own memory (`Backend::view`) instead of filling the
    /// slot's buffer: the read happens when the loop touches it.
    pub(crate) fn reads_in_place(self) -> bool {
        self.capabilities().reads_in_place
    }

    /// Backends that bypass the page cache and need aligned buffers and offsets.
    pub(crate) fn is_direct(self) -> bool {
        self.capabilities().direct
    }

    /// A backend from outside iobench.
    pub(crate) fn is_outside(self) -> bool {
        matches!(self, BackendKind::Outside(_))
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = Error;
    /// A built-in backend by name (outside backends are known only to their caller: see
    /// `app::session::Session::with_backend`).
    fn from_str(s: &str) -> Result<Self> {
        BackendKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<_> = BackendKind::ALL.iter().map(|k| k.name()).collect();
            Error::invalid("backend", format!("unknown backend '{s}' (expected one of {})", names.join(", ")))
        })
    }
}

/// The results' form of an outside backend: its name, description and capabilities, so a
/// report read in another process still knows what it could do (`schema_version` 2).
#[derive(Serialize, Deserialize)]
struct OutsideDoc {
    name: String,
    #[serde(default)]
    describe: String,
    #[serde(default)]
    capabilities: Capabilities,
}

impl Serialize for BackendKind {
    /// A built-in backend as its name; an outside backend as an object with its capabilities.
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            BackendKind::Outside(o) => {
                OutsideDoc { name: o.name.to_string(), describe: o.describe.to_string(), capabilities: o.capabilities }
                    .serialize(s)
            }
            k => s.serialize_str(k.name()),
        }
    }
}

impl<'de> Deserialize<'de> for BackendKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Name(String),
            Outside(OutsideDoc),
        }
        match Form::deserialize(d)? {
            Form::Name(name) => name.parse().map_err(serde::de::Error::custom),
            Form::Outside(doc) => Ok(BackendKind::Outside(intern(doc))),
        }
    }
}

/// The `&'static` form of an outside backend read from a results file. Each distinct backend
/// is leaked once per process (a few dozen bytes; results name a handful of backends).
fn intern(doc: OutsideDoc) -> &'static OutsideBackend {
    static SEEN: Mutex<Vec<&'static OutsideBackend>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let same = |o: &&&'static OutsideBackend| {
        o.name == doc.name && o.describe == doc.describe && o.capabilities == doc.capabilities
    };
    if let Some(o) = seen.iter().find(same) {
        return o;
    }
    let leaked: &'static OutsideBackend = Box::leak(Box::new(OutsideBackend {
        name: Box::leak(doc.name.into_boxed_str()),
        describe: Box::leak(doc.describe.into_boxed_str()),
        capabilities: doc.capabilities,
    }));
    seen.push(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    static PREAD_STD: OutsideBackend =
        OutsideBackend { name: "pread-std", describe: "std FileExt::read_at", capabilities: Capabilities::SYNC };

    #[test]
    fn built_in_names_stay_strings_and_outside_backends_carry_their_capabilities() {
        assert_eq!(serde_json::to_value(BackendKind::UringDirect).unwrap(), "uring-direct");
        let outside = BackendKind::Outside(&PREAD_STD);
        let doc = serde_json::to_value(outside).unwrap();
        assert_eq!(doc["name"], "pread-std");
        assert_eq!(doc["capabilities"]["moves_data"], true);
        let back: BackendKind = serde_json::from_value(doc).unwrap();
        assert_eq!(back, outside);
        assert_eq!(back.to_string(), "pread-std");
        let back2: BackendKind = serde_json::from_value(serde_json::to_value(outside).unwrap()).unwrap();
        assert!(matches!((back, back2), (BackendKind::Outside(a), BackendKind::Outside(b)) if std::ptr::eq(a, b)));
        assert!(serde_json::from_value::<BackendKind>("bogus".into()).is_err());
    }

    #[test]
    fn capabilities_decide_what_applies() {
        assert!(BackendKind::Uring.is_queue() && !BackendKind::Buffered.is_queue());
        assert!(BackendKind::Mmap.reads_in_place() && !BackendKind::Mmap.capabilities().has_buffers());
        assert!(!BackendKind::Null.capabilities().moves_data);
        assert!(BackendKind::Lines.capabilities().has_buffers());
    }
}
