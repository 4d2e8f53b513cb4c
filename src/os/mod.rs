//! Linux facilities std lacks: resource usage, cache control and residency, O_DIRECT alignment.

pub mod addrspace;
pub mod advice;
pub mod blockdev;
pub mod freemem;
pub mod knobs;
pub mod procstat;
pub mod sigbus;
pub mod signals;
pub mod smaps;
pub mod status;
pub mod vmstat;

use crate::error::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Resource usage of the process (all threads, io-wq and runtime workers included).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub user_ns: u64,
    pub sys_ns: u64,
    pub minor_faults: u64,
    pub major_faults: u64,
    pub vol_ctx_switches: u64,
    pub invol_ctx_switches: u64,
}

impl Usage {
    pub fn process() -> Usage {
        Self::get(libc::RUSAGE_SELF)
    }
    pub fn thread() -> Usage {
        Self::get(libc::RUSAGE_THREAD)
    }
    fn get(who: libc::c_int) -> Usage {
        // SAFETY: getrusage writes one rusage into the zeroed struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut ru) };
        let ns = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
        Usage {
            user_ns: ns(ru.ru_utime),
            sys_ns: ns(ru.ru_stime),
            minor_faults: ru.ru_minflt as u64,
            major_faults: ru.ru_majflt as u64,
            vol_ctx_switches: ru.ru_nvcsw as u64,
            invol_ctx_switches: ru.ru_nivcsw as u64,
        }
    }
    /// The usage between `earlier` and `self`.
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            sys_ns: self.sys_ns.saturating_sub(earlier.sys_ns),
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
            major_faults: self.major_faults.saturating_sub(earlier.major_faults),
            vol_ctx_switches: self.vol_ctx_switches.saturating_sub(earlier.vol_ctx_switches),
            invol_ctx_switches: self.invol_ctx_switches.saturating_sub(earlier.invol_ctx_switches),
        }
    }
}

/// `posix_fadvise` over the whole file.
pub fn fadvise(file: &File, advice: libc::c_int) -> Result<()> {
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
pub fn residency(file: &File) -> Result<f64> {
    residency_of(file, file_len(file).map_err(|e| Error::io("stat", e))?)
}

/// `residency` of the first `len` bytes (the part a run uses of a larger file or device).
pub fn residency_of(file: &File, len: u64) -> Result<f64> {
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

/// Length in bytes of a regular file, or of a block device (whose `st_size` is 0).
pub fn file_len(file: &File) -> std::io::Result<u64> {
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

pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// O_DIRECT alignment of a file: (memory alignment, offset alignment) in bytes, from
/// `statx(STATX_DIOALIGN)` (6.1+), or `None` if the kernel or filesystem does not say.
pub fn dio_align(path: &Path) -> Option<(u32, u32)> {
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
pub fn fs_block_size(path: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs fills the zeroed struct we own.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bsize as u64)
}

/// The mount entry (filesystem type, device, options) holding `path`, from /proc/self/mounts.
pub fn mount_of(path: &Path) -> Option<Mount> {
    let path = path.canonicalize().ok()?;
    let text = std::fs::read_to_string("/proc/self/mounts").ok()?;
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4).then(|| Mount {
                device: f[0].to_string(),
                mount_point: f[1].replace("\\040", " "),
                fs_type: f[2].to_string(),
                options: f[3].to_string(),
            })
        })
        .filter(|m| path.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.len())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Mount {
    pub device: String,
    pub mount_point: String,
    pub fs_type: String,
    pub options: String,
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
            eprintln!("skipped: this kernel has no cachestat(2) (Linux 6.5+)");
            return;
        };
        let by_cachestat = cached as f64 / (len / page_size()) as f64;
        assert!((by_cachestat - by_mincore).abs() < 0.01, "cachestat {by_cachestat} vs mincore {by_mincore}");
        assert!(by_mincore > 0.2 && by_mincore < 0.5, "a quarter was read: {by_mincore}");
    }
}
