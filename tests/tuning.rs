//! Issue 4: every madvise/fadvise setting reaches the kernel (shown by evidence, not flags),
//! cache states are checked, bad tuning is refused with the key named, and system knobs are
//! restored after an injected error. Small files (64 MiB) and short runs; no timing asserted.
//!
//! The tests in this file run one at a time (`SERIAL`): page-cache state and process-wide
//! counters would otherwise leak between them.

mod common;

use common::TempDir;
use iobench::base::error::Error;
use iobench::datafile::blocks::DataFile;
use iobench::engine;
use iobench::observe::evidence::Evidence;
use iobench::os::knobs::{self, KnobGuard};
use iobench::result::{Measured, RunResult, RunStatus};
use iobench::workload::plan::{Plan, PlanContext};
use iobench::workload::raw::{RawWorkload, cli_value};
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const SIZE: &str = "64m";

fn raw(dir: &TempDir, backend: &str, rw: &str, extra: impl FnOnce(&mut RawWorkload)) -> RawWorkload {
    let mut raw = RawWorkload {
        backend: Some(backend.into()),
        rw: Some(rw.into()),
        bs: Some(cli_value("4k")),
        size: Some(cli_value(SIZE)),
        io_size: Some(cli_value("8m")),
        runtime: Some(cli_value("1s")),
        cache: Some("cold".into()),
        dir: Some(dir.str().into()),
        ..Default::default()
    };
    extra(&mut raw);
    raw
}

fn plan(dir: &TempDir, backend: &str, rw: &str, extra: impl FnOnce(&mut RawWorkload)) -> Plan {
    Plan::from_raw(&raw(dir, backend, rw, extra), PlanContext::default()).expect("valid plan").0
}

fn run_ok(p: &Plan) -> Measured {
    let r: RunResult = engine::execute(p, vec![]).unwrap_or_else(|e| panic!("{:?}: {e}", p.tuning));
    assert_eq!(r.status, RunStatus::Ok, "{:?}: {:?}", p.tuning, r.reason);
    r.measured.unwrap()
}

/// Major faults of the worker threads only (the series counts them per thread), so nothing
/// else in the process can add to them.
fn worker_major_faults(m: &Measured) -> u64 {
    m.series.points.iter().map(|p| p.major_faults).sum()
}

fn mapping(e: &Evidence) -> &iobench::observe::evidence::MappingEvidence {
    e.mapping.as_ref().expect("mmap runs report their mapping's smaps entry")
}

#[test]
fn mmap_advice_reaches_the_kernel() {
    let _s = serial();
    let dir = TempDir::new("tuning-advice");
    let mut faults = std::collections::HashMap::new();
    let mut willneed_start = 0.0;
    for (advice, flag) in [
        ("random", Some("rr")),
        ("sequential", Some("sr")),
        ("hugepage", Some("hg")),
        ("nohugepage", Some("nh")),
        ("normal", None),
        // Last: the readahead WILLNEED starts may still be landing pages when the next cell
        // evicts the file, which would make that cell's cold start not quite cold.
        ("willneed", None),
    ] {
        let p = plan(&dir, "mmap", "randread", |r| r.advice = Some(advice.into()));
        let m = run_ok(&p);
        let map = mapping(&m.evidence);
        if let Some(flag) = flag {
            assert!(map.vm_flags.iter().any(|f| f == flag), "{advice}: VmFlags {:?} lack {flag}", map.vm_flags);
        }
        assert!(m.evidence.setup.iter().any(|s| s == &format!("madvise {advice}: applied")), "{:?}", m.evidence.setup);
        let start = m.evidence.resident_start_pct.unwrap();
        if advice == "willneed" {
            // MADV_WILLNEED starts readahead at once, asynchronously: by the first operation some
            // pages have usually landed; if none has yet, the run must show it through fewer major
            // faults than `normal` (checked below).
            willneed_start = start;
        } else {
            assert_eq!(start, 0.0, "{advice}: cold start");
        }
        if advice == "nohugepage" {
            assert_eq!(map.pmd_mapped_bytes, 0, "MADV_NOHUGEPAGE forbids PMD mappings");
        }
        faults.insert(advice, (worker_major_faults(&m), m.ops));
        let (majflt, pmd) = (worker_major_faults(&m), map.pmd_mapped_pct);
        eprintln!("{advice}: {majflt} major faults in {} reads, PMD-mapped {pmd:.0}%", m.ops);
    }
    // MADV_RANDOM turns fault read-around off: (nearly) one major fault per new page touched,
    // 2048 reads over 16384 pages. Sequential reads ahead, so most later reads hit the cache.
    let (random, ops) = faults["random"];
    let (sequential, _) = faults["sequential"];
    assert!(random * 2 >= ops, "random: {random} major faults for {ops} reads");
    assert!(sequential * 2 < random, "sequential {sequential} vs random {random} major faults");
    let (willneed, _) = faults["willneed"];
    let (normal, _) = faults["normal"];
    assert!(
        willneed_start > 0.0 || willneed < normal,
        "willneed read nothing in before the first operation, and faulted {willneed} times vs normal's {normal}"
    );
}

