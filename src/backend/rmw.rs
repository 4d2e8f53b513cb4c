//! Record updates (`OpKind::Update`) on descriptor backends: a read-modify-write of the window
//! around the record, driven through the backend's own reads and writes.
//!
//! The window is the record itself (`records_io = record`), its 4 KiB page (`page`), or for
//! O_DIRECT backends at least the aligned block around it. `Rmw` wraps any backend: it submits
//! the window's read, applies the update in the slot's buffer when the read completes, submits
//! the write, and reports the update complete when the write does. So `buffered` and `direct`
//! do pread + pwrite inline, and `uring`, `uring-direct` and the tokio backends keep up to
//! `iodepth` updates in flight with the read and write of each in order. One implementation of
//! read-modify-write serves them all, and the backends need no update code of their own; mmap
//! updates in place instead (see mmap.rs).
//!
//! Two updates in flight whose windows overlap would lose one of them (both read the old
//! bytes), as they would in any program: an update whose window overlaps one in flight waits
//! until that one completes, and its latency includes the wait.

use super::{Backend, BackendFactory, BackendKind, Completion, Op, OpKind, Probes, Setup, SlotBuf};
use crate::backend::buffers::BufferPool;
use crate::base::error::{Error, Result};
use crate::datafile::blocks::DataFile;
use crate::workload::plan::Plan;
use std::collections::VecDeque;

/// Opens `plan`'s backends for record updates: mmap as it is, the others wrapped in `Rmw`.
pub(crate) fn open(plan: &Plan, data: &DataFile, factory: &dyn BackendFactory) -> Result<Vec<Box<dyn Backend>>> {
    match plan.backend {
        // A mapping updates in place (the backend handles `OpKind::Update` itself).
        b if b.capabilities().maps_file => factory.open(plan, data),
        BackendKind::Null | BackendKind::Lines => Err(Error::Unsupported {
            backend: plan.backend.to_string(),
            reason: format!("{} does not update records; use mmap, buffered, direct, uring or tokio", plan.backend),
        }),
        _ => {
            let opts = plan.records.ok_or_else(|| Error::Bug("records plan without record options".into()))?;
            let unit = opts.io_unit(super::required_alignment(plan, data)?);
            let record = opts.record_size_bytes;
            let wrap = |inner| Box::new(Rmw::new(inner, unit, record)) as Box<dyn Backend>;
            Ok(factory.open(plan, data)?.into_iter().map(wrap).collect())
        }
    }
}

