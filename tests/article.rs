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

#[test]
fn copies_verdicts() {
    let keys = "rw = \"read\"\nbs = \"1m\"\nsize = \"1g\"";
    let with = |pread_ns: f64| {
        vec![
            ok("copies", "mmap", keys, |m| cpu_per_kib(m, 70.0)),
            ok("copies", "buffered", keys, |m| cpu_per_kib(m, pread_ns)),
        ]
    };
    assert_eq!(verdict_of(with(220.0), "copies"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with(140.0), "copies")));
    assert_eq!(verdict_of(with(80.0), "copies"), Verdict::DoesNotHold);
}

#[test]
fn random_access_verdicts() {
    let (warm, cold) = ("rw = \"randread\"\nsize = \"1g\"", "rw = \"randread\"\nsize = \"2g\"\ncache = \"cold\"");
    let with = |w: (f64, f64), c: (f64, f64)| {
        vec![
            ok("random-warm", "mmap", warm, |m| latency_us(m, w.0, w.1)),
            ok("random-warm", "buffered", warm, |m| latency_us(m, 1.0, 2.0)),
            ok("random-cold", "mmap", cold, |m| latency_us(m, c.0, c.1)),
            ok("random-cold", "buffered", cold, |m| latency_us(m, 100.0, 200.0)),
        ]
    };
    assert_eq!(verdict_of(with((0.5, 1.0), (50.0, 100.0)), "random-access"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with((0.5, 1.0), (100.0, 200.0)), "random-access")));
    assert!(holds_if(&verdict_of(with((0.5, 1.0), (50.0, 5000.0)), "random-access")));
    assert_eq!(verdict_of(with((1.0, 2.0), (100.0, 200.0)), "random-access"), Verdict::DoesNotHold);
}

#[test]
fn sequential_verdicts() {
    // (mmap 4k, mmap 1m, pread 4k, pread 1m) GB/s, warm then cold.
    let with = |w: [f64; 4], c: [f64; 4]| {
        let mut runs = Vec::new();
        for (name, cache, v) in [("sequential-warm", "warm", w), ("sequential-cold", "cold", c)] {
            for (i, (backend, bs)) in
                [("mmap", "4k"), ("mmap", "1m"), ("buffered", "4k"), ("buffered", "1m")].iter().enumerate()
            {
                let keys = format!("rw = \"read\"\nbs = \"{bs}\"\ncache = \"{cache}\"");
                runs.push(ok(name, backend, &keys, |m| gbps(m, v[i])));
            }
        }
        runs
    };
    assert_eq!(verdict_of(with([10.0, 10.0, 5.0, 9.0], [2.0, 2.0, 1.0, 2.0]), "sequential"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with([10.0, 10.0, 5.0, 5.0], [2.0, 2.0, 1.0, 2.0]), "sequential")));
    assert_eq!(verdict_of(with([1.0, 10.0, 1.0, 5.0], [0.2, 2.0, 0.2, 1.0]), "sequential"), Verdict::DoesNotHold);
}

#[test]
fn memory_pressure_verdicts() {
    let keys = "rw = \"randread\"\nsize = \"256m\"\nmemory_limit = \"64m\"\ncache = \"cold\"";
    let with = |mmap_rss: u64, pread_peak: u64, mmap_k: f64| {
        vec![
            ok("memory-limit", "mmap", keys, |m| {
                isolation(m, mmap_rss, 64);
                kiops(m, mmap_k);
            }),
            ok("memory-limit", "buffered", keys, |m| {
                isolation(m, 5, pread_peak);
                kiops(m, 10.0);
            }),
        ]
    };
    assert_eq!(verdict_of(with(60, 20, 10.0), "memory-pressure"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with(60, 64, 10.0), "memory-pressure")));
    assert!(holds_if(&verdict_of(with(60, 20, 0.1), "memory-pressure")));
    assert_eq!(verdict_of(with(6, 20, 10.0), "memory-pressure"), Verdict::DoesNotHold);
}

#[test]
fn write_persistence_verdicts() {
    let keys = |d: &str| format!("rw = \"randwrite\"\nsize = \"64m\"\ndurability = \"{d}\"");
    let with = |mmap_none_us: f64, msync_us: f64| {
        vec![
            ok("durability", "mmap", &keys("none"), |m| writes(m, mmap_none_us, None)),
            ok("durability", "mmap", &keys("msync:1"), |m| writes(m, 0.3, Some(msync_us))),
            ok("durability", "buffered", &keys("none"), |m| writes(m, 3.0, None)),
            ok("durability", "buffered", &keys("fsync:1"), |m| writes(m, 3.0, Some(2000.0))),
        ]
    };
    assert_eq!(verdict_of(with(0.3, 10_000.0), "write-persistence"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with(0.3, 2000.0), "write-persistence")));
    assert_eq!(verdict_of(with(5000.0, 2000.0), "write-persistence"), Verdict::DoesNotHold);
}

