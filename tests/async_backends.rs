//! The queue backends (io_uring, tokio) and concurrency: every byte read and written is checked,
//! completions find their own buffers even out of order, thread histograms merge exactly, and an
//! unavailable io_uring is reported as skipped with its reason.

mod common;

use common::{TempDir, iobench, skip, stderr, stdout};
use iobench::backend::buffers::BufferPool;
use iobench::backend::{self, Completion, Op, OpKind};
use iobench::datafile::blocks::DataFile;
use iobench::engine;
use iobench::patterns::block;
use iobench::result::{Measured, Results, RunStatus};
use iobench::workload::plan::{CacheState, Plan, PlanContext};
use iobench::workload::raw::{RawWorkload, cli_value};
use std::os::unix::fs::FileExt;

const SIZE: &str = "8m";

/// True if this kernel lets us create a ring; otherwise says why the test is skipped.
fn uring_available(test: &str) -> bool {
    match io_uring::IoUring::new(4) {
        Ok(_) => true,
        Err(e) => {
            skip(test, &format!("this kernel gives no io_uring ({e})"));
            false
        }
    }
}

fn raw(dir: &TempDir, backend: &str, rw: &str, depth: u32) -> RawWorkload {
    RawWorkload {
        name: Some(format!("{rw}-{backend}-qd{depth}")),
        backend: Some(backend.into()),
        rw: Some(rw.into()),
        bs: Some(cli_value("4k")),
        size: Some(cli_value(SIZE)),
        io_size: Some(cli_value("1m")),
        runtime: Some(cli_value("5s")),
        iodepth: Some(depth as i64),
        dir: Some(dir.str().into()),
        verify: Some(true.into()),
        ..Default::default()
    }
}

fn plan_of(raw: &RawWorkload) -> Plan {
    Plan::from_raw(raw, PlanContext::default()).unwrap_or_else(|e| panic!("valid plan: {e}")).0
}

/// The plan's data file (created by the runs, checked whole after write runs).
fn data_of(p: &Plan) -> DataFile {
    DataFile::prepare(&p.dir, p.size_bytes, p.seed).unwrap().0
}

fn run_ok(p: &Plan) -> Measured {
    let r = engine::execute(p, vec![]).unwrap_or_else(|e| panic!("{}: {e}", p.name));
    assert_eq!(r.status, RunStatus::Ok, "{}: {:?}", p.name, r.reason);
    r.measured.unwrap()
}

#[test]
fn every_byte_is_verified_at_each_depth_with_and_without_fixed_buffers() {
    let dir = TempDir::new("async-verify");
    let uring = uring_available("every_byte_is_verified");
    for backend in ["uring", "uring-direct", "tokio", "tokio-pread"] {
        if backend.starts_with("uring") && !uring {
            continue;
        }
        let fixed_variants: &[bool] = if backend.starts_with("uring") { &[false, true] } else { &[false] };
        for depth in [1, 8, 64] {
            for &fixed in fixed_variants {
                for rw in ["randread", "randwrite", "randrw"] {
                    let mut r = raw(&dir, backend, rw, depth);
                    if backend.starts_with("uring") {
                        r.fixedbufs = Some(toml::Value::Boolean(fixed));
                        // Registered buffers also run with whole-queue submission batches.
                        r.iodepth_batch_submit = Some(if fixed { 0 } else { 1 });
                    }
                    if depth == 64 {
                        // Many completions per wait, not fio's one at a time.
                        r.iodepth_batch_complete_max = Some(64);
                    }
                    let p = plan_of(&r);
                    let what = format!("{backend} {rw} qd{depth} fixedbufs={fixed}");
                    let m = run_ok(&p);
                    assert_eq!(m.ops, 256, "{what}: io_size 1m / bs 4k");
                    assert_eq!(m.verified_blocks, m.read_ops, "{what}: every read verified");
                    if rw == "randwrite" {
                        assert_eq!(m.write_ops, 256, "{what}");
                    }
                    if p.rw.has_writes() {
                        data_of(&p).verify_all().unwrap_or_else(|e| panic!("{what}: written file: {e}"));
                    }
                    let setup = &m.backend_setup;
                    if backend.starts_with("uring") {
                        assert_eq!(setup["fixedbufs"], fixed, "{what}: {setup:?}");
                        assert_eq!(setup["o_direct"], backend == "uring-direct", "{what}");
                        assert!(setup["setup_flags"].is_array(), "{what}: {setup:?}");
                    } else {
                        assert_eq!(setup["tasks"], depth, "{what}: {setup:?}");
                    }
                    let s = m.submit.as_ref().unwrap_or_else(|| panic!("{what}: no submit-side times"));
                    assert!(s.calls > 0 && s.ops >= s.calls, "{what}: {s:?}");
                }
            }
        }
    }
}