/// The O_DIRECT alignment of `data`'s filesystem (memory and offsets), as `direct` uses it.
pub(crate) fn direct_alignment(data: &DataFile) -> u64 {
    match crate::os::fsinfo::dio_align(&data.path) {
        Some((mem, offset)) => mem.max(offset) as u64,
        None => crate::os::fsinfo::fs_block_size(&data.path).unwrap_or(4096),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    /// A sync passed through to the inner backend.
    Through,
    Reading,
    Writing,
}

#[derive(Clone, Copy)]
struct Slot {
    phase: Phase,
    /// The update as the loop submitted it.
    op: Op,
    /// The window read and written back.
    start: u64,
    len: u32,
    buf: Option<SlotBuf>,
}

pub(crate) struct Rmw {
    inner: Box<dyn Backend>,
    unit: u64,
    record: u64,
    slots: Vec<Slot>,
    /// Updates waiting for an overlapping one in flight, in submission order.
    waiting: VecDeque<u32>,
    /// Operations the inner backend holds.
    active: usize,
    inner_done: Vec<Completion>,
}

impl Rmw {
    fn new(inner: Box<dyn Backend>, unit: u64, record: u64) -> Self {
        Rmw { inner, unit, record, slots: Vec::new(), waiting: VecDeque::new(), active: 0, inner_done: Vec::new() }
    }

    fn slot(&mut self, i: u32) -> &mut Slot {
        let i = i as usize;
        if i >= self.slots.len() {
            let op = Op { kind: OpKind::Sync, offset: 0, len: 0, slot: 0 };
            self.slots.resize(i + 1, Slot { phase: Phase::Idle, op, start: 0, len: 0, buf: None });
        }
        &mut self.slots[i]
    }

    fn overlaps_in_flight(&self, me: u32) -> bool {
        let s = &self.slots[me as usize];
        let (a, b) = (s.start, s.start + s.len as u64);
        self.slots.iter().enumerate().any(|(i, o)| {
            i != me as usize
                && matches!(o.phase, Phase::Reading | Phase::Writing)
                && o.start < b
                && a < o.start + o.len as u64
        })
    }

    /// Submits the window's read (or the window's write, `write = true`) to the inner backend.
    fn issue(&mut self, i: u32, write: bool) -> Result<()> {
        let s = &mut self.slots[i as usize];
        let Some(buf) = s.buf else { return Err(Error::Bug("record update without a buffer".into())) };
        s.phase = if write { Phase::Writing } else { Phase::Reading };
        let op = Op { kind: if write { OpKind::Write } else { OpKind::Read }, offset: s.start, len: s.len, slot: i };
        // SAFETY: the slot's buffer is the update's until its completion is reported (the
        // `Backend` contract), and nothing else holds it between the read and the write.
        let window = unsafe { buf.as_mut_slice() };
        self.active += 1;
        self.inner.submit(op, window)
    }

    /// Starts waiting updates whose windows are free now, oldest first.
    fn start_waiting(&mut self) -> Result<()> {
        let mut still = VecDeque::with_capacity(self.waiting.len());
        while let Some(i) = self.waiting.pop_front() {
            // An older waiting update with an overlapping window goes first.
            let blocked_by_older = still.iter().any(|&w: &u32| {
                let (x, y) = (&self.slots[w as usize], &self.slots[i as usize]);
                x.start < y.start + y.len as u64 && y.start < x.start + x.len as u64
            });
            if blocked_by_older || self.overlaps_in_flight(i) {
                still.push_back(i);
            } else {
                self.issue(i, false)?;
            }
        }
        self.waiting = still;
        Ok(())
    }

    /// Handles one inner completion; returns the loop's completion when an update (or a sync)
    /// has finished.
    fn advance(&mut self, c: Completion) -> Result<Option<Completion>> {
        self.active -= 1;
        let s = *self.slot(c.slot);
        match s.phase {
            Phase::Reading if c.result == s.len as i64 => {
                let Some(buf) = s.buf else { return Err(Error::Bug("record update without a buffer".into())) };
                let at = (s.op.offset - s.start) as usize;
                // SAFETY: as in `issue`: the buffer is this update's, and the read has completed.
                let window = unsafe { buf.as_mut_slice() };
                crate::patterns::records::update(&mut window[at..at + self.record as usize]);
                self.issue(c.slot, true)?;
                Ok(None)
            }
            Phase::Reading | Phase::Writing => {
                self.slots[c.slot as usize].phase = Phase::Idle;
                self.slots[c.slot as usize].buf = None;
                // Errors pass on as they are; a short read or write shows as a short update.
                let result = match c.result {
                    r if r < 0 => r,
                    r if r == s.len as i64 => s.op.len as i64,
                    _ => 0,
                };
                self.start_waiting()?;
                Ok(Some(Completion { slot: c.slot, result }))
            }
            Phase::Through => {
                self.slots[c.slot as usize].phase = Phase::Idle;
                Ok(Some(c))
            }
            Phase::Idle => Err(Error::Bug(format!("completion for idle slot {} in record updates", c.slot))),
        }
    }
}

impl Backend for Rmw {
    fn submit(&mut self, op: Op, buf: &mut [u8]) -> Result<()> {
        if op.kind != OpKind::Update {
            // Syncs (the durability policy) pass through; the loop sends them with nothing in flight.
            self.slot(op.slot).phase = Phase::Through;
            self.active += 1;
            return self.inner.submit(op, buf);
        }
        let start = op.offset / self.unit * self.unit;
        let end = (op.offset + op.len as u64).next_multiple_of(self.unit);
        let len = end - start;
        if len > buf.len() as u64 {
            return Err(Error::Bug(format!(
                "record window of {len} bytes exceeds the {}-byte buffer; this is a bug in iobench",
                buf.len()
            )));
        }
        let buf = SlotBuf::new(buf, len as usize);
        *self.slot(op.slot) = Slot { phase: Phase::Idle, op, start, len: len as u32, buf: Some(buf) };
        if self.overlaps_in_flight(op.slot) || !self.waiting.is_empty() {
            self.waiting.push_back(op.slot);
            return self.start_waiting();
        }
        self.issue(op.slot, false)
    }

    fn reap(&mut self, min: usize, done: &mut Vec<Completion>) -> Result<()> {
        let mut got = 0;
        while got < min && self.active > 0 {
            self.inner.reap(1, &mut self.inner_done)?;
            let batch = std::mem::take(&mut self.inner_done);
            for c in &batch {
                if let Some(finished) = self.advance(*c)? {
                    done.push(finished);
                    got += 1;
                }
            }
            self.inner_done = batch;
            self.inner_done.clear();
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }

    fn register(&mut self, pool: &mut BufferPool) -> Result<()> {
        self.inner.register(pool)
    }

    fn bind_thread(&mut self) -> Result<()> {
        self.inner.bind_thread()
    }

    fn describe(&self) -> Setup {
        let mut setup = self.inner.describe();
        setup.notes.push(format!("record updates: read-modify-write of {}-byte windows", self.unit.max(self.record)));
        setup
    }

    fn probes(&mut self) -> Probes<'_> {
        self.inner.probes()
    }
}
