//! Faults and interruptions lose nothing already measured and harm nothing: a file truncated
//! under an mmap run, a full disk, a filesystem without O_DIRECT, SIGKILL mid-suite, long runs.

mod common;

use common::safety::{Mount, listing, runs_in, signal, spawn, wait_until};
use common::{TempDir, iobench, skip, stderr};
use iobench::result::{Results, RunStatus};
use std::time::{Duration, Instant};

#[test]
fn truncating_the_file_under_an_mmap_run_fails_that_run_and_keeps_the_others() {
    let dir = TempDir::new("truncate-mmap");
    let suite = dir.path().join("suite.toml");
    std::fs::write(
        &suite,
        "[defaults]\nsize = \"64m\"\nrw = \"randread\"\n\
         [[workload]]\nname = \"before\"\nbackend = \"buffered\"\nruntime = \"200ms\"\n\
         [[workload]]\nname = \"truncated\"\nbackend = \"mmap\"\nruntime = \"2s\"\n\
         [[workload]]\nname = \"after\"\nbackend = \"mmap\"\nruntime = \"200ms\"\n",
    )
    .unwrap();
    let out = dir.path().join("r.json");
    let data = dir.path().join("data");
    let child =
        spawn(&["run", suite.to_str().unwrap(), "--dir", data.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert!(wait_until(Duration::from_secs(60), || runs_in(&out) >= 1), "the first run never finished");
    // Wait until the mmap run has mapped the file, let it run a little, then shrink the file from outside.
    let file = data.join("iobench-64m-10bec4.dat");
    let maps = format!("/proc/{}/maps", child.id());
    let mapped = || std::fs::read_to_string(&maps).is_ok_and(|m| m.contains(file.to_str().unwrap()));
    assert!(wait_until(Duration::from_secs(30), mapped), "the mmap run never mapped its file");
    std::thread::sleep(Duration::from_millis(300));
    std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(1 << 20).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "a failed run, not death by SIGBUS: {}", stderr(&output));
    let results = Results::read(&out).unwrap();
    let got: Vec<_> = results.runs.iter().map(|r| (r.workload.name.as_str(), r.status)).collect();
    assert_eq!(
        got,
        [("before", RunStatus::Ok), ("truncated", RunStatus::Failed), ("after", RunStatus::Ok)],
        "the run before is kept, and the suite goes on (the damaged file is known as iobench's and recreated)"
    );
    let reason = results.runs[1].reason.as_deref().unwrap();
    let prefix = format!(
        "{} was truncated to 1048576 bytes by another process during the run (SIGBUS on the mapping at file offset ",
        file.display()
    );
    assert!(reason.starts_with(&prefix), "{reason}");
    assert!(reason.ends_with("); the run was stopped: keep other processes off iobench's data files"), "{reason}");
    let offset: u64 = reason[prefix.len()..].split(')').next().unwrap().parse().unwrap();
    assert!((1 << 20..64 << 20).contains(&offset), "the offset lies past the new end: {offset}");
}

#[test]
fn disk_full_while_preparing_removes_the_partial_file_and_touches_nothing_else() {
    let Some(mnt) = Mount::new("enospc", "tmpfs", "size=8m") else {
        return skip("enospc", "cannot mount a small tmpfs (needs root)");
    };
    let dir = TempDir::new("enospc");
    std::fs::write(mnt.path().join("keep.txt"), b"someone else's").unwrap();
    let data = mnt.path().join("data");
    let out = dir.path().join("r.json");
    let o = iobench(&[
        "run",
        "--size",
        "16m",
        "--runtime",
        "100ms",
        "--dir",
        data.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let results = Results::read(&out).unwrap();
    assert_eq!(
        results.runs[0].reason.as_deref(),
        Some(
            format!(
                "disk full while creating {}/iobench-16m-10bec4.dat (16m): the partial file was removed; use a \
                 smaller --size or another --dir",
                data.display()
            )
            .as_str()
        )
    );
    assert_eq!(mnt.listing(), ["keep.txt"], "partial file and the directory iobench made are gone");
    assert_eq!(std::fs::read(mnt.path().join("keep.txt")).unwrap(), b"someone else's");

    // A full disk under the results file: a clear error, no temporary file left behind.
    let mut filler = vec![0u8; 1 << 20];
    let mut f = std::fs::File::create(mnt.path().join("filler")).unwrap();
    while std::io::Write::write_all(&mut f, &filler).is_ok() {
        filler[0] ^= 1;
    }
    drop(f);
    let out = mnt.path().join("r.json");
    let o = iobench(&[
        "run",
        "--backend",
        "null",
        "--size",
        "1m",
        "--runtime",
        "50ms",
        "--dir",
        dir.str(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("iobench: cannot write {}: No space left on device", out.display())),
        "{}",
        stderr(&o)
    );
    assert_eq!(mnt.listing(), ["filler", "keep.txt"]);
}

#[test]
fn a_filesystem_refusing_o_direct_is_named_and_the_suite_goes_on() {
    // ramfs has no O_DIRECT at all: open(O_DIRECT) fails with EINVAL.
    let Some(mnt) = Mount::new("ramfs", "ramfs", "") else {
        return skip("odirect", "cannot mount a ramfs (needs root)");
    };
    let dir = TempDir::new("odirect");
    let data = mnt.path().join("d");
    let out = dir.path().join("r.json");
    let o = iobench(&[
        "run",
        "--backend",
        "direct,buffered",
        "--size",
        "1m",
        "--runtime",
        "100ms",
        "--dir",
        data.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let results = Results::read(&out).unwrap();
    assert_eq!(results.runs[0].status, RunStatus::Skipped);
    assert_eq!(
        results.runs[0].reason.as_deref().unwrap(),
        format!(
            "the ramfs filesystem holding {}/iobench-1m-10bec4.dat refuses O_DIRECT; use --backend buffered",
            data.display()
        )
    );
    assert_eq!(results.runs[1].status, RunStatus::Ok, "the buffered run still ran");
}

#[test]
fn sigkill_mid_suite_leaves_every_finished_run_readable() {
    let dir = TempDir::new("sigkill");
    let suite = dir.path().join("suite.toml");
    std::fs::write(&suite, "repeat = 8\n[[workload]]\nbackend = \"buffered\"\nsize = \"1m\"\nruntime = \"300ms\"\n")
        .unwrap();
    let out = dir.path().join("r.json");
    let child = spawn(&[
        "run",
        suite.to_str().unwrap(),
        "--dir",
        dir.path().join("data").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(wait_until(Duration::from_secs(60), || runs_in(&out) >= 2), "two runs never finished");
    // Kill while a later run (and possibly a rewrite of the results file) is in progress.
    std::thread::sleep(Duration::from_millis(150));
    signal(&child, libc::SIGKILL);
    let status = child.wait_with_output().unwrap().status;
    assert_eq!(status.code(), None, "killed");
    let results = Results::read(&out).unwrap();
    assert!((2..8).contains(&results.runs.len()), "{} runs", results.runs.len());
    for r in &results.runs {
        assert_eq!(r.status, RunStatus::Ok);
        let m = r.measured.as_ref().unwrap();
        assert!(m.ops > 0 && iobench::base::stats::decode(&m.latency_histogram).unwrap().len() == m.ops);
    }
    // And the report builds from it.
    let report_dir = dir.path().join("report");
    let o = iobench(&["report", out.to_str().unwrap(), "--out", report_dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(report_dir.join("report.md").exists(), "{:?}", listing(&report_dir));
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_long_run_keeps_memory_flat_and_its_series_adds_up() {
    let dir = TempDir::new("long-run");
    let out = dir.path().join("r.json");
    // null completes ~10-20 M operations a second: any per-operation storage would show at once.
    let child = spawn(&[
        "run",
        "--backend",
        "null",
        "--rw",
        "randread",
        "--size",
        "1m",
        "--runtime",
        "3s",
        "--series-interval",
        "100ms",
        "--dir",
        dir.path().join("data").to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    let pid = child.id();
    // Sample after the run has settled, and again near its end.
    let data = dir.path().join("data/iobench-1m-10bec4.dat");
    assert!(wait_until(Duration::from_secs(60), || data.exists()));
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(800));
    let early = rss_kib(pid).unwrap();
    std::thread::sleep(Duration::from_millis(3000).saturating_sub(start.elapsed() + Duration::from_millis(300)));
    let late = rss_kib(pid).unwrap_or(early);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(late < early + 16 * 1024, "RSS grew from {early} KiB to {late} KiB during the run");

    let results = Results::read(&out).unwrap();
    let m = results.runs[0].measured.as_ref().unwrap();
    assert_eq!(m.series.interval_ns, 100_000_000);
    let points = &m.series.points;
    assert_eq!(points.len() as u64, m.runtime_ns / m.series.interval_ns + 1, "one point per interval begun");
    assert!(points.len() >= 30, "{} points", points.len());
    assert_eq!(points.iter().map(|p| p.ops).sum::<u64>(), m.ops, "the series sums to the total ops");
    assert_eq!(points.iter().map(|p| p.bytes).sum::<u64>(), m.bytes, "and bytes");
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.t_ns, (i as u64 + 1) * 100_000_000);
    }
}
