//! A plan made ready to run, and its measured runs: the workers (one per thread, the first on
//! the calling thread when alone), the timer that opens the measured interval beside them, and
//! what follows the interval (evidence, the final sync, the pattern's checks).

use super::assemble::assemble;
use super::checks::{self, FileKind};
use super::offsets::OpStream;
use super::system::SystemGuard;
use super::worker::{self, WorkerContext, WorkerStats};
use super::{DEFAULT_SERIES_INTERVAL, StopAt};
use crate::backend::buffers::BufferPool;
use crate::backend::{self, Backend};
use crate::base::clock::Clock;
use crate::base::error::{Error, Result};
use crate::base::stop;
use crate::datafile::blocks::DataFile;
use crate::observe::evidence::{Evidence, EvidenceProbe};
use crate::os::freemem::{self, Recycled};
use crate::os::usage::Usage;
use crate::result::Measured;
use crate::workload::plan::{CacheState, Plan};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A plan made ready to run: data file in its cache state, backends open, buffers allocated.
/// `run` may be called many times (benches do); each call is one measured run.
pub struct Prepared<'p> {
    plan: &'p Plan,
    pub(crate) data: DataFile,
    /// Declared before `pools` so it is dropped first: queue backends wait there for operations
    /// still writing into pool buffers.
    backends: Vec<Box<dyn Backend>>,
    pools: Vec<BufferPool>,
    /// Each worker's operations. They carry on from one `run` to the next, so many short runs
    /// (criterion's samples) touch the file as one long run does, not its first blocks again.
    streams: Vec<OpStream>,
    resident: f64,
    /// Block pattern, record file or log: what the article's patterns check (see `checks`).
    file_kind: FileKind,
    /// Cold starts: the free memory touched and freed just before (see `os::freemem`).
    recycled: Option<std::result::Result<Recycled, String>>,
    pub(crate) series_interval: Duration,
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
    _system: SystemGuard,
}

impl<'p> Prepared<'p> {
    /// `plan` made ready on iobench's own backends.
    pub fn new(plan: &'p Plan) -> Result<Prepared<'p>> {
        Prepared::with_factory(plan, &backend::BuiltIn)
    }

    /// `plan` made ready on the backends `factory` opens (one per worker thread).
    pub(crate) fn with_factory(plan: &'p Plan, factory: &dyn backend::BackendFactory) -> Result<Prepared<'p>> {
        let (data, file_kind) = checks::prepare(plan)?;
        let system = SystemGuard::apply(&plan.tuning, &data.path)?;
        let align = backend::required_alignment(plan, &data)?;
        let resident = data.set_cache_state(plan.cache)?;
        // After the eviction, so the pages it freed count as free memory too.
        // A child process (limits) gets its memory recycled by its parent: here it would raise
        // the child's VmPeak, the memory-pressure row's figure, and charge its cgroup.
        let recycled = if plan.limits.needs_child() { None } else { recycle_before_cold_start(plan) };
        let mut backends = backend::open(plan, &data, factory)?;
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
            recycled,
            series_interval: DEFAULT_SERIES_INTERVAL,
            sync_at_end: true,
            collect_evidence: true,
            _system: system,
        })
    }

    /// One measured run on the prepared backends, ending at `stop_at`.
    pub fn run(&mut self, stop_at: StopAt) -> Result<Measured> {
        let (workers, usage, probe) = self.run_workers(stop_at)?;
        self.conclude(&workers, usage, probe)
    }

    /// Runs the workers and, beside them, the timer that opens the measured interval: evidence
    /// and process usage, before the workers start or once the ramp is over.
    fn run_workers(&mut self, stop_at: StopAt) -> Result<(Vec<WorkerStats>, Usage, Option<EvidenceProbe>)> {
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
        let ctx = WorkerContext {
            plan,
            stop_at,
            data: &self.data,
            file_kind: &self.file_kind,
            barrier: &barrier,
            failed: &failed,
            interval_ns: self.series_interval.as_nanos() as u64,
            major_faults: || Usage::thread().major_faults,
        };
        let (data, collect_evidence) = (&self.data, self.collect_evidence);
        let iowq = plan.backend.capabilities().io_uring;
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
            let ctx = &ctx;
            let mut workers = self.backends.iter_mut().zip(self.pools.iter_mut()).zip(self.streams.iter_mut()).map(
                |((b, pool), stream)| {
                    move || {
                        let r = worker::run(ctx, Clock::get(), stream, b.as_mut(), pool);
                        if r.is_err() {
                            ctx.failed.store(true, Ordering::Relaxed);
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
        Ok((outcomes.into_iter().collect::<Result<Vec<_>>>()?, usage, probe))
    }

    /// After the measured interval: evidence (while the backends still hold their mappings),
    /// the final sync of a write run, the figures, and the pattern's check of its file.
    fn conclude(&mut self, workers: &[WorkerStats], usage: Usage, probe: Option<EvidenceProbe>) -> Result<Measured> {
        let plan = self.plan;
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
        if stop::requested() {
            return Err(Error::interrupted());
        }
        let final_sync_ns = if plan.rw.has_writes() && self.sync_at_end { Some(self.sync()?) } else { None };
        if final_sync_ns.is_some() {
            evidence.device_written_through_sync_bytes = counter.and_then(|c| c.written_since_start());
        }
        if let Some(r) = &self.recycled {
            record_recycling(r, &mut evidence);
        }
        let interval_ns = self.series_interval.as_nanos() as u64;
        let mut measured = assemble(workers, usage, self.resident, final_sync_ns, interval_ns);
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

/// Touches and frees as much memory as a cold start can fill with page cache: the file (or
/// what a one-pass sequential read reaches), at most 4 GiB, and under a memory limit at most
/// half of it. On a VM whose balloon reports idle free memory to the host, the first touch of
/// each reported page waits on the host (~5 µs per 4 KiB measured here), so a cold run after a
/// run that freed nothing (O_DIRECT, another file) was CPU-bound on those faults instead of
/// waiting on the device: 0.4-0.7 GB/s instead of 2.1-2.4 for cold mmap reads. Untimed, before
/// measurement; `None` for plans that start warm or do not use the page cache.
pub(crate) fn recycle_before_cold_start(plan: &Plan) -> Option<std::result::Result<Recycled, String>> {
    let caps = plan.backend.capabilities();
    if plan.cache != CacheState::Cold || caps.direct || !caps.moves_data {
        return None;
    }
    let reach = match (plan.rw.is_random(), plan.io_size_bytes) {
        (false, Some(io)) => io.saturating_mul(plan.threads as u64).saturating_add(64 << 20),
        _ => plan.size_bytes,
    };
    let cap = plan.limits.memory_limit_bytes.map_or(4 << 30, |l| (l / 2).min(4 << 30));
    Some(freemem::recycle(plan.size_bytes.min(reach).min(cap)).map_err(|e| e.to_string()))
}

/// The evidence and note of a recycling done for a run (by the engine or a child's parent).
pub(crate) fn record_recycling(recycled: &std::result::Result<Recycled, String>, evidence: &mut Evidence) {
    match recycled {
        Ok(r) => {
            evidence.recycled_free_memory_bytes = Some(r.bytes);
            evidence.recycled_free_memory_ns = Some((r.seconds * 1e9) as u64);
            evidence.setup.push(r.describe());
        }
        Err(e) => evidence.setup.push(format!("free memory not recycled before the cold start: {e}")),
    }
}
