//! The foundation's promises: every backend × pattern moves the right bytes, the numbers are
//! consistent, results hold every documented field, and bad input gets the documented message.

mod common;

use common::{TempDir, iobench, skip, stderr, stdout};
use iobench::datafile::blocks::DataFile;
use iobench::engine;
use iobench::result::{Results, RunStatus};
use iobench::workload::plan::{Plan, PlanContext};
use iobench::workload::raw::{RawWorkload, cli_value};

fn plan(dir: &TempDir, backend: &str, rw: &str, extra: impl FnOnce(&mut RawWorkload)) -> Plan {
    let mut raw = RawWorkload {
        name: Some(format!("{rw}-{backend}")),
        backend: Some(backend.into()),
        rw: Some(rw.into()),
        bs: Some(cli_value("16k")),
        size: Some(cli_value("8m")),
        io_size: Some(cli_value("4m")),
        runtime: Some(cli_value("5s")),
        dir: Some(dir.str().into()),
        verify: Some(true.into()),
        ..Default::default()
    };
    extra(&mut raw);
    Plan::from_raw(&raw, PlanContext::default()).expect("valid plan").0
}

#[test]
fn every_backend_and_pattern_moves_verified_bytes() {
    let dir = TempDir::new("matrix");
    for backend in ["buffered", "direct", "mmap"] {
        for rw in ["read", "randread", "write", "randwrite", "rw", "randrw"] {
            let p = plan(&dir, backend, rw, |_| {});
            let r = engine::execute(&p, vec![]).unwrap_or_else(|e| panic!("{backend} {rw}: {e}"));
            assert_eq!(r.status, RunStatus::Ok, "{backend} {rw}: {:?}", r.reason);
            let m = r.measured.unwrap();
            assert_eq!(m.ops, 256, "{backend} {rw}: io_size 4m / bs 16k");
            assert_eq!(m.bytes, m.ops * 16384);
            assert_eq!(m.read_ops + m.write_ops, m.ops);
            match rw {
                "read" | "randread" => assert_eq!(m.verified_blocks, m.ops, "{backend} {rw}: every read verified"),
                "write" | "randwrite" => assert_eq!(m.write_ops, m.ops),
                _ => assert!(m.read_ops > 0 && m.write_ops > 0, "{backend} {rw}: a mix"),
            }
            if rw.contains("w") && rw != "read" {
                assert!(m.final_sync_ns.is_some() && m.durable_bw_bytes_per_s.is_some());
            }
            // Whatever was written must read back as the pattern, on every page.
            DataFile { path: dir.path().join("iobench-8m-10bec4.dat"), size: 8 << 20, seed: p.seed }
                .verify_all()
                .unwrap_or_else(|e| panic!("{backend} {rw}: {e}"));
        }
    }
}

#[test]
fn sequential_writes_cover_the_file_with_the_written_generation() {
    let dir = TempDir::new("seqwrite");
    for backend in ["buffered", "direct", "mmap"] {
        // Fresh file per backend: a different seed gives a different file.
        let p = plan(&dir, backend, "write", |r| {
            r.io_size = Some(cli_value("8m"));
            r.seed = Some(backend.len() as i64);
        });
        engine::execute(&p, vec![]).unwrap();
        let data =
            DataFile { path: dir.path().join(format!("iobench-8m-{:x}.dat", p.seed)), size: 8 << 20, seed: p.seed };
        data.verify_all().unwrap();
        // Every page now holds generation 1: its body equals the write template's.
        let bytes = std::fs::read(&data.path).unwrap();
        let mut expected = vec![0u8; 4096];
        let mut phase = None;
        iobench::patterns::block::WriteTemplate::new(p.seed).prepare(4096, &mut expected, &mut phase);
        assert_eq!(&bytes[4096 + 64..8192], &expected[64..], "{backend}: page 1 was rewritten");
    }
}