#[test]
fn prefault_leaves_no_major_faults_in_the_measured_interval() {
    let _s = serial();
    let dir = TempDir::new("tuning-populate");
    for populate in ["populate-read", "map-populate"] {
        let p = plan(&dir, "mmap", "randread", |r| r.populate = Some(populate.into()));
        let m = run_ok(&p);
        let faults = worker_major_faults(&m);
        assert!(faults * 100 <= m.ops, "{populate}: {faults} major faults in {} reads", m.ops);
        assert!(m.evidence.resident_start_pct.unwrap() > 99.0, "{populate}: {:?}", m.evidence.resident_start_pct);
        assert!(m.cache.resident_before_pct <= 1.0, "{populate}: the file was cold before the prefault");
    }
    // Writable mappings prefault with MADV_POPULATE_WRITE.
    let p = plan(&dir, "mmap", "randwrite", |r| r.populate = Some("populate-write".into()));
    let m = run_ok(&p);
    assert!(m.evidence.setup.iter().any(|s| s.starts_with("MADV_POPULATE_WRITE")), "{:?}", m.evidence.setup);
    // A private mapping reads the same bytes.
    let p = plan(&dir, "mmap", "randread", |r| {
        r.map = Some("private".into());
        r.verify = Some(true.into());
    });
    let m = run_ok(&p);
    assert_eq!(m.verified_blocks, m.ops);
    assert!(m.evidence.setup.iter().any(|s| s == "mmap: private mapping"));
}

#[test]
fn collapse_runs_or_is_skipped_with_the_kernel_named() {
    let _s = serial();
    let dir = TempDir::new("tuning-collapse");
    let p = plan(&dir, "mmap", "read", |r| {
        r.collapse = Some(true.into());
        r.cache = Some("warm".into());
    });
    let r = engine::execute(&p, vec![]).unwrap();
    match r.status {
        RunStatus::Ok => {
            let setup = &r.measured.unwrap().evidence.setup;
            assert!(setup.iter().any(|s| s.starts_with("MADV_COLLAPSE")), "{setup:?}");
        }
        RunStatus::Skipped => assert!(r.reason.as_deref().unwrap().contains("kernel"), "{:?}", r.reason),
        RunStatus::Failed => panic!("collapse failed: {:?}", r.reason),
    }
}

#[test]
fn fadvise_reaches_the_kernel() {
    let _s = serial();
    let dir = TempDir::new("tuning-fadvise");
    // Sequential 4 KiB reads of the first 1 MiB: POSIX_FADV_RANDOM turns readahead off, so
    // exactly what was read is cached; SEQUENTIAL reads (further) ahead.
    let mut resident = std::collections::HashMap::new();
    for hint in ["random", "sequential", "normal", "noreuse"] {
        let p = plan(&dir, "buffered", "read", |r| {
            r.fadvise = Some(hint.into());
            r.io_size = Some(cli_value("1m"));
        });
        let m = run_ok(&p);
        assert!(m.evidence.setup.iter().any(|s| s.starts_with(&format!("posix_fadvise {hint}: applied"))));
        resident.insert(hint, m.evidence.resident_end_pct.unwrap());
    }
    let read_pct = 100.0 / 64.0;
    assert!(resident["random"] <= read_pct + 0.1, "random: {resident:?}");
    assert!(resident["sequential"] > resident["random"] + 0.1, "sequential reads ahead: {resident:?}");
    eprintln!("resident after 1 MiB of sequential reads, by hint: {resident:?}");
    // WILLNEED reads ahead (up to read_ahead_kb) whatever the workload touches.
    let p = plan(&dir, "buffered", "randread", |r| {
        r.fadvise = Some("willneed".into());
        r.io_size = Some(cli_value("64k"));
    });
    let m = run_ok(&p);
    let p = plan(&dir, "buffered", "randread", |r| r.io_size = Some(cli_value("64k")));
    let plain = run_ok(&p);
    assert!(
        m.evidence.resident_end_pct.unwrap() > plain.evidence.resident_end_pct.unwrap() + 0.1,
        "willneed {:?} vs none {:?}",
        m.evidence.resident_end_pct,
        plain.evidence.resident_end_pct
    );
}

