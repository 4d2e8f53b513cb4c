//! System knobs (the THP mode, a device's readahead) changed for a run and restored on every
//! exit path. Normal return, errors and panics restore in `Drop`; the first Ctrl-C ends the run
//! normally, so `Drop` runs too. A second Ctrl-C `_exit`s from the signal handler, where no
//! destructor runs: for that path every change is also registered as pre-formatted bytes that
//! `restore_from_signal` writes back with raw open/write/close, which are async-signal-safe.

use crate::base::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};

/// A change to undo: the knob's path and the bytes it held.
struct Pending {
    path: CString,
    value: Vec<u8>,
}

const SLOTS: usize = 16;
static PENDING: [AtomicPtr<Pending>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// A knob set to a new value; the previous value is written back when this is dropped.
#[derive(Debug)]
pub struct KnobGuard {
    path: PathBuf,
    previous: String,
    slot: usize,
}

/// The value a knob file holds: the `[selected]` word of a choice file such as THP's
/// `always [madvise] never`, or the whole trimmed text (`128`).
pub(crate) fn read_knob(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    Ok(super::procfs::selected(text.trim()))
}

fn write_knob(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied { " (needs root)" } else { "" };
        Error::io(format!("cannot write '{value}' to {}{hint}", path.display()), e)
    })
}

impl KnobGuard {
    /// Writes `value` to the knob at `path`, remembering what it held.
    pub fn set(path: &Path, value: &str) -> Result<KnobGuard> {
        let previous = read_knob(path)?;
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::Bug(format!("{} contains a NUL byte", path.display())))?;
        // Registered before the write, so a signal arriving in between still restores.
        let pending = Box::into_raw(Box::new(Pending { path: c_path, value: previous.clone().into_bytes() }));
        let Some(slot) = (0..SLOTS).find(|&i| {
            PENDING[i].compare_exchange(std::ptr::null_mut(), pending, Ordering::AcqRel, Ordering::Acquire).is_ok()
        }) else {
            // SAFETY: never published, so nothing else can hold it.
            drop(unsafe { Box::from_raw(pending) });
            return Err(Error::System(format!(
                "more than {SLOTS} system knobs changed at once; change fewer settings per run"
            )));
        };
        if let Err(e) = write_knob(path, value) {
            // Nothing changed: unregister (the box stays leaked, as in Drop).
            PENDING[slot].swap(std::ptr::null_mut(), Ordering::AcqRel);
            return Err(e);
        }
        Ok(KnobGuard { path: path.to_path_buf(), previous, slot })
    }
}

impl Drop for KnobGuard {
    fn drop(&mut self) {
        // Taking the slot first means the signal handler and this never both restore. The box
        // is leaked: a handler on another thread may still be reading it (a few bytes per run).
        let taken = PENDING[self.slot].swap(std::ptr::null_mut(), Ordering::AcqRel);
        if taken.is_null() {
            return;
        }
        if let Err(e) = write_knob(&self.path, &self.previous) {
            eprintln!("iobench: could not restore {} to '{}': {e}", self.path.display(), self.previous);
        }
    }
}

/// Restores every knob still changed. Async-signal-safe: atomics and open/write/close only.
pub fn restore_from_signal() {
    for slot in &PENDING {
        let p = slot.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if p.is_null() {
            continue;
        }
        // SAFETY: published pointers are never freed (see Drop), so `p` is valid.
        let pending = unsafe { &*p };
        // SAFETY: NUL-terminated path; the value buffer lives as long as `pending`.
        unsafe {
            let fd = libc::open(pending.path.as_ptr(), libc::O_WRONLY | libc::O_TRUNC | libc::O_CLOEXEC);
            if fd >= 0 {
                libc::write(fd, pending.value.as_ptr().cast(), pending.value.len());
                libc::close(fd);
            }
        }
    }
}

/// `/sys/kernel/mm/transparent_hugepage/enabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThpMode {
    Always,
    Madvise,
    Never,
}

impl ThpMode {
    pub(crate) fn name(self) -> &'static str {
        match self {
            ThpMode::Always => "always",
            ThpMode::Madvise => "madvise",
            ThpMode::Never => "never",
        }
    }
}

/// The system THP mode file.
pub(crate) const THP_ENABLED: &str = "/sys/kernel/mm/transparent_hugepage/enabled";
pub(crate) const THP_DEFRAG: &str = "/sys/kernel/mm/transparent_hugepage/defrag";

/// Writes back dirty pages, then drops the clean page cache of the whole machine (root).
pub(crate) fn drop_page_cache() -> Result<()> {
    // SAFETY: sync has no preconditions.
    unsafe { libc::sync() };
    write_knob(Path::new("/proc/sys/vm/drop_caches"), "1")
}
