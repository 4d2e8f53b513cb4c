//! The article's synchronisation claims about shared file mappings, shown on this machine:
//! - a process that writes through a `MAP_SHARED` mapping and exits without `msync` still
//!   leaves its data visible to a fresh reader (through a new mapping or `read()`): the data
//!   lives in the page cache, which every process shares; durability is another matter;
//! - making each update durable costs an `msync(MS_SYNC)` of its page (a write-back and a
//!   device flush), while `msync(MS_ASYNC)` does nothing on modern Linux.

use super::shared::Shared;
use crate::base::error::{IoContext, Result};
use crate::base::stats;
use crate::result::ipc::MsyncCost;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Where the writer leaves its value: page 1 of the shared file, away from the counter.
pub(crate) const VALUE_AT: u64 = 4096;
/// Pages used for the msync updates: 8 to 8 + MSYNC_PAGES.
const MSYNC_FIRST_PAGE: u64 = 8;
const MSYNC_PAGES: u64 = 200;

/// Writes `value` to the shared file through a mapping and exits without msync (the child side).
pub(crate) fn write_and_exit(file: &Path, value: u64) -> ! {
    let code = match Shared::open(file) {
        Ok(shared) => {
            // SAFETY: VALUE_AT + 8 lies inside the mapping, which is writable and page-aligned.
            unsafe { std::ptr::write_volatile(shared.raw().as_mut_ptr().add(VALUE_AT as usize).cast::<u64>(), value) };
            // No msync, no munmap: the mapping goes away with the process.
            0
        }
        Err(e) => {
            eprintln!("iobench ipc-child: {e}");
            1
        }
    };
    // SAFETY: _exit ends the process without running destructors, as the claim requires.
    unsafe { libc::_exit(code) }
}

/// Reads the value through a fresh mapping (the second child's side).
pub(crate) fn read_mapped(file: &Path) -> Result<u64> {
    let shared = Shared::open(file)?;
    // SAFETY: VALUE_AT + 8 lies inside the mapping, which is page-aligned.
    Ok(unsafe { std::ptr::read_volatile(shared.raw().as_ptr().add(VALUE_AT as usize).cast::<u64>()) })
}

/// Reads the value with `pread`, through the page cache and no mapping.
pub(crate) fn read_plain(file: &Path) -> Result<u64> {
    let f = std::fs::File::open(file).context(|| format!("cannot open {}", file.display()))?;
    let mut b = [0u8; 8];
    f.read_exact_at(&mut b, VALUE_AT).context(|| format!("cannot read {}", file.display()))?;
    Ok(u64::from_ne_bytes(b))
}

/// Clears the value before the writer runs.
pub(crate) fn clear(file: &Path) -> Result<()> {
    let f = std::fs::OpenOptions::new().write(true).open(file).context(|| format!("cannot open {}", file.display()))?;
    f.write_all_at(&[0u8; 8], VALUE_AT).context(|| format!("cannot write {}", file.display()))
}

/// Times `updates` stores, each followed by msync of its page, for at most `budget`.
pub(crate) fn msync_cost(shared: &Shared, updates: u64, budget: Duration) -> MsyncCost {
    let clock = crate::base::clock::Clock::get();
    let base = shared.raw().as_mut_ptr();
    let (mut store, mut sync, mut async_) = (stats::new_hist(), stats::new_hist(), stats::new_hist());
    // Write every page once and sync, so the timed stores find allocated blocks (the file is
    // sparse) and clean pages, as an update of existing data does: each store is a write fault.
    for p in 0..MSYNC_PAGES {
        // SAFETY: the page lies inside the writable mapping.
        unsafe { std::ptr::write_volatile(base.add(((MSYNC_FIRST_PAGE + p) * 4096) as usize).cast::<u64>(), p) };
    }
    // SAFETY: the range lies inside the mapping and starts page-aligned.
    unsafe {
        libc::msync(base.add((MSYNC_FIRST_PAGE * 4096) as usize).cast(), (MSYNC_PAGES * 4096) as usize, libc::MS_SYNC)
    };
    let end = Instant::now() + budget;
    let mut done = 0u64;
    for (k, flags) in (0..updates).map(|k| (k, libc::MS_SYNC)).chain((0..updates).map(|k| (k, libc::MS_ASYNC))) {
        if flags == libc::MS_SYNC && Instant::now() >= end {
            continue;
        }
        let page = (MSYNC_FIRST_PAGE + k % MSYNC_PAGES) * 4096;
        // SAFETY: the page lies inside the mapping (FILE_LEN is 256 pages) and is writable.
        let at = unsafe { base.add(page as usize) };
        let t0 = clock.raw();
        // SAFETY: as above; an aligned 8-byte store.
        unsafe { std::ptr::write_volatile(at.cast::<u64>(), k) };
        let t1 = clock.raw();
        // SAFETY: `at` is page-aligned and the page lies inside the mapping.
        unsafe { libc::msync(at.cast(), 4096, flags) };
        let t2 = clock.raw();
        if flags == libc::MS_SYNC {
            store.saturating_record(clock.ns(t0, t1).max(1));
            sync.saturating_record(clock.ns(t0, t2).max(1));
            done += 1;
        } else {
            async_.saturating_record(clock.ns(t0, t2).max(1));
        }
    }
    MsyncCost {
        updates: done,
        store_ns: stats::summarize(&store),
        store_msync_sync_ns: stats::summarize(&sync),
        store_msync_sync_histogram: stats::encode(&sync),
        store_msync_async_ns: stats::summarize(&async_),
    }
}
