//! Page-cache control and residency of a file: `posix_fadvise` over the whole file, and the
//! share of its pages in the page cache (cachestat(2), or mincore(2) on fresh mappings).

use super::fsinfo::{file_len, page_size};
use crate::base::error::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;

/// `posix_fadvise` over the whole file.
pub(crate) fn fadvise(file: &File, advice: libc::c_int) -> Result<()> {
    // SAFETY: plain syscall on a valid descriptor.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, advice) };
    if rc != 0 {
        return Err(Error::io("posix_fadvise", std::io::Error::from_raw_os_error(rc)));
    }
    Ok(())
}

/// Fraction (0.0–1.0) of the file's pages resident in the page cache, from `mincore` on fresh
/// read-only mappings. Mapping a file faults nothing in, so the check does not disturb it. The
/// file is mapped 16 MiB at a time, so the check works under a small `address_space_limit`.
pub(crate) fn residency(file: &File) -> Result<f64> {
    residency_of(file, file_len(file).map_err(|e| Error::io("stat", e))?)
}

/// `residency` of the first `len` bytes (the part a run uses of a larger file or device).
pub(crate) fn residency_of(file: &File, len: u64) -> Result<f64> {
    let len = len.min(file_len(file).map_err(|e| Error::io("stat", e))?) as usize;
    if len == 0 {
        return Ok(0.0);
    }
    if let Some(cached) = cachestat_pages(file, len as u64) {
        return Ok((cached as f64 / len.div_ceil(page_size()) as f64).min(1.0));
    }
    residency_by_mincore(file, len)
}

/// Pages of the first `len` bytes in the page cache, from cachestat(2) (Linux 6.5+): one
/// system call and no mapping, where the two `mincore` checks of a 256 MiB file took 8.6 ms of
/// every run's untimed time. `None` where the kernel lacks it.
fn cachestat_pages(file: &File, len: u64) -> Option<u64> {
    // The same number on every architecture (added after the syscall tables were unified).
    const SYS_CACHESTAT: libc::c_long = 451;
    #[repr(C)]
    struct Range {
        off: u64,
        len: u64,
    }
    #[repr(C)]
    #[derive(Default)]
    struct Stat {
        nr_cache: u64,
        nr_dirty: u64,
        nr_writeback: u64,
        nr_evicted: u64,
        nr_recently_evicted: u64,
    }
    let range = Range { off: 0, len };
    let mut stat = Stat::default();
    // SAFETY: cachestat reads `range` and writes one `Stat`, both live for the call.
    let rc = unsafe { libc::syscall(SYS_CACHESTAT, file.as_raw_fd(), &range, &mut stat, 0u32) };
    (rc == 0).then_some(stat.nr_cache)
}

fn residency_by_mincore(file: &File, len: usize) -> Result<f64> {
    const CHUNK: usize = 16 << 20;
    let page = page_size();
    let mut vec = vec![0u8; CHUNK / page];
    let (mut resident, mut offset) = (0usize, 0usize);
    while offset < len {
        let n = CHUNK.min(len - offset);
        // SAFETY: a shared read-only mapping of a file we hold open; unmapped before the next chunk.
        let addr = unsafe {
            libc::mmap64(std::ptr::null_mut(), n, libc::PROT_READ, libc::MAP_SHARED, file.as_raw_fd(), offset as i64)
        };
        if addr == libc::MAP_FAILED {
            return Err(Error::last_os("mmap for mincore"));
        }
        // SAFETY: `vec` has one byte per page of the (at most CHUNK-byte) mapping.
        let rc = unsafe { libc::mincore(addr, n, vec.as_mut_ptr()) };
        let err = std::io::Error::last_os_error();
        // SAFETY: unmapping exactly what was mapped above.
        unsafe { libc::munmap(addr, n) };
        if rc != 0 {
            return Err(Error::io("mincore", err));
        }
        resident += vec[..n.div_ceil(page)].iter().filter(|b| **b & 1 == 1).count();
        offset += n;
    }
    Ok(resident as f64 / len.div_ceil(page) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, Write};

    /// cachestat and mincore must tell the same story about a partly cached file.
    #[test]
    fn cachestat_and_mincore_agree() {
        let path = std::env::temp_dir().join(format!("iobench-residency-{}.tmp", std::process::id()));
        let mut file = std::fs::OpenOptions::new().create_new(true).read(true).write(true).open(&path).unwrap();
        let len = 8usize << 20;
        file.write_all(&vec![7u8; len]).unwrap();
        file.sync_all().unwrap();
        fadvise(&file, libc::POSIX_FADV_DONTNEED).unwrap();
        // No readahead, so exactly the first quarter is read into the cache.
        fadvise(&file, libc::POSIX_FADV_RANDOM).unwrap();
        file.seek(std::io::SeekFrom::Start(0)).unwrap();
        let mut quarter = vec![0u8; len / 4];
        file.read_exact(&mut quarter).unwrap();
        let by_mincore = residency_by_mincore(&file, len).unwrap();
        let cached = cachestat_pages(&file, len as u64);
        let _ = std::fs::remove_file(&path);
        let Some(cached) = cached else {
            return crate::base::skip("cachestat_and_mincore_agree", "this kernel has no cachestat(2) (Linux 6.5+)");
        };
        let by_cachestat = cached as f64 / (len / page_size()) as f64;
        assert!((by_cachestat - by_mincore).abs() < 0.01, "cachestat {by_cachestat} vs mincore {by_mincore}");
        assert!(by_mincore > 0.2 && by_mincore < 0.5, "a quarter was read: {by_mincore}");
    }
}
