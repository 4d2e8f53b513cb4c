//! The stop flag: set by the first Ctrl-C or SIGTERM (see `os::signals`) or by a failing
//! worker, read by every loop that must end early (the run loop at each operation, file
//! generation at each chunk, the ipc ping-pong every 256 round trips).

use std::sync::atomic::{AtomicBool, Ordering};

/// Set to end every run at its next operation.
pub(crate) static STOP: AtomicBool = AtomicBool::new(false);

/// True once a stop was asked for: one relaxed load.
#[inline]
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}
