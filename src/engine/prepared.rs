//! The one run loop. Every backend is driven here: the loop draws offsets, prepares write
//! buffers, keeps `iodepth` operations in flight, timestamps each operation, consumes and
//! verifies what reads delivered, issues sync operations by the durability policy, and records
//! latencies. Backends only move bytes.
//!
//! Latency of an operation: from just before it is handed to the backend (`submit`) to just
//! after its completion was observed (`reap`) and, for reads, its bytes consumed. Consuming is
//! inside the timed region because for mmap that is when the page faults happen.
//!
//! Queue backends also record submit-side time (fio's slat), stored as `submit`: for io_uring
//! each io_uring_enter that hands queued operations to the kernel (one record per batch), for
//! tokio each hand-off of an operation to its task. The loop waits for at least
//! `iodepth_batch_complete_min` completions before refilling the queue.

use crate::backend::{self, Backend, Completion, Op, OpKind};
use crate::backend::buffers::BufferPool;
use crate::base::clock::Clock;
use crate::datafile::blocks::DataFile;
use crate::base::error::{Error, Result};
use crate::observe::evidence::Evidence;
use crate::engine::offsets::OpStream;
use crate::os::usage::Usage;
use crate::patterns::block::{self, WriteTemplate};
use crate::patterns::consume;
use crate::workload::plan::{Consume, Plan};
use crate::result::{SubmitStats, CacheEvidence, Cpu, Faults, Measured, RunResult, RunStatus, Series, SyncStats, ThreadFigures};
use crate::base::stats::{self, Hist, SeriesRecorder};
use crate::base::stop::STOP;
use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Interval of the time series kept in every result.
pub const DEFAULT_SERIES_INTERVAL: Duration = Duration::from_secs(1);

/// What one worker measured.
struct WorkerStats {
    read_ops: u64,
    write_ops: u64,
    bytes: u64,
    runtime_ns: u64,
    series: SeriesRecorder,
    sync_hist: Hist,
    verified_blocks: u64,
    /// Data operations completed, ramp included: what a record file is checked against.
    completed: u64,
    /// Queue backends' submit-side times (fio's slat) in the measured interval.
    submit: Option<backend::SubmitTimes>,
}

/// Prepares the file, runs `plan` on its backend, and returns the result. A backend that
/// cannot run here comes back as a skipped result, not an error.
pub fn execute(plan: &Plan, notes: Vec<String>) -> Result<RunResult> {
    execute_with(plan, notes, DEFAULT_SERIES_INTERVAL)
}

pub fn execute_with(plan: &Plan, notes: Vec<String>, series_interval: Duration) -> Result<RunResult> {
    match measure(plan, series_interval) {
        Ok(measured) => Ok(RunResult {
            workload: plan.clone(),
            backend: plan.backend.to_string(),
            status: RunStatus::Ok,
            reason: None,
            notes,
            measured: Some(measured),
        }),
        Err(Error::Unsupported { reason, .. }) => Ok(RunResult {
            workload: plan.clone(),
            backend: plan.backend.to_string(),
            status: RunStatus::Skipped,
            reason: Some(reason),
            notes,
            measured: None,
        }),
        Err(e) => Err(e),
    }
}

fn measure(plan: &Plan, series_interval: Duration) -> Result<Measured> {
    let mut prepared = Prepared::new(plan)?;
    // A series_interval key in the workload overrides the caller's default.
    prepared.series_interval = plan.series_interval_ns.map(Duration::from_nanos).unwrap_or(series_interval);
    prepared.run(Limit::from_plan(plan))
}

/// When a measured run ends: after `runtime`, after `ops_per_thread` operations per worker,
/// whichever comes first (at least one must be set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub runtime: Option<Duration>,
    pub ops_per_thread: Option<u64>,
}

impl Limit {
    pub fn from_plan(plan: &Plan) -> Limit {
        let op_bytes = plan.op_bytes();
        Limit { runtime: plan.runtime(), ops_per_thread: plan.io_size_bytes.map(|b| (b / op_bytes).max(1)) }
    }
    /// Exactly `n` operations per worker, however long they take (criterion's `iter_custom`).
    pub fn ops(n: u64) -> Limit {
        Limit { runtime: None, ops_per_thread: Some(n.max(1)) }
    }
}