#[test]
fn durability_policies_issue_their_syncs() {
    let dir = TempDir::new("async-durable");
    let uring = uring_available("durability_policies_issue_their_syncs");
    for (backend, policy) in [
        ("uring", "fsync:8"),
        ("uring-direct", "fdatasync:4"),
        ("uring", "odsync"),
        ("tokio", "fdatasync:8"),
        ("tokio-pread", "fsync:8"),
        ("tokio", "odsync"),
    ] {
        if backend.starts_with("uring") && !uring {
            continue;
        }
        let mut r = raw(&dir, backend, "randwrite", 8);
        r.durability = Some(policy.into());
        let p = plan_of(&r);
        let m = run_ok(&p);
        assert_eq!(m.write_ops, 256, "{backend} {policy}");
        match policy {
            "odsync" => assert!(m.sync.is_none(), "{backend} {policy}: O_DSYNC issues no sync operations"),
            _ => {
                let every: u64 = policy.split(':').nth(1).unwrap().parse().unwrap();
                let syncs = m.sync.as_ref().map_or(0, |s| s.ops);
                // The last sync may be cut off by the end of the run.
                assert!(syncs + 1 >= 256 / every, "{backend} {policy}: {syncs} syncs");
            }
        }
        assert!(m.final_sync_ns.is_some(), "{backend} {policy}");
    }
    data_of(&plan_of(&raw(&dir, "buffered", "randread", 1))).verify_all().unwrap();
}

/// Submits reads at distinct offsets, half of them on cached pages and half on evicted ones,
/// straight to the backend, and checks every completion against its own slot's offset. A
/// backend that matched completions to the wrong slot would fail `pattern::verify`, since every
/// page holds its own offset in its first word.
fn reads_complete_into_their_own_buffers(backend_name: &str, must_reorder: bool) {
    let dir = TempDir::new(&format!("async-order-{backend_name}"));
    let depth = 64u32;
    let mut r = raw(&dir, backend_name, "randread", depth);
    r.cache = Some("cold".into());
    let p = plan_of(&r);
    let (data, _) = DataFile::prepare(&p.dir, p.size_bytes, p.seed).unwrap();
    data.set_cache_state(CacheState::Cold).unwrap();
    // Warm every other 64 KiB chunk so that reads alternate between hits and misses.
    let file = std::fs::File::open(&data.path).unwrap();
    let mut chunk = vec![0u8; 64 << 10];
    for i in (0..data.size / (64 << 10)).step_by(2) {
        file.read_exact_at(&mut chunk, i * (64 << 10)).unwrap();
    }
    let mut backends = backend::open(&p, &data, &backend::BuiltIn).unwrap();
    let b = backends[0].as_mut();
    let mut pool = BufferPool::new(depth as usize, 4096, 4096).unwrap();
    b.register(&mut pool).unwrap();
    b.bind_thread().unwrap();
    // Slot i reads page 16 * i + 8 * (i % 2): odd slots hit cold chunks, even slots warm ones.
    let ops: Vec<Op> = (0..depth)
        .map(|i| Op { kind: OpKind::Read, offset: (16 * i as u64 + 8 * (i as u64 % 2)) * 4096, len: 4096, slot: i })
        .collect();
    for op in &ops {
        b.submit(*op, pool.slot_mut(op.slot)).unwrap();
    }
    let mut done: Vec<Completion> = Vec::new();
    while done.len() < depth as usize {
        b.reap(1, &mut done).unwrap();
    }
    assert_eq!(done.len(), depth as usize, "{backend_name}: one completion per operation");
    let order: Vec<u32> = done.iter().map(|c| c.slot).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..depth).collect::<Vec<_>>(), "{backend_name}: each slot completes once");
    for c in &done {
        let op = ops[c.slot as usize];
        assert_eq!(c.result, 4096, "{backend_name}: slot {}", c.slot);
        block::verify(p.seed, op.offset, &pool.slot(c.slot)[..4096])
            .unwrap_or_else(|m| panic!("{backend_name}: slot {} holds the wrong page: {m}", c.slot));
    }
    let in_order = order.windows(2).all(|w| w[0] < w[1]);
    if must_reorder {
        assert!(!in_order, "{backend_name}: cached reads should overtake uncached ones: {order:?}");
    } else if in_order {
        eprintln!("{backend_name}: completions happened to arrive in order this time");
    }
}