#[test]
fn durability_policies_report_syncs_and_both_throughputs() {
    let dir = TempDir::new("durability");
    for (backend, policy) in [
        ("buffered", "fsync:8"),
        ("buffered", "fdatasync:8"),
        ("buffered", "odsync"),
        ("direct", "fdatasync:8"),
        ("mmap", "msync:8"),
        ("mmap", "msync-async:8"),
    ] {
        let p = plan(&dir, backend, "randwrite", |r| {
            r.durability = Some(policy.into());
            r.io_size = Some(cli_value("1m"));
        });
        let m = engine::execute(&p, vec![]).unwrap().measured.unwrap();
        assert!(m.final_sync_ns.is_some(), "{backend} {policy}");
        assert!(m.durable_bw_bytes_per_s.unwrap() <= m.bw_bytes_per_s, "{backend} {policy}");
        if policy != "odsync" {
            let s = m.sync.as_ref().unwrap_or_else(|| panic!("{backend} {policy}: sync stats"));
            // One sync per 8 writes; the one due as the run ends is left to the final sync.
            assert!((m.write_ops / 8 - 1..=m.write_ops / 8).contains(&s.ops), "{backend} {policy}: {} syncs", s.ops);
        }
    }
}

#[test]
fn numbers_are_consistent_and_runtime_is_respected() {
    let dir = TempDir::new("consistency");
    for backend in ["buffered", "direct", "mmap", "null"] {
        let p = plan(&dir, backend, "randread", |r| {
            r.io_size = None;
            r.runtime = Some(cli_value("300ms"));
        });
        let m = engine::execute(&p, vec![]).unwrap().measured.unwrap();
        let l = m.latency_ns;
        assert!(m.ops > 0);
        assert_eq!(m.bytes, m.ops * 16384);
        assert!(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p99_9 && l.p99_9 <= l.max);
        assert!(m.runtime_ns >= 300_000_000, "{backend}: ran at least the requested time");
        assert!(m.runtime_ns < 300_000_000 + 200_000_000, "{backend}: {} ns is far past 300 ms", m.runtime_ns);
        let hist = iobench::base::stats::decode(&m.latency_histogram).unwrap();
        assert_eq!(hist.len(), m.ops, "{backend}: the histogram holds every op");
        let series_ops: u64 = m.series.points.iter().map(|p| p.ops).sum();
        assert_eq!(series_ops, m.ops, "{backend}: the series adds up to the total");
    }
}

#[test]
fn repeated_runs_continue_and_a_ramp_is_excluded_with_one_worker_or_several() {
    let dir = TempDir::new("repeated");
    for threads in [1, 2] {
        // As benches call it: many runs of exactly n operations each, without evidence.
        let p = plan(&dir, "buffered", "randread", |r| r.threads = Some(threads));
        let mut prepared = engine::Prepared::new(&p).unwrap();
        prepared.collect_evidence = false;
        for n in [1, 7, 300] {
            let m = prepared.run(engine::StopAt::ops(n)).unwrap();
            assert_eq!(m.ops, n * threads as u64, "{threads} threads: exactly {n} operations per worker");
            assert_eq!(m.verified_blocks, m.ops, "{threads} threads: every block read was verified");
            assert!(m.evidence.vmstat_delta.is_empty() && m.evidence.resident_start_pct.is_none());
        }
        prepared.collect_evidence = true;
        let m = prepared.run(engine::StopAt::ops(10)).unwrap();
        assert!(!m.evidence.vmstat_delta.is_empty(), "{threads} threads: evidence is gathered again");
        assert_eq!(m.evidence.resident_start_pct, Some(100.0), "{threads} threads: the warm file is resident");

        // A ramp: the timer opens the measured interval (and the evidence) once it is over.
        let p = plan(&dir, "null", "randread", |r| {
            r.threads = Some(threads);
            r.io_size = None;
            r.ramp_time = Some(cli_value("200ms"));
            r.runtime = Some(cli_value("300ms"));
        });
        let m = engine::execute(&p, vec![]).unwrap().measured.unwrap();
        assert!(m.runtime_ns >= 300_000_000, "{threads} threads: measured the runtime after the ramp");
        assert!(m.runtime_ns < 300_000_000 + 150_000_000, "{threads} threads: {} ns includes the ramp", m.runtime_ns);
        assert!(!m.evidence.vmstat_delta.is_empty(), "{threads} threads: evidence opened after the ramp");
        let series_ops: u64 = m.series.points.iter().map(|p| p.ops).sum();
        assert_eq!(series_ops, m.ops, "{threads} threads: ramp operations are in no figure");
    }
}

