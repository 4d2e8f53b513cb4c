//! The one run loop, as each worker runs it. Every backend is driven here: the loop draws
//! offsets, prepares write buffers, keeps `iodepth` operations in flight, timestamps each
//! operation, consumes and verifies what reads delivered, issues sync operations by the
//! durability policy, and records latencies. Backends only move bytes.
//!
//! Latency of an operation: from just before it is handed to the backend (`submit`) to just
//! after its completion was observed (`reap`) and, for reads, its bytes consumed. Consuming is
//! inside the timed region because for mmap that is when the page faults happen.
//!
//! Queue backends also record submit-side time (fio's slat), stored as `submit`: for io_uring
//! each io_uring_enter that hands queued operations to the kernel (one record per batch), for
//! tokio each hand-off of an operation to its task. The loop waits for at least
//! `iodepth_batch_complete_min` completions before refilling the queue.
//!
//! The loop's parts, each a method of `Worker`: queue filling (`fill_queue`), the sync cadence
//! (`count_write`, `issue_sync`), completion handling (`complete`: check, verify, consume,
//! record), the ramp→measure switch (`switch_to_measuring`) and the stop condition
//! (`check_stop`). All are inlined into one loop: the split costs nothing per operation (no
//! allocation, clock read, dynamic call or branch beyond the loop's own). They run on any
//! `LoopClock`, so tests drive them with a scripted clock and backend (see the tests below).

use super::StopAt;
use super::checks::FileKind;
use super::completion::check_completion;
use super::offsets::OpStream;
use crate::backend::buffers::BufferPool;
use crate::backend::{Backend, Completion, Op, OpKind, SubmitTimes};
use crate::base::clock::Clock;
use crate::base::error::{Error, Result};
use crate::base::stats::{self, Hist, SeriesRecorder};
use crate::base::stop::STOP;
use crate::datafile::blocks::DataFile;
use crate::patterns::block::{self, WriteTemplate};
use crate::patterns::consume;
use crate::workload::plan::{Consume, Plan};
use std::hint::black_box;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering};

/// The loop's clock: raw readings, and nanoseconds between two of them. The runs use the TSC
/// (`Clock`); tests use a clock that advances by a fixed step per reading.
pub(crate) trait LoopClock {
    fn raw(&self) -> u64;
    fn ns(&self, start: u64, end: u64) -> u64;
}

impl LoopClock for Clock {
    #[inline(always)]
    fn raw(&self) -> u64 {
        Clock::raw(self)
    }
    #[inline(always)]
    fn ns(&self, start: u64, end: u64) -> u64 {
        Clock::ns(self, start, end)
    }
}

/// What every worker of a run shares.
pub(crate) struct WorkerContext<'a> {
    pub(crate) plan: &'a Plan,
    pub(crate) stop_at: StopAt,
    pub(crate) data: &'a DataFile,
    pub(crate) file_kind: &'a FileKind,
    /// Met by every worker (and the timer) once bound, so measurement starts together.
    pub(crate) barrier: &'a Barrier,
    /// Set by a worker that failed: the others stop at their next check.
    pub(crate) failed: &'a AtomicBool,
    pub(crate) interval_ns: u64,
    /// Reads the calling thread's major faults, for the time series.
    pub(crate) major_faults: fn() -> u64,
}