#[test]
fn address_space_verdicts() {
    let keys = "rw = \"read\"\nbs = \"1m\"\nsize = \"96m\"\naddress_space_limit = \"64m\"";
    let windowed = format!("{keys}\nwindow = \"4m\"");
    let enomem = "mmap failed: ENOMEM (100663296 bytes of f): Cannot allocate memory (os error 12)";
    let pread = || ok("address-space", "buffered", keys, |_| {});
    assert_eq!(
        verdict_of(vec![failed("address-space", "mmap", keys, enomem), pread()], "address-space"),
        Verdict::Holds
    );
    let with_window =
        vec![failed("address-space", "mmap", keys, enomem), ok("address-space", "mmap", &windowed, |_| {}), pread()];
    assert!(holds_if(&verdict_of(with_window, "address-space")));
    let mapped = vec![ok("address-space", "mmap", keys, |_| {}), pread()];
    assert_eq!(verdict_of(mapped, "address-space"), Verdict::DoesNotHold);
}

#[test]
fn uring_sequential_verdicts() {
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
    assert_eq!(verdict_of(with([(5.0, 2.0), (5.0, 2.0), (2.0, 2.0)]), "uring-sequential"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with([(5.0, 2.0), (2.0, 2.0), (2.0, 2.0)]), "uring-sequential")));
    assert_eq!(verdict_of(with([(2.0, 2.0), (2.0, 2.0), (2.0, 2.0)]), "uring-sequential"), Verdict::DoesNotHold);
}

#[test]
fn huge_pages_verdicts() {
    let seq = |a: &str| format!("rw = \"read\"\nbs = \"1m\"\ncache = \"cold\"\nadvice = \"{a}\"");
    let with = |huge_faults: f64, huge_gbps: f64| {
        vec![
            ok("thp-sequential", "mmap", &seq("hugepage"), |m| {
                faults_per_gb(m, huge_faults);
                gbps(m, huge_gbps);
            }),
            ok("thp-sequential", "mmap", &seq("nohugepage"), |m| {
                faults_per_gb(m, 1000.0);
                gbps(m, 2.0);
            }),
        ]
    };
    assert_eq!(verdict_of(with(100.0, 2.5), "huge-pages"), Verdict::Holds);
    assert!(holds_if(&verdict_of(with(100.0, 2.0), "huge-pages")));
    assert!(holds_if(&verdict_of(with(100.0, 1.0), "huge-pages")));
    assert_eq!(verdict_of(with(1000.0, 2.5), "huge-pages"), Verdict::DoesNotHold);
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

#[test]
fn reproduce_writes_the_article_with_eight_verdicts() {
    let dir = TempDir::new("article-reproduce");
    let out = dir.path().join("out");
    let data = dir.path().join("data");
    // --tiny is --quick with files of 64 MiB at most and 300 ms runs (the test budget).
    let o = iobench(&["reproduce", "--tiny", "--dir", data.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let article = std::fs::read_to_string(out.join("ARTICLE.md")).unwrap_or_else(|_| panic!("{}", stderr(&o)));
    let verdicts = article.matches("\n**Verdict: ").count();
    assert_eq!(verdicts, 8, "{article}");
    assert_eq!(article.matches("*Rule:*").count(), 8);
    assert!(out.join("results.json").exists() && out.join("environment.json").exists());
    assert!(out.join("plots/article-memory-limit-over-time.svg").exists() || !can_limit_memory());
    let findings: Value = serde_json::from_slice(&std::fs::read(out.join("article.json")).unwrap()).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 8);
    // Rewriting from the saved results gives the same verdicts.
    let o2 = iobench(&["reproduce", "--from", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), o2.status.code(), "{}", stderr(&o2));
    let again: Value = serde_json::from_slice(&std::fs::read(out.join("article.json")).unwrap()).unwrap();
    let verdicts = |v: &Value| v.as_array().unwrap().iter().map(|f| f["verdict"].clone()).collect::<Vec<_>>();
    assert_eq!(verdicts(&findings), verdicts(&again));
    assert!(!data.exists() || std::fs::read_dir(&data).unwrap().next().is_none(), "data files were left behind");
}