#[test]
fn verify_catches_a_corrupted_page() {
    let dir = TempDir::new("corrupt");
    let p = plan(&dir, "buffered", "read", |_| {});
    engine::execute(&p, vec![]).unwrap();
    let path = dir.path().join("iobench-8m-10bec4.dat");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[5 * 4096 + 100] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    // Word 0 and the tag are intact, so the file is still recognised as iobench's.
    let out = iobench(&[
        "run",
        "--backend",
        "buffered",
        "--rw",
        "read",
        "--bs",
        "16k",
        "--size",
        "8m",
        "--io-size",
        "1m",
        "--cache",
        "as-is",
        "--dir",
        dir.str(),
        "--verify",
        "--output",
        dir.path().join("r.json").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("FAILED: verify failed:") && text.contains("mismatch at file offset 20576"), "{text}");
}

#[test]
fn results_file_holds_every_documented_field() {
    let dir = TempDir::new("json");
    let out_path = dir.path().join("r.json");
    let out = iobench(&[
        "run",
        "--backend",
        "buffered,direct,mmap",
        "--rw",
        "randread",
        "--bs",
        "4k",
        "--size",
        "8m",
        "--runtime",
        "200ms",
        "--cache",
        "warm",
        "--verify",
        "--dir",
        dir.str(),
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    for col in ["backend", "IOPS", "MB/s", "p50", "p99", "p99.9", "CPU s/GB"] {
        assert!(table.contains(col), "table lacks {col}: {table}");
    }
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    for key in ["schema_version", "environment", "runs"] {
        assert!(doc.get(key).is_some(), "missing {key}");
    }
    for key in ["kernel", "cpu_model", "cpus", "memory_bytes", "fs_type", "page_size_bytes", "iobench_version"] {
        assert!(doc["environment"].get(key).is_some(), "environment lacks {key}");
    }
    let runs = doc["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3);
    for run in runs {
        for key in [
            "workload",
            "backend",
            "ops",
            "bytes",
            "runtime_ns",
            "iops",
            "bw_bytes_per_s",
            "latency_ns",
            "cpu",
            "faults",
            "ctx_switches",
            "latency_histogram",
        ] {
            assert!(run.get(key).is_some(), "run lacks {key}");
        }
        for key in ["min", "mean", "p50", "p90", "p99", "p99_9", "p99_99", "max"] {
            assert!(run["latency_ns"].get(key).is_some(), "latency_ns lacks {key}");
        }
        assert!(run["cpu"].get("user_s").is_some() && run["cpu"].get("sys_s").is_some());
        assert!(run["faults"].get("minor").is_some() && run["faults"].get("major").is_some());
    }
    // And the library reads it back.
    Results::read(&out_path).unwrap();
}

#[test]
fn bad_workload_files_are_named_with_exit_code_2() {
    let dir = TempDir::new("badtoml");
    let cases = [
        ("blocksize = '4k'\n", "unknown field `blocksize`"),
        (
            "rw = 'sideways'\n",
            "rw: unknown pattern 'sideways' (expected one of read, write, randread, randwrite, rw, randrw",
        ),
        ("bs = '4x'\n", "bs: '4x' has an unknown size suffix (use k, m, g or t)"),
        ("rw = [\n", "TOML parse error"),
        (
            "backend = 'mmap'\nrw = 'randwrite'\ndurability = 'fsync:4'\n",
            "durability: the mmap backend makes writes durable with msync:N or msync-async:N",
        ),
    ];
    for (i, (text, message)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = iobench(&["run", path.to_str().unwrap(), "--dir", dir.str()]);
        assert_eq!(out.status.code(), Some(2), "{text}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{text}: {}", stderr(&out));
    }
}

#[test]
fn misaligned_direct_block_size_is_refused_before_any_io() {
    // tmpfs reports no STATX_DIOALIGN, so iobench falls back to its block size (4096).
    let shm = std::path::Path::new("/dev/shm");
    if !shm.is_dir() {
        return skip("misaligned_direct_block_size_is_refused_before_any_io", "/dev/shm is not available");
    }
    let dir = shm.join(format!("iobench-test-align-{}", std::process::id()));
    let out = iobench(&[
        "run",
        "--backend",
        "direct",
        "--bs",
        "512",
        "--size",
        "1m",
        "--runtime",
        "100ms",
        "--dir",
        dir.to_str().unwrap(),
        "--output",
        "/dev/null",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bs: 512 bytes is not a multiple of 4096, the O_DIRECT alignment of"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn iodepth_on_a_sync_backend_suggests_threads() {
    let out = iobench(&["run", "--backend", "buffered", "--iodepth", "8", "--output", "/dev/null"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("use --threads 8 for concurrency"), "{}", stderr(&out));
}