/// What one worker measured.
pub(crate) struct WorkerStats {
    pub(crate) read_ops: u64,
    pub(crate) write_ops: u64,
    pub(crate) bytes: u64,
    pub(crate) runtime_ns: u64,
    pub(crate) series: SeriesRecorder,
    pub(crate) sync_hist: Hist,
    pub(crate) verified_blocks: u64,
    /// Data operations completed, ramp included: what a record file is checked against.
    pub(crate) completed: u64,
    /// Queue backends' submit-side times (fio's slat) in the measured interval.
    pub(crate) submit: Option<SubmitTimes>,
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

/// Runs one worker: binds the backend to this thread, meets the others at the barrier, and
/// runs the loop until the stop condition holds.
pub(crate) fn run<C: LoopClock>(
    ctx: &WorkerContext<'_>,
    clock: &C,
    stream: &mut OpStream,
    backend: &mut dyn Backend,
    pool: &mut BufferPool,
) -> Result<WorkerStats> {
    let slots = Slots::new(ctx.plan);
    // A failed bind still meets the barrier, so the other workers and the timer are not left waiting.
    let bound = backend.bind_thread();
    ctx.barrier.wait();
    bound?;
    if let Some(t) = backend.probes().submit {
        t.reset();
    }
    // Made after the barrier (so the series' fault count starts with the measurement) and
    // before the clock starts (its histograms are fresh memory, and zeroing it is not the workload's).
    let st = WorkerStats {
        read_ops: 0,
        write_ops: 0,
        bytes: 0,
        runtime_ns: 0,
        series: SeriesRecorder::new(ctx.interval_ns, ctx.major_faults),
        sync_hist: stats::new_hist(),
        verified_blocks: 0,
        completed: 0,
        submit: None,
    };
    let mut w = Worker::new(ctx, clock, stream, backend, pool, slots, st);
    let mut done: Vec<Completion> = Vec::with_capacity(w.slots.depth);
    loop {
        w.fill_queue()?;
        w.issue_sync()?;
        if w.inflight == 0 {
            break;
        }
        let now = w.complete(&mut done)?;
        w.check_stop(now);
    }
    w.finish()
}

/// The slots of the queue: one buffer, operation and start time per operation in flight, plus
/// the sync operation's, which goes out alone.
struct Slots {
    depth: usize,
    /// Free slots, taken from the end.
    free: Vec<u32>,
    ops: Vec<Op>,
    /// Raw clock reading just before each slot's operation was submitted.
    started: Vec<u64>,
    /// The in-page phase each slot's buffer was last laid out for as a write (see `WriteTemplate`).
    phase: Vec<Option<u64>>,
}

impl Slots {
    fn new(plan: &Plan) -> Slots {
        let depth = plan.iodepth as usize;
        let op = Op { kind: OpKind::Read, offset: 0, len: plan.bs_bytes as u32, slot: 0 };
        Slots {
            depth,
            free: (0..depth as u32).rev().collect(),
            ops: vec![op; depth + 1],
            started: vec![0u64; depth + 1],
            phase: vec![None; depth],
        }
    }
}

/// One worker's loop state.
struct Worker<'a, 'c, C> {
    plan: &'a Plan,
    data: &'a DataFile,
    file_kind: &'a FileKind,
    failed: &'a AtomicBool,
    clock: &'c C,
    stream: &'c mut OpStream,
    backend: &'c mut dyn Backend,
    pool: &'c mut BufferPool,
    slots: Slots,
    st: WorkerStats,
    template: WriteTemplate,
    work: ReadWork,
    bs: usize,
    sync_every: Option<u32>,
    op_limit: Option<u64>,
    inflight: usize,
    writes_since_sync: u32,
    sync_due: bool,
    stopping: bool,
    checksum: u64,
    measured_ops: u64,
    last_end: Option<u64>,
    /// Raw clock reading when the loop began; `since_begin` turns readings into ns from it.
    begin: u64,
    /// Ramp length in ns: operations that complete before it are not measured.
    measure_from: u64,
    /// End of the measured interval in ns from `begin`, if the run is timed.
    deadline: Option<u64>,
    measuring: bool,
}

impl<'a, 'c, C: LoopClock> Worker<'a, 'c, C> {
    fn new(
        ctx: &WorkerContext<'a>,
        clock: &'c C,
        stream: &'c mut OpStream,
        backend: &'c mut dyn Backend,
        pool: &'c mut BufferPool,
        slots: Slots,
        st: WorkerStats,
    ) -> Self {
        let plan = ctx.plan;
        let measure_from = plan.ramp_ns;
        Worker {
            plan,
            data: ctx.data,
            file_kind: ctx.file_kind,
            failed: ctx.failed,
            clock,
            stream,
            backend,
            pool,
            slots,
            st,
            template: WriteTemplate::new(plan.seed),
            work: ReadWork::of(plan),
            bs: plan.bs_bytes as usize,
            sync_every: plan.durability.every(),
            op_limit: ctx.stop_at.ops_per_thread,
            inflight: 0,
            writes_since_sync: 0,
            sync_due: false,
            stopping: false,
            checksum: 0,
            measured_ops: 0,
            last_end: None,
            // Last: the clock starts as the loop does.
            begin: clock.raw(),
            measure_from,
            deadline: ctx.stop_at.runtime.map(|r| measure_from + r.as_nanos() as u64),
            measuring: measure_from == 0,
        }
    }

