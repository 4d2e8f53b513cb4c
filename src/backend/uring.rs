//! `uring` and `uring-direct`: io_uring through the page cache, or with O_DIRECT.
//!
//! What happens in the kernel: `submit` writes an SQE into the ring shared with the kernel
//! (user_data = the slot, so each completion finds its own buffer and start time) and, once
//! `iodepth_batch_submit` SQEs are queued (fio's default: 1), hands them over in one
//! io_uring_enter; with 0 they wait for `reap`, which submits all queued in one call. `reap`
//! then takes up to `iodepth_batch_complete_max` CQEs (fio's default: 1, so each freed slot is
//! refilled before the next completion is looked at), and enters the kernel again to wait only
//! if fewer than `min` are ready — fio's engine does the same (commit, then getevents). On this
//! project's virtio disk both defaults beat batching for device reads (measured: ~60 K IOPS with
//! whole-queue batches, ~80 K with fio's defaults), while reads that hit the page cache gain from
//! batching (`iodepth_batch_submit = 0` with `iodepth_batch_complete_max = iodepth`: one system
//! call for many inline completions).
//!
//! Buffered reads that hit the page cache complete inline during the submitting enter; misses
//! take the async buffered-read path or io-wq worker threads. O_DIRECT
//! reads go to the block layer and complete from the device interrupt; with DEFER_TASKRUN their
//! completions are posted when the loop next enters the kernel to wait.
//!
//! Setup flags (COOP_TASKRUN, SINGLE_ISSUER, DEFER_TASKRUN) are tried and dropped one by one on
//! EINVAL, as fio does; `backend_setup` in the results records what was in force.

use super::buffered::open_data_file;
use super::{Backend, Completion, Op, OpKind, Probes, Setup, SubmitTimes};
use crate::backend::buffers::BufferPool;
use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::workload::plan::{Durability, Plan, UringOptions};
use io_uring::{EnterFlags, IoUring, Probe, opcode, types};
use serde_json::{Map, json};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::thread::ThreadId;
use std::time::Instant;

/// Set to an errno name (EPERM, ENOSYS, ENOMEM, EINVAL) to make io_uring_setup fail with it, or
/// to `no-opcode` to make the probe report IORING_OP_READ missing. For tests of the skip path.
pub const INJECT_ENV: &str = "IOBENCH_INJECT_URING_FAILURE";

const COOP_TASKRUN: u8 = 1;
const SINGLE_ISSUER: u8 = 2;
const DEFER_TASKRUN: u8 = 4;
const FLAG_NAMES: [(u8, &str); 3] =
    [(COOP_TASKRUN, "COOP_TASKRUN"), (SINGLE_ISSUER, "SINGLE_ISSUER"), (DEFER_TASKRUN, "DEFER_TASKRUN")];

fn flag_names(flags: u8) -> Vec<&'static str> {
    FLAG_NAMES.iter().filter(|(f, _)| flags & f != 0).map(|(_, n)| *n).collect()
}

pub(crate) struct UringBackend {
    ring: IoUring,
    file: File,
    opts: UringOptions,
    direct: bool,
    backend: String,
    entries: u32,
    /// Setup flags in force, and those the kernel refused.
    flags: u8,
    dropped: u8,
    /// The thread the ring was built on; SINGLE_ISSUER rings accept only that thread.
    owner: ThreadId,
    /// Slot buffers (address, length) registered for `fixedbufs`, kept to re-register on rebuild.
    bufs: Vec<(usize, usize)>,
    datasync: bool,
    /// SQEs pushed but not yet handed to the kernel, and operations not yet reaped.
    queued: u32,
    inflight: u32,
    /// Most completions handed back per `reap`; the rest wait in the CQ (fio's complete_max).
    complete_max: usize,
    times: SubmitTimes,
}