#[test]
fn out_of_order_completions_land_in_their_own_buffers() {
    if uring_available("out_of_order_completions") {
        // Cached pages complete inline during submission, uncached ones later: always reordered.
        reads_complete_into_their_own_buffers("uring", true);
        reads_complete_into_their_own_buffers("uring-direct", false);
    }
    reads_complete_into_their_own_buffers("tokio", false);
    reads_complete_into_their_own_buffers("tokio-pread", false);
}

#[test]
fn thread_histograms_merge_exactly() {
    let dir = TempDir::new("async-threads");
    let mut backends = vec!["null", "buffered", "tokio-pread"];
    if uring_available("thread_histograms_merge_exactly") {
        backends.push("uring");
    }
    for backend in backends {
        let depth = if backend == "null" || backend == "buffered" { 1 } else { 8 };
        let mut r = raw(&dir, backend, "randread", depth);
        r.threads = Some(3);
        let p = plan_of(&r);
        let m = run_ok(&p);
        assert_eq!(m.per_thread.len(), 3, "{backend}");
        let hist = iobench::base::stats::decode(&m.latency_histogram).unwrap();
        assert_eq!(hist.len(), m.ops, "{backend}: the merged histogram counts every operation");
        assert_eq!(m.ops, m.per_thread.iter().map(|t| t.ops).sum::<u64>(), "{backend}");
        assert_eq!(m.ops, 3 * 256, "{backend}: io_size is per thread");
        assert_eq!(m.latency_ns.max, m.per_thread.iter().map(|t| t.latency_ns.max).max().unwrap(), "{backend}");
        assert_eq!(m.latency_ns.min, m.per_thread.iter().map(|t| t.latency_ns.min).min().unwrap(), "{backend}");
        for t in &m.per_thread {
            assert!(t.ops > 0 && t.iops > 0.0 && t.latency_ns.p50 > 0, "{backend}: {t:?}");
        }
    }
}

#[test]
fn uring_options_run_verified_and_are_recorded() {
    let dir = TempDir::new("async-options");
    if !uring_available("uring_options_run_verified_and_are_recorded") {
        return;
    }
    let mut r = raw(&dir, "uring", "randrw", 16);
    r.fixedbufs = Some(toml::Value::Boolean(true));
    r.registerfiles = Some(toml::Value::Integer(1));
    r.sqthread_poll = Some(toml::Value::Boolean(true));
    r.sqthread_poll_idle = Some(cli_value("50ms"));
    r.iodepth_batch_submit = Some(4);
    r.iodepth_batch_complete_min = Some(2);
    r.iodepth_batch_complete_max = Some(8);
    let p = plan_of(&r);
    let o = p.uring.unwrap();
    assert!(o.fixedbufs && o.registerfiles && o.sqthread_poll && o.sqthread_poll_idle_ms == 50);
    assert_eq!((p.iodepth_batch_complete_min, p.iodepth_batch_complete_max), (2, 8));
    let m = run_ok(&p);
    assert_eq!(m.ops, 256);
    assert_eq!(m.verified_blocks, m.read_ops);
    let s = &m.backend_setup;
    assert_eq!(s["sqthread_poll"], true, "{s:?}");
    assert_eq!(s["registerfiles"], true, "{s:?}");
    assert_eq!(s["sqthread_poll_idle_ms"], 50, "{s:?}");
    // SQPOLL cannot have DEFER_TASKRUN: the kernel refuses it and the flag is dropped, as in fio.
    assert!(!s["setup_flags"].as_array().unwrap().iter().any(|f| f == "DEFER_TASKRUN"), "{s:?}");
    data_of(&p).verify_all().unwrap();
}

