//! What a cell really measured: the consume modes do the work they name (and mmap still faults
//! on every page it reads), a cold cell that the page cache warmed says so while one that stayed
//! cold does not, and writes the page cache absorbed are told apart from writes that reached the
//! device.

mod common;

use common::{TempDir, iobench, skip, stderr, stdout};
use iobench::report::document::Report;
use iobench::report::warnings::Warning;
use iobench::result::{Results, RunResult, RunStatus};

/// Runs the binary with `args` (plus a data dir and an output file) and returns its runs.
fn run(dir: &TempDir, name: &str, args: &[&str]) -> Results {
    let out = dir.path().join(format!("{name}.json"));
    let mut all = vec!["run", "--dir", dir.str(), "--output", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let o = iobench(&all);
    assert!(o.status.success(), "{name}: {}{}", stderr(&o), stdout(&o));
    Results::read(&out).unwrap()
}

fn only_ok(r: &Results) -> &RunResult {
    let run = &r.runs[0];
    assert_eq!(run.status, RunStatus::Ok, "{:?}", run.reason);
    run
}

#[test]
fn touch_faults_on_every_page_sum_does_and_copy_and_none_verify() {
    let dir = TempDir::new("consume");
    // MADV_RANDOM: no read-around, so each 4 KiB read of an evicted page is one major fault.
    let base = [
        "--backend",
        "mmap",
        "--rw",
        "randread",
        "--size",
        "16m",
        "--io-size",
        "2m",
        "--cache",
        "cold",
        "--advice",
        "random",
    ];
    let faults = |consume: &str| {
        let mut args = base.to_vec();
        args.extend(["--consume", consume, "--keep-files"]);
        let r = run(&dir, consume, &args);
        let run = only_ok(&r);
        assert_eq!(run.workload.consume.name(), consume, "the mode is recorded in the result");
        let m = run.measured.as_ref().unwrap();
        (m.ops, m.faults.major)
    };
    let (ops, sum) = faults("sum");
    let (_, touch) = faults("touch");
    let (_, none) = faults("none");
    assert_eq!(ops, 512, "io_size 2m / bs 4k");
    assert!(sum >= ops, "every cold 4 KiB read through the mapping faults ({sum} faults for {ops} reads)");
    assert_eq!(touch, sum, "touch reads one byte per page: the same faults as reading every byte");
    assert_eq!(none, sum, "none means touch for mmap: its reads happen only when touched");
    // Every mode still verifies every block, and copy puts mmap's bytes where fio's engine puts them.
    for (backend, consume) in [("mmap", "copy"), ("buffered", "none"), ("direct", "none"), ("buffered", "touch")] {
        let r = run(
            &dir,
            &format!("verify-{backend}-{consume}"),
            &[
                "--backend",
                backend,
                "--rw",
                "randread",
                "--size",
                "16m",
                "--io-size",
                "1m",
                "--verify",
                "--consume",
                consume,
            ],
        );
        let m = only_ok(&r).measured.as_ref().unwrap();
        assert_eq!(m.verified_blocks, m.ops, "{backend} consume={consume}");
    }
}

#[test]
fn a_non_default_consume_mode_is_named_in_the_report() {
    let dir = TempDir::new("consume-report");
    let out = dir.path().join("r");
    let o = iobench(&[
        "run",
        "--dir",
        dir.str(),
        "--out",
        out.to_str().unwrap(),
        "--backend",
        "buffered",
        "--size",
        "8m",
        "--runtime",
        "100ms",
        "--consume",
        "none",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("consume=none"), "{}", stdout(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("consume=none"), "{md}");
    let o = iobench(&["run", "--dir", dir.str(), "--output", "/dev/null", "--consume", "all"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o), "iobench: consume: unknown mode 'all' (expected one of sum, touch, none, copy)\n");
}

fn warnings(r: &Results) -> Vec<Warning> {
    Report::build(std::slice::from_ref(r)).unwrap().warnings
}

#[test]
fn a_cold_cell_warmed_by_read_around_is_flagged_and_one_that_stayed_cold_is_not() {
    let dir = TempDir::new("cold-warmth");
    // Default advice: each fault reads around it (read_ahead_kb), so a small file is soon cached.
    let warmed = run(
        &dir,
        "warmed",
        &["--backend", "mmap", "--rw", "randread", "--size", "32m", "--runtime", "300ms", "--cache", "cold"],
    );
    let e = &only_ok(&warmed).measured.as_ref().unwrap().evidence;
    if e.process_read_bytes.is_none() && e.device_read_bytes.is_none() {
        return skip(
            "a_cold_cell_warmed_by_read_around_is_flagged",
            "no /proc/self/io and no block device under the temp dir",
        );
    }
    let flagged: Vec<String> = warnings(&warmed)
        .iter()
        .filter(|w| matches!(w, Warning::ColdTurnedWarm { .. }))
        .map(|w| w.to_string())
        .collect();
    assert_eq!(flagged.len(), 1, "{flagged:#?} (evidence {e:?})");
    assert!(
        flagged[0].starts_with("randread-4k-cold on mmap: cache = cold, but ") && flagged[0].contains("read-around"),
        "{}",
        flagged[0]
    );
    let text = Report::build(std::slice::from_ref(&warmed)).unwrap().terminal_text();
    assert!(text.contains("mmap (turned warm)"), "the ranking marks the cell:\n{text}");

    // pread of 1 MiB of a 32 MiB file, each block once: nothing is read twice, no readahead.
    let cold = run(
        &dir,
        "cold",
        &[
            "--backend",
            "buffered",
            "--rw",
            "randread",
            "--size",
            "32m",
            "--io-size",
            "1m",
            "--cache",
            "cold",
            "--keep-files",
        ],
    );
    let e = &only_ok(&cold).measured.as_ref().unwrap().evidence;
    assert!(e.cache_served_min_pct.is_some_and(|p| p < 50.0), "{e:?}");
    let w = warnings(&cold);
    assert!(!w.iter().any(|w| matches!(w, Warning::ColdTurnedWarm { .. })), "{w:#?}");
}

#[test]
fn random_reads_that_pay_for_read_around_name_the_cause_and_what_fio_does() {
    let dir = TempDir::new("amplification");
    let args = ["--backend", "mmap", "--rw", "randread", "--size", "64m", "--io-size", "64k", "--cache", "cold"];
    let r = run(&dir, "amp", &args);
    let m = only_ok(&r).measured.as_ref().unwrap();
    let Some(amp) = m.evidence.process_read_amplification.or(m.evidence.read_amplification) else {
        return skip(
            "random_reads_that_pay_for_read_around",
            "no /proc/self/io and no block device under the temp dir",
        );
    };
    let w: Vec<String> = warnings(&r).iter().map(|w| w.to_string()).collect();
    let hit = w.iter().find(|w| w.contains("storage read"));
    if amp > 10.0 {
        let hit = hit.unwrap_or_else(|| panic!("amplification {amp:.0}x without a warning: {w:#?}"));
        assert!(hit.contains("read_ahead_kb = ") && hit.contains("major faults read"), "{hit}");
        assert!(hit.contains("fadvise_hint=1 would apply MADV_RANDOM") && hit.contains("--advice random"), "{hit}");
    } else {
        assert!(hit.is_none(), "{amp:.1}x is not above 10x: {w:#?}");
        skip("random_reads_that_pay_for_read_around", &format!("read-around here gave only {amp:.1}x"));
    }
    // With MADV_RANDOM each fault reads one page: no warning.
    let mut quiet = args.to_vec();
    quiet.extend(["--advice", "random"]);
    let r = run(&dir, "random", &quiet);
    let w: Vec<String> = warnings(&r).iter().map(|w| w.to_string()).collect();
    assert!(!w.iter().any(|w| w.contains("storage read")), "{w:#?}");
}

#[test]
fn writes_the_page_cache_absorbed_are_reported_beside_durable_throughput() {
    let dir = TempDir::new("absorbed");
    // 300 ms of 4 KiB random writes into a 4 MiB file rewrite each page many times over.
    let r =
        run(&dir, "absorbed", &["--backend", "buffered", "--rw", "randwrite", "--size", "4m", "--runtime", "300ms"]);
    let m = only_ok(&r).measured.as_ref().unwrap();
    let Some(device) = m.evidence.device_written_through_sync_bytes else {
        return skip("writes_the_page_cache_absorbed", "no block device under the temp dir");
    };
    assert!(m.bytes > 2 * device, "{} written, {device} reached the device", m.bytes);
    let report = Report::build(std::slice::from_ref(&r)).unwrap();
    let w: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    assert!(w.iter().any(|w| w.contains("reached the device by the end of its final sync")), "{w:#?}");
    assert!(report.terminal_text().contains("durable MB/s: "), "{}", report.terminal_text());
}
