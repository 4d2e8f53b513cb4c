//! `tokio` and `tokio-pread`: what a Rust async service does, at the loop's iodepth.
//!
//! Both run `iodepth` long-lived tasks on one multi-threaded tokio runtime (shared by all worker
//! threads), each task with its own file handle and its own slot. `submit` sends the operation
//! to the slot's task (an unbounded channel: a wake-up of a runtime worker); the task does the
//! I/O and sends the completion back, and `reap` blocks on that channel.
//!
//! What happens in the kernel:
//! - `tokio`: `tokio::fs::File`, seek then `read_exact` / `write_all` + `flush`. tokio's file
//!   type has no asynchronous I/O of its own: the seek is an `lseek` and the read a `read(2)` on
//!   tokio's blocking thread pool, each a separate trip (hand-off to a pool thread, wake-up of
//!   the task). Reads land in tokio's own buffer and are copied into ours; writes are copied into
//!   it first. The page cache is used (no O_DIRECT).
//! - `tokio-pread`: `spawn_blocking` around one `pread(2)` / `pwrite(2)` into the slot's buffer:
//!   one trip to the blocking pool per operation and no copy, so the difference to `tokio` is the
//!   cost of `tokio::fs`, and the difference to `uring` the cost of threads instead of a ring.
//!
//! Sync operations (fsync:N, fdatasync:N) run as `sync_all` / `sync_data` on the first task's
//! handle (the loop issues them alone, with nothing else in flight); O_DSYNC is an open flag.

use super::buffered::open_data_file;
use super::{Backend, Completion, Op, OpKind, Probes, Setup, SlotBuf, SubmitTimes};
use crate::base::error::{Error, IoContext, Result};
use crate::datafile::blocks::DataFile;
use crate::workload::plan::{Durability, Plan};
use ::tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use ::tokio::runtime::Runtime;
use ::tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use serde_json::{Map, json};
use std::fs::File;
use std::io::SeekFrom;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, mpsc};
use std::time::Instant;

/// One operation for a task: what to do and the slot's buffer.
struct Job {
    op: Op,
    buf: SlotBuf,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    Fs,
    Pread,
}

pub(crate) struct TokioBackend {
    rt: Arc<Runtime>,
    flavor: Flavor,
    /// One sender per task; task `i` serves slot `i` (sync operations go to task 0).
    tasks: Vec<UnboundedSender<Job>>,
    done: mpsc::Receiver<Completion>,
    inflight: usize,
    /// Most completions handed back per `reap` (fio's iodepth_batch_complete_max).
    complete_max: usize,
    file: File,
    times: SubmitTimes,
}

/// tokio's default, set explicitly so results can state it.
const MAX_BLOCKING_THREADS: usize = 512;

/// The runtime every worker thread's backend shares, as a service has one.
pub(crate) fn runtime() -> Result<Arc<Runtime>> {
    ::tokio::runtime::Builder::new_multi_thread()
        .thread_name("iobench-tokio")
        .max_blocking_threads(MAX_BLOCKING_THREADS)
        .build()
        .map(Arc::new)
        .context(|| "cannot start the tokio runtime".into())
}

impl TokioBackend {
    pub(crate) fn open(plan: &Plan, data: &DataFile, rt: Arc<Runtime>) -> Result<Self> {
        let flavor =
            if plan.backend == crate::workload::backends::BackendKind::Tokio { Flavor::Fs } else { Flavor::Pread };
        let datasync = matches!(plan.durability, Durability::Fdatasync { .. });
        let (done_tx, done) = mpsc::channel();
        let mut tasks = Vec::with_capacity(plan.iodepth as usize);
        for _ in 0..plan.iodepth {
            let file = open_data_file(plan, data, false).map_err(|e| match e {
                Error::Io { source, .. } if source.raw_os_error() == Some(libc::EMFILE) => Error::System(format!(
                    "{} opens one file handle per task and ran out of descriptors at iodepth {}; raise `ulimit -n` \
                     or lower --iodepth",
                    plan.backend, plan.iodepth
                )),
                e => e,
            })?;
            let (tx, rx) = unbounded_channel();
            let done_tx = done_tx.clone();
            match flavor {
                Flavor::Fs => rt.spawn(fs_task(::tokio::fs::File::from_std(file), rx, done_tx, datasync)),
                Flavor::Pread => rt.spawn(pread_task(Arc::new(file), rx, done_tx, datasync)),
            };
            tasks.push(tx);
        }
        let file = open_data_file(plan, data, false)?;
        let measures = "sending an operation to its task (channel send and wake-up), per operation";
        let complete_max = plan.iodepth_batch_complete_max.max(1) as usize;
        Ok(TokioBackend { rt, flavor, tasks, done, inflight: 0, complete_max, file, times: SubmitTimes::new(measures) })
    }
}

/// A completion's result from an I/O outcome: bytes moved, 0 for a short read, or -errno.
fn result_of(r: std::io::Result<usize>) -> i64 {
    match r {
        Ok(n) => n as i64,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
        Err(e) => -(e.raw_os_error().unwrap_or(libc::EIO) as i64),
    }
}