#[test]
fn huge_page_buffers_are_backed_as_reported() {
    let _s = serial();
    let dir = TempDir::new("tuning-buffers");
    let p = plan(&dir, "buffered", "randread", |r| {
        r.buffers = Some("hugepage".into());
        r.cache = Some("warm".into());
    });
    let m = run_ok(&p);
    let line = m.evidence.setup.iter().find(|s| s.starts_with("I/O buffers: hugepage")).expect("buffers described");
    assert!(line.contains("AnonHugePages"), "{line}");
}

#[test]
fn evidence_covers_the_measured_interval() {
    let _s = serial();
    let dir = TempDir::new("tuning-evidence");
    let p = plan(&dir, "mmap", "randread", |r| r.advice = Some("random".into()));
    let m = run_ok(&p);
    let e = &m.evidence;
    assert!(e.vmstat_delta.contains_key("pgmajfault") && e.vmstat_delta.contains_key("pgfault"));
    assert!(e.smaps_rollup_end.contains_key("rss_bytes"));
    assert!(!e.thp_enabled.is_empty());
    let map = mapping(e);
    assert_eq!(map.size_bytes, 64 << 20);
    assert!(e.resident_end_pct.unwrap() > 0.0, "the run read pages in");
    // Cold random reads with MADV_RANDOM: this process read from storage at least what it faulted.
    if let Some(read) = e.process_read_bytes {
        assert!(read >= worker_major_faults(&m) * 4096 / 2, "{read} bytes for {} faults", worker_major_faults(&m));
    }
    if !e.device.is_empty() {
        assert!(e.device_read_bytes.is_some() && e.read_amplification.is_some());
    }
    let json = serde_json::to_value(&m).unwrap();
    assert!(json["evidence"]["mapping"]["pmd_mapped_pct"].is_number());
}

#[test]
fn series_interval_is_a_key_with_a_minimum() {
    let _s = serial();
    let dir = TempDir::new("tuning-series");
    let p = plan(&dir, "buffered", "randread", |r| {
        r.series_interval = Some(cli_value("100ms"));
        r.io_size = None;
        r.runtime = Some(cli_value("500ms"));
        r.cache = Some("warm".into());
    });
    assert_eq!(p.series_interval_ns, Some(100_000_000));
    let m = run_ok(&p);
    assert_eq!(m.series.interval_ns, 100_000_000);
    assert!(m.series.points.len() >= 4, "{} points", m.series.points.len());
    let too_short = raw(&dir, "buffered", "randread", |r| r.series_interval = Some(cli_value("10ms")));
    let err = Plan::from_raw(&too_short, PlanContext::default()).unwrap_err();
    assert!(err.to_string().starts_with("series_interval: "), "{err}");
}

#[test]
fn residency_checks_pass_and_fail_as_they_should() {
    let _s = serial();
    let dir = TempDir::new("tuning-residency");
    let warm = plan(&dir, "buffered", "randread", |r| r.cache = Some("warm".into()));
    assert!(run_ok(&warm).cache.resident_before_pct >= 99.0);
    let cold = plan(&dir, "buffered", "randread", |_| {});
    assert!(run_ok(&cold).cache.resident_before_pct <= 1.0);
    // Pages a process maps and touches cannot be evicted: cold must refuse to start.
    let (data, _) = DataFile::prepare(dir.path(), cold.size_bytes, cold.seed).unwrap();
    let file = std::fs::File::open(&data.path).unwrap();
    // SAFETY: a read-only mapping of the test's own file, dropped before the file is.
    let map = unsafe { memmap2::Mmap::map(&file) }.unwrap();
    let touched: u64 = map.iter().step_by(4096).map(|b| *b as u64).sum();
    std::hint::black_box(touched);
    let err = match engine::execute(&cold, vec![]) {
        Err(e) => e.to_string(),
        Ok(r) => panic!("cold run with mapped pages: {:?} {:?}", r.status, r.reason),
    };
    assert!(err.starts_with("cache = cold:") && err.contains("--drop-caches"), "{err}");
    drop(map);
}