/// A plan made ready to run: data file in its cache state, backends open, buffers allocated.
/// `run` may be called many times (benches do); each call is one measured run.
pub struct Prepared<'p> {
    plan: &'p Plan,
    pub data: DataFile,
    /// Declared before `pools` so it is dropped first: queue backends wait there for operations
    /// still writing into pool buffers.
    backends: Vec<Box<dyn Backend>>,
    pools: Vec<BufferPool>,
    /// Each worker's operations. They carry on from one `run` to the next, so many short runs
    /// (criterion's samples) touch the file as one long run does, not its first blocks again.
    streams: Vec<OpStream>,
    resident: f64,
    /// Block pattern, record file or log: what the article's patterns check (see `kinds`).
    file_kind: crate::engine::checks::FileKind,
    pub series_interval: Duration,
    /// Whether a write run ends with a timed sync of the file (`final_sync_ns`). Benches that
    /// call `run` many times turn it off: a sync between calls cleans every page, so the next
    /// call's first write to each page faults again and the cost per operation would depend on
    /// how many operations criterion asked for (mmap random writes measured 8x slower that way).
    pub sync_at_end: bool,
    /// Whether each run gathers its evidence (vmstat, smaps, page-cache residency, device
    /// counters): 2-5 ms of work around each run. Benches that run many short calls turn it off
    /// and take evidence from one further run: an idle pause of a few ms between calls put
    /// hand-off backends (tokio-pread) into a slower state for the next call, 1.5x per operation.
    pub collect_evidence: bool,
    /// THP mode / readahead changed for this plan, restored when dropped.
    _system: crate::engine::system::SystemGuard,
}