    #[inline(always)]
    fn since_begin(&self, t: u64) -> u64 {
        self.clock.ns(self.begin, t)
    }

    /// Queue filling: keeps the queue full unless a sync must go out alone or the run is ending.
    #[inline(always)]
    fn fill_queue(&mut self) -> Result<()> {
        while !self.stopping && !self.sync_due {
            let Some(slot) = self.slots.free.pop() else { break };
            let (kind, offset) = self.stream.next_op();
            let op = Op { kind, offset, len: self.bs as u32, slot };
            if kind == OpKind::Read {
                // The read lands in this buffer and overwrites any write layout it held.
                self.slots.phase[slot as usize] = None;
            } else {
                if kind == OpKind::Write {
                    let buf = &mut self.pool.slot_mut(slot)[..self.bs];
                    self.template.prepare(offset, buf, &mut self.slots.phase[slot as usize]);
                } else {
                    // An update reads its record's window into the buffer; a scan reads through it.
                    self.slots.phase[slot as usize] = None;
                }
                self.count_write();
            }
            self.slots.ops[slot as usize] = op;
            self.slots.started[slot as usize] = self.clock.raw();
            self.backend.submit(op, self.pool.slot_mut(slot))?;
            self.inflight += 1;
            if let Some(limit) = self.op_limit
                && self.measuring
                && self.measured_ops + self.inflight as u64 >= limit
            {
                self.stopping = true;
            }
        }
        Ok(())
    }

    /// Sync cadence, counting: every `N`th write of a `fsync:N`-style policy makes a sync due,
    /// and the queue stops filling until it has gone out.
    #[inline(always)]
    fn count_write(&mut self) {
        if let Some(n) = self.sync_every {
            self.writes_since_sync += 1;
            if self.writes_since_sync >= n {
                self.writes_since_sync = 0;
                self.sync_due = true;
            }
        }
    }

    /// Sync cadence, issuing: once the queue has drained, the due sync goes out alone (unless the
    /// run is ending: the final sync is timed on its own).
    #[inline(always)]
    fn issue_sync(&mut self) -> Result<()> {
        if self.sync_due && self.inflight == 0 {
            self.sync_due = false;
            if !self.stopping {
                let slot = self.slots.depth;
                let op = Op { kind: OpKind::Sync, offset: 0, len: 0, slot: slot as u32 };
                self.slots.ops[slot] = op;
                self.slots.started[slot] = self.clock.raw();
                self.backend.submit(op, &mut [])?;
                self.inflight += 1;
            }
        }
        Ok(())
    }

    /// Completion handling: reaps at least `iodepth_batch_complete_min` completions and handles
    /// each (checked, consumed, recorded, verified). Returns the last completion's time.
    #[inline(always)]
    fn complete(&mut self, done: &mut Vec<Completion>) -> Result<Option<u64>> {
        let min = (self.plan.iodepth_batch_complete_min as usize).clamp(1, self.inflight);
        self.backend.reap(min, done)?;
        let mut now = None;
        for c in done.drain(..) {
            now = Some(self.handle(c)?);
        }
        Ok(now)
    }

