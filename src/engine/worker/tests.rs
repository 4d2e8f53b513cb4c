//! The loop's parts driven by a scripted backend and a scripted clock (hyperfine's
//! `MockExecutor` idea): no I/O, no timing asserts, every figure exact.

use super::*;
use crate::backend::SubmitTimes;
use crate::workload::plan::PlanContext;
use crate::workload::raw::{RawWorkload, cli_value};
use std::cell::Cell;
use std::collections::VecDeque;
use std::path::PathBuf;

/// A clock that advances `step` ns at every reading.
struct StepClock {
    now: Cell<u64>,
    step: u64,
}

impl StepClock {
    fn new(step: u64) -> Self {
        StepClock { now: Cell::new(0), step }
    }
}

impl LoopClock for StepClock {
    fn raw(&self) -> u64 {
        self.now.set(self.now.get() + self.step);
        self.now.get()
    }
    fn ns(&self, start: u64, end: u64) -> u64 {
        end.saturating_sub(start)
    }
}

/// A queue backend that completes what it was handed, oldest first, `min` at a time, and
/// logs what it saw. `fail_at_reap` makes that reap call (counted from 1) fail.
#[derive(Default)]
struct Scripted {
    queue: VecDeque<Completion>,
    log: Vec<OpKind>,
    /// For each sync submitted: whether nothing else was in flight.
    syncs_alone: Vec<bool>,
    reaps: usize,
    fail_at_reap: Option<usize>,
    times: Option<SubmitTimes>,
}

impl Backend for Scripted {
    fn submit(&mut self, op: Op, _buf: &mut [u8]) -> Result<()> {
        if op.kind == OpKind::Sync {
            self.syncs_alone.push(self.queue.is_empty());
        }
        self.log.push(op.kind);
        if let Some(t) = &mut self.times {
            t.record(1, 1);
        }
        self.queue.push_back(Completion { slot: op.slot, result: op.len as i64 });
        Ok(())
    }

    fn reap(&mut self, min: usize, done: &mut Vec<Completion>) -> Result<()> {
        self.reaps += 1;
        if self.fail_at_reap == Some(self.reaps) {
            return Err(Error::System("the scripted device went away".into()));
        }
        for _ in 0..min.min(self.queue.len()) {
            done.extend(self.queue.pop_front());
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        Ok(())
    }

    fn probes(&mut self) -> crate::backend::Probes<'_> {
        crate::backend::Probes { mapped: None, submit: self.times.as_mut() }
    }
}

/// A plan of `rw` on a queue backend at `iodepth`, with extra keys.
fn plan(rw: &str, iodepth: i64, extra: &[(&str, &str)]) -> Plan {
    let mut raw = RawWorkload {
        backend: Some("tokio-pread".into()),
        rw: Some(rw.into()),
        bs: Some(cli_value("4k")),
        size: Some(cli_value("1m")),
        iodepth: Some(iodepth),
        ..Default::default()
    };
    for (k, v) in extra {
        match *k {
            "durability" => raw.durability = Some(v.to_string()),
            "ramp_time" => raw.ramp_time = Some(cli_value(v)),
            "runtime" => raw.runtime = Some(cli_value(v)),
            other => panic!("no key {other} in these tests"),
        }
    }
    Plan::from_raw(&raw, PlanContext::default()).unwrap().0
}

/// Runs one worker of `plan` on `backend` until `stop_at`, with a clock of `step` ns per reading.
fn run_scripted(plan: &Plan, stop_at: StopAt, backend: &mut Scripted, step: u64) -> Result<WorkerStats> {
    let data = DataFile { path: PathBuf::from("/scripted/iobench-1m.dat"), size: plan.size_bytes, seed: plan.seed };
    let (barrier, failed) = (Barrier::new(1), AtomicBool::new(false));
    let ctx = WorkerContext {
        plan,
        stop_at,
        data: &data,
        file_kind: &FileKind::Blocks,
        barrier: &barrier,
        failed: &failed,
        interval_ns: 1_000_000_000,
        major_faults: || 0,
    };
    let mut pool = BufferPool::new(plan.iodepth as usize, plan.bs_bytes as usize, 1).unwrap();
    let mut stream = OpStream::new(plan, 0, 1);
    run(&ctx, &StepClock::new(step), &mut stream, backend, &mut pool)
}

