//! Whole-log scans (`OpKind::Scan`, see `crate::patterns::scan`), one per operation of the run loop.
//!
//! `mmap`, `buffered` and `direct` scan with their usual backends (mmap.rs: memchr over the
//! mapping in place, with the mmap tuning; buffered.rs: `pread` into the slot's buffer of `bs`
//! bytes, through the page cache or O_DIRECT). The scans here read the file another way:
//! - `uring`, `uring-direct`: `iodepth` reads of `bs` bytes in flight ahead of the one being
//!   counted, consumed in file order. A plain ring (no setup flags): the ring is built on the
//!   main thread and used on a worker, and warm reads complete inline anyway.
//! - `lines`: `BufReader::lines()` and `str::contains`, as naive code writes it: a `String` per
//!   line, UTF-8 validation, an 8 KiB buffer whatever `bs` says.
//! - `tokio`: the same with `tokio::io::BufReader` and `AsyncBufReadExt::lines` on a
//!   `tokio::fs::File`, whose reads run on tokio's blocking pool.
//!
//! Each stores its counts in the loop's slot buffer and reports the bytes it scanned; the loop
//! checks both.

// Without io_uring (the 32-bit child's build) the uring scan and what only it uses are left out.
#![cfg_attr(not(feature = "uring"), allow(unused_imports))]

use super::{Backend, BackendFactory, BackendKind, Completion, Op, OpKind, Setup};
use crate::backend::buffers::BufferPool;
use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::patterns::scan::{Counter, Counts, NEEDLE_TEXT};
use crate::workload::plan::Plan;
#[cfg(feature = "uring")]
use io_uring::{IoUring, opcode, types};
use serde_json::{Map, json};
use std::fs::File;
use std::io::BufRead;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// The error of `lines` on a pattern other than scan.
pub(crate) fn lines_elsewhere() -> Error {
    Error::Unsupported {
        backend: "lines".into(),
        reason: "lines is the naive line-by-line reader: it runs only rw = scan".into(),
    }
}

/// Opens one scanner per worker thread.
pub(crate) fn open(plan: &Plan, data: &DataFile, factory: &dyn BackendFactory) -> Result<Vec<Box<dyn Backend>>> {
    let mut out: Vec<Box<dyn Backend>> = Vec::new();
    for _ in 0..plan.threads {
        out.push(match plan.backend {
            BackendKind::Mmap | BackendKind::Buffered | BackendKind::Direct => return factory.open(plan, data),
            #[cfg(feature = "uring")]
            BackendKind::Uring | BackendKind::UringDirect => Box::new(UringScan::open(plan, data)?),
            #[cfg(not(feature = "uring"))]
            BackendKind::Uring | BackendKind::UringDirect => {
                return Err(super::uring::unsupported(&plan.backend.to_string()));
            }
            BackendKind::Lines => Box::new(LineScan { path: data.path.clone(), tokio: None, pending: None }),
            BackendKind::Tokio => {
                let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| Error::Unsupported {
                    backend: plan.backend.to_string(),
                    reason: format!("cannot start a tokio runtime ({e}); use --backend lines"),
                })?;
                Box::new(LineScan { path: data.path.clone(), tokio: Some(rt), pending: None })
            }
            other => {
                return Err(Error::Unsupported {
                    backend: other.to_string(),
                    reason: format!("{other} has no log scan; use mmap, buffered, direct, lines, uring or tokio"),
                });
            }
        });
    }
    Ok(out)
}

fn errno(e: &std::io::Error) -> i64 {
    -(e.raw_os_error().unwrap_or(libc::EIO) as i64)
}

/// `lines` (std) and `tokio` (AsyncBufReadExt::lines): a String per line, as naive code does.
struct LineScan {
    path: PathBuf,
    tokio: Option<tokio::runtime::Runtime>,
    pending: Option<Completion>,
}

impl LineScan {
    fn scan_std(&self) -> std::io::Result<(u64, Counts)> {
        let reader = std::io::BufReader::new(File::open(&self.path)?);
        let (mut bytes, mut c) = (0u64, Counts::default());
        for line in reader.lines() {
            let line = line?;
            bytes += line.len() as u64 + 1;
            c.lines += 1;
            c.matches += line.contains(NEEDLE_TEXT) as u64;
        }
        Ok((bytes, c))
    }

    fn scan_tokio(&self, rt: &tokio::runtime::Runtime) -> std::io::Result<(u64, Counts)> {
        use tokio::io::AsyncBufReadExt;
        rt.block_on(async {
            let file = tokio::fs::File::open(&self.path).await?;
            let mut lines = tokio::io::BufReader::new(file).lines();
            let (mut bytes, mut c) = (0u64, Counts::default());
            while let Some(line) = lines.next_line().await? {
                bytes += line.len() as u64 + 1;
                c.lines += 1;
                c.matches += line.contains(NEEDLE_TEXT) as u64;
            }
            Ok((bytes, c))
        })
    }
}

impl Backend for LineScan {
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        if op.kind != OpKind::Scan {
            return Err(super::not_native(&op, if self.tokio.is_some() { "tokio scan" } else { "lines" }));
        }
        let outcome = match &self.tokio {
            Some(rt) => self.scan_tokio(rt),
            None => self.scan_std(),
        };
        let result = match outcome {
            Ok((bytes, counts)) => {
                counts.store(buf);
                bytes as i64
            }
            Err(e) => errno(&e),
        };
        self.pending = Some(Completion { slot: op.slot, result });
        Ok(())
    }

    fn reap(&mut self, _min: usize, done: &mut Vec<Completion>) -> Result<()> {
        done.extend(self.pending.take());
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn describe(&self) -> Setup {
        let how =
            if self.tokio.is_some() { "tokio BufReader + AsyncBufReadExt::lines" } else { "std BufReader::lines()" };
        let notes = vec![format!("scan: {how} (naive: a String per line, 8 KiB buffer, file opened per scan)")];
        Setup { notes, ..Setup::default() }
    }
}

