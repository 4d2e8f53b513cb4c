//! `madvise` and `posix_fadvise` with the settings a workload names. A hint the kernel does not
//! know (EINVAL) comes back as `Error::Unsupported` naming the kernel version, so the run is
//! skipped with the reason instead of measuring something the user did not ask for.

use super::procfs::kernel_release;
use crate::base::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::os::fd::AsRawFd;

/// `POSIX_FADV_NOREUSE` (5 on every Linux architecture but s390x; libc lacks it on x86_64).
#[cfg(not(target_arch = "s390x"))]
const POSIX_FADV_NOREUSE: libc::c_int = 5;
#[cfg(target_arch = "s390x")]
const POSIX_FADV_NOREUSE: libc::c_int = 7;
/// `MADV_COLLAPSE` (6.1+), the same value on every architecture.
const MADV_COLLAPSE: libc::c_int = 25;

/// `madvise` advice applied to the whole mapping right after it is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Advice {
    Normal,
    Random,
    Sequential,
    Willneed,
    Hugepage,
    Nohugepage,
}

impl Advice {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Advice::Normal => "normal",
            Advice::Random => "random",
            Advice::Sequential => "sequential",
            Advice::Willneed => "willneed",
            Advice::Hugepage => "hugepage",
            Advice::Nohugepage => "nohugepage",
        }
    }
}

/// `posix_fadvise` hint for backends that read through a descriptor and the page cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FadviseHint {
    Normal,
    Random,
    Sequential,
    Noreuse,
    Willneed,
}

impl FadviseHint {
    pub(crate) fn name(self) -> &'static str {
        match self {
            FadviseHint::Normal => "normal",
            FadviseHint::Random => "random",
            FadviseHint::Sequential => "sequential",
            FadviseHint::Noreuse => "noreuse",
            FadviseHint::Willneed => "willneed",
        }
    }
}

fn unsupported(backend: &str, what: &str, since: &str) -> Error {
    Error::Unsupported {
        backend: backend.to_string(),
        reason: format!("{what} is not supported by kernel {} (needs {since}); drop that setting", kernel_release()),
    }
}

/// Applies a `posix_fadvise` hint to the whole file. Random and sequential change the open
/// file's readahead (per descriptor); willneed starts reading the file in; noreuse marks its
/// pages as used once (6.3+ acts on it). `backend` names who asked, for the skip reason.
pub(crate) fn apply_fadvise(file: &File, hint: FadviseHint, backend: &str) -> Result<()> {
    let (advice, name) = match hint {
        FadviseHint::Normal => (libc::POSIX_FADV_NORMAL, "POSIX_FADV_NORMAL"),
        FadviseHint::Random => (libc::POSIX_FADV_RANDOM, "POSIX_FADV_RANDOM"),
        FadviseHint::Sequential => (libc::POSIX_FADV_SEQUENTIAL, "POSIX_FADV_SEQUENTIAL"),
        FadviseHint::Noreuse => (POSIX_FADV_NOREUSE, "POSIX_FADV_NOREUSE"),
        FadviseHint::Willneed => (libc::POSIX_FADV_WILLNEED, "POSIX_FADV_WILLNEED"),
    };
    // SAFETY: plain syscall on a descriptor we own.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, advice) };
    match rc {
        0 => Ok(()),
        libc::EINVAL => Err(unsupported(backend, name, "2.6+, noreuse 6.3+")),
        e => Err(Error::io(format!("posix_fadvise({name})"), std::io::Error::from_raw_os_error(e))),
    }
}

/// The `madvise` value and name of an mmap advice.
fn madv(advice: Advice) -> (libc::c_int, &'static str, &'static str) {
    match advice {
        Advice::Normal => (libc::MADV_NORMAL, "MADV_NORMAL", "2.6+"),
        Advice::Random => (libc::MADV_RANDOM, "MADV_RANDOM", "2.6+"),
        Advice::Sequential => (libc::MADV_SEQUENTIAL, "MADV_SEQUENTIAL", "2.6+"),
        Advice::Willneed => (libc::MADV_WILLNEED, "MADV_WILLNEED", "2.6+"),
        Advice::Hugepage => (libc::MADV_HUGEPAGE, "MADV_HUGEPAGE", "a kernel with transparent huge pages"),
        Advice::Nohugepage => (libc::MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE", "a kernel with transparent huge pages"),
    }
}

fn raw_madvise(addr: *mut u8, len: usize, advice: libc::c_int) -> std::io::Result<()> {
    // SAFETY: the caller passes a range it mapped; these advices never free memory.
    let rc = unsafe { libc::madvise(addr.cast(), len, advice) };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Applies an mmap advice to `[addr, addr + len)`.
pub(crate) fn apply_madvise(addr: *mut u8, len: usize, advice: Advice) -> Result<()> {
    let (value, name, since) = madv(advice);
    raw_madvise(addr, len, value).map_err(|e| match e.raw_os_error() {
        Some(libc::EINVAL) => unsupported("mmap", name, since),
        _ => Error::io(format!("madvise({name})"), e),
    })
}

/// Prefaults `[addr, addr + len)` with `MADV_POPULATE_READ` or `_WRITE` (5.14+). Unlike
/// `MAP_POPULATE` these report failure.
pub(crate) fn populate(addr: *mut u8, len: usize, write: bool) -> Result<()> {
    let (value, name) = if write {
        (libc::MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE")
    } else {
        (libc::MADV_POPULATE_READ, "MADV_POPULATE_READ")
    };
    raw_madvise(addr, len, value).map_err(|e| match e.raw_os_error() {
        Some(libc::EINVAL) => unsupported("mmap", name, "5.14+"),
        _ => Error::io(format!("madvise({name})"), e),
    })
}

/// What `MADV_COLLAPSE` did. It is best effort: only EINVAL (kernel lacks it, or the mapping
/// can never hold huge pages) is an error; anything else is reported as the outcome.
pub(crate) fn collapse(addr: *mut u8, len: usize) -> Result<String> {
    match raw_madvise(addr, len, MADV_COLLAPSE) {
        Ok(()) => Ok("MADV_COLLAPSE: collapsed".into()),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            // smaps says whether the kernel considers this mapping able to hold huge pages.
            let eligible = match crate::os::smaps::range(addr as usize, len).and_then(|r| r.thp_eligible) {
                Some(true) => ", smaps THPeligible 1",
                Some(false) => ", smaps THPeligible 0",
                None => "",
            };
            Err(Error::Unsupported {
                backend: "mmap".into(),
                reason: format!(
                    "MADV_COLLAPSE was refused (EINVAL) by kernel {}{eligible}: it needs 6.1+ and a filesystem \
                     or mapping that can hold huge pages; drop collapse",
                    kernel_release()
                ),
            })
        }
        Err(e) => Ok(format!("MADV_COLLAPSE: not (fully) collapsed, best effort: {e}")),
    }
}
