//! Ping-pong over a pipe pair (the child's stdin and stdout) or a Unix socket pair (the child's
//! stdin, both ways): the parent writes `k` as 8 bytes, the child answers `k + 1`. The parent ends
//! by closing its side, which the child reads as end of file. Every read waits in `poll` with a
//! deadline, so neither side hangs when the other dies.

use crate::base::error::{Error, Result};
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

fn errno_text() -> String {
    std::io::Error::last_os_error().to_string()
}

/// Waits until `fd` is readable (or at end of file / hung up), at most until `deadline`.
fn readable(fd: RawFd, deadline: Instant) -> std::result::Result<(), String> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        match n {
            1 => return Ok(()),
            0 => return Err("no answer within the timeout".into()),
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            _ => return Err(format!("poll failed: {}", errno_text())),
        }
    }
}

/// Reads exactly 8 bytes by `deadline`. `Ok(None)`: end of file before the first byte.
fn read_word(fd: RawFd, deadline: Instant) -> std::result::Result<Option<u64>, String> {
    let mut buf = [0u8; 8];
    let mut got = 0;
    while got < 8 {
        readable(fd, deadline)?;
        // SAFETY: the destination lies inside `buf`.
        let n = unsafe { libc::read(fd, buf[got..].as_mut_ptr().cast(), 8 - got) };
        match n {
            0 if got == 0 => return Ok(None),
            0 => return Err("the other side closed mid-message".into()),
            n if n > 0 => got += n as usize,
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            _ => return Err(format!("read failed: {}", errno_text())),
        }
    }
    Ok(Some(u64::from_le_bytes(buf)))
}

fn write_word(fd: RawFd, v: u64) -> std::result::Result<(), String> {
    let buf = v.to_le_bytes();
    let mut put = 0;
    while put < 8 {
        // SAFETY: the source lies inside `buf`.
        let n = unsafe { libc::write(fd, buf[put..].as_ptr().cast(), 8 - put) };
        match n {
            n if n > 0 => put += n as usize,
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            // EPIPE: the reader is gone (iobench ignores SIGPIPE, as Rust programs do).
            _ => return Err(format!("write failed: {} (did the other side exit?)", errno_text())),
        }
    }
    Ok(())
}

/// The parent's side, writing to `wr` and reading answers from `rd`.
pub(crate) fn parent(
    wr: RawFd,
    rd: RawFd,
    exchanges: u64,
    runtime: Duration,
    timeout: Duration,
    record: &mut dyn FnMut(u64, u64),
) -> Result<u64> {
    let clock = crate::base::clock::Clock::get();
    let end = Instant::now() + runtime;
    let mut done = 0u64;
    let fail = |done: u64, why: String| Error::Peer(format!("after {done} round trips: {why}"));
    // The clock and Ctrl-C are checked every 256 round trips.
    let stopped = || crate::base::stop::requested();
    while done < exchanges && (!done.is_multiple_of(256) || (Instant::now() < end && !stopped())) {
        let t0 = clock.raw();
        write_word(wr, done).map_err(|w| fail(done, w))?;
        match read_word(rd, Instant::now() + timeout).map_err(|w| fail(done, w))? {
            Some(v) if v == done + 1 => {}
            Some(v) => return Err(fail(done, format!("the child answered {v}, expected {}", done + 1))),
            None => return Err(fail(done, "the child closed its end (did it exit?)".into())),
        }
        record(done, clock.ns(t0, clock.raw()));
        done += 1;
    }
    Ok(done)
}

/// The child's side, reading from `rd` and answering on `wr` until end of file.
pub(crate) fn child(
    rd: RawFd,
    wr: RawFd,
    timeout: Duration,
    die_after: Option<u64>,
) -> std::result::Result<u64, String> {
    let mut done = 0u64;
    loop {
        match read_word(rd, Instant::now() + timeout)? {
            None => return Ok(done),
            Some(v) if v != done => return Err(format!("received {v}, expected {done}")),
            Some(_) => {}
        }
        if die_after == Some(done) {
            // SAFETY: _exit ends the process at once, as a crash would.
            unsafe { libc::_exit(9) };
        }
        write_word(wr, done + 1)?;
        done += 1;
    }
}