impl<'p> Prepared<'p> {
    pub fn new(plan: &'p Plan) -> Result<Prepared<'p>> {
        let (data, file_kind) = crate::engine::checks::prepare(plan)?;
        let system = crate::engine::system::SystemGuard::apply(&plan.tuning, &data.path)?;
        let align = backend::required_alignment(plan, &data)?;
        let resident = data.set_cache_state(plan.cache)?;
        let mut backends = backend::open(plan, &data)?;
        let kind = plan.tuning.buffers;
        let buffer_len = crate::workload::pattern_keys::buffer_len(plan, align);
        let mut pools = (0..plan.threads)
            .map(|_| BufferPool::with_kind(plan.iodepth as usize, buffer_len, align as usize, kind))
            .collect::<Result<Vec<_>>>()?;
        for (b, pool) in backends.iter_mut().zip(pools.iter_mut()) {
            b.register(pool)?;
        }
        let streams = (0..plan.threads).map(|i| OpStream::new(plan, i, plan.threads)).collect();
        Ok(Prepared {
            plan,
            data,
            backends,
            pools,
            streams,
            resident,
            file_kind,
            series_interval: DEFAULT_SERIES_INTERVAL,
            sync_at_end: true,
            collect_evidence: true,
            _system: system,
        })
    }

    /// One measured run on the prepared backends, ending at `limit`.
    pub fn run(&mut self, limit: Limit) -> Result<Measured> {
        let plan = self.plan;
        // A single worker runs on the calling thread, so callers that run many times (criterion's
        // samples) keep one long-lived thread: on a 2-vCPU VM, a thread created per call made
        // tokio-pread's hand-offs ~1.6x slower per operation than one long run (a new thread
        // took the scheduler ~0.5 s to settle).
        let inline = plan.threads == 1;
        // The timer (evidence, usage) joins the barrier only where it runs beside the workers.
        let timer_waits = !inline || plan.ramp_ns > 0;
        let barrier = Barrier::new(plan.threads as usize + usize::from(timer_waits));
        let failed = AtomicBool::new(false);
        let interval_ns = self.series_interval.as_nanos() as u64;
        let data = &self.data;
        let file_kind = &self.file_kind;
        let iowq = matches!(plan.backend, backend::BackendKind::Uring | backend::BackendKind::UringDirect);
        let collect_evidence = self.collect_evidence;
        // Opens the measured interval: evidence and process usage, before the workers start
        // or once the ramp is over.
        let timer = || {
            let early = (collect_evidence && plan.ramp_ns == 0).then(|| Evidence::start(data, iowq));
            if timer_waits {
                barrier.wait();
                std::thread::sleep(plan.ramp());
            }
            let probe = collect_evidence.then(|| early.unwrap_or_else(|| Evidence::start(data, iowq)));
            (probe, Usage::process())
        };
        let (outcomes, usage, probe) = std::thread::scope(|scope| {
            let mut workers = self.backends.iter_mut().zip(self.pools.iter_mut()).zip(self.streams.iter_mut()).map(
                |((b, pool), stream)| {
                    let (barrier, failed) = (&barrier, &failed);
                    move || {
                        let file = (data, file_kind);
                        let r = worker(plan, limit, stream, b.as_mut(), pool, file, barrier, failed, interval_ns);
                        if r.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        r
                    }
                },
            );
            let panicked = || Err(Error::Bug("a worker thread panicked".into()));
            // The inline worker's panic becomes the same error as a spawned one's.
            let inline_run = |work: &mut dyn FnMut() -> Result<WorkerStats>| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|_| panicked())
            };
            let inline_worker = if inline { workers.next() } else { None };
            let (outcomes, (probe, before)) = match inline_worker {
                // With a ramp, evidence opens mid-run: the timer needs a thread of its own.
                Some(mut work) if timer_waits => {
                    let timer = scope.spawn(timer);
                    let outcome = inline_run(&mut work);
                    (vec![outcome], timer.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                }
                Some(mut work) => {
                    let opened = timer();
                    (vec![inline_run(&mut work)], opened)
                }
                None => {
                    let handles: Vec<_> = workers.map(|w| scope.spawn(w)).collect();
                    let opened = timer();
                    (handles.into_iter().map(|h| h.join().unwrap_or_else(|_| panicked())).collect(), opened)
                }
            };
            (outcomes, Usage::process().since(&before), probe)
        });
        let workers = outcomes.into_iter().collect::<Result<Vec<_>>>()?;
        let op_bytes = plan.op_bytes();
        let read_bytes = workers.iter().map(|w| w.read_ops).sum::<u64>() * op_bytes;
        let written_bytes = workers.iter().map(|w| w.write_ops).sum::<u64>() * op_bytes;
        let counter = probe.as_ref().map(|p| p.write_counter());
        let setup = self.backends[0].describe();
        let mut evidence = match probe {
            Some(probe) => {
                let notes = self.setup_notes().into_iter().chain(setup.notes).collect();
                probe.finish(&self.data, self.backends[0].probes().mapped, read_bytes, written_bytes, notes)
            }
            None => Evidence::default(),
        };
        if STOP.load(Ordering::Relaxed) {
            return Err(Error::interrupted());
        }
        let final_sync_ns = if plan.rw.has_writes() && self.sync_at_end { Some(self.sync()?) } else { None };
        if final_sync_ns.is_some() {
            evidence.device_written_through_sync_bytes = counter.and_then(|c| c.written_since_start());
        }
        let mut measured = assemble(&workers, usage, self.resident, final_sync_ns, interval_ns);
        measured.backend_setup = setup.in_force;
        measured.evidence = evidence;
        let completed = workers.iter().map(|w| w.completed).sum();
        measured.pattern = self.file_kind.after_run(plan, &self.data, completed, &measured)?;
        Ok(measured)
    }

    /// Makes everything written so far durable (fsync, or msync for mappings) and returns how
    /// long that took, in ns. `run` does it at the end unless `sync_at_end` is off.
    pub fn sync(&mut self) -> Result<u64> {
        let t = Instant::now();
        self.backends[0].flush()?;
        Ok(t.elapsed().as_nanos() as u64)
    }

    /// Setup the loop applied itself, for the evidence: fadvise hints and I/O buffer backing.
    fn setup_notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(h) = self.plan.tuning.fadvise {
            notes.push(format!("posix_fadvise {}: applied to every worker's descriptor", h.name()));
        }
        notes.extend(self.pools.first().and_then(BufferPool::describe));
        notes
    }
}

