//! Ctrl-C and SIGTERM: the first asks every run to stop at its next operation (finished runs
//! are kept and written, and created data files removed); the second exits at once, after
//! unlinking the files registered here (see `datafile::cleanup`, which registers what an
//! invocation creates) and restoring changed system knobs (see `knobs`).
//!
//! The handler may only make async-signal-safe calls: so every registered path is kept as a
//! pre-formatted C string, and the handler unlinks them with nothing but `unlink`/`rmdir`.

use crate::base::stop::STOP;
use std::ffi::{CString, c_char};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

/// Paths the second signal unlinks (leaked C strings; null = free slot).
const SLOTS: usize = 256;
static UNLINK: [AtomicPtr<c_char>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];
/// `--keep-files`: the second signal unlinks nothing.
static KEEP: AtomicBool = AtomicBool::new(false);

/// Registers `path` to be unlinked if a second signal ends the process. Returns its slot, or
/// `None` when every slot is taken (or the path holds a NUL byte): it is then only removed
/// on a normal exit.
pub(crate) fn unlink_on_second_signal(path: &Path) -> Option<usize> {
    let raw = CString::new(path.as_os_str().as_encoded_bytes()).ok()?.into_raw();
    let slot = UNLINK
        .iter()
        .position(|s| s.compare_exchange(std::ptr::null_mut(), raw, Ordering::AcqRel, Ordering::Relaxed).is_ok());
    if slot.is_none() {
        // SAFETY: `raw` came from `into_raw` above and was not published.
        drop(unsafe { CString::from_raw(raw) });
    }
    slot
}

/// Forgets a registered path (it was removed, or is kept). Its string is leaked on purpose:
/// the signal handler may be reading it right now.
pub(crate) fn forget(slot: usize) {
    UNLINK[slot].store(std::ptr::null_mut(), Ordering::Release);
}

/// `--keep-files`: whether the second signal leaves the registered files in place.
pub(crate) fn keep_files(keep: bool) {
    KEEP.store(keep, Ordering::Relaxed);
}

/// Unlinks every registered path, newest first (unless `--keep-files`). Async-signal-safe:
/// atomics, `unlink` and `rmdir` only.
fn unlink_registered() {
    if KEEP.load(Ordering::Relaxed) {
        return;
    }
    for slot in UNLINK.iter().rev() {
        let p = slot.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: `p` is a leaked, NUL-terminated C string that is never freed.
            unsafe {
                if libc::unlink(p) != 0 {
                    libc::rmdir(p);
                }
            }
        }
    }
}

extern "C" fn on_signal(_: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) {
        // Second signal: leave now. Only async-signal-safe calls here (unlink, rmdir, _exit).
        unlink_registered();
        // System knobs changed for the run (THP mode, readahead) go back to what they were.
        super::knobs::restore_from_signal();
        unsafe { libc::_exit(130) };
    }
    let msg = b"\niobench: stopping after the current operation (press Ctrl-C again to quit now)\n";
    // SAFETY: write(2) is async-signal-safe; the buffer is static.
    unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
}

pub fn install() {
    // SAFETY: installing a handler that only touches an atomic and calls write/_exit.
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}