    /// One completion: its result checked (and a scan's counts), a read's bytes consumed, a
    /// SIGBUS on a mapping turned into a failed run; then timed and, once measuring, recorded;
    /// a read verified if asked. Returns the completion's time.
    #[inline(always)]
    fn handle(&mut self, c: Completion) -> Result<u64> {
        let op = self.slots.ops[c.slot as usize];
        check_completion(&op, c.result, self.data)?;
        if op.kind == OpKind::Scan {
            // A wrong count fails the run (see `checks`).
            self.file_kind.check_scan(self.data, self.pool.slot(c.slot))?;
        }
        if op.kind == OpKind::Read {
            self.checksum = self.checksum.wrapping_add(self.work.apply(&*self.backend, &op, self.pool, c.slot));
        }
        // The file shrank under a mapping: the SIGBUS handler read zeros in; fail, never count them.
        if crate::os::sigbus::pending()
            && let Some(e) = crate::os::sigbus::take_error(&self.data.path)
        {
            return Err(e);
        }
        let end = self.clock.raw();
        self.inflight -= 1;
        let latency = self.clock.ns(self.slots.started[c.slot as usize], end);
        if !self.measuring && self.since_begin(end) >= self.measure_from {
            self.switch_to_measuring();
        }
        if op.kind == OpKind::Sync {
            if self.measuring {
                self.st.sync_hist.saturating_record(latency);
            }
            return Ok(end);
        }
        self.slots.free.push(c.slot);
        self.st.completed += 1;
        if self.measuring {
            self.record(&op, c.result, latency, end);
        }
        if self.plan.verify && op.kind == OpKind::Read {
            block::verify(self.plan.seed, op.offset, self.backend.view(&op, self.pool.slot(c.slot)))
                .map_err(|m| Error::Verify(format!("{}: {m}", self.data.path.display())))?;
            self.st.verified_blocks += 1;
        }
        Ok(end)
    }

    /// A measured data operation into the statistics.
    #[inline(always)]
    fn record(&mut self, op: &Op, result: i64, latency: u64, end: u64) {
        let t = self.since_begin(end).saturating_sub(self.measure_from);
        // A scan covers the whole file (checked above); every other operation its length.
        let bytes = if op.kind == OpKind::Scan { result as u64 } else { op.len as u64 };
        self.st.series.record(t, latency, bytes);
        self.measured_ops += 1;
        self.st.bytes += bytes;
        if matches!(op.kind, OpKind::Read | OpKind::Scan) {
            self.st.read_ops += 1;
        } else {
            self.st.write_ops += 1;
        }
        self.last_end = Some(end);
    }

    /// The ramp→measure switch: the first completion at or after the ramp opens the measured
    /// interval; submit-side times seen so far are dropped.
    #[cold]
    fn switch_to_measuring(&mut self) {
        self.measuring = true;
        if let Some(t) = self.backend.probes().submit {
            t.reset();
        }
    }

    /// The stop condition, checked once per reap: the deadline, the operation count, Ctrl-C, or
    /// another worker's failure. Operations in flight still complete.
    #[inline(always)]
    fn check_stop(&mut self, now: Option<u64>) {
        if !self.stopping {
            // Reuse the last completion's timestamp: no extra clock read per operation.
            let now = self.since_begin(now.unwrap_or_else(|| self.clock.raw()));
            self.stopping = self.deadline.is_some_and(|d| now >= d)
                || self.op_limit.is_some_and(|l| self.measured_ops >= l)
                || STOP.load(Ordering::Relaxed)
                || self.failed.load(Ordering::Relaxed);
        }
    }

    /// After the loop: the checksum kept alive, the submit times and the last series interval
    /// collected, the measured time computed.
    fn finish(mut self) -> Result<WorkerStats> {
        black_box(self.checksum);
        self.st.submit = self.backend.probes().submit.map(|t| t.clone());
        self.st.series.finish();
        let (begin, from) = (self.begin, self.measure_from);
        self.st.runtime_ns = self.last_end.map(|e| self.clock.ns(begin, e).saturating_sub(from)).unwrap_or(0);
        if self.measured_ops == 0 && !STOP.load(Ordering::Relaxed) && !self.failed.load(Ordering::Relaxed) {
            return Err(Error::NothingMeasured { backend: self.plan.backend.to_string() });
        }
        Ok(self.st)
    }
}

#[cfg(test)]
mod tests;
