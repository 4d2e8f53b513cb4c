//! Suites, reports, compare and merge: expansion and interleaving, medians and spreads, every
//! section and plot of a report from a fixed results file, compare's verdicts and exit codes,
//! and merge's exactness.

mod common;

use common::{TempDir, iobench, stderr, stdout};
use iobench::app::session::Session;
use iobench::base::stats;
use iobench::report::cells::{self, Spread};
use iobench::report::document::Report;
use iobench::result::{Results, RunStatus};
use iobench::workload::raw::Suite;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results-small.json")
}

fn session(text: &str) -> Session {
    Session {
        suite: Suite::parse("t", text).unwrap(),
        overrides: toml::Table::new(),
        output: None,
        safety: Default::default(),
        ..Default::default()
    }
}

#[test]
fn lists_expand_backend_fastest_and_repeats_interleave() {
    let s = session("repeat = 2\n[defaults]\nbs = ['4k', '1m']\nbackend = ['buffered', 'mmap']\n[[workload]]\n");
    let order: Vec<String> = s
        .plans()
        .unwrap()
        .iter()
        .map(|(p, _)| format!("{}:{}", iobench::base::units::format_size(p.bs_bytes), p.backend))
        .collect();
    let once = ["4k:buffered", "4k:mmap", "1m:buffered", "1m:mmap"];
    assert_eq!(order, [once, once].concat(), "A B C A B C, not A A B B");
}

#[test]
fn cli_lists_expand_like_suite_lists() {
    let mut s = session("rw = 'randread'\n");
    s.overrides.insert("bs".into(), iobench::workload::raw::cli_value("4k,64k,1m"));
    let bs: Vec<u64> = s.plans().unwrap().iter().map(|(p, _)| p.bs_bytes).collect();
    assert_eq!(bs, [4096, 65536, 1 << 20]);
}

#[test]
fn median_and_spread() {
    let s = Spread::of(&[10.0, 12.0, 11.0, 30.0]);
    assert_eq!((s.n, s.median, s.min, s.max), (4, 11.5, 10.0, 30.0));
    assert_eq!(s.mad, 1.0, "deviations 1.5 0.5 0.5 18.5 have median 1");
    assert!((s.rel_range() - 20.0 / 11.5).abs() < 1e-12);
    let one = Spread::of(&[7.0]);
    assert_eq!((one.median, one.mad, one.rel_range()), (7.0, 0.0, 0.0));
    assert_eq!(Spread::of(&[]).n, 0);
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

#[test]
fn every_shipped_suite_loads_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".toml").map(String::from))
        .collect();
    files.sort();
    let mut shipped: Vec<String> = iobench::workload::shipped::SHIPPED.iter().map(|(n, _)| n.to_string()).collect();
    shipped.sort();
    assert_eq!(files, shipped, "every workloads/*.toml is built in (src/suites.rs) and vice versa");
    for name in &files {
        let suite = Suite::load(&dir.join(format!("{name}.toml"))).unwrap();
        assert!(suite.description.is_some(), "{name}: needs a description for `iobench list`");
        let s = Session {
            suite,
            overrides: toml::Table::new(),
            output: None,
            safety: Default::default(),
            ..Default::default()
        };
        let plans = s.plans().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!plans.is_empty(), "{name}");
    }
    let quick = iobench::workload::shipped::shipped("quick").unwrap().unwrap();
    assert!(quick.repeat >= 2, "quick gives every cell a spread, so `iobench compare` can tell noise from change");
    let s = Session {
        suite: quick,
        overrides: toml::Table::new(),
        output: None,
        safety: Default::default(),
        ..Default::default()
    };
    let plans = s.plans().unwrap();
    let backends: std::collections::BTreeSet<String> = plans.iter().map(|(p, _)| p.backend.to_string()).collect();
    for b in ["buffered", "direct", "mmap", "uring", "uring-direct", "tokio", "tokio-pread", "null"] {
        assert!(backends.contains(b), "quick runs {b}");
    }
    let secs: f64 = plans.iter().map(|(p, _)| p.runtime_ns.unwrap_or(0) as f64 / 1e9).sum();
    assert!(secs <= 90.0, "quick measures {secs} s; it must finish within 2 minutes with preparation");
}