fn assemble(
    workers: &[WorkerStats],
    usage: Usage,
    resident: f64,
    final_sync_ns: Option<u64>,
    interval_ns: u64,
) -> Measured {
    let mut hist = stats::new_hist();
    let mut sync_hist = stats::new_hist();
    for w in workers {
        stats::merge(&mut hist, &w.series.total);
        stats::merge(&mut sync_hist, &w.sync_hist);
    }
    let read_ops: u64 = workers.iter().map(|w| w.read_ops).sum();
    let write_ops: u64 = workers.iter().map(|w| w.write_ops).sum();
    let ops = read_ops + write_ops;
    let bytes: u64 = workers.iter().map(|w| w.bytes).sum();
    let runtime_ns = workers.iter().map(|w| w.runtime_ns).max().unwrap_or(0).max(1);
    let secs = runtime_ns as f64 / 1e9;
    let per_thread = workers
        .iter()
        .map(|w| ThreadFigures {
            ops: w.read_ops + w.write_ops,
            bytes: w.bytes,
            runtime_ns: w.runtime_ns,
            iops: (w.read_ops + w.write_ops) as f64 / (w.runtime_ns.max(1) as f64 / 1e9),
            latency_ns: stats::summarize(&w.series.total),
        })
        .collect();
    let series_parts: Vec<&SeriesRecorder> = workers.iter().map(|w| &w.series).collect();
    Measured {
        ops,
        read_ops,
        write_ops,
        bytes,
        runtime_ns,
        iops: ops as f64 / secs,
        bw_bytes_per_s: bytes as f64 / secs,
        latency_ns: stats::summarize(&hist),
        latency_histogram: stats::encode(&hist),
        sync: (!sync_hist.is_empty()).then(|| SyncStats {
            ops: sync_hist.len(),
            latency_ns: stats::summarize(&sync_hist),
            latency_histogram: stats::encode(&sync_hist),
        }),
        final_sync_ns,
        durable_bw_bytes_per_s: final_sync_ns.map(|f| bytes as f64 / ((runtime_ns + f) as f64 / 1e9)),
        cpu: Cpu { user_s: usage.user_ns as f64 / 1e9, sys_s: usage.sys_ns as f64 / 1e9 },
        faults: Faults { minor: usage.minor_faults, major: usage.major_faults },
        ctx_switches: usage.vol_ctx_switches + usage.invol_ctx_switches,
        cache: CacheEvidence { resident_before_pct: resident * 100.0 },
        verified_blocks: workers.iter().map(|w| w.verified_blocks).sum(),
        per_thread,
        series: Series { interval_ns, points: stats::series::merge_series(interval_ns, &series_parts) },
        backend_setup: serde_json::Map::new(),
        submit: submit_stats(workers.iter().filter_map(|w| w.submit.as_ref())),
        evidence: Evidence::default(),
        pattern: None,
    }
}

/// What the loop does with a read's bytes, inside the timed operation: the plan's `consume`
/// resolved for a backend that reads into the slot's buffer or in place (mmap).
#[derive(Clone, Copy)]
enum ReadWork {
    Sum,
    Touch,
    Nothing,
    CopyOut,
}

impl ReadWork {
    fn of(plan: &Plan) -> ReadWork {
        let in_place = plan.backend.reads_in_place();
        match plan.consume {
            Consume::Sum => ReadWork::Sum,
            Consume::Touch => ReadWork::Touch,
            // A mapping is read only when touched: `none` touches it.
            Consume::None if in_place => ReadWork::Touch,
            Consume::Copy if in_place => ReadWork::CopyOut,
            // The read already copied the bytes into the buffer.
            Consume::None | Consume::Copy => ReadWork::Nothing,
        }
    }

