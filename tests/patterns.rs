//! The article's usage patterns: record files verified after updates on every backend, scan
//! counts equal to the generated ones on every variant, and the ipc ping-pong completing with
//! matching counters and ending cleanly when either side dies.

mod common;

use common::{TempDir, iobench, skip, stderr, stdout};
use iobench::datafile::{log, records as record_file};
use iobench::patterns::records;
use iobench::result::patterns::PatternFigures;
use iobench::result::{Results, RunResult, RunStatus};
use iobench::workload::plan::{Plan, PlanContext};
use iobench::workload::raw::{RawWorkload, cli_value};
use iobench::{Error, engine};
use std::os::unix::fs::FileExt;
use std::time::{Duration, Instant};

fn plan(dir: &TempDir, backend: &str, rw: &str, extra: impl FnOnce(&mut RawWorkload)) -> Plan {
    let mut raw = RawWorkload {
        name: Some(format!("{rw}-{backend}")),
        backend: Some(backend.into()),
        rw: Some(rw.into()),
        size: Some(cli_value("1m")),
        runtime: Some(cli_value("5s")),
        dir: Some(dir.str().into()),
        ..Default::default()
    };
    extra(&mut raw);
    // Several backends: settings that do not apply to one become notes, as on the command line.
    let ctx = PlanContext { mixed_backends: true, several_backends: true };
    Plan::from_raw(&raw, ctx).unwrap_or_else(|e| panic!("{backend} {rw}: {e}")).0
}

/// Runs `p`; a backend this machine cannot run (io_uring disabled) may come back skipped.
fn run_ok(p: &Plan) -> Option<RunResult> {
    let r = engine::execute(p, vec![]).unwrap_or_else(|e| panic!("{} {:?}: {e}", p.backend, p.rw));
    match r.status {
        RunStatus::Ok => Some(r),
        RunStatus::Skipped if matches!(p.backend.name(), "uring" | "uring-direct" | "tokio" | "direct") => {
            skip(&format!("{} {:?}", p.backend, p.rw), r.reason.as_deref().unwrap_or("the backend was skipped"));
            None
        }
        s => panic!("{} {:?}: {s:?} {:?}", p.backend, p.rw, r.reason),
    }
}

#[test]
fn record_files_are_verified_after_updates_on_every_backend() {
    let dir = TempDir::new("records");
    let backends = ["mmap", "buffered", "direct", "uring", "uring-direct", "tokio", "tokio-pread"];
    for backend in backends {
        for (rw, dist, io, depth) in [
            ("records", None, "record", 1),
            ("records", Some("zipf:1.2"), "page", 8),
            ("seqrecords", None, "record", 4),
        ] {
            // 32 KiB of 32-byte records: exactly 1024 updates.
            let p = plan(&dir, backend, rw, |r| {
                r.io_size = Some(cli_value("32k"));
                r.random_distribution = dist.map(String::from);
                r.records_io = Some(io.into());
                r.iodepth = Some(depth);
            });
            let Some(r) = run_ok(&p) else { continue };
            let m = r.measured.expect("measured");
            assert_eq!(m.ops, 1024, "{backend} {rw}");
            match m.pattern {
                Some(PatternFigures::Records { updates, updates_checked, records, .. }) => {
                    assert_eq!((updates, updates_checked, records), (1024, 1024, 32768), "{backend} {rw}");
                }
                other => panic!("{backend} {rw}: no record figures: {other:?}"),
            }
        }
    }
}

#[test]
fn damaged_records_are_found_and_the_file_is_regenerated() {
    let dir = TempDir::new("records-damage");
    let (data, before) = record_file::prepare(dir.path(), 64 << 10, 32, 7).unwrap();
    assert_eq!(before, records::Tally { records: 2048, ..Default::default() });
    // Three updates of record 5, written as a program would.
    let file = std::fs::OpenOptions::new().read(true).write(true).open(&data.path).unwrap();
    let mut rec = [0u8; 32];
    file.read_exact_at(&mut rec, 5 * 32).unwrap();
    for _ in 0..3 {
        records::update(&mut rec);
    }
    file.write_all_at(&rec, 5 * 32).unwrap();
    let t = record_file::tally(&data, 32).unwrap();
    assert_eq!((t.updates, t.touched, t.max_updates), (3, 1, 3));
    // Half an update: a torn value is named with its record.
    rec[8] ^= 0x10;
    file.write_all_at(&rec, 5 * 32).unwrap();
    let err = record_file::tally(&data, 32).unwrap_err();
    assert!(matches!(err, Error::Verify(_)) && err.to_string().contains("record 5 at offset 160"), "{err}");
    // A damaged file of iobench's own is regenerated.
    let (_, again) = record_file::prepare(dir.path(), 64 << 10, 32, 7).unwrap();
    assert_eq!(again.updates, 0);
}

#[test]
fn scan_counts_equal_the_generated_counts_on_every_variant() {
    let dir = TempDir::new("scan");
    let (_, want) = log::prepare(dir.path(), 1 << 20, 0x0010_bec4).unwrap();
    for backend in ["mmap", "buffered", "direct", "lines", "uring", "uring-direct", "tokio"] {
        for cache in ["warm", "cold"] {
            let p = plan(&dir, backend, "scan", |r| {
                // Two scans warm; cold runs one scan by default.
                r.io_size = (cache == "warm").then(|| cli_value("2m"));
                r.bs = Some(cli_value("16k"));
                r.iodepth = Some(4);
                r.cache = Some(cache.into());
            });
            let Some(r) = run_ok(&p) else { continue };
            let m = r.measured.expect("measured");
            let scans = if cache == "cold" { 1 } else { 2 };
            assert_eq!((m.ops, m.bytes), (scans, scans << 20), "{backend} {cache}");
            match m.pattern {
                Some(PatternFigures::Scan { lines_per_scan, matches_per_scan, scans_checked, .. }) => {
                    assert_eq!((lines_per_scan, matches_per_scan), (want.lines, want.matches), "{backend}");
                    assert_eq!(scans_checked, scans, "{backend} {cache}");
                }
                other => panic!("{backend}: no scan figures: {other:?}"),
            }
        }
    }
}

