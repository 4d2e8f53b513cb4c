//! Surviving SIGBUS from a file mapping.
//!
//! Touching a page of a shared file mapping past the file's current end raises SIGBUS (another
//! process truncated the file during the run), and so does an I/O error under a mapped page.
//! The default action kills the process and loses every result not yet written.
//!
//! Rust cannot unwind out of a signal handler, and `sigsetjmp`/`siglongjmp` across Rust frames
//! skips destructors and is undefined behaviour. So the handler does the one thing that makes
//! *returning* safe: it maps an anonymous zero page over the faulting page (`MAP_FIXED` replaces
//! just that page of the file mapping), records the fault's file offset, and returns. The faulting
//! instruction then restarts and reads zeros (or its store lands in the anonymous page). The run
//! loop calls `pending()` after every completed operation and fails the run with `take_error`,
//! naming the file and offset, so those zeros are never counted as data. The zero page goes away
//! with the rest of the mapping at `munmap`.
//!
//! Only addresses inside a mapping registered here (`Registration`) are treated this way; any
//! other SIGBUS is handed back to the previous handler (or the default action), as before.

use crate::base::error::{Error, Result};
use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Mappings the handler may patch: (start, len) pairs; start 0 marks a free slot.
const SLOTS: usize = 32;
static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static LENS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
/// File offset of each mapping's first byte.
static FILE_OFFSETS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// The first unreported fault: its file offset + 1 (0 = none), one word so it is set atomically.
static FAULT: AtomicUsize = AtomicUsize::new(0);
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// The handler that was installed before ours, to hand foreign faults back to.
struct Previous(libc::sigaction);
// SAFETY: a plain C struct, written once before our handler is installed and only read after.
unsafe impl Sync for Previous {}
unsafe impl Send for Previous {}
static PREVIOUS: OnceLock<Previous> = OnceLock::new();

/// Keeps a mapping known to the SIGBUS handler; dropping it forgets the mapping.
#[derive(Debug)]
pub(crate) struct Registration {
    slot: usize,
}

impl Registration {
    /// Registers `len` bytes mapped at `start` from `file_offset` (a window of the file).
    pub(crate) fn new_at(start: *const u8, len: usize, file_offset: u64) -> Result<Registration> {
        install()?;
        let start = start as usize;
        for slot in 0..SLOTS {
            // Claim the slot through its length, then publish the start the handler looks at.
            if LENS[slot].compare_exchange(0, len.max(1), Ordering::AcqRel, Ordering::Relaxed).is_ok() {
                FILE_OFFSETS[slot].store(file_offset as usize, Ordering::Release);
                STARTS[slot].store(start, Ordering::Release);
                return Ok(Registration { slot });
            }
        }
        Err(Error::System(format!(
            "more than {SLOTS} file mappings at once; run fewer threads or workloads in one process"
        )))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        STARTS[self.slot].store(0, Ordering::Release);
        LENS[self.slot].store(0, Ordering::Release);
    }
}

/// True once a registered mapping has faulted: one atomic load, cheap enough for every operation.
#[inline]
pub(crate) fn pending() -> bool {
    FAULT.load(Ordering::Relaxed) != 0
}

/// Takes the recorded fault (if any) and describes it for `path`, the mapped file.
pub(crate) fn take_error(path: &Path) -> Option<Error> {
    let offset = match FAULT.swap(0, Ordering::AcqRel) {
        0 => return None,
        n => (n - 1) as u64,
    };
    let now = std::fs::symlink_metadata(path).map(|m| m.len());
    Some(Error::FileChanged(match now {
        Ok(len) if len <= offset => format!(
            "{} was truncated to {len} bytes by another process during the run (SIGBUS on the mapping at file \
             offset {offset}); the run was stopped: keep other processes off iobench's data files",
            path.display()
        ),
        _ => format!(
            "I/O error under the mapping of {} at file offset {offset} (SIGBUS); the run was stopped: check the \
             device (dmesg) or rerun with --backend buffered to see the error",
            path.display()
        ),
    }))
}

fn install() -> Result<()> {
    static INSTALLED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            PAGE.store(super::fsinfo::page_size(), Ordering::Relaxed);
            // SAFETY: sigaction with a zeroed struct we own; the handler only makes async-signal-safe
            // calls (raw mmap syscall, sigaction) and touches atomics.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                // Read the current action first, so PREVIOUS is set before our handler can run.
                if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
                    return Err(std::io::Error::last_os_error().to_string());
                }
                let _ = PREVIOUS.set(Previous(old));
                if libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error().to_string());
                }
            }
            Ok(())
        })
        .clone()
        .map_err(|e| Error::System(format!("cannot install the SIGBUS handler for mmap: {e}")))
}

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    for slot in 0..SLOTS {
        let start = STARTS[slot].load(Ordering::Acquire);
        let len = LENS[slot].load(Ordering::Acquire);
        if start == 0 || addr < start || addr - start >= len {
            continue;
        }
        let page_size = PAGE.load(Ordering::Relaxed);
        let page = addr & !(page_size - 1);
        // The raw syscall, not libc's wrapper: nothing but the kernel runs inside the handler.
        // SAFETY: replaces one page inside a mapping iobench owns with anonymous memory.
        let r = unsafe {
            libc::syscall(
                libc::SYS_mmap,
                page,
                page_size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if r as usize == page {
            let offset = addr - start + FILE_OFFSETS[slot].load(Ordering::Acquire);
            let _ = FAULT.compare_exchange(0, offset + 1, Ordering::AcqRel, Ordering::Relaxed);
            return;
        }
        break;
    }
    // Not ours (or the page could not be replaced): restore the previous action and return; the
    // access faults again and gets the old behaviour (by default, death by SIGBUS).
    // SAFETY: sigaction is async-signal-safe; PREVIOUS was set before this handler was installed.
    unsafe {
        match PREVIOUS.get() {
            Some(Previous(old)) => libc::sigaction(libc::SIGBUS, old, std::ptr::null_mut()),
            None => libc::signal(libc::SIGBUS, libc::SIG_DFL) as libc::c_int,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_truncated_mapping_reads_zeros_and_reports_the_offset() {
        let dir = std::env::temp_dir().join(format!("iobench-sigbus-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&vec![7u8; 64 << 10]).unwrap();
        let f = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
        let map = memmap2::MmapOptions::new().len(64 << 10).map_raw_read_only(&f).unwrap();
        let reg = Registration::new_at(map.as_ptr(), 64 << 10, 0).unwrap();
        f.set_len(8192).unwrap();
        // SAFETY: inside the mapping; the page past EOF faults and is patched by the handler.
        let v = unsafe { std::ptr::read_volatile(map.as_ptr().add(40000)) };
        assert_eq!(v, 0);
        assert!(pending());
        let e = take_error(&path).unwrap().to_string();
        assert!(e.contains("truncated to 8192 bytes") && e.contains("file offset 40000"), "{e}");
        assert!(!pending());
        drop(reg);
        drop(map);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
