//! Ctrl-C and SIGTERM: the first asks every run to stop at its next operation (finished runs
//! are kept and written, and created data files removed); the second exits at once, removing
//! the data files this invocation created first (see `cleanup`).

use crate::base::stop::STOP;
use std::sync::atomic::Ordering;

extern "C" fn on_signal(_: libc::c_int) {
    if STOP.swap(true, Ordering::SeqCst) {
        // Second signal: leave now. Only async-signal-safe calls here (unlink, rmdir, _exit).
        crate::cleanup::unlink_recorded_from_signal();
        // System knobs changed for the run (THP mode, readahead) go back to what they were.
        crate::os::knobs::restore_from_signal();
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