#[test]
fn a_wrong_count_fails_the_scan() {
    let dir = TempDir::new("scan-wrong");
    let (data, _) = log::prepare(dir.path(), 256 << 10, 0x0010_bec4).unwrap();
    // Turn one ERROR line into a WARN-like one, keeping the file's size and header.
    let mut text = std::fs::read(&data.path).unwrap();
    let at = text.windows(7).position(|w| w == b" ERROR ").expect("an ERROR line");
    text[at + 3] = b'X';
    std::fs::write(&data.path, &text).unwrap();
    for backend in ["mmap", "lines"] {
        let p = plan(&dir, backend, "scan", |r| {
            r.size = Some(cli_value("256k"));
            r.io_size = Some(cli_value("256k"));
        });
        let err = engine::execute(&p, vec![]).expect_err("a wrong count fails the run");
        assert!(err.to_string().contains("matches, but"), "{backend}: {err}");
    }
}

#[test]
fn bad_pattern_keys_name_the_fix() {
    let dir = TempDir::new("patterns-input");
    let d = dir.str();
    for (args, want) in [
        (vec!["--rw", "records", "--bs", "4k"], "record_size"),
        (vec!["--rw", "records", "--record-size", "20"], "multiple of 8"),
        (vec!["--rw", "records", "--threads", "2"], "threads = 1"),
        (vec!["--rw", "records", "--records-io", "sector"], "record or page"),
        (vec!["--rw", "scan", "--size", "16k"], "at least 64k"),
        (vec!["--rw", "seqrecords", "--random-distribution", "zipf:1.1"], "random patterns"),
    ] {
        let mut all = vec!["run", "--dir", d, "--runtime", "100ms"];
        all.extend(args.iter().copied());
        let o = iobench(&all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

fn ipc_results(path: &std::path::Path) -> iobench::result::ipc::IpcReport {
    Results::read(path).expect("results document").ipc.expect("ipc section")
}

#[test]
fn ipc_round_trips_complete_with_matching_counters() {
    let dir = TempDir::new("ipc");
    let out = dir.path().join("ipc.json");
    let args = ["ipc", "--exchanges", "3000", "--runtime", "10s", "--msync-updates", "5", "--dir", dir.str()];
    let o = iobench(&[&args[..], &["-o", out.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("mmap-futex") && stdout(&o).contains("msync"), "{}", stdout(&o));
    let r = ipc_results(&out);
    assert_eq!(r.modes.len(), 4);
    for m in &r.modes {
        assert_eq!(m.status, RunStatus::Ok, "{:?}: {:?}", m.mode, m.reason);
        assert_eq!((m.round_trips, m.child_round_trips), (3000, Some(3000)), "{:?}", m.mode);
        assert!(m.round_trip_ns.p50 > 0);
    }
    let v = r.visibility.expect("visibility claim");
    assert!(v.seen_by_fresh_mapping && v.seen_by_read, "{v:?}");
    assert_eq!(r.msync.expect("msync claim").updates, 5);
    // The shared file is removed.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.ends_with(".shm")), "{names:?}");
}

#[test]
fn ipc_parent_fails_cleanly_when_the_child_dies() {
    let dir = TempDir::new("ipc-child-dies");
    let out = dir.path().join("ipc.json");
    let t = Instant::now();
    let args = ["ipc", "--exchanges", "100000", "--die-after", "50", "--timeout", "2s", "--msync-updates", "0"];
    let o = iobench(&[&args[..], &["--dir", dir.str(), "-o", out.to_str().unwrap()]].concat());
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    assert!(t.elapsed() < Duration::from_secs(30), "bounded waits");
    let r = ipc_results(&out);
    for m in &r.modes {
        assert_eq!(m.status, RunStatus::Failed, "{:?}", m.mode);
        assert!(m.reason.as_deref().unwrap_or("").contains("after 50 round trips"), "{:?}: {:?}", m.mode, m.reason);
    }
}

/// Pids of `ipc-child` processes whose command line names `dir`.
fn children_in(dir: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd);
        if cmd.contains("ipc-child") && cmd.contains(dir) {
            pids.push(pid);
        }
    }
    pids
}

#[test]
fn ipc_child_exits_when_the_parent_dies() {
    let dir = TempDir::new("ipc-parent-dies");
    let mut parent = common::command()
        .args(["ipc", "--modes", "mmap-futex", "--exchanges", "1000000000", "--runtime", "60s"])
        .args(["--msync-updates", "0", "--dir", dir.str()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let child = loop {
        if let Some(&pid) = children_in(dir.str()).first() {
            break pid;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the child never started");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(Duration::from_millis(100));
    parent.kill().unwrap();
    parent.wait().unwrap();
    let killed = Instant::now();
    while std::path::Path::new(&format!("/proc/{child}/cmdline")).exists()
        && std::fs::read(format!("/proc/{child}/cmdline")).is_ok_and(|c| !c.is_empty())
    {
        assert!(killed.elapsed() < Duration::from_secs(10), "the child outlived its parent");
        std::thread::sleep(Duration::from_millis(20));
    }
}
