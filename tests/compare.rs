//! Compare and merge: verdicts, noise bands and exit codes of `iobench compare` on a fixed
//! results file and scaled copies of it, and merge's exactness.

mod common;

use common::{TempDir, iobench, stderr, stdout};
use iobench::base::stats;
use iobench::report::cells;
use iobench::result::{Results, RunStatus};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    common::fixture("results-small.json")
}

#[test]
fn noise_from_the_scatter_of_cells_ignores_a_minority() {
    use iobench::report::compare::scatter;
    assert_eq!(scatter(&[1.0; 7]), None, "too few cells to estimate noise");
    let mut ratios: Vec<f64> = (0..30).map(|i| 1.0 + ((i % 7) as f64 - 3.0) / 100.0).collect();
    let calm = scatter(&ratios).unwrap();
    ratios.extend([0.5, 0.5, 0.5]);
    let with_regressions = scatter(&ratios).unwrap();
    assert!(calm < 0.15 && with_regressions < 0.15, "{calm} {with_regressions}");
}

/// One cell's results whose runs measured `values` (IOPS; bandwidth follows).
fn cell_with(template: &Results, values: &[f64]) -> Results {
    let run = template.runs.iter().find(|r| r.measured.is_some()).unwrap();
    let mut doc = template.clone();
    doc.runs = values
        .iter()
        .map(|v| {
            let mut r = run.clone();
            let m = r.measured.as_mut().unwrap();
            m.iops = *v;
            m.bw_bytes_per_s = *v * r.workload.bs_bytes as f64;
            m.series.points.clear();
            r
        })
        .collect();
    doc
}

/// Two or three repeats drawn from one distribution often agree closely by chance, so their
/// min..max range is no noise band (that rule called 23% of such cells changed with two
/// repeats). Compare must call nearly all of them within noise, and still see a real halving
/// once there are enough repeats to know the spread.
#[test]
fn repeats_of_unchanged_code_are_within_noise_and_a_halving_is_not() {
    use iobench::report::compare::{Options, Verdict, compare};
    let template = Results::read(&fixture()).unwrap();
    // xorshift64 and Box-Muller: reproducible log-normal draws with σ = 10%.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut draw = |n: usize, median: f64| -> Vec<f64> {
        (0..n)
            .map(|_| {
                let z = (-2.0 * uniform().max(1e-12).ln()).sqrt() * (std::f64::consts::TAU * uniform()).cos();
                median * (0.1 * z).exp()
            })
            .collect()
    };
    let trials = 500;
    let verdicts = |n: usize, change: f64, draw: &mut dyn FnMut(usize, f64) -> Vec<f64>| -> Vec<Verdict> {
        (0..trials)
            .map(|_| {
                let base = cell_with(&template, &draw(n, 1e5));
                let new = cell_with(&template, &draw(n, 1e5 * change));
                let c = compare(&base, &new, Options::default());
                assert_eq!(c.rows.len(), 1);
                c.rows[0].verdict
            })
            .collect()
    };
    for n in [2, 3] {
        let alarms = verdicts(n, 1.0, &mut draw).iter().filter(|v| **v != Verdict::WithinNoise).count();
        // Expected about 1% (a 99% band).
        assert!(alarms * 100 <= trials * 3, "{n} repeats: {alarms} of {trials} unchanged cells called changed");
    }
    let seen = verdicts(4, 0.5, &mut draw).iter().filter(|v| **v == Verdict::Slower).count();
    assert!(seen * 100 >= trials * 97, "a halving seen in only {seen} of {trials} trials");
}

/// Writes `results` with every throughput figure multiplied by `factor`.
fn scaled(results: &Results, factor: f64, path: &Path) {
    let mut r = results.clone();
    for m in r.runs.iter_mut().filter_map(|r| r.measured.as_mut()) {
        m.iops *= factor;
        m.bw_bytes_per_s *= factor;
    }
    r.write_atomic(path).unwrap();
}

