//! Facts about files and filesystems: a file's or block device's length, the page size, the
//! O_DIRECT alignment (statx STATX_DIOALIGN) and the filesystem's block size.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Length in bytes of a regular file, or of a block device (whose `st_size` is 0).
pub(crate) fn file_len(file: &File) -> std::io::Result<u64> {
    use std::os::unix::fs::FileTypeExt;
    let meta = file.metadata()?;
    if !meta.file_type().is_block_device() {
        return Ok(meta.len());
    }
    const BLKGETSIZE64: libc::c_ulong = 0x8008_1272; // _IOR(0x12, 114, u64)
    let mut bytes = 0u64;
    // SAFETY: BLKGETSIZE64 writes one u64 into `bytes`.
    if unsafe { libc::ioctl(file.as_raw_fd(), BLKGETSIZE64, &mut bytes) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(bytes)
}

pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// O_DIRECT alignment of a file: (memory alignment, offset alignment) in bytes, from
/// `statx(STATX_DIOALIGN)` (6.1+), or `None` if the kernel or filesystem does not say.
pub(crate) fn dio_align(path: &Path) -> Option<(u32, u32)> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statx fills the zeroed struct we own; the path is NUL-terminated.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statx(libc::AT_FDCWD, c.as_ptr(), 0, libc::STATX_DIOALIGN, &mut st) };
    if rc != 0 || st.stx_mask & libc::STATX_DIOALIGN == 0 || st.stx_dio_offset_align == 0 {
        return None;
    }
    Some((st.stx_dio_mem_align, st.stx_dio_offset_align))
}

/// Logical block size of the filesystem holding `path` (fallback for O_DIRECT alignment).
pub(crate) fn fs_block_size(path: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bsize as u64)
}