impl UringBackend {
    pub(crate) fn open(plan: &Plan, data: &DataFile) -> Result<Self> {
        let backend = plan.backend.to_string();
        let opts = plan.uring.unwrap_or(UringOptions {
            fixedbufs: false,
            registerfiles: false,
            sqthread_poll: false,
            sqthread_poll_idle_ms: 1000,
            iodepth_batch_submit: 1,
        });
        let inject = std::env::var(INJECT_ENV).ok().filter(|v| !v.is_empty());
        if let Some(v) = inject.as_deref()
            && v != "no-opcode"
        {
            let errno = crate::os::errno::by_name(v).ok_or_else(|| {
                Error::invalid(INJECT_ENV, format!("'{v}' is not EPERM, ENOSYS, ENOMEM, EINVAL or no-opcode"))
            })?;
            return Err(setup_error(&backend, &opts, io::Error::from_raw_os_error(errno)));
        }
        // One slot per operation in flight plus the sync operation.
        let entries = (plan.iodepth + 1).next_power_of_two();
        let wanted = COOP_TASKRUN | SINGLE_ISSUER | DEFER_TASKRUN;
        let (ring, flags) = build_ring(entries, &opts, wanted).map_err(|e| setup_error(&backend, &opts, e))?;
        check_opcodes(&ring, plan, &opts, inject.is_some()).map_err(|reason| Error::Unsupported {
            backend: backend.clone(),
            reason: format!("{reason}; use --backend {}", alternative(&backend)),
        })?;
        let direct = plan.backend.is_direct();
        let file = open_data_file(plan, data, direct)?;
        let mut b = UringBackend {
            ring,
            file,
            opts,
            direct,
            backend,
            entries,
            flags,
            dropped: wanted & !flags,
            owner: std::thread::current().id(),
            bufs: Vec::new(),
            datasync: matches!(plan.durability, Durability::Fdatasync { .. }),
            queued: 0,
            inflight: 0,
            complete_max: plan.iodepth_batch_complete_max.max(1) as usize,
            times: SubmitTimes::new("io_uring_enter handing queued operations to the kernel, per call"),
        };
        b.register_all(true, false)?;
        Ok(b)
    }

    /// Registers the file and buffers the options ask for on the current ring (each at most once).
    fn register_all(&mut self, files: bool, bufs: bool) -> Result<()> {
        let submitter = self.ring.submitter();
        if files && self.opts.registerfiles {
            submitter.register_files(&[self.file.as_raw_fd()]).map_err(|e| Error::Unsupported {
                backend: self.backend.clone(),
                reason: format!("registerfiles: IORING_REGISTER_FILES failed ({e}); run without --registerfiles"),
            })?;
        }
        if bufs && self.opts.fixedbufs && !self.bufs.is_empty() {
            let iovecs: Vec<libc::iovec> =
                self.bufs.iter().map(|&(a, l)| libc::iovec { iov_base: a as *mut libc::c_void, iov_len: l }).collect();
            // SAFETY: the iovecs cover the buffer pool, which outlives the ring (see `Backend`).
            unsafe { submitter.register_buffers(&iovecs) }.map_err(|e| Error::Unsupported {
                backend: self.backend.clone(),
                reason: format!(
                    "fixedbufs: registering {} buffers failed ({e}); raise the locked-memory limit (ulimit -l) \
                     or run without --fixedbufs",
                    iovecs.len()
                ),
            })?;
        }
        Ok(())
    }

