//! Issue 7: the memory-limit and address-space child processes, windowed mmap, the verdict
//! rules on fixed inputs (every verdict reachable), and `iobench reproduce` end to end.

mod common;

use common::article::*;
use common::{TempDir, iobench, skip, stderr, stdout};
use iobench::article::{Verdict, evaluate};
use iobench::result::{Results, RunStatus};
use serde_json::Value;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Root and a memory cgroup controller (v1 or v2): what memory_limit needs.
fn can_limit_memory() -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    is_root() && mounts.lines().any(|l| l.contains(" cgroup ") && l.contains("memory") || l.contains(" cgroup2 "))
}

fn read(path: &std::path::Path) -> Results {
    Results::read(path).expect("results file")
}

fn isolation_of(r: &iobench::result::RunResult) -> serde_json::Map<String, Value> {
    let m = r.measured.as_ref().expect("measured");
    m.backend_setup.get("isolation").and_then(Value::as_object).cloned().expect("isolation evidence")
}

#[test]
fn memory_limit_runs_in_a_fresh_cgroup_that_is_removed() {
    if !can_limit_memory() {
        return skip(
            "memory_limit_runs_in_a_fresh_cgroup_that_is_removed",
            "needs root and a memory cgroup controller",
        );
    }
    let dir = TempDir::new("article-memlimit");
    let out = dir.path().join("r.json");
    let o = iobench(&[
        "run",
        "--backend",
        "buffered,mmap",
        "--rw",
        "randread",
        "--size",
        "64m",
        "--memory-limit",
        "16m",
        "--cache",
        "cold",
        "--runtime",
        "300ms",
        "--dir",
        dir.str(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = read(&out);
    assert_eq!(results.runs.len(), 2);
    for r in &results.runs {
        assert_eq!(r.status, RunStatus::Ok, "{:?}", r.reason);
        let iso = isolation_of(r);
        // The child saw the limit in force, in the cgroup the parent made for it.
        assert_eq!(iso["memory_limit_in_force_bytes"].as_u64(), Some(16 << 20), "{iso:?}");
        assert_eq!(iso["cgroup_seen"], iso["cgroup"]);
        assert!(iso["peak_usage_bytes"].as_u64().unwrap() <= 16 << 20);
        assert_eq!(iso["cgroup_removed"], Value::Bool(true));
        assert!(!std::path::Path::new(iso["cgroup"].as_str().unwrap()).exists());
        assert!(r.notes.iter().any(|n| n.contains("ran in a child process")), "{:?}", r.notes);
        assert!(r.measured.as_ref().unwrap().ops > 0);
    }
}

#[test]
fn a_child_killed_by_the_oom_killer_is_reported_with_the_limit() {
    if !can_limit_memory() {
        return skip(
            "a_child_killed_by_the_oom_killer_is_reported_with_the_limit",
            "needs root and a memory cgroup controller",
        );
    }
    let dir = TempDir::new("article-oom");
    let out = dir.path().join("r.json");
    // 64 threads × 1 MiB buffers cannot fit in 16 MiB, and anonymous memory cannot be reclaimed.
    let o = iobench(&[
        "run",
        "--backend",
        "buffered",
        "--rw",
        "read",
        "--bs",
        "1m",
        "--threads",
        "64",
        "--size",
        "64m",
        "--memory-limit",
        "16m",
        "--cache",
        "cold",
        "--runtime",
        "300ms",
        "--dir",
        dir.str(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = &read(&out).runs[0];
    assert_eq!(r.status, RunStatus::Failed);
    let reason = r.reason.as_deref().unwrap();
    assert!(reason.contains("OOM killer") && reason.contains("16.0 MiB"), "{reason}");
}

#[test]
fn address_space_limit_makes_a_whole_mapping_fail_as_a_result() {
    let dir = TempDir::new("article-as");
    let out = dir.path().join("r.json");
    let o = iobench(&[
        "run",
        "--backend",
        "mmap,buffered",
        "--rw",
        "read",
        "--bs",
        "1m",
        "--size",
        "48m",
        "--address-space-limit",
        "40m",
        "--runtime",
        "300ms",
        "--dir",
        dir.str(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "the mmap cell fails: {}", stderr(&o));
    let runs = read(&out).runs;
    let mmap = runs.iter().find(|r| r.backend == "mmap").unwrap();
    assert_eq!(mmap.status, RunStatus::Failed);
    assert!(mmap.reason.as_deref().unwrap().contains("mmap failed: ENOMEM"), "{:?}", mmap.reason);
    let pread = runs.iter().find(|r| r.backend == "buffered").unwrap();
    assert_eq!(pread.status, RunStatus::Ok, "{:?}", pread.reason);
    assert_eq!(isolation_of(pread)["address_space_limit_in_force_bytes"].as_u64(), Some(40 << 20));
}

#[test]
fn windowed_mmap_reads_and_writes_verified_bytes() {
    let dir = TempDir::new("article-window");
    let suite = dir.path().join("w.toml");
    // Writes through 1 MiB windows, then reads verified through windows and through pread.
    let text = "[defaults]\nsize = \"16m\"\nruntime = \"300ms\"\nbs = \"64k\"\n\
                [[workload]]\nname = \"w\"\nrw = \"randwrite\"\nbackend = \"mmap\"\nwindow = \"1m\"\n\
                durability = \"msync:8\"\n\
                [[workload]]\nname = \"r\"\nrw = \"randrw\"\nverify = true\nbackend = \"mmap\"\nwindow = \"1m\"\n\
                [[workload]]\nname = \"v\"\nrw = \"read\"\nverify = true\nbackend = \"buffered\"\n";
    std::fs::write(&suite, text).unwrap();
    let out = dir.path().join("r.json");
    let o = iobench(&["run", suite.to_str().unwrap(), "--dir", dir.str(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    for r in read(&out).runs {
        assert_eq!(r.status, RunStatus::Ok, "{}: {:?}", r.workload.name, r.reason);
        let m = r.measured.unwrap();
        if r.workload.name != "w" {
            assert!(m.verified_blocks > 0, "{}", r.workload.name);
        }
        if r.backend == "mmap" {
            assert!(m.backend_setup["windows_mapped"].as_u64().unwrap() > 1, "{:?}", m.backend_setup);
        }
    }
    let o = iobench(&["run", "--backend", "buffered", "--window", "1m", "--dir", dir.str()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("window: applies only to mmap"), "{}", stderr(&o));
}

fn verdict_of(runs: Vec<iobench::result::RunResult>, id: &str) -> Verdict {
    evaluate(&doc(runs)).into_iter().find(|f| f.id == id).expect("finding").verdict
}

fn holds_if(v: &Verdict) -> bool {
    matches!(v, Verdict::HoldsIf(_))
}

fn fails(v: &Verdict) -> bool {
    matches!(v, Verdict::DoesNotHold(d) if !d.is_empty())
}

// The fixtures' environment: read-and-sum 14 GB/s (73.1 ns per KiB), memcpy 12 GB/s (85.3 ns per
// KiB). Single runs: every margin is the 10% noise floor.
const READ_PASS: f64 = 1024.0 / 14.0;
const MEMCPY: f64 = 1024.0 / 12.0;

#[test]
fn copies_boundaries() {
    let keys = "rw = \"read\"\nbs = \"1m\"\nsize = \"1g\"";
    let with = |mmap_ns: f64, pread_ns: f64| {
        vec![
            ok("copies", "mmap", keys, |m| cpu_per_kib(m, mmap_ns)),
            ok("copies", "buffered", keys, |m| cpu_per_kib(m, pread_ns)),
        ]
    };
    let mmap = 80.0;
    // Two copies: pread above (mmap + 1.5 memcpys) × 1.1.
    let two = (mmap + 1.5 * MEMCPY) * 1.1;
    assert_eq!(verdict_of(with(mmap, two * 1.01), "copies"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with(mmap, two * 0.99), "copies")));
    // One copy: above (mmap + 0.5 memcpy) × 1.1; below that read() costs less than a copy.
    let one = (mmap + 0.5 * MEMCPY) * 1.1;
    assert!(holds_if(&verdict_of(with(mmap, one * 1.01), "copies")));
    let v = verdict_of(with(mmap, one * 0.99), "copies");
    assert!(fails(&v) && v.detail().unwrap().contains("memcpy"), "{v:?}");
    // mmap: zero copies while 1.1 × its cost stays under one read pass + half a memcpy.
    let zero = (READ_PASS + 0.5 * MEMCPY) / 1.1;
    assert_eq!(verdict_of(with(zero * 0.99, 1000.0), "copies"), Verdict::Holds);
    let v = verdict_of(with(zero * 1.01, 1000.0), "copies");
    assert!(fails(&v) && v.detail().unwrap().contains("not zero copies"), "{v:?}");
}

#[test]
fn random_access_boundaries() {
    let (warm, cold) = ("rw = \"randread\"\nsize = \"1g\"", "rw = \"randread\"\nsize = \"2g\"\ncache = \"cold\"");
    // (mmap K IOPS, mmap p99 µs) warm and cold; pread: 100 K IOPS / 10 µs warm, 10 K / 100 µs cold.
    let with = |w: (f64, f64), c: (f64, f64)| {
        vec![
            ok("random-warm", "mmap", warm, |m| random_reads(m, w.0, w.1)),
            ok("random-warm", "buffered", warm, |m| random_reads(m, 100.0, 10.0)),
            ok("random-cold", "mmap", cold, |m| random_reads(m, c.0, c.1)),
            ok("random-cold", "buffered", cold, |m| random_reads(m, 10.0, 100.0)),
        ]
    };
    assert_eq!(verdict_of(with((111.0, 10.0), (11.1, 100.0)), "random-access"), Verdict::Holds);
    // Cold just inside the margin: not faster there.
    let v = verdict_of(with((111.0, 10.0), (10.9, 100.0)), "random-access");
    assert!(holds_if(&v) && v.detail().unwrap().contains("warm only"), "{v:?}");
    // The tail: p99 above pread's × 1.1 is worse.
    assert_eq!(verdict_of(with((111.0, 10.9), (11.1, 100.0)), "random-access"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with((111.0, 11.1), (11.1, 100.0)), "random-access")));
    let v = verdict_of(with((109.0, 10.0), (10.9, 100.0)), "random-access");
    assert!(fails(&v), "{v:?}");
}

#[test]
fn sequential_boundaries() {
    // Ceilings: read-and-sum 14, memcpy 12, device 2 GB/s; "excellent" is 80% of them.
    let with = |mmap_warm: f64, read_warm: f64, cold: f64| {
        let mut runs =
            vec![ok("device-ceiling", "uring-direct", "rw = \"read\"\nbs = \"1m\"\niodepth = 32", |m| gbps(m, 2.0))];
        for (name, cache, m, b) in
            [("sequential-warm", "warm", mmap_warm, read_warm), ("sequential-cold", "cold", cold, cold)]
        {
            let keys = format!("rw = \"read\"\nbs = \"1m\"\ncache = \"{cache}\"");
            runs.push(ok(name, "mmap", &keys, |x| gbps(x, m)));
            runs.push(ok(name, "buffered", &keys, |x| gbps(x, b)));
        }
        runs
    };
    assert_eq!(verdict_of(with(11.3, 9.7, 1.62), "sequential"), Verdict::Holds);
    let v = verdict_of(with(11.1, 9.7, 1.62), "sequential");
    assert!(holds_if(&v) && v.detail().unwrap().contains("mmap warm"), "{v:?}");
    assert!(holds_if(&verdict_of(with(11.3, 9.5, 1.62), "sequential")));
    assert!(holds_if(&verdict_of(with(11.3, 9.7, 1.58), "sequential")));
    assert!(fails(&verdict_of(with(11.1, 9.5, 1.58), "sequential")));
    // A device ceiling cold reads exceed by more than 10% is no ceiling: cold parts not judged.
    assert_eq!(verdict_of(with(11.3, 9.7, 2.19), "sequential"), Verdict::Holds);
    let v = verdict_of(with(11.3, 9.7, 2.21), "sequential");
    assert!(holds_if(&v) && v.detail().unwrap().contains("no ceiling"), "{v:?}");
    // Without the device ceiling the cold parts are named as not judged.
    let mut runs = with(11.3, 9.7, 1.62);
    runs.remove(0);
    let v = verdict_of(runs, "sequential");
    assert!(holds_if(&v) && v.detail().unwrap().contains("device"), "{v:?}");
}

#[test]
fn memory_pressure_boundaries() {
    let keys = "rw = \"randread\"\nsize = \"256m\"\nmemory_limit = \"64m\"\ncache = \"cold\"";
    let random = format!("{keys}\nadvice = \"random\"");
    // mmap's address space must grow by 90% of 256 MiB (230.4), read()'s by under 10% (25.6).
    let with = |mmap_vm: u64, pread_vm: u64, mmap_k: f64| {
        vec![
            ok("memory-limit", "mmap", keys, |m| {
                vm(m, 10, 10 + mmap_vm);
                kiops(m, mmap_k);
            }),
            ok("memory-limit", "mmap", &random, |m| {
                vm(m, 10, 10 + mmap_vm);
                kiops(m, 10.0);
            }),
            ok("memory-limit", "buffered", keys, |m| {
                vm(m, 10, 10 + pread_vm);
                kiops(m, 10.0);
            }),
        ]
    };
    assert_eq!(verdict_of(with(231, 25, 9.1), "memory-pressure"), Verdict::Holds);
    // Below pread's IOPS by more than 10%: the default advice's part names the slowdown.
    let v = verdict_of(with(231, 25, 9.0), "memory-pressure");
    assert!(holds_if(&v) && v.detail().unwrap().contains("read_ahead_kb"), "{v:?}");
    assert!(fails(&verdict_of(with(230, 25, 10.0), "memory-pressure")));
    assert!(fails(&verdict_of(with(231, 26, 10.0), "memory-pressure")));
    // Without VmPeak the row names the figure it needs.
    let runs = vec![
        ok("memory-limit", "mmap", keys, |m| kiops(m, 1.0)),
        ok("memory-limit", "mmap", &random, |m| kiops(m, 1.0)),
        ok("memory-limit", "buffered", keys, |m| kiops(m, 1.0)),
    ];
    let v = verdict_of(runs, "memory-pressure");
    assert!(matches!(&v, Verdict::NotMeasured(d) if d.contains("VmPeak")), "{v:?}");
}

#[test]
fn write_persistence_boundaries() {
    let keys = |d: &str| format!("rw = \"randwrite\"\nsize = \"64m\"\ndurability = \"{d}\"");
    // (mmap store, msync) µs per write; plain pwrite 3 µs with 10 ms left to write back;
    // pwrite + fsync 100 µs with 1 ms left.
    let with = |mmap_us: f64, msync_us: f64, plain_left_ms: f64| {
        vec![
            ok("durability", "mmap", &keys("none"), |m| writes(m, mmap_us, None)),
            ok("durability", "mmap", &keys("msync:1"), |m| writes(m, 0.3, Some(msync_us - 0.3))),
            ok("durability", "buffered", &keys("none"), |m| {
                writes(m, 3.0, None);
                final_sync_ms(m, plain_left_ms);
            }),
            ok("durability", "buffered", &keys("fsync:1"), |m| {
                writes(m, 3.0, Some(97.0));
                final_sync_ms(m, 1.0);
            }),
        ]
    };
    // msync(MS_SYNC) within 10% of fsync: both paths alike.
    let v = verdict_of(with(0.3, 109.0, 10.0), "write-persistence");
    assert!(holds_if(&v) && v.detail().unwrap().contains("asynchronous until synced"), "{v:?}");
    assert_eq!(verdict_of(with(0.3, 111.0, 10.0), "write-persistence"), Verdict::Holds);
    // A plain pwrite that left no more to write back than fsync: not asynchronous.
    assert_eq!(verdict_of(with(0.3, 109.0, 1.09), "write-persistence"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with(0.3, 109.0, 1.11), "write-persistence")));
    // mmap stores no cheaper than msync: not asynchronous.
    assert!(fails(&verdict_of(with(100.0, 109.0, 10.0), "write-persistence")));
    assert!(!fails(&verdict_of(with(98.0, 109.0, 10.0), "write-persistence")));
}

#[test]
fn address_space_boundaries() {
    let keys = "rw = \"read\"\nbs = \"1m\"\nsize = \"3900m\"\narch = \"i686\"";
    let windowed = format!("{keys}\nwindow = \"256m\"");
    let file = 3900 * MIB;
    let with = |largest: u64, whole_ok: bool, pread32_ok: bool| {
        vec![
            failed("address-space-32", "mmap", keys, "mmap failed: too large"),
            ok("address-space-32", "mmap", &windowed, |m| probe32(m, file, largest, whole_ok, pread32_ok)),
            ok("address-space-32", "buffered", keys, |m| probe32(m, file, largest, whole_ok, pread32_ok)),
        ]
    };
    // "~2 GB" is 1.6-2.4 GiB.
    let gib = |x: f64| (x * GIB as f64) as u64;
    assert_eq!(verdict_of(with(gib(2.39), false, true), "address-space"), Verdict::Holds);
    let v = verdict_of(with(gib(2.41), false, true), "address-space");
    assert!(holds_if(&v) && v.detail().unwrap().contains("not ~2 GB"), "{v:?}");
    assert!(holds_if(&verdict_of(with(gib(1.59), false, true), "address-space")));
    let v = verdict_of(with(gib(2.0), false, false), "address-space");
    assert!(holds_if(&v) && v.detail().unwrap().contains("large-file support"), "{v:?}");
    assert!(fails(&verdict_of(with(gib(2.0), true, true), "address-space")));
    let v = verdict_of(with(file, false, true), "address-space");
    assert!(matches!(&v, Verdict::NotMeasured(d) if d.contains("fits")), "{v:?}");
    // Without a 32-bit child: the RLIMIT_AS emulation, labelled, naming what it lacks.
    let emu = "rw = \"read\"\nbs = \"1m\"\nsize = \"96m\"\naddress_space_limit = \"64m\"";
    let runs =
        vec![failed("address-space", "mmap", emu, "mmap failed: ENOMEM"), ok("address-space", "buffered", emu, |_| {})];
    let v = verdict_of(runs.clone(), "address-space");
    assert!(holds_if(&v) && v.detail().unwrap().contains("emulation only"), "{v:?}");
    assert!(v.detail().unwrap().contains("address-space-32"), "{v:?}");
    let mapped = vec![ok("address-space", "mmap", emu, |_| {}), runs[1].clone()];
    assert!(fails(&verdict_of(mapped, "address-space")));
}

#[test]
fn uring_sequential_boundaries() {
    // (uring, mmap) GB/s per cell: warm 4k, warm 1m, cold 1m.
    let with = |cells: [(f64, f64); 3]| {
        let mut runs = Vec::new();
        for ((name, bs, cache), (u, m)) in
            [("sequential-warm", "4k", "warm"), ("sequential-warm", "1m", "warm"), ("sequential-cold", "1m", "cold")]
                .into_iter()
                .zip(cells)
        {
            let keys = format!("rw = \"read\"\nbs = \"{bs}\"\ncache = \"{cache}\"");
            runs.push(ok(name, "uring", &format!("{keys}\niodepth = 8"), |x| gbps(x, u)));
            runs.push(ok(name, "mmap", &keys, |x| gbps(x, m)));
        }
        runs
    };
    assert_eq!(verdict_of(with([(2.22, 2.0), (2.22, 2.0), (2.0, 2.0)]), "uring-sequential"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with([(2.22, 2.0), (2.18, 2.0), (2.0, 2.0)]), "uring-sequential")));
    assert!(fails(&verdict_of(with([(2.18, 2.0), (2.18, 2.0), (2.0, 2.0)]), "uring-sequential")));
    // A CPU-bound cold mmap cell is left out: the cell is not compared, and the row says why.
    let mut runs = with([(2.0, 2.0), (2.0, 2.0), (4.0, 1.0)]);
    if let Some(m) = runs.last_mut().and_then(|r| r.measured.as_mut()) {
        cpu_s(m, 0.95, 0.0);
    }
    let f = evaluate(&doc(runs)).into_iter().find(|f| f.id == "uring-sequential").unwrap();
    assert!(fails(&f.verdict), "{:?}", f.verdict);
    assert!(f.left_out.iter().any(|l| l.contains("CPU-bound")), "{:?}", f.left_out);
}

#[test]
fn huge_pages_boundaries() {
    let seq = |a: &str| format!("rw = \"read\"\nbs = \"1m\"\ncache = \"cold\"\nadvice = \"{a}\"");
    // The pass without huge pages: 2 GB/s, 0.1 s/GB of user and of system CPU, p99 1000 µs.
    let with = |gb: f64, user: f64, sys: f64| {
        vec![
            ok("thp-sequential", "mmap", &seq("hugepage"), |m| {
                gbps(m, gb);
                cpu_s(m, user * GIB as f64 / 1e9, sys * GIB as f64 / 1e9);
                latency_us(m, 100.0, 1000.0);
            }),
            ok("thp-sequential", "mmap", &seq("nohugepage"), |m| {
                gbps(m, 2.0);
                cpu_s(m, 0.1 * GIB as f64 / 1e9, 0.1 * GIB as f64 / 1e9);
                latency_us(m, 100.0, 1000.0);
            }),
        ]
    };
    assert_eq!(verdict_of(with(2.22, 0.1, 0.1), "huge-pages"), Verdict::Holds);
    // Nothing differs beyond 10%: does not hold, and says so.
    let v = verdict_of(with(2.18, 0.1, 0.1), "huge-pages");
    assert!(fails(&v) && v.detail().unwrap().contains("no figure"), "{v:?}");
    assert!(fails(&verdict_of(with(1.78, 0.1, 0.1), "huge-pages")));
    // Only the system CPU (fault handling) is cheaper: holds with that condition.
    let v = verdict_of(with(2.0, 0.11, 0.085), "huge-pages");
    assert!(holds_if(&v) && v.detail().unwrap().contains("fault handling"), "{v:?}");
    // Whole CPU per GB higher by more than 10%: worse.
    let v = verdict_of(with(2.0, 0.13, 0.1), "huge-pages");
    assert!(fails(&v) && v.detail().unwrap().contains("CPU"), "{v:?}");
}

#[test]
fn the_guard_leaves_out_cpu_bound_and_scattered_cold_cells() {
    let keys = "rw = \"read\"\nbs = \"1m\"\nsize = \"1g\"\ncache = \"cold\"";
    let run = |cpu: f64, gb: f64| {
        ok("sequential-cold", "mmap", keys, move |m| {
            cpu_s(m, cpu, 0.0);
            gbps(m, gb);
        })
    };
    let cell = |runs: Vec<iobench::result::RunResult>| {
        let d = doc(runs);
        let c = iobench::article::figures::Cell::select(&d, "sequential-cold", |_| true);
        (c.ok().count(), c.guard.whole_cell, c.guard_note().unwrap_or_default())
    };
    // 90% of runtime × threads is CPU-bound; 89% is not.
    assert_eq!(cell(vec![run(0.89, 2.0)]).0, 1);
    let (kept, whole, note) = cell(vec![run(0.91, 2.0)]);
    assert!(kept == 0 && whole && note.contains("CPU-bound"), "{note}");
    // One CPU-bound run of three is left out; the cell stays.
    let (kept, whole, _) = cell(vec![run(0.95, 0.6), run(0.2, 2.0), run(0.2, 2.1)]);
    assert!(kept == 2 && !whole);
    // Repeats more than 2x apart: the whole cell goes.
    assert_eq!(cell(vec![run(0.2, 1.0), run(0.2, 1.99)]).0, 2);
    let (kept, whole, note) = cell(vec![run(0.2, 1.0), run(0.2, 2.01)]);
    assert!(kept == 0 && whole && note.contains("differ"), "{note}");
    // Warm cells are CPU-bound by nature and never guarded.
    let warm = ok("sequential-warm", "mmap", "rw = \"read\"", |m| cpu_s(m, 1.0, 0.0));
    let d = doc(vec![warm]);
    assert!(iobench::article::figures::Cell::select(&d, "sequential-warm", |_| true).is_measured());
}

#[test]
fn missing_runs_are_not_measured_and_say_so() {
    let findings = evaluate(&doc(vec![]));
    assert_eq!(findings.len(), 8);
    for f in findings {
        assert!(matches!(f.verdict, Verdict::NotMeasured(_)), "{}: {:?}", f.id, f.verdict);
        assert!(!f.rule.is_empty(), "{}", f.id);
    }
}

/// Says why a part of a test cannot run here (through `common::skip`: a failure under
/// IOBENCH_REQUIRE_ALL=1).
fn missing_feature(what: &str) {
    skip("part of an article test", what);
}

/// The i686 build beside the binary under test (where .ci/run builds it).
fn i686_binary() -> Option<std::path::PathBuf> {
    let exe = std::path::Path::new(env!("CARGO_BIN_EXE_iobench"));
    let p = exe.parent()?.parent()?.join("i686-unknown-linux-gnu").join(exe.parent()?.file_name()?).join("iobench");
    p.is_file().then_some(p)
}

#[test]
fn a_32bit_child_runs_the_plan_and_probes_its_address_space() {
    if i686_binary().is_none() {
        missing_feature("no i686 build of iobench (see .ci/run)");
        return;
    }
    let dir = TempDir::new("article-i686");
    let out = dir.path().join("r.json");
    // arch = "i686" is a suite key (no flag).
    let suite = dir.path().join("s.toml");
    std::fs::write(
        &suite,
        format!(
            "[[workload]]\nname = \"a32\"\nbackend = \"buffered\"\nrw = \"read\"\nbs = \"1m\"\nsize = \"32m\"\n\
             runtime = \"300ms\"\nverify = true\narch = \"i686\"\ndir = {:?}\n",
            dir.str()
        ),
    )
    .unwrap();
    let o = iobench(&["run", suite.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &read(&out).runs[0];
    assert_eq!(r.status, RunStatus::Ok, "{:?}", r.reason);
    let iso = isolation_of(r);
    assert_eq!(iso["pointer_bits"].as_u64(), Some(32), "{iso:?}");
    let probe = &iso["address_space_probe"];
    assert_eq!(probe["pointer_bits"].as_u64(), Some(32));
    assert_eq!(probe["off_t_bits"].as_u64(), Some(32));
    // A 32-bit process has at most 4 GiB; this one mapped its 32 MiB file whole.
    let largest = probe["largest_mapping_bytes"].as_u64().unwrap();
    assert!(largest > 1 << 30 && largest < 1 << 32, "{largest}");
    assert_eq!(probe["whole_file"]["ok"], Value::Bool(true), "{probe:?}");
    assert!(r.measured.as_ref().unwrap().verified_blocks > 0);
}

#[test]
fn reproduce_writes_the_article_with_eight_measured_verdicts() {
    let dir = TempDir::new("article-reproduce");
    let out = dir.path().join("out");
    let data = dir.path().join("data");
    // --tiny is --quick with files of 64 MiB at most (the 32-bit child's keeps its 3.9 GiB, of
    // which it reads 61 MiB) and 300 ms runs: the test budget.
    let o = iobench(&[
        "reproduce",
        "--tiny",
        "--order-seed",
        "7",
        "--dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let article = std::fs::read_to_string(out.join("ARTICLE.md")).unwrap_or_else(|_| panic!("{}", stderr(&o)));
    assert_eq!(article.matches("\n**Verdict: ").count(), 8, "{article}");
    assert_eq!(article.matches("*Rule:*").count(), 8);
    assert!(article.contains("shuffled order, each repeat shuffled anew (seed 7"), "{article}");
    assert!(out.join("results.json").exists() && out.join("environment.json").exists());
    let findings: Value = serde_json::from_slice(&std::fs::read(out.join("article.json")).unwrap()).unwrap();
    let findings = findings.as_array().unwrap().clone();
    assert_eq!(findings.len(), 8);
    let results = read(&out.join("results.json"));
    let uring = results.environment.io_uring.available;
    let features = [
        (can_limit_memory(), "memory-pressure", "root and a memory cgroup controller"),
        (uring, "uring-sequential", "io_uring"),
        (i686_binary().is_some(), "address-space", "an i686 build of iobench (see .ci/run)"),
    ];
    for (have, id, what) in features {
        if !have {
            missing_feature(&format!("no {what}: the {id} row is not required to be measured"));
        }
    }
    for f in &findings {
        let id = f["id"].as_str().unwrap();
        let (verdict, detail) = (f["verdict"]["verdict"].as_str().unwrap(), f["verdict"]["detail"].as_str());
        let excused = features.iter().any(|(have, fid, _)| !have && *fid == id);
        if verdict == "not-measured" && !excused {
            // Only the anomaly guard may leave a row unmeasured on a machine with every feature, and
            // then the row says so.
            let detail = detail.unwrap_or_default();
            assert!(detail.contains("anomaly guard"), "{id}: not measured: {detail}");
            assert!(!f["left_out"].as_array().unwrap().is_empty(), "{id}: {f}");
        }
    }
    if i686_binary().is_some() {
        let f = findings.iter().find(|f| f["id"] == "address-space").unwrap();
        assert!(f.to_string().contains("32-bit process"), "{f}");
        // The emulation is not run where the real 32-bit child can.
        assert!(!results.runs.iter().any(|r| r.workload.name == "address-space"));
    }
    // Every run records its place in the order and, measured, the steal time of its interval.
    assert!(results.runs.iter().all(|r| r.notes.iter().any(|n| n.starts_with("cell order: shuffled with seed 7"))));
    assert!(results.runs.iter().filter_map(|r| r.measured.as_ref()).any(|m| m.evidence.steal_pct.is_some()));
    // Rewriting from the saved results gives the same verdicts.
    let o2 = iobench(&["reproduce", "--from", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), o2.status.code(), "{}", stderr(&o2));
    let again: Value = serde_json::from_slice(&std::fs::read(out.join("article.json")).unwrap()).unwrap();
    let verdicts = |v: &[Value]| v.iter().map(|f| f["verdict"].clone()).collect::<Vec<_>>();
    assert_eq!(verdicts(&findings), verdicts(again.as_array().unwrap()));
    assert!(!data.exists() || std::fs::read_dir(&data).unwrap().next().is_none(), "data files were left behind");
}
