//! The `user.iobench` extended attribute: a mark on every file iobench writes that survives
//! truncation and damage (the pattern on every page is the main mark; not every filesystem keeps
//! user extended attributes).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

const MARKER: &[u8] = b"user.iobench\0";

/// Sets the `user.iobench` marker on a file iobench is writing (best effort: not every
/// filesystem keeps user extended attributes, and the pattern is the main mark).
pub(crate) fn mark(file: &File) {
    let value = b"1";
    // SAFETY: fsetxattr with a NUL-terminated name and a buffer of the given length.
    unsafe {
        libc::fsetxattr(file.as_raw_fd(), MARKER.as_ptr().cast(), value.as_ptr().cast(), value.len(), 0);
    }
}

/// True if `path` (not followed if it is a link) carries the `user.iobench` marker.
pub(crate) fn is_marked(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else { return false };
    // SAFETY: lgetxattr with a NUL-terminated path and name; a null buffer of size 0 asks for the length.
    unsafe { libc::lgetxattr(c.as_ptr(), MARKER.as_ptr().cast(), std::ptr::null_mut(), 0) >= 0 }
}