    /// Hands every queued SQE to the kernel, timing each io_uring_enter (fio's slat).
    fn submit_queued(&mut self) -> Result<()> {
        while self.queued > 0 {
            let t = Instant::now();
            let r = if self.opts.sqthread_poll {
                // The kernel thread picks entries up; this enters only to wake it.
                self.ring.submit()
            } else {
                // GETEVENTS with min_complete 0 also runs deferred task work (DEFER_TASKRUN),
                // posting completions without waiting for any.
                // SAFETY: no argument is passed; flags are valid for io_uring_enter.
                unsafe {
                    self.ring.submitter().enter::<libc::sigset_t>(self.queued, 0, EnterFlags::GETEVENTS.bits(), None)
                }
            };
            let ns = t.elapsed().as_nanos() as u64;
            match r {
                Ok(0) => {
                    // Our count may be stale (a wait enter also submits what is queued): ask the ring.
                    self.queued = self.ring.submission().len() as u32;
                    if self.queued > 0 {
                        return Err(Error::System(format!(
                            "io_uring accepted none of {} queued operations; lower --iodepth",
                            self.queued
                        )));
                    }
                }
                Ok(n) => {
                    let n = (n as u32).min(self.queued);
                    self.times.record(ns, n as u64);
                    self.queued -= n;
                }
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
                // The kernel is short of resources until completions are reaped: wait for some.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN | libc::EBUSY)) && self.in_kernel() > 0 => {
                    return Ok(());
                }
                Err(e) => return Err(Error::io("io_uring_enter (submitting)", e)),
            }
        }
        Ok(())
    }

    fn in_kernel(&self) -> u32 {
        self.inflight - self.queued
    }

    /// Moves up to `limit` available CQEs to `done`; returns how many.
    fn drain(&mut self, done: &mut Vec<Completion>, limit: usize) -> usize {
        let before = done.len();
        let cqes = self.ring.completion();
        done.extend(
            cqes.take(limit).map(|cqe| Completion { slot: cqe.user_data() as u32, result: cqe.result() as i64 }),
        );
        let n = done.len() - before;
        self.inflight -= n as u32;
        n
    }

    fn rebuild(&mut self) -> Result<()> {
        let (ring, flags) =
            build_ring(self.entries, &self.opts, self.flags).map_err(|e| setup_error(&self.backend, &self.opts, e))?;
        self.ring = ring;
        self.flags = flags;
        self.owner = std::thread::current().id();
        self.register_all(true, true)
    }
}

macro_rules! with_fd {
    ($self:expr, |$fd:ident| $body:expr) => {
        if $self.opts.registerfiles {
            let $fd = types::Fixed(0);
            $body
        } else {
            let $fd = types::Fd($self.file.as_raw_fd());
            $body
        }
    };
}