#[test]
fn tuning_that_does_not_apply_is_refused_or_noted() {
    let dir = TempDir::new("tuning-validate");
    let bad = |backend: &str, rw: &str, extra: fn(&mut RawWorkload)| {
        Plan::from_raw(&raw(&dir, backend, rw, extra), PlanContext::default()).unwrap_err().to_string()
    };
    let err = bad("buffered", "randread", |r| r.advice = Some("random".into()));
    assert!(err.starts_with("advice: applies only to mmap"), "{err}");
    assert!(bad("mmap", "randread", |r| r.fadvise = Some("random".into())).starts_with("fadvise: applies only to"));
    assert!(bad("direct", "randread", |r| r.fadvise = Some("random".into())).starts_with("fadvise: "));
    assert!(bad("mmap", "randread", |r| r.buffers = Some("hugepage".into())).starts_with("buffers: "));
    assert!(bad("mmap", "randwrite", |r| r.map = Some("private".into())).starts_with("map: writes to a private"));
    assert!(bad("mmap", "randread", |r| r.populate = Some("populate-write".into())).starts_with("populate: "));
    assert!(bad("mmap", "randread", |r| r.advice = Some("sideways".into())).starts_with("advice: unknown value"));
    assert!(bad("mmap", "randread", |r| r.thp_system = Some("sometimes".into())).starts_with("thp_system: "));
    assert!(bad("mmap", "randread", |r| r.read_ahead_kb = Some(-1)).starts_with("read_ahead_kb: "));
    // Several backends: left off for the one it does not apply to, with a note.
    let ctx = PlanContext { several_backends: true, ..Default::default() };
    let advised = |backend: &str| raw(&dir, backend, "randread", |r| r.advice = Some("random".into()));
    let (p, notes) = Plan::from_raw(&advised("buffered"), ctx).unwrap();
    assert_eq!(p.tuning.advice, None);
    assert!(notes.iter().any(|n| n.contains("advice applies only to mmap")), "{notes:?}");
    let (p, _) = Plan::from_raw(&advised("mmap"), ctx).unwrap();
    assert_eq!(p.tuning.advice, Some(iobench::os::advice::Advice::Random));
    // Recorded in every result.
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["tuning"]["advice"], "random");
    assert_eq!(json["tuning"]["buffers"], "plain");
}

/// A fake THP `enabled` file: the real one is system-wide and other work shares the machine.
fn fake_knob(dir: &TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("enabled");
    std::fs::write(&path, text).unwrap();
    path
}

fn failing_run(path: &std::path::Path) -> Result<(), Error> {
    let _guard = KnobGuard::set(path, "never")?;
    assert_eq!(std::fs::read_to_string(path).unwrap(), "never");
    Err(Error::System("injected failure".into()))
}

#[test]
fn system_knobs_are_restored_on_error_and_from_the_signal_path() {
    let dir = TempDir::new("tuning-knobs");
    let path = fake_knob(&dir, "always [madvise] never\n");
    assert!(failing_run(&path).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "madvise", "restored after the error");
    // A panic unwinds through the guard too.
    let p = path.clone();
    let caught = std::panic::catch_unwind(move || {
        let _guard = KnobGuard::set(&p, "always").unwrap();
        panic!("injected panic");
    });
    assert!(caught.is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "madvise", "restored after a panic");
    // The second Ctrl-C path: the handler restores with raw writes, then Drop does nothing.
    let guard = KnobGuard::set(&path, "never").unwrap();
    knobs::restore_from_signal();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "madvise", "restored by the signal path");
    std::fs::write(&path, "sentinel").unwrap();
    drop(guard);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "sentinel", "not restored twice");
    // A knob that cannot be written leaves nothing registered.
    assert!(KnobGuard::set(&dir.path().join("missing"), "never").is_err());
}

#[test]
fn environment_names_device_uring_cgroup_and_ceilings() {
    let dir = TempDir::new("tuning-env");
    let env = iobench::observe::environment::Environment::capture(dir.path());
    if let Some(d) = &env.block_device {
        assert!(!d.name.is_empty() && d.logical_block_bytes >= 512, "{d:?}");
    }
    assert!(env.io_uring.available || env.io_uring.error.is_some(), "{:?}", env.io_uring);
    assert!(env.memory_ceilings.is_none(), "library captures skip the ceilings unless asked");
    let c = iobench::observe::ceilings::measure_memory(32 << 20, 2);
    assert!(c.read_bytes_per_s > 0.0 && c.memcpy_bytes_per_s > 0.0, "{c:?}");
    // The CLI measures them and prints a human layout (JSON with --json).
    let out = common::iobench(&["env", "--dir", dir.str()]);
    let text = common::stdout(&out);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(text.contains("memory read") && text.contains("memcpy") && text.contains("io_uring"), "{text}");
}

#[test]
fn iowq_workers_are_counted_by_thread_name() {
    let before = iobench::observe::evidence::count_iowq_workers();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::Builder::new().name("iou-wrk-fake".into()).spawn(move || rx.recv()).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(iobench::observe::evidence::count_iowq_workers(), before + 1);
    tx.send(()).unwrap();
    let _ = t.join();
}