async fn fs_task(
    mut file: ::tokio::fs::File,
    mut jobs: UnboundedReceiver<Job>,
    done: mpsc::Sender<Completion>,
    datasync: bool,
) {
    while let Some(Job { op, buf }) = jobs.recv().await {
        let result = match op.kind {
            OpKind::Read => {
                // SAFETY: `SlotBuf`'s contract: the slot is ours until its completion is sent.
                let buf = unsafe { buf.as_mut_slice() };
                let r = async {
                    file.seek(SeekFrom::Start(op.offset)).await?;
                    file.read_exact(buf).await
                };
                result_of(r.await)
            }
            OpKind::Write => {
                // SAFETY: as above.
                let buf = unsafe { buf.as_mut_slice() };
                let r = async {
                    file.seek(SeekFrom::Start(op.offset)).await?;
                    file.write_all(buf).await?;
                    // write_all only hands the bytes to a background write; flush waits for it.
                    file.flush().await?;
                    Ok(buf.len())
                };
                result_of(r.await)
            }
            OpKind::Sync => result_of(if datasync { file.sync_data().await } else { file.sync_all().await }.map(|_| 0)),
            // Record updates reach this backend as reads and writes (backend/rmw.rs); scans
            // use their own reader (backend/scan.rs).
            OpKind::Update | OpKind::Scan => -(libc::EOPNOTSUPP as i64),
        };
        if done.send(Completion { slot: op.slot, result }).is_err() {
            break;
        }
    }
}

async fn pread_task(file: Arc<File>, mut jobs: UnboundedReceiver<Job>, done: mpsc::Sender<Completion>, datasync: bool) {
    while let Some(Job { op, buf }) = jobs.recv().await {
        let file = file.clone();
        let work = ::tokio::task::spawn_blocking(move || {
            // SAFETY: `SlotBuf`'s contract: the slot is ours until its completion is sent, which
            // happens only after this closure returns (the runtime's drop waits for it too).
            let buf = unsafe { buf.as_mut_slice() };
            let r = match op.kind {
                OpKind::Read => file.read_at(buf, op.offset),
                OpKind::Write => file.write_at(buf, op.offset),
                OpKind::Sync => if datasync { file.sync_data() } else { file.sync_all() }.map(|_| 0),
                // Never sent here: see backend/rmw.rs and backend/scan.rs.
                OpKind::Update | OpKind::Scan => Err(std::io::Error::from_raw_os_error(libc::EOPNOTSUPP)),
            };
            result_of(r)
        });
        let result = work.await.unwrap_or(-(libc::EIO as i64));
        if done.send(Completion { slot: op.slot, result }).is_err() {
            break;
        }
    }
}

impl Backend for TokioBackend {
    #[inline]
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        let t = Instant::now();
        let task = self.tasks.get(op.slot as usize).unwrap_or(&self.tasks[0]);
        let job = Job { op, buf: SlotBuf::new(buf, op.len as usize) };
        task.send(job).map_err(|_| Error::Bug("a tokio task of the backend ended unexpectedly".into()))?;
        self.times.record(t.elapsed().as_nanos() as u64, 1);
        self.inflight += 1;
        Ok(())
    }

    #[inline]
    fn reap(&mut self, min: usize, done: &mut Vec<Completion>) -> Result<()> {
        let lost = || Error::Bug("the tokio runtime stopped with operations in flight".into());
        let want = min.min(self.inflight);
        let before = done.len();
        while done.len() - before < want {
            done.push(self.done.recv().map_err(|_| lost())?);
        }
        let max = self.complete_max.max(want);
        done.extend(self.done.try_iter().take(max - (done.len() - before)));
        self.inflight -= done.len() - before;
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.file.sync_all().context(|| "final fsync".into())
    }

    fn describe(&self) -> Setup {
        let metrics = self.rt.metrics();
        let mut m = Map::new();
        m.insert("runtime".into(), json!("multi_thread"));
        m.insert("worker_threads".into(), json!(metrics.num_workers()));
        m.insert("max_blocking_threads".into(), json!(MAX_BLOCKING_THREADS));
        m.insert("tasks".into(), json!(self.tasks.len()));
        m.insert("file_handles".into(), json!(self.tasks.len()));
        let per_op = match self.flavor {
            Flavor::Fs => "tokio::fs::File seek + read_exact / write_all + flush (two blocking-pool trips, one copy)",
            Flavor::Pread => "spawn_blocking(pread / pwrite) into the slot's buffer (one blocking-pool trip)",
        };
        m.insert("per_operation".into(), json!(per_op));
        Setup { in_force: m, notes: Vec::new() }
    }

    fn probes(&mut self) -> Probes<'_> {
        Probes { mapped: None, submit: Some(&mut self.times) }
    }
}

impl Drop for TokioBackend {
    fn drop(&mut self) {
        // Tasks may still hold pointers into slot buffers: wait for every completion first.
        while self.inflight > 0 && self.done.recv().is_ok() {
            self.inflight -= 1;
        }
    }
}