#[test]
fn list_shows_suites_backends_and_options() {
    let o = iobench(&["list"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for (name, _) in iobench::workload::shipped::SHIPPED {
        assert!(out.contains(name), "{name} listed");
    }
    assert!(out.contains("First look"), "descriptions are listed");
    assert!(out.contains("uring-direct") && out.contains("options:"), "{out}");
}

#[test]
fn report_from_fixture_has_every_section_and_plot() {
    let results = Results::read(&fixture()).unwrap();
    let report = Report::build(std::slice::from_ref(&results)).unwrap();
    let dir = TempDir::new("report");
    let written = report.write(dir.path()).unwrap();
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    let html = std::fs::read_to_string(&written.html).unwrap();
    for section in ["## Environment", "## Warnings", "## Rankings", "## Plots"] {
        assert!(md.contains(section), "report.md has {section}");
    }
    for id in ["environment", "warnings", "rankings", "plots"] {
        assert!(html.contains(&format!("<h2 id=\"{id}\">")), "report.html has {id}");
    }
    // Standalone: nothing is fetched (the SVG namespace is a name, not a request).
    assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"));
    let groups = cells::group(&results.runs);
    for g in &groups {
        assert!(md.contains(&format!("### {}", g.label)), "ranking table for {}", g.label);
    }
    // One figure per plot, and each plot kind present: per workload, sweeps, costs.
    let figures = html.matches("<figure ").count();
    assert_eq!(figures, report.plot_count());
    assert_eq!(written.plots, report.plot_count());
    let ids: Vec<&str> = report.sections.iter().flat_map(|s| s.plots.iter().map(|p| p.id.as_str())).collect();
    for kind in ["-throughput-", "-spectrum-", "-cdf-", "-series-", "-sweep-bs-", "-cpu-", "-majflt-"] {
        assert!(ids.iter().any(|id| id.contains(kind)), "a {kind} plot in {ids:?}");
    }
    let measured_groups = groups.iter().filter(|g| g.cells.iter().any(|c| c.is_measured())).count();
    assert_eq!(ids.iter().filter(|id| id.contains("-throughput-")).count(), measured_groups);
    // Every plot: an SVG file beside report.md, titled, with titled axes (units) and a legend.
    for p in report.sections.iter().flat_map(|s| s.plots.iter()) {
        let svg = std::fs::read_to_string(dir.path().join("plots").join(format!("{}.svg", p.id))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", p.id);
        assert!(md.contains(&format!("plots/{}.svg", p.id)));
        assert!(svg.contains("\nbackend\n</text>"), "{}: legend", p.id);
        let axis_units = ["(µs", "(MB/s)", "(K IOPS)", "(%)", "(s)", "per GB", "(bytes"];
        assert!(axis_units.iter().any(|u| svg.contains(u)), "{}: axis with units", p.id);
    }
    let spectrum = report.sections.iter().flat_map(|s| s.plots.iter()).find(|p| p.id.contains("-spectrum-")).unwrap();
    for nines in ["50%", "90%", "99%", "99.9%"] {
        assert!(spectrum.svg.contains(&format!("\n{nines}\n</text>")), "spectrum x axis labelled {nines}");
    }
    // The fixture has repeats: rankings show spreads and ratios to the best.
    assert!(md.contains("| 1.00 |"), "best row has ratio 1.00");
    assert!(md.contains('±'), "spread of repeats shown");
    // The null backend ran: its cost is compared with real backends.
    let text = report.terminal_text();
    assert!(text.contains("vs best"), "{text}");
}

#[test]
fn warnings_say_what_to_do() {
    let mut results = Results::read(&fixture()).unwrap();
    // A skipped backend, a cold run that found the file cached, and repeats far apart.
    let r = results.runs.iter_mut().find(|r| r.backend == "buffered").unwrap();
    r.status = RunStatus::Skipped;
    r.reason = Some("not available in this build".into());
    r.measured = None;
    let cold = results.runs.iter_mut().find(|r| r.backend == "mmap" && r.workload.name.contains("cold")).unwrap();
    cold.measured.as_mut().unwrap().cache.resident_before_pct = 40.0;
    let name = cold.workload.name.clone();
    let noisy = results.runs.iter_mut().find(|r| r.backend == "mmap" && r.workload.name == name).unwrap();
    noisy.measured.as_mut().unwrap().bw_bytes_per_s *= 3.0;
    noisy.measured.as_mut().unwrap().iops *= 3.0;
    let report = Report::build(&[results]).unwrap();
    let all: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    let has = |needle: &str| all.iter().any(|w| w.contains(needle));
    assert!(has("buffered was skipped in 1 run: not available in this build"), "{all:#?}");
    assert!(has("cache = cold was requested but 40.0%"), "{all:#?}");
    assert!(has("repeats span") && has("raise repeat"), "{all:#?}");
    assert!(has("harness's own cost"), "null's p50 is compared with warm page-cache hits: {all:#?}");

    // Every cell noisy: one warning names how many and the widest, not one line per cell.
    let mut noisy = Results::read(&fixture()).unwrap();
    let mut seen = std::collections::HashSet::new();
    for r in noisy.runs.iter_mut() {
        // The second run of each cell becomes twice as fast as the first.
        if !seen.insert(cells::cell_key(&r.workload))
            && let Some(m) = r.measured.as_mut()
        {
            m.iops *= 2.0;
            m.bw_bytes_per_s *= 2.0;
        }
    }
    let report = Report::build(&[noisy]).unwrap();
    let all: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    let many: Vec<&String> = all.iter().filter(|w| w.contains("cells have repeats spanning over 10%")).collect();
    assert_eq!(many.len(), 1, "{all:#?}");
    assert!(many[0].contains("widest: ") && many[0].contains("raise repeat"), "{}", many[0]);
    assert!(!all.iter().any(|w| w.contains("repeats span ")), "no per-cell lines as well: {all:#?}");
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
fn run_writes_results_folder_with_report() {
    let dir = TempDir::new("runfolder");
    let out = dir.path().join("out");
    let data = dir.path().join("data");
    let o = iobench(&[
        "run",
        "--backend",
        "null,buffered",
        "--size",
        "1m",
        "--runtime",
        "200ms",
        "--dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for f in ["results.json", "report.md", "report.html"] {
        assert!(out.join(f).is_file(), "{f} written");
    }
    assert!(std::fs::read_dir(out.join("plots")).unwrap().count() >= 4);
    assert!(stdout(&o).contains("vs best"), "ranking tables printed: {}", stdout(&o));
    assert!(stderr(&o).contains("[2/2]"), "plain progress lines when stderr is not a terminal");
    let o = iobench(&[
        "report",
        out.join("results.json").to_str().unwrap(),
        "--out",
        dir.path().join("again").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("again/report.html").is_file());
}

#[test]
fn ctrl_c_keeps_every_finished_cell() {
    let dir = TempDir::new("ctrlc");
    let out = dir.path().join("out");
    let suite = dir.path().join("s.toml");
    std::fs::write(
        &suite,
        format!(
            "description = 't'\nrepeat = 20\n[defaults]\nbackend = 'null'\nsize = '1m'\nruntime = '200ms'\ndir = '{}'\n[[workload]]\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let child = common::command()
        .args(["run", suite.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for at least two finished cells, then interrupt.
    let results = out.join("results.json");
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(20) {
        if Results::read(&results).is_ok_and(|r| r.runs.len() >= 2) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "interrupted: {}", stderr(&o));
    let kept = Results::read(&results).unwrap();
    assert!(kept.runs.len() >= 2 && kept.runs.len() < 20, "{} runs kept", kept.runs.len());
    assert!(kept.runs.iter().all(|r| r.status == RunStatus::Ok), "no half-finished cell is kept");
    assert!(out.join("report.html").is_file(), "the report covers the finished cells");
}

fn patterns_fixture() -> Results {
    Results::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/results-patterns.json")).unwrap()
}

#[test]
fn report_of_scans_records_and_ipc_has_their_units_and_sections() {
    use iobench::report::cells::Metric;
    use iobench::result::patterns::PatternFigures;
    let results = patterns_fixture();
    let pattern = |r: &iobench::result::RunResult| r.measured.as_ref().and_then(|m| m.pattern.clone());
    let scan = results.runs.iter().find_map(|r| match pattern(r)? {
        PatternFigures::Scan { lines_per_scan, matches_per_scan, .. } => Some((lines_per_scan, matches_per_scan)),
        _ => None,
    });
    let (lines, matches) = scan.expect("the fixture has a scan run");
    assert!(results.runs.iter().any(|r| matches!(pattern(r), Some(PatternFigures::Records { .. }))));
    let ipc = results.ipc.clone().expect("the fixture has an ipc block");

    let report = Report::build(std::slice::from_ref(&results)).unwrap();
    let dir = TempDir::new("report-patterns");
    let written = report.write(dir.path()).unwrap();
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    let html = std::fs::read_to_string(&written.html).unwrap();
    let text = report.terminal_text();

    // Scans rank by GB/s and lines/s, records by records/s with latency per update; no IOPS.
    let groups = cells::group(&results.runs);
    for g in &groups {
        let want = if g.plan.rw == iobench::workload::plan::Rw::Scan { Metric::Scan } else { Metric::Records };
        assert_eq!(g.metric, want, "{}", g.label);
        let best = g.ranked()[0];
        let figure = want.cell(best.throughput(want).median);
        assert!(md.contains(&format!("| 1 | {} | {figure} |", best.label())), "{} ranks by {want:?}: {md}", g.label);
    }
    for out in [&md, &text] {
        assert!(!out.contains("IOPS"), "no IOPS for scans or records:\n{out}");
        assert!(out.contains("GB/s") && out.contains("M lines/s") && out.contains("p50/scan"), "{out}");
        assert!(out.contains("K records/s") && out.contains("p50/update") && out.contains("p99/update"), "{out}");
    }
    for table in ["<th>GB/s</th><th>M lines/s</th>", "<th>K records/s</th>", "<th>p99/update</th>"] {
        assert!(html.contains(table), "report.html has {table}");
    }
    for p in report.sections.iter().flat_map(|s| s.plots.iter()) {
        assert!(!p.svg.contains("IOPS"), "{}: no IOPS axis", p.id);
        if p.id.contains("-throughput-scan") || p.id.contains("-series-scan") || p.id.contains("-sweep-") {
            assert!(p.svg.contains("(GB/s)"), "{}: scans plotted in GB/s", p.id);
        }
        if p.id.contains("-throughput-scan") {
            assert!(p.svg.contains("M lines/s"), "{}: bars labelled with lines/s", p.id);
        }
        if p.id.contains("-throughput-records") || p.id.contains("-series-records") {
            assert!(p.svg.contains("(K records/s)"), "{}: records plotted in records/s", p.id);
        }
    }

    // What the pattern checked, under the rows: in the terminal, report.md and report.html.
    let counted = format!("each counted {lines} lines and {matches} matching");
    for out in [&md, &html, &text] {
        assert!(out.contains("scans checked") && out.contains(&counted), "scan counts shown:\n{out}");
        assert!(out.contains("updates verified") && out.contains("update counts adding up"), "{out}");
    }
    assert!(html.contains("<ul class=\"pattern\">"));

    // The ipc section: round trips per mode with p50/p99, and the claims' outcomes.
    assert!(md.contains("## Processes sharing a mapping (iobench ipc)"), "{md}");
    assert!(html.contains("<h2 id=\"ipc\">") && html.contains("<h3>Claims</h3>"));
    for m in &ipc.modes {
        let p50 = iobench::base::units::format_ns(m.round_trip_ns.p50 as f64);
        let p99 = iobench::base::units::format_ns(m.round_trip_ns.p99 as f64);
        for out in [&md, &html] {
            assert!(out.contains(m.mode.name()) && out.contains(&p50) && out.contains(&p99), "{}", m.mode.name());
        }
    }
    let v = ipc.visibility.as_ref().expect("the claims ran");
    assert!(md.contains(&format!("seen by a fresh mapping: {}", v.seen_by_fresh_mapping)));
    assert!(html.contains("Visibility without msync") && html.contains("msync(MS_SYNC) p50"));
    assert!(text.contains("ipc: two processes"), "{text}");
    // Still one standalone file.
    assert!(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"));
}

#[test]
fn report_of_an_ipc_results_file_alone() {
    let mut results = patterns_fixture();
    results.runs.clear();
    results.suite = "ipc".into();
    let dir = TempDir::new("report-ipc");
    let file = dir.path().join("results.json");
    results.write_atomic(&file).unwrap();
    let out = dir.path().join("report");
    let o = iobench(&["report", file.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("mmap-futex"), "the terminal shows the ipc table: {}", stdout(&o));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(md.contains("## Processes sharing a mapping") && md.contains("mmap-spin"), "{md}");
    assert!(html.contains("<h2 id=\"ipc\">") && html.contains("<table class=\"ipc\">"));
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