impl Backend for UringBackend {
    #[inline]
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        let ptr = buf.as_mut_ptr();
        let fixed = self.opts.fixedbufs;
        let entry = with_fd!(self, |fd| match op.kind {
            OpKind::Read if fixed => opcode::ReadFixed::new(fd, ptr, op.len, op.slot as u16).offset(op.offset).build(),
            OpKind::Read => opcode::Read::new(fd, ptr, op.len).offset(op.offset).build(),
            OpKind::Write if fixed => {
                opcode::WriteFixed::new(fd, ptr, op.len, op.slot as u16).offset(op.offset).build()
            }
            OpKind::Write => opcode::Write::new(fd, ptr, op.len).offset(op.offset).build(),
            OpKind::Sync => {
                let flags = if self.datasync { types::FsyncFlags::DATASYNC } else { types::FsyncFlags::empty() };
                opcode::Fsync::new(fd).flags(flags).build()
            }
            // Record updates reach io_uring as a read and a write of their block (backend/rmw.rs);
            // scans use their own ring (backend/scan.rs).
            OpKind::Update | OpKind::Scan => return Err(super::not_native(&op, &self.backend)),
        })
        .user_data(op.slot as u64);
        // SAFETY: the SQE points into the slot's buffer, which the loop keeps valid and untouched
        // until this slot's completion is reaped (the `Backend` contract).
        if unsafe { self.ring.submission().push(&entry) }.is_err() {
            self.submit_queued()?;
            // SAFETY: as above.
            unsafe { self.ring.submission().push(&entry) }
                .map_err(|_| Error::System(format!("io_uring submission queue full at {} entries", self.entries)))?;
        }
        self.queued += 1;
        self.inflight += 1;
        if self.opts.iodepth_batch_submit > 0 && self.queued >= self.opts.iodepth_batch_submit {
            self.submit_queued()?;
        }
        Ok(())
    }

    #[inline]
    fn reap(&mut self, min: usize, done: &mut Vec<Completion>) -> Result<()> {
        self.submit_queued()?;
        let want = min.min(self.inflight as usize);
        let max = self.complete_max.max(want);
        let mut got = self.drain(done, max);
        while got < want {
            if self.queued > 0 {
                self.submit_queued()?;
            }
            match self.ring.submit_and_wait(want - got) {
                Ok(_) if !self.opts.sqthread_poll => self.queued = self.ring.submission().len() as u32,
                Ok(_) => self.queued = 0,
                Err(e) if matches!(e.raw_os_error(), Some(libc::EINTR | libc::EAGAIN | libc::EBUSY)) => {}
                Err(e) => return Err(Error::io("io_uring_enter (waiting for completions)", e)),
            }
            got += self.drain(done, max - got);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.file.sync_all().context(|| "final fsync".into())
    }

    fn register(&mut self, pool: &mut BufferPool) -> Result<()> {
        if !self.opts.fixedbufs {
            return Ok(());
        }
        let (base, len) = (pool.as_mut_ptr() as usize, pool.slot_len());
        self.bufs = (0..pool.slots()).map(|i| (base + i * len, len)).collect();
        self.register_all(false, true)
    }

    fn bind_thread(&mut self) -> Result<()> {
        // A SINGLE_ISSUER ring belongs to the thread that built it (DEFER_TASKRUN completions
        // are only run by it): build the ring again on this worker thread.
        if self.flags & SINGLE_ISSUER != 0 && self.owner != std::thread::current().id() {
            self.rebuild()?;
        }
        Ok(())
    }

    fn describe(&self) -> Setup {
        let p = self.ring.params();
        let mut m = Map::new();
        m.insert("setup_flags".into(), json!(flag_names(self.flags)));
        m.insert("setup_flags_refused".into(), json!(flag_names(self.dropped)));
        m.insert("o_direct".into(), json!(self.direct));
        m.insert("fixedbufs".into(), json!(self.opts.fixedbufs));
        m.insert("registerfiles".into(), json!(self.opts.registerfiles));
        m.insert("sqthread_poll".into(), json!(self.opts.sqthread_poll));
        if self.opts.sqthread_poll {
            m.insert("sqthread_poll_idle_ms".into(), json!(p.sq_thread_idle()));
        }
        m.insert("sq_entries".into(), json!(p.sq_entries()));
        m.insert("cq_entries".into(), json!(p.cq_entries()));
        m.insert("iodepth_batch_submit".into(), json!(self.opts.iodepth_batch_submit));
        Setup { in_force: m, notes: Vec::new() }
    }

    fn probes(&mut self) -> Probes<'_> {
        Probes { mapped: None, submit: Some(&mut self.times) }
    }
}

impl Drop for UringBackend {
    fn drop(&mut self) {
        // The kernel may still be writing into slot buffers: wait for what it holds before the
        // ring (and then the buffer pool) goes away. Best effort: a SINGLE_ISSUER ring refuses
        // other threads, and closing the ring then cancels what remains.
        let mut sink = Vec::new();
        while self.in_kernel() > 0 {
            if self.ring.submit_and_wait(1).is_err() {
                break;
            }
            self.drain(&mut sink, usize::MAX);
            sink.clear();
        }
    }
}