/// `uring` / `uring-direct` scans: `depth` reads in flight, consumed in file order.
#[cfg(feature = "uring")]
struct UringScan {
    ring: IoUring,
    file: File,
    bufs: BufferPool,
    depth: usize,
    chunk: u64,
    size: u64,
    align: u64,
    direct: bool,
    /// Reads handed to the ring and not yet completed.
    inflight: usize,
    pending: Option<Completion>,
}

#[cfg(feature = "uring")]
impl UringScan {
    fn open(plan: &Plan, data: &DataFile) -> Result<Self> {
        let direct = plan.backend.is_direct();
        let depth = plan.scan.as_ref().and_then(|s| s.readahead).unwrap_or(1).max(1) as usize;
        let align = super::required_alignment(plan, data)?;
        let ring = IoUring::new((depth as u32).next_power_of_two()).map_err(|e| Error::Unsupported {
            backend: plan.backend.to_string(),
            reason: format!("io_uring_setup failed ({e}); use --backend buffered"),
        })?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(if direct { libc::O_DIRECT } else { 0 })
            .open(&data.path)
            .context(|| format!("cannot open {}", data.path.display()))?;
        let bufs = BufferPool::new(depth, plan.bs_bytes as usize, align as usize)?;
        let chunk = plan.bs_bytes;
        Ok(UringScan { ring, file, bufs, depth, chunk, size: data.size, align, direct, inflight: 0, pending: None })
    }

    /// Queues the read of chunk `i` (from byte `filled` of it) into buffer `i % depth`.
    fn queue(&mut self, i: u64, filled: u64) -> std::io::Result<()> {
        let want = self.chunk.min(self.size - i * self.chunk);
        // O_DIRECT lengths are aligned; the read stops at end of file.
        let len = if self.direct { want.next_multiple_of(self.align) } else { want } - filled;
        let b = (i % self.depth as u64) as u32;
        let ptr = self.bufs.slot_mut(b)[filled as usize..].as_mut_ptr();
        let sqe = opcode::Read::new(types::Fd(self.file.as_raw_fd()), ptr, len as u32)
            .offset(i * self.chunk + filled)
            .build()
            .user_data(b as u64);
        // SAFETY: the buffer is this scanner's and is not touched until the read completes.
        while unsafe { self.ring.submission().push(&sqe) }.is_err() {
            self.ring.submit()?;
        }
        self.inflight += 1;
        Ok(())
    }

    fn wait(&mut self, results: &mut [Option<i32>]) -> std::io::Result<()> {
        loop {
            match self.ring.submit_and_wait(1) {
                Ok(_) => break,
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        for cqe in self.ring.completion() {
            self.inflight -= 1;
            results[cqe.user_data() as usize] = Some(cqe.result());
        }
        Ok(())
    }

    /// Waits for every read in flight (after a failed or cut-short scan), discarding them.
    fn drain(&mut self) {
        let mut sink = vec![None; self.depth];
        while self.inflight > 0 && self.wait(&mut sink).is_ok() {}
    }

    fn scan(&mut self) -> std::io::Result<(u64, Counts)> {
        self.drain();
        let chunks = self.size.div_ceil(self.chunk);
        let mut results = vec![None; self.depth];
        let mut next = 0u64;
        while next < chunks.min(self.depth as u64) {
            self.queue(next, 0)?;
            next += 1;
        }
        let mut counter = Counter::default();
        let mut bytes = 0u64;
        for i in 0..chunks {
            let b = (i % self.depth as u64) as usize;
            let want = self.chunk.min(self.size - i * self.chunk);
            let mut filled = 0u64;
            while filled < want {
                while results[b].is_none() {
                    self.wait(&mut results)?;
                }
                match results[b].take().unwrap_or(0) {
                    r if r < 0 => return Err(std::io::Error::from_raw_os_error(-r)),
                    0 => return Ok((bytes + filled, counter.counts())), // shrank: a short scan
                    r => filled += r as u64,
                }
                if filled < want {
                    self.queue(i, filled)?;
                }
            }
            counter.feed(&self.bufs.slot(b as u32)[..want as usize]);
            bytes += want;
            if next < chunks {
                self.queue(next, 0)?;
                next += 1;
            }
        }
        Ok((bytes, counter.counts()))
    }
}

#[cfg(feature = "uring")]
impl Backend for UringScan {
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        if op.kind != OpKind::Scan {
            return Err(super::not_native(&op, "uring scan"));
        }
        let result = match self.scan() {
            Ok((bytes, counts)) => {
                counts.store(buf);
                bytes as i64
            }
            Err(e) => errno(&e),
        };
        self.pending = Some(Completion { slot: op.slot, result });
        Ok(())
    }

    fn reap(&mut self, _min: usize, done: &mut Vec<Completion>) -> Result<()> {
        done.extend(self.pending.take());
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn describe(&self) -> Setup {
        let mut m = Map::new();
        m.insert("scan_readahead".into(), json!(self.depth));
        m.insert("scan_read_bytes".into(), json!(self.chunk));
        m.insert("o_direct".into(), json!(self.direct));
        let notes = vec![format!("scan: io_uring, {} reads of {} bytes in flight", self.depth, self.chunk)];
        Setup { in_force: m, notes }
    }
}

#[cfg(feature = "uring")]
impl Drop for UringScan {
    fn drop(&mut self) {
        // A failed scan may leave reads in flight into `bufs`: wait for them before it is freed.
        self.drain();
    }
}
