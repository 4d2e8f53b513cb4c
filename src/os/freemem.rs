//! Making free memory "recently used" again before a cold run, and telling when it was not.
//!
//! On a VM whose balloon reports free pages to the host (virtio-balloon `F_REPORTING`,
//! `mm/page_reporting.c`: free blocks of `page_reporting_order` and up, reported about two
//! seconds after they were freed), the host takes those pages back. The guest's next touch of
//! each one then waits on the host: measured here, ~5 µs per 4 KiB page, charged to the guest
//! as whatever CPU mode touched it (user time for an mmap reader, system time for read()'s
//! copy or for zeroing). A cold run fills the page cache from free memory; if the previous run
//! freed nothing (it read with O_DIRECT, or another file), that memory has been idle long
//! enough to be reported, and the run is CPU-bound on the host's faults instead of waiting on
//! the device. Touching and freeing as much memory just before the run hands it fresh pages.

use crate::base::error::{Error, Result};
use std::time::Instant;

/// What `recycle` did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Recycled {
    pub(crate) bytes: u64,
    pub(crate) seconds: f64,
}

impl Recycled {
    /// "recycled 1.0 GiB of free memory in 0.61 s (1.6 GiB/s)": the rate tells whether the
    /// memory had been handed back to the host (much slower first touches).
    pub(crate) fn describe(&self) -> String {
        let gib = self.bytes as f64 / (1u64 << 30) as f64;
        let rate = if self.seconds > 0.0 { format!(" ({:.1} GiB/s)", gib / self.seconds) } else { String::new() };
        format!(
            "free memory recycled before the cold start: {gib:.2} GiB touched and freed in {:.2} s{rate}",
            self.seconds
        )
    }
}

/// `MemAvailable` from /proc/meminfo, in bytes.
pub(crate) fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb = text.lines().find_map(|l| l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?.trim().parse().ok());
    kb.map(|k: u64| k * 1024)
}

/// Touches `bytes` of anonymous memory (at most half of what is available) one write per page,
/// then frees it, so the next allocations take pages the host has backed just now.
pub(crate) fn recycle(bytes: u64) -> Result<Recycled> {
    let bytes = bytes.min(available().unwrap_or(0) / 2);
    let page = super::fsinfo::page_size();
    let len = (bytes as usize) / page * page;
    let t = Instant::now();
    if len == 0 {
        return Ok(Recycled { bytes: 0, seconds: 0.0 });
    }
    // SAFETY: a fresh private anonymous mapping, written only inside its length, unmapped below.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(Error::last_os("mmap for recycling free memory"));
    }
    // Huge pages where THP allows: fewer faults, and freed as whole 2 MiB blocks.
    let base = addr.cast::<u8>();
    let _ = super::advice::apply_madvise(base, len, super::advice::Advice::Hugepage);
    for offset in (0..len).step_by(page) {
        // SAFETY: inside the mapping; volatile so the writes are not elided.
        unsafe { std::ptr::write_volatile(base.add(offset), 1) };
    }
    // SAFETY: the mapping made above, not used after this.
    unsafe { libc::munmap(addr, len) };
    Ok(Recycled { bytes: len as u64, seconds: t.elapsed().as_secs_f64() })
}