/// Builds a ring with the wanted setup flags, dropping each the kernel refuses with EINVAL in
/// fio's order (DEFER_TASKRUN, then SINGLE_ISSUER, then COOP_TASKRUN). Returns the flags in force.
fn build_ring(entries: u32, opts: &UringOptions, mut flags: u8) -> io::Result<(IoUring, u8)> {
    loop {
        let mut b = IoUring::builder();
        if flags & COOP_TASKRUN != 0 {
            b.setup_coop_taskrun();
        }
        if flags & SINGLE_ISSUER != 0 {
            b.setup_single_issuer();
        }
        if flags & DEFER_TASKRUN != 0 {
            b.setup_defer_taskrun();
        }
        if opts.sqthread_poll {
            b.setup_sqpoll(opts.sqthread_poll_idle_ms);
        }
        match b.build(entries) {
            Ok(ring) => return Ok((ring, flags)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) && flags != 0 => {
                let refused = [DEFER_TASKRUN, SINGLE_ISSUER, COOP_TASKRUN].into_iter().find(|f| flags & f != 0);
                flags &= !refused.unwrap_or(0);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Checks with `Probe` that the kernel has every opcode this plan uses.
fn check_opcodes(ring: &IoUring, plan: &Plan, opts: &UringOptions, inject: bool) -> std::result::Result<(), String> {
    let mut probe = Probe::new();
    if let Err(e) = ring.submitter().register_probe(&mut probe) {
        return Err(format!(
            "this kernel's io_uring cannot list its opcodes (IORING_REGISTER_PROBE: {e}; needs Linux 5.6+)"
        ));
    }
    let mut needed = vec![if opts.fixedbufs {
        (opcode::ReadFixed::CODE, "IORING_OP_READ_FIXED")
    } else {
        (opcode::Read::CODE, "IORING_OP_READ")
    }];
    if plan.rw.has_writes() {
        needed.push(if opts.fixedbufs {
            (opcode::WriteFixed::CODE, "IORING_OP_WRITE_FIXED")
        } else {
            (opcode::Write::CODE, "IORING_OP_WRITE")
        });
    }
    if plan.durability.every().is_some() {
        needed.push((opcode::Fsync::CODE, "IORING_OP_FSYNC"));
    }
    for (code, name) in needed {
        if inject || !probe.is_supported(code) {
            return Err(format!("this kernel's io_uring lacks {name} (the probe does not list it)"));
        }
    }
    Ok(())
}

/// The value of kernel.io_uring_disabled (absent before Linux 6.6).
fn disabled_sysctl() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").ok().map(|s| s.trim().to_string())
}

/// The synchronous backend that moves bytes the same way without io_uring.
fn alternative(backend: &str) -> &'static str {
    if backend == "uring-direct" { "direct" } else { "buffered" }
}

/// Why io_uring_setup failed, in one line that says what to do.
fn setup_error(backend: &str, opts: &UringOptions, e: io::Error) -> Error {
    let alt = alternative(backend);
    let reason = match e.raw_os_error() {
        Some(libc::ENOSYS) => format!(
            "this kernel has no io_uring (io_uring_setup: ENOSYS; built without CONFIG_IO_URING, or hidden by \
             seccomp); use --backend {alt}"
        ),
        Some(libc::EPERM) => match disabled_sysctl().as_deref() {
            Some("2") => format!(
                "io_uring is disabled by sysctl kernel.io_uring_disabled = 2 (io_uring_setup: EPERM); \
                 run `sysctl kernel.io_uring_disabled=0` as root, or use --backend {alt}"
            ),
            Some("1") => format!(
                "io_uring is limited to the group kernel.io_uring_group (kernel.io_uring_disabled = 1, \
                 io_uring_setup: EPERM); run as root or in that group, or use --backend {alt}"
            ),
            _ => format!(
                "io_uring_setup was refused with EPERM although kernel.io_uring_disabled allows it, so a seccomp \
                 filter (container profile) blocks io_uring; allow it, or use --backend {alt}"
            ),
        },
        Some(libc::ENOMEM) => format!(
            "io_uring_setup: ENOMEM (locked-memory limit too low?); raise `ulimit -l`, lower --iodepth, \
             or use --backend {alt}"
        ),
        Some(libc::EINVAL) if opts.sqthread_poll => {
            "io_uring_setup rejected SQPOLL (EINVAL); run without --sqthread-poll".to_string()
        }
        Some(libc::EINVAL) => {
            format!("io_uring_setup rejected the ring (EINVAL; kernel too old?); use --backend {alt}")
        }
        _ => format!("io_uring_setup failed: {e}; use --backend {alt}"),
    };
    Error::Unsupported { backend: backend.to_string(), reason }
}