#[test]
fn compare_verdicts_and_exit_codes() {
    let dir = TempDir::new("compare");
    let base = Results::read(&fixture()).unwrap();
    let fx = fixture();
    let fx = fx.to_str().unwrap();
    let same = iobench(&["compare", fx, fx]);
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert!(stdout(&same).contains("Overall: within noise"), "{}", stdout(&same));

    let slow = dir.path().join("slow.json");
    scaled(&base, 0.6, &slow);
    let o = iobench(&["compare", fx, slow.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "a 40% drop is a regression: {}", stdout(&o));
    assert!(stdout(&o).contains("slower (REGRESSION)") && stdout(&o).contains("Overall: REGRESSION"));
    let o = iobench(&["compare", fx, slow.to_str().unwrap(), "--fail-above", "50%"]);
    assert_eq!(o.status.code(), Some(0), "slower, but within the allowed 50%: {}", stdout(&o));
    assert!(stdout(&o).contains("slower"));

    let fast = dir.path().join("fast.json");
    scaled(&base, 1.6, &fast);
    let o = iobench(&["compare", fx, fast.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("faster"), "{}", stdout(&o));

    // One backend slower in every workload: only its cells are regressions.
    let mut one_slow = base.clone();
    for r in one_slow.runs.iter_mut().filter(|r| r.backend == "direct") {
        let m = r.measured.as_mut().unwrap();
        m.iops *= 0.5;
        m.bw_bytes_per_s *= 0.5;
    }
    let path = dir.path().join("one-slow.json");
    one_slow.write_atomic(&path).unwrap();
    let o = iobench(&["compare", fx, path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let regressions: Vec<String> = stdout(&o).lines().filter(|l| l.contains("REGRESSION)")).map(String::from).collect();
    assert!(!regressions.is_empty() && regressions.iter().all(|l| l.contains(" direct ")), "{regressions:#?}");

    // One cell beyond its band among 15 is what chance gives at 99% per cell; two are not.
    let faster_cells = |backends: &[&str], name: &str| {
        let mut r = base.clone();
        for run in r.runs.iter_mut().filter(|r| r.workload.name == "randread-4k-warm") {
            if backends.contains(&run.backend.as_str()) {
                let m = run.measured.as_mut().unwrap();
                m.iops *= 5.0;
                m.bw_bytes_per_s *= 5.0;
            }
        }
        let path = dir.path().join(name);
        r.write_atomic(&path).unwrap();
        let o = iobench(&["compare", fx, path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
        stdout(&o)
    };
    // (null and buffered are the fixture's cells whose repeats agree best: bands of ±43% and ±72%.)
    let one = faster_cells(&["null"], "one-faster.json");
    assert!(one.contains("Overall: within noise: 1 of 15 cells beyond a 99% band is what chance alone gives"), "{one}");
    let two = faster_cells(&["null", "buffered"], "two-faster.json");
    assert!(two.contains("Overall: 2 faster, 0 slower beyond noise"), "{two}");

    // One run per side: the default band is used, and the output says so.
    let mut single = base.clone();
    let mut seen = std::collections::HashSet::new();
    single.runs.retain(|r| seen.insert(cells::cell_key(&r.workload)));
    let one = dir.path().join("one.json");
    single.write_atomic(&one).unwrap();
    let o = iobench(&["compare", one.to_str().unwrap(), one.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("default band of ±10%"), "{}", stdout(&o));

    let o = iobench(&["compare", fx, fx, "--fail-above", "lots"]);
    assert_eq!(o.status.code(), Some(2), "bad input: {}", stderr(&o));
    assert!(stderr(&o).contains("--fail-above"));
}

#[test]
fn merge_of_a_split_run_equals_the_single_run() {
    let dir = TempDir::new("merge");
    let base = Results::read(&fixture()).unwrap();
    let run = base.runs.iter().find(|r| r.status == RunStatus::Ok && r.backend == "mmap").unwrap().clone();
    let m = run.measured.as_ref().unwrap();
    let whole = stats::decode(&m.latency_histogram).unwrap();
    // Split the histogram's counts into two halves, value by value.
    let (mut a, mut b) = (stats::new_hist(), stats::new_hist());
    let mut flip = false;
    for v in whole.iter_recorded() {
        let n = v.count_at_value();
        let first = if flip { n / 2 } else { n - n / 2 };
        flip = !flip;
        if first > 0 {
            a.record_n(v.value_iterated_to(), first).unwrap();
        }
        if n - first > 0 {
            b.record_n(v.value_iterated_to(), n - first).unwrap();
        }
    }
    let half = |h: &stats::Hist, ops: u64, path: &Path| {
        let mut doc = base.clone();
        let mut r = run.clone();
        let mm = r.measured.as_mut().unwrap();
        mm.latency_histogram = stats::encode(h);
        mm.latency_ns = stats::summarize(h);
        mm.ops = ops;
        mm.bytes = ops * r.workload.bs_bytes;
        mm.runtime_ns = m.runtime_ns / 2;
        doc.runs = vec![r];
        doc.write_atomic(path).unwrap();
    };
    let (pa, pb, out) = (dir.path().join("a.json"), dir.path().join("b.json"), dir.path().join("all.json"));
    half(&a, a.len(), &pa);
    half(&b, b.len(), &pb);
    let o = iobench(&["merge", pa.to_str().unwrap(), pb.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let merged = Results::read(&out).unwrap();
    assert_eq!(merged.runs.len(), 1, "both halves are the same cell");
    let mm = merged.runs[0].measured.as_ref().unwrap();
    assert_eq!(stats::decode(&mm.latency_histogram).unwrap(), whole, "merged histogram is exact");
    assert_eq!(mm.latency_ns, stats::summarize(&whole), "percentiles recomputed from it");
    assert_eq!(mm.ops, whole.len());
    assert_eq!(mm.bytes, whole.len() * run.workload.bs_bytes);
}

#[test]
fn a_single_run_that_swings_between_intervals_gets_a_wider_band() {
    let dir = TempDir::new("compare-swings");
    let base = Results::read(&fixture()).unwrap();
    let mut single = base.clone();
    let mut seen = std::collections::HashSet::new();
    single.runs.retain(|r| r.status == RunStatus::Ok && seen.insert(cells::cell_key(&r.workload)));
    let target = single.runs.iter().position(|r| r.backend == "buffered").unwrap();
    let steady = single.runs.iter().position(|r| r.backend == "mmap").unwrap();
    // Ten full intervals: steady for the mmap run, swinging 1:3 for the buffered one.
    for (i, swing) in [(target, true), (steady, false)] {
        let m = single.runs[i].measured.as_mut().unwrap();
        m.series.points = (0..11)
            .map(|k| iobench::base::stats::IntervalPoint {
                t_ns: (k + 1) * 100_000_000,
                ops: if swing && k % 2 == 1 { 300 } else { 100 },
                bytes: if swing && k % 2 == 1 { 300 << 12 } else { 100 << 12 },
                ..Default::default()
            })
            .collect();
    }
    let base_path = dir.path().join("base.json");
    single.write_atomic(&base_path).unwrap();
    let mut slower = single.clone();
    for i in [target, steady] {
        let m = slower.runs[i].measured.as_mut().unwrap();
        m.iops *= 0.7;
        m.bw_bytes_per_s *= 0.7;
    }
    let new_path = dir.path().join("new.json");
    slower.write_atomic(&new_path).unwrap();
    let o = iobench(&["compare", base_path.to_str().unwrap(), new_path.to_str().unwrap()]);
    let text = stdout(&o);
    let line = |backend: &str| {
        text.lines().find(|l| l.contains(&format!(" {backend} ")) && l.contains('%')).unwrap_or_default().to_string()
    };
    assert!(line("buffered").contains('†') && line("buffered").contains("within noise"), "{text}");
    assert!(line("mmap").contains("slower (REGRESSION)"), "a steady run keeps the default band: {text}");
    assert_eq!(o.status.code(), Some(1));
}
