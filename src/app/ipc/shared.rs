//! Ping-pong through a `MAP_SHARED` file mapping: a `u32` counter at offset 0 of the file, in
//! both processes' mappings of the same page-cache page. The parent stores `2k+1` and waits for
//! `2k+2`; the child waits for `2k+1` and stores `2k+2`; `STOP` ends the child. Stores are
//! Release and loads Acquire, which is all the ordering a reader of the page needs.
//!
//! Waiting either spins on the counter (`spin`) or sleeps in `futex(FUTEX_WAIT)` on it (`futex`;
//! the waker calls FUTEX_WAKE). The futex is not FUTEX_PRIVATE: the word lives in a shared file
//! mapping, which the kernel keys by page, so both processes wait on the same futex. Every wait
//! is bounded: it fails at its deadline, and checks now and then whether the other side is gone.

use crate::base::error::{Error, IoContext, Result};
use memmap2::MmapRaw;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The counter value that ends the child.
pub(crate) const STOP: u32 = u32::MAX;
/// Bytes of the shared file: the counter's page plus room for the sync claims' values.
pub(crate) const FILE_LEN: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitKind {
    Spin,
    Futex,
}

/// A mapping of the shared file.
pub(crate) struct Shared {
    map: MmapRaw,
}

impl Shared {
    pub(crate) fn open(path: &Path) -> Result<Shared> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .context(|| format!("cannot open {}", path.display()))?;
        let len = crate::os::fsinfo::file_len(&file).context(|| format!("cannot stat {}", path.display()))?;
        if len < FILE_LEN {
            return Err(Error::FileChanged(format!("{} is shorter than {FILE_LEN} bytes", path.display())));
        }
        let map = memmap2::MmapOptions::new()
            .len(FILE_LEN as usize)
            .map_raw(&file)
            .map_err(|e| Error::io(format!("cannot map {}", path.display()), e))?;
        Ok(Shared { map })
    }

    /// The counter. A `u32` at the start of the page-aligned mapping, so aligned for an atomic.
    pub(crate) fn counter(&self) -> &AtomicU32 {
        // SAFETY: the mapping is page-aligned, at least 4 bytes long, lives as long as `self`,
        // and is only ever accessed atomically at this offset.
        unsafe { &*self.map.as_mut_ptr().cast::<AtomicU32>() }
    }

    /// Sets the counter to 0. Before the child starts: it must not see the `STOP` of the last mode.
    pub(crate) fn reset(&self) {
        self.counter().store(0, Ordering::Release);
    }

    /// The whole mapping, for the sync claims (which use other offsets than the counter's).
    pub(crate) fn raw(&self) -> &MmapRaw {
        &self.map
    }
}

fn futex(word: &AtomicU32, op: i32, val: u32, timeout: Option<&libc::timespec>) -> i64 {
    let ts = timeout.map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: `word` is a valid, aligned u32 for the duration of the call; the other arguments
    // are ignored by FUTEX_WAIT and FUTEX_WAKE.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), op, val, ts, std::ptr::null::<u32>(), 0) as i64 }
}

/// Stores `value` and, for `Futex`, wakes the other side.
#[inline]
pub(crate) fn post(word: &AtomicU32, value: u32, how: WaitKind) {
    word.store(value, Ordering::Release);
    if how == WaitKind::Futex {
        futex(word, libc::FUTEX_WAKE, 1, None);
    }
}

/// Waits until `word` holds `want` or `STOP` and returns what it holds. Fails at `deadline`, or
/// when `gone` (checked at most every few milliseconds) says the other side has gone.
#[inline]
pub(crate) fn wait(
    word: &AtomicU32,
    want: u32,
    how: WaitKind,
    deadline: Instant,
    gone: &mut dyn FnMut() -> Option<String>,
) -> std::result::Result<u32, String> {
    let mut spins = 0u32;
    loop {
        let v = word.load(Ordering::Acquire);
        if v == want || v == STOP {
            return Ok(v);
        }
        match how {
            WaitKind::Spin => {
                std::hint::spin_loop();
                spins = spins.wrapping_add(1);
                if !spins.is_multiple_of(1 << 16) {
                    continue;
                }
            }
            WaitKind::Futex => {
                let ts = libc::timespec { tv_sec: 0, tv_nsec: 20_000_000 };
                // Sleeps only while the word still holds `v`; returns at a wake or after 20 ms.
                // Only a timeout leads on to the deadline and peer checks.
                if futex(word, libc::FUTEX_WAIT, v, Some(&ts)) == 0
                    || std::io::Error::last_os_error().raw_os_error() != Some(libc::ETIMEDOUT)
                {
                    continue;
                }
            }
        }
        if Instant::now() >= deadline {
            return Err(format!("no answer within the timeout (counter at {v}, waiting for {want})"));
        }
        if let Some(why) = gone() {
            return Err(why);
        }
    }
}

/// The parent's side: `exchanges` round trips at most, ending early at `runtime`. Returns each
/// round trip's time in ns after the first `warmup` ones.
pub(crate) fn parent(
    shared: &Shared,
    how: WaitKind,
    exchanges: u64,
    runtime: Duration,
    timeout: Duration,
    gone: &mut dyn FnMut() -> Option<String>,
    record: &mut dyn FnMut(u64, u64),
) -> Result<u64> {
    let word = shared.counter();
    let clock = crate::base::clock::Clock::get();
    let end = Instant::now() + runtime;
    let mut done = 0u64;
    // The clock and Ctrl-C are checked every 256 round trips.
    let stopped = || crate::base::stop::requested();
    while done < exchanges && (!done.is_multiple_of(256) || (Instant::now() < end && !stopped())) {
        let odd = (2 * done + 1) as u32;
        let t0 = clock.raw();
        post(word, odd, how);
        match wait(word, odd + 1, how, Instant::now() + timeout, gone) {
            Ok(v) if v == odd + 1 => {}
            Ok(v) => return Err(Error::Peer(format!("shared counter holds {v}, expected {}", odd + 1))),
            Err(why) => return Err(Error::Peer(format!("after {done} round trips: {why}"))),
        }
        record(done, clock.ns(t0, clock.raw()));
        done += 1;
    }
    post(word, STOP, how);
    Ok(done)
}

/// The child's side: answers until `STOP`; returns the round trips it answered. With
/// `die_after`, exits abruptly after that many (for tests of the parent's bounded waits).
pub(crate) fn child(
    shared: &Shared,
    how: WaitKind,
    timeout: Duration,
    die_after: Option<u64>,
    gone: &mut dyn FnMut() -> Option<String>,
) -> std::result::Result<u64, String> {
    let word = shared.counter();
    let mut done = 0u64;
    loop {
        let odd = (2 * done + 1) as u32;
        if wait(word, odd, how, Instant::now() + timeout, gone)? == STOP {
            return Ok(done);
        }
        if die_after == Some(done) {
            // SAFETY: _exit ends the process at once, as a crash would.
            unsafe { libc::_exit(9) };
        }
        post(word, odd + 1, how);
        done += 1;
    }
}
