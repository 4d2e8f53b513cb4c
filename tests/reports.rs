//! Suites and reports: expansion and interleaving, medians and spreads, every section and plot
//! of a report from a fixed results file. (Compare and merge: `compare.rs`.)

mod common;

use common::{TempDir, iobench, stderr, stdout};
use iobench::app::session::Session;
use iobench::report::cells::{self, Spread};
use iobench::report::document::Report;
use iobench::result::{Results, RunStatus};
use iobench::workload::raw::Suite;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    common::fixture("results-small.json")
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
    Results::read(&common::fixture("results-patterns.json")).unwrap()
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