#[test]
fn queue_keys_are_validated_with_their_names() {
    let dir = TempDir::new("async-keys");
    let check = |f: &dyn Fn(&mut RawWorkload), key: &str| {
        let mut r = raw(&dir, "uring", "randread", 8);
        f(&mut r);
        let e = Plan::from_raw(&r, PlanContext::default()).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{key}: ")), "{e}");
    };
    check(&|r| r.iodepth_batch_complete_min = Some(9), "iodepth_batch_complete_min");
    check(&|r| r.iodepth_batch_submit = Some(9), "iodepth_batch_submit");
    check(
        &|r| {
            r.iodepth_batch_complete_min = Some(4);
            r.iodepth_batch_complete_max = Some(2);
        },
        "iodepth_batch_complete_max",
    );
    check(&|r| r.sqthread_poll_idle = Some(cli_value("10ms")), "sqthread_poll_idle");
    check(&|r| r.fixedbufs = Some(cli_value("yes")), "fixedbufs");
    // io_uring keys on another backend are reported in a note, not silently dropped.
    let mut r = raw(&dir, "tokio", "randread", 8);
    r.fixedbufs = Some(toml::Value::Boolean(true));
    let (p, notes) = Plan::from_raw(&r, PlanContext::default()).unwrap();
    assert!(p.uring.is_none());
    assert_eq!(notes, ["fixedbufs applies only to uring and uring-direct: not used by tokio"]);
}

const PERM_REASON: &str = "io_uring_setup was refused with EPERM although kernel.io_uring_disabled allows it, so a \
                           seccomp filter (container profile) blocks io_uring; allow it, or use --backend buffered";

#[test]
fn unavailable_io_uring_is_skipped_with_its_reason_and_the_rest_runs() {
    let dir = TempDir::new("async-inject");
    let out_path = dir.path().join("r.json");
    let run = |inject: &str| {
        common::command()
            .env(backend::uring::INJECT_ENV, inject)
            .args(["run", "--backend", "uring,null", "--size", "1m", "--runtime", "100ms", "--iodepth", "4"])
            .args(["--dir", dir.str(), "-o", out_path.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let sysctl = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").unwrap_or_default();
    let out = run("EPERM");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let results = Results::read(&out_path).unwrap();
    assert_eq!(results.runs.len(), 2);
    assert_eq!(results.runs[0].status, RunStatus::Skipped);
    assert_eq!(results.runs[1].status, RunStatus::Ok, "null still runs");
    let reason = results.runs[0].reason.clone().unwrap();
    if sysctl.trim() == "0" {
        assert_eq!(reason, PERM_REASON);
    }
    let line = format!("[1/2] randread-4k-warm on uring: skipped: {reason}\n");
    assert!(stderr(&out).contains(&line), "{}", stderr(&out));
    assert!(stdout(&out).contains(&format!("  uring         skipped: {reason}\n")), "{}", stdout(&out));

    let out = run("ENOSYS");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "on uring: skipped: this kernel has no io_uring (io_uring_setup: ENOSYS; built without CONFIG_IO_URING, \
             or hidden by seccomp); use --backend buffered\n"
        ),
        "{}",
        stderr(&out)
    );
    if uring_available("no-opcode injection") {
        let out = run("no-opcode");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "on uring: skipped: this kernel's io_uring lacks IORING_OP_READ (the probe does not list it); \
                 use --backend buffered\n"
            ),
            "{}",
            stderr(&out)
        );
    }
    let out = run("EWHAT");
    assert_eq!(out.status.code(), Some(2), "a bad injection value is bad input: {}", stderr(&out));
    // Sanity: the plain binary helper still works without injection.
    let out = iobench(&["run", "--backend", "null", "--size", "1m", "--runtime", "50ms", "--dir", dir.str()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