#[test]
fn a_sync_follows_every_nth_write_and_goes_out_alone() {
    use OpKind::{Sync as S, Write as W};
    // Synchronous depth: the sync follows the 4th write at once.
    let mut b = Scripted::default();
    let st = run_scripted(&plan("write", 1, &[("durability", "fsync:4")]), StopAt::ops(12), &mut b, 10).unwrap();
    assert_eq!(
        b.log,
        [W, W, W, W, S, W, W, W, W, S, W, W, W, W],
        "the run's last sync is the final one, not the cadence's"
    );
    assert_eq!((st.write_ops, st.sync_hist.len()), (12, 2));
    // At depth 4 the queue drains before the sync goes out.
    let mut b = Scripted::default();
    let st =
        run_scripted(&plan("randwrite", 4, &[("durability", "fdatasync:3")]), StopAt::ops(30), &mut b, 10).unwrap();
    let syncs = b.log.iter().filter(|k| **k == S).count();
    assert_eq!(syncs, 9, "one sync per 3 writes, the 10th due at the end left to the final sync: {:?}", b.log);
    assert!(b.syncs_alone.iter().all(|alone| *alone), "every sync with nothing else in flight");
    assert_eq!(st.write_ops, 30);
}

#[test]
fn the_ramp_is_left_out_of_every_statistic() {
    // 1 µs per clock reading, two readings per operation: the 50 µs ramp covers 25 operations.
    let mut b = Scripted { times: Some(SubmitTimes::new("scripted")), ..Default::default() };
    let st = run_scripted(&plan("randread", 1, &[("ramp_time", "50us")]), StopAt::ops(100), &mut b, 1000).unwrap();
    assert_eq!(st.read_ops, 100, "exactly the asked operations after the ramp");
    assert_eq!(st.series.total.len(), 100, "the histogram holds only measured operations");
    let ramp_ops = st.completed - st.read_ops;
    assert!((20..=30).contains(&ramp_ops), "{ramp_ops} operations completed during the ramp");
    let submitted_after_ramp = st.submit.as_ref().unwrap().ops;
    assert!(submitted_after_ramp < 100, "submit times were reset when measurement began: {submitted_after_ramp}");
    // Measured time runs from the ramp's end to the last completion: 100 operations of 2 µs.
    assert!((196_000..=202_000).contains(&st.runtime_ns), "{}", st.runtime_ns);
}

#[test]
fn a_timed_run_stops_at_its_deadline() {
    let mut b = Scripted::default();
    let p = plan("randread", 1, &[("runtime", "1ms")]);
    let st = run_scripted(&p, StopAt::from_plan(&p), &mut b, 1000).unwrap();
    assert!((1_000_000..=1_002_000).contains(&st.runtime_ns), "stops within one operation of 1 ms: {}", st.runtime_ns);
    assert_eq!(st.read_ops, 500, "2 µs per operation");
    assert_eq!(st.completed, st.read_ops, "no ramp");
}

#[test]
fn an_operation_count_stops_the_run_exactly_even_with_a_queue() {
    let mut b = Scripted::default();
    let st = run_scripted(&plan("randread", 4, &[]), StopAt::ops(37), &mut b, 10).unwrap();
    assert_eq!((st.read_ops, st.completed), (37, 37));
    assert_eq!(b.log.len(), 37, "nothing submitted beyond the count");
}

#[test]
fn an_error_from_reap_ends_the_run_with_its_message() {
    let mut b = Scripted { fail_at_reap: Some(5), ..Default::default() };
    let err = run_scripted(&plan("randread", 2, &[]), StopAt::ops(1000), &mut b, 10).err().unwrap();
    assert_eq!(err.to_string(), "the scripted device went away");
    assert_eq!(b.reaps, 5, "no reap after the failing one");
}
