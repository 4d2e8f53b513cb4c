//! What a process's address space allows, probed from inside it (the 32-bit child of the
//! article's address-space row, or a child under `RLIMIT_AS`): the largest single mapping it
//! can make, found by bisection; whether the whole data file maps; and what a C program built
//! without large-file support gets past 2 GiB: `open` without `O_LARGEFILE`, and the C
//! library's `pread` with this build's `off_t` (32 bits on i686) instead of `pread64`.

use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Where the large-offset reads go: the first byte a 32-bit `off_t` cannot hold.
pub(crate) const LARGE_OFFSET: u64 = 1 << 31;

/// One attempt: whether it worked, and the error or what it returned.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Outcome {
    pub ok: bool,
    pub detail: String,
}

impl Outcome {
    fn err(what: &str, e: &std::io::Error) -> Outcome {
        Outcome { ok: false, detail: format!("{what}: {} ({e})", crate::os::errno::name(e).unwrap_or("error")) }
    }
    fn ok(detail: impl Into<String>) -> Outcome {
        Outcome { ok: true, detail: detail.into() }
    }
}

/// The probe's findings (`backend_setup.isolation.address_space_probe`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Probe {
    /// Width of a pointer in this process: 32 for the i686 build.
    pub pointer_bits: u32,
    /// Width of the C library's `off_t` in this build (32 on i686 without large-file support).
    pub off_t_bits: u32,
    /// Largest single mapping made (anonymous, PROT_NONE, to the page), and whether the
    /// search stopped at its cap instead of at a failure.
    pub largest_mapping_bytes: u64,
    pub largest_mapping_capped: bool,
    /// The process's mapped size when probed.
    pub vm_size_bytes: Option<u64>,
    pub file_bytes: u64,
    /// `mmap` of the whole data file, read-only and shared.
    pub whole_file: Outcome,
    /// `open` without `O_LARGEFILE`, `pread` with `off_t`, `pread64`, each at `LARGE_OFFSET`
    /// (only for files larger than that).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_plain: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pread_off_t: Option<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pread64: Option<Outcome>,
}

/// Probes this process with the data file at `path` (`size` bytes, pattern `seed`).
pub(crate) fn probe(path: &Path, size: u64, seed: u64) -> Probe {
    let (largest, capped) = largest_mapping();
    let mut p = Probe {
        pointer_bits: usize::BITS,
        off_t_bits: (std::mem::size_of::<libc::off_t>() * 8) as u32,
        largest_mapping_bytes: largest,
        largest_mapping_capped: capped,
        vm_size_bytes: crate::os::status::own().map(|s| s.vm_size_bytes),
        file_bytes: size,
        whole_file: map_whole(path, size),
        ..Default::default()
    };
    if size >= LARGE_OFFSET + crate::patterns::block::PAGE {
        p.open_plain = Some(open_plain(path));
        let (off_t, wide) = pread_both(path, seed);
        p.pread_off_t = Some(off_t);
        p.pread64 = Some(wide);
    }
    p
}

/// Bisection over lengths (in pages) of anonymous PROT_NONE mappings: each is made and undone
/// at once, so the probe leaves the address space as it found it. Capped at 1 TiB (a 64-bit
/// process without a limit has far more).
fn largest_mapping() -> (u64, bool) {
    let page = crate::os::fsinfo::page_size() as u64;
    let cap = (usize::MAX as u64).min((1u64 << 40) - 1) / page;
    let fits = |pages: u64| {
        let len = (pages * page) as usize;
        // SAFETY: a fresh PROT_NONE mapping nobody touches, unmapped at once.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            return false;
        }
        unsafe { libc::munmap(addr, len) };
        true
    };
    if fits(cap) {
        return (cap * page, true);
    }
    let (mut lo, mut hi) = (0u64, cap); // lo fits (trivially), hi does not
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) { lo = mid } else { hi = mid }
    }
    (lo * page, false)
}

fn map_whole(path: &Path, size: u64) -> Outcome {
    let Ok(len) = usize::try_from(size) else {
        return Outcome { ok: false, detail: format!("{size} bytes do not fit in a {}-bit length", usize::BITS) };
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return Outcome::err("open", &e),
    };
    // SAFETY: a read-only shared mapping of a file we hold open, never touched, unmapped at once.
    let addr = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), 0) };
    if addr == libc::MAP_FAILED {
        return Outcome::err("mmap of the whole file", &std::io::Error::last_os_error());
    }
    unsafe { libc::munmap(addr, len) };
    Outcome::ok(format!("mapped {size} bytes"))
}

/// `open(2)` through the C library's plain `open`: no `O_LARGEFILE` in a 32-bit build.
fn open_plain(path: &Path) -> Outcome {
    let Ok(c) = CString::new(path.as_os_str().as_bytes()) else { return Outcome::default() };
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY) };
    if fd < 0 {
        return Outcome::err("open without O_LARGEFILE", &std::io::Error::last_os_error());
    }
    unsafe { libc::close(fd) };
    Outcome::ok("opened")
}

/// One page at `LARGE_OFFSET` through `pread` (this build's `off_t`; the offset converted as C
/// converts it) and through `pread64`, whose bytes are checked against the data pattern.
fn pread_both(path: &Path, seed: u64) -> (Outcome, Outcome) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return (Outcome::err("open", &e), Outcome::err("open", &e)),
    };
    let fd = file.as_raw_fd();
    let mut buf = vec![0u8; crate::patterns::block::PAGE as usize];
    // What `pread(fd, buf, n, (off_t)offset)` passes in a 32-bit build: the offset wraps negative.
    let narrow = LARGE_OFFSET as libc::off_t;
    // SAFETY: `buf` is valid for writes of its length.
    let n = unsafe { libc::pread(fd, buf.as_mut_ptr().cast(), buf.len(), narrow) };
    let off_t = if n < 0 {
        Outcome::err(&format!("pread at offset {LARGE_OFFSET} (off_t {narrow})"), &std::io::Error::last_os_error())
    } else {
        Outcome::ok(format!("{n} bytes at off_t {narrow}"))
    };
    let n = unsafe { libc::pread64(fd, buf.as_mut_ptr().cast(), buf.len(), LARGE_OFFSET as i64) };
    let wide = if n < 0 {
        Outcome::err("pread64", &std::io::Error::last_os_error())
    } else {
        match crate::patterns::block::verify(seed, LARGE_OFFSET, &buf[..n as usize]) {
            Ok(()) => Outcome::ok(format!("{n} bytes, verified against the data pattern")),
            Err(m) => Outcome { ok: false, detail: format!("pread64 read the wrong bytes: {m}") },
        }
    };
    (off_t, wide)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_limited_address_space_is_found_by_bisection() {
        // In this (64-bit) test process the cap is reached or a large mapping fits.
        let (bytes, _) = super::largest_mapping();
        assert!(bytes >= 1 << 30, "{bytes}");
    }
}