    #[inline]
    fn apply(self, backend: &dyn Backend, op: &Op, pool: &mut BufferPool, slot: u32) -> u64 {
        match self {
            ReadWork::Sum => consume::consume(backend.view(op, pool.slot(slot))),
            ReadWork::Touch => consume::touch(backend.view(op, pool.slot(slot))),
            ReadWork::Nothing => 0,
            ReadWork::CopyOut => {
                // An in-place backend's view is its own memory and ignores the buffer it is given.
                let src = backend.view(op, &[]);
                pool.slot_mut(slot)[..src.len()].copy_from_slice(src);
                0
            }
        }
    }
}

/// One worker: the loop itself.
#[allow(clippy::too_many_arguments)]
fn worker(
    plan: &Plan,
    limit: Limit,
    stream: &mut OpStream,
    backend: &mut dyn Backend,
    pool: &mut BufferPool,
    (data, file_kind): (&DataFile, &crate::engine::checks::FileKind),
    barrier: &Barrier,
    failed: &AtomicBool,
    interval_ns: u64,
) -> Result<WorkerStats> {
    let depth = plan.iodepth as usize;
    let sync_slot = depth as u32;
    let bs = plan.bs_bytes as usize;
    let template = WriteTemplate::new(plan.seed);
    let mut free: Vec<u32> = (0..depth as u32).rev().collect();
    let mut ops = vec![Op { kind: OpKind::Read, offset: 0, len: bs as u32, slot: 0 }; depth + 1];
    let clock = Clock::get();
    let mut started = vec![0u64; depth + 1];
    let mut phase: Vec<Option<u64>> = vec![None; depth];
    let mut done: Vec<Completion> = Vec::with_capacity(depth);
    let sync_every = plan.durability.every();
    let work = ReadWork::of(plan);
    let op_limit = limit.ops_per_thread;

    let mut inflight = 0usize;
    let mut writes_since_sync = 0u32;
    let mut sync_due = false;
    let mut stopping = false;
    let mut checksum = 0u64;
    let mut last_end = None;
    let mut measured_ops = 0u64;

    // A failed start still meets the barrier, so the other workers and the timer are not left waiting.
    let started_ok = backend.bind_thread();
    barrier.wait();
    started_ok?;
    if let Some(t) = backend.probes().submit {
        t.reset();
    }
    // Made after the barrier (so the series' fault count starts with the measurement) and
    // before the clock starts (its histograms are fresh memory, and zeroing it is not the workload's).
    let mut st = WorkerStats {
        read_ops: 0,
        write_ops: 0,
        bytes: 0,
        runtime_ns: 0,
        series: SeriesRecorder::new(interval_ns, || Usage::thread().major_faults),
        sync_hist: stats::new_hist(),
        verified_blocks: 0,
        completed: 0,
        submit: None,
    };
    // Times are raw clock readings; `since_begin` turns them into ns from the start.
    let begin = clock.raw();
    let since_begin = |t: u64| clock.ns(begin, t);
    let measure_from = plan.ramp_ns;
    let deadline = limit.runtime.map(|r| measure_from + r.as_nanos() as u64);
    let mut measuring = plan.ramp_ns == 0;

    loop {
        // Keep the queue full unless a sync must go out alone or the run is ending.
        while !stopping && !sync_due {
            let Some(slot) = free.pop() else { break };
            let (kind, offset) = stream.next_op();
            let op = Op { kind, offset, len: bs as u32, slot };
            if kind == OpKind::Read {
                // The read lands in this buffer and overwrites any write layout it held.
                phase[slot as usize] = None;
            } else {
                if kind == OpKind::Write {
                    template.prepare(offset, &mut pool.slot_mut(slot)[..bs], &mut phase[slot as usize]);
                } else {
                    // An update reads its record's window into the buffer; a scan reads through it.
                    phase[slot as usize] = None;
                }
                if let Some(n) = sync_every {
                    writes_since_sync += 1;
                    if writes_since_sync >= n {
                        writes_since_sync = 0;
                        sync_due = true;
                    }
                }
            }
            ops[slot as usize] = op;
            started[slot as usize] = clock.raw();
            backend.submit(op, pool.slot_mut(slot))?;
            inflight += 1;
            if let Some(limit) = op_limit
                && measuring
                && measured_ops + inflight as u64 >= limit
            {
                stopping = true;
            }
        }
        if sync_due && inflight == 0 {
            sync_due = false;
            if !stopping {
                let op = Op { kind: OpKind::Sync, offset: 0, len: 0, slot: sync_slot };
                ops[depth] = op;
                started[depth] = clock.raw();
                backend.submit(op, &mut [])?;
                inflight += 1;
            }
        }
        if inflight == 0 {
            break;
        }

        backend.reap((plan.iodepth_batch_complete_min as usize).clamp(1, inflight), &mut done)?;
        let mut now = None;
        for c in done.drain(..) {
            let op = ops[c.slot as usize];
            super::completion::check_completion(&op, c.result, data)?;
            if op.kind == OpKind::Scan {
                // A wrong count fails the run (see `kinds`).
                file_kind.check_scan(data, pool.slot(c.slot))?;
            }
            if op.kind == OpKind::Read {
                checksum = checksum.wrapping_add(work.apply(backend, &op, pool, c.slot));
            }
            // The file shrank under a mapping: the SIGBUS handler read zeros in; fail, never count them.
            if crate::os::sigbus::pending()
                && let Some(e) = crate::os::sigbus::take_error(&data.path)
            {
                return Err(e);
            }
            let end = clock.raw();
            now = Some(end);
            inflight -= 1;
            let latency = clock.ns(started[c.slot as usize], end);
            if !measuring && since_begin(end) >= measure_from {
                measuring = true;
                if let Some(t) = backend.probes().submit {
                    t.reset();
                }
            }
            if op.kind == OpKind::Sync {
                if measuring {
                    st.sync_hist.saturating_record(latency);
                }
                continue;
            }
            free.push(c.slot);
            st.completed += 1;
            if measuring {
                let t = since_begin(end).saturating_sub(measure_from);
                // A scan covers the whole file (checked above); every other operation its length.
                let bytes = if op.kind == OpKind::Scan { c.result as u64 } else { op.len as u64 };
                st.series.record(t, latency, bytes);
                measured_ops += 1;
                st.bytes += bytes;
                if matches!(op.kind, OpKind::Read | OpKind::Scan) {
                    st.read_ops += 1;
                } else {
                    st.write_ops += 1;
                }
                last_end = Some(end);
            }
            if plan.verify && op.kind == OpKind::Read {
                block::verify(plan.seed, op.offset, backend.view(&op, pool.slot(c.slot)))
                    .map_err(|m| Error::Verify(format!("{}: {m}", data.path.display())))?;
                st.verified_blocks += 1;
            }
        }
        if !stopping {
            // Reuse the last completion's timestamp: no extra clock read per operation.
            let now = since_begin(now.unwrap_or_else(|| clock.raw()));
            stopping = deadline.is_some_and(|d| now >= d)
                || op_limit.is_some_and(|l| measured_ops >= l)
                || STOP.load(Ordering::Relaxed)
                || failed.load(Ordering::Relaxed);
        }
    }
    black_box(checksum);
    st.submit = backend.probes().submit.map(|t| t.clone());
    st.series.finish();
    st.runtime_ns = last_end.map(|e| since_begin(e).saturating_sub(measure_from)).unwrap_or(0);
    if measured_ops == 0 && !STOP.load(Ordering::Relaxed) && !failed.load(Ordering::Relaxed) {
        return Err(Error::NothingMeasured { backend: plan.backend.to_string() });
    }
    Ok(st)
}

/// The workers' submit-side times merged into the results' summary; `None` if nothing was recorded.
fn submit_stats<'a>(parts: impl Iterator<Item = &'a backend::SubmitTimes>) -> Option<SubmitStats> {
    let mut total: Option<backend::SubmitTimes> = None;
    for p in parts {
        match &mut total {
            Some(t) => t.merge(p),
            None => total = Some(p.clone()),
        }
    }
    let t = total.filter(|t| !t.hist.is_empty())?;
    Some(SubmitStats {
        measures: t.measures.to_string(),
        calls: t.hist.len(),
        ops: t.ops,
        latency_ns: stats::summarize(&t.hist),
        latency_histogram: stats::encode(&t.hist),
    })
}
