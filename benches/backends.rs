//! `cargo bench`: criterion groups that compare the backends through the library's own run loop.
//!
//! The cells come from the shipped suite `workloads/cargo-bench.toml`, expanded and validated
//! exactly as `iobench run cargo-bench` does: one criterion group per workload name, one
//! benchmark per backend (and variant). Each benchmark prepares its file once, outside the timed
//! region, then `iter_custom` runs the loop for exactly the requested number of operations and
//! returns the loop's own measured time. Sampling is flat, so the page-cache state does not
//! depend on iteration counts; the suite's `ramp_time` is criterion's warm-up. The latency
//! histograms of criterion's samples are written as an iobench results file to
//! target/iobench-bench/results.json, whose cells match those of `iobench run cargo-bench`
//! (`iobench report` plots it; `iobench compare` checks the two agree).
//!
//! Environment: IOBENCH_BENCH_DIR (data directory, default target/iobench-bench/data),
//! IOBENCH_BENCH_SIZE (file size, default the suite's 256m), IOBENCH_BENCH_BACKENDS (comma
//! list, default all).

mod common;

use criterion::measurement::{Measurement, WallTime};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use iobench::app::session::Session;
use iobench::base::stats;
use iobench::engine::{Prepared, StopAt};
use iobench::observe::environment::Environment;
use iobench::observe::evidence::Evidence;
use iobench::result::{Measured, Results, RunResult};
use iobench::workload::plan::{Durability, Plan};
use iobench::workload::raw::cli_value;
use std::path::PathBuf;
use std::time::Duration;

/// The shipped suite whose cells `cargo bench` measures.
const SUITE: &str = "cargo-bench";

/// What `cargo bench` was asked for: data directory, file size, backends, and criterion's filter.
struct Settings {
    /// target/iobench-bench: where the results file goes.
    out: PathBuf,
    dir: PathBuf,
    size: Option<String>,
    backends: Option<Vec<String>>,
    filter: Option<String>,
}

impl Settings {
    fn from_env() -> Settings {
        let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("iobench-bench");
        // criterion's filter is the first free argument; we apply it as a substring so files of
        // filtered-out benchmarks are never prepared.
        let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
        Settings {
            out: target.clone(),
            dir: std::env::var_os("IOBENCH_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| target.join("data")),
            size: std::env::var("IOBENCH_BENCH_SIZE").ok().filter(|s| !s.is_empty()),
            backends: std::env::var("IOBENCH_BENCH_BACKENDS")
                .ok()
                .map(|s| s.split(',').map(|b| b.trim().to_string()).collect()),
            filter,
        }
    }

    /// The suite's cells in run order, validated as `iobench run` validates them.
    fn plans(&self) -> Vec<Plan> {
        let suite = match iobench::workload::shipped::shipped(SUITE) {
            Some(Ok(suite)) => suite,
            Some(Err(e)) => panic!("{e}"),
            None => panic!("the shipped suite {SUITE} is missing from src/suites.rs"),
        };
        let mut overrides = toml::Table::new();
        overrides.insert("dir".into(), toml::Value::String(self.dir.to_string_lossy().into_owned()));
        if let Some(size) = &self.size {
            overrides.insert("size".into(), cli_value(size));
        }
        let session = Session { suite, overrides, output: None, safety: Default::default(), ..Default::default() };
        match session.plans() {
            Ok(plans) => plans.into_iter().map(|(p, _)| p).collect(),
            Err(e) => panic!("workloads/{SUITE}.toml with IOBENCH_BENCH_* applied: {e}"),
        }
    }

    fn wanted(&self, id: &str, backend: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| id.contains(f.as_str()))
            && self.backends.as_ref().is_none_or(|list| list.iter().any(|b| b == backend))
    }
}

/// The benchmark's name within its group: the backend, then what sets the cell apart.
fn label(plan: &Plan) -> String {
    let mut label = plan.backend.to_string();
    if plan.iodepth > 1 {
        label.push_str(&format!("-qd{}", plan.iodepth));
    }
    if plan.threads > 1 {
        label.push_str(&format!("-{}threads", plan.threads));
    }
    if plan.durability != Durability::None {
        label.push_str(&format!("-{}", plan.durability));
    }
    label
}

/// criterion's samples per benchmark (flat sampling: one `iter_custom` call each).
const SAMPLES: usize = 20;

/// What the calls of one benchmark measured, for the results file.
struct Collected {
    plan: Plan,
    /// Every call, criterion's warm-up first; the results hold only the last `SAMPLES`, as
    /// the suite's ramp keeps `iobench run`'s warm-up out of its figures.
    calls: Vec<Measured>,
    /// From one further run after criterion's samples (see `bench_plans`).
    evidence: Option<Evidence>,
}

impl Collected {
    /// The samples' figures added up, with their histograms merged.
    fn samples_total(&mut self) -> Option<(Measured, stats::Hist)> {
        let warm_up = self.calls.len().saturating_sub(SAMPLES);
        let mut samples = self.calls.drain(..).skip(warm_up);
        let mut total = samples.next()?;
        let mut hist = stats::decode(&total.latency_histogram).unwrap_or_else(|_| stats::new_hist());
        for m in samples {
            if let Ok(h) = stats::decode(&m.latency_histogram) {
                stats::merge(&mut hist, &h);
            }
            total.ops += m.ops;
            total.read_ops += m.read_ops;
            total.write_ops += m.write_ops;
            total.bytes += m.bytes;
            total.runtime_ns += m.runtime_ns;
            total.cpu.user_s += m.cpu.user_s;
            total.cpu.sys_s += m.cpu.sys_s;
            total.faults.minor += m.faults.minor;
            total.faults.major += m.faults.major;
            total.ctx_switches += m.ctx_switches;
        }
        Some((total, hist))
    }

    /// The run as a results entry. `name` is the workload name: the plan's own for the
    /// wall-time groups, so cells match those of `iobench run cargo-bench`.
    fn into_result(mut self, name: &str) -> RunResult {
        let measured = self.samples_total().map(|(mut m, hist)| {
            let secs = m.runtime_ns.max(1) as f64 / 1e9;
            m.iops = m.ops as f64 / secs;
            m.bw_bytes_per_s = m.bytes as f64 / secs;
            m.latency_ns = stats::summarize(&hist);
            m.latency_histogram = stats::encode(&hist);
            m.per_thread.clear();
            m.series.points.clear();
            m.evidence = self.evidence.unwrap_or_default();
            m
        });
        let mut plan = self.plan;
        plan.name = name.to_string();
        let notes = vec!["measured by cargo bench (criterion iter_custom)".into()];
        match measured {
            Some(m) => RunResult::ok(&plan, notes, m),
            None => RunResult { reason: None, ..RunResult::skipped(&plan, notes, String::new()) },
        }
    }
}

/// Registers one benchmark per plan in `group` (named `group_name`); `value` turns a measured
/// run into the value criterion records (wall time or CPU time). Each finished benchmark is
/// added to `out`, which is rewritten at once, so an interrupted `cargo bench` keeps it.
fn bench_plans<M: Measurement>(
    settings: &Settings,
    group: &mut BenchmarkGroup<'_, M>,
    group_name: &str,
    plans: &[&Plan],
    value: fn(&Measured) -> M::Value,
    out: &mut Results,
) {
    for &plan in plans {
        let label = label(plan);
        let id = format!("{group_name}/{label}");
        if !settings.wanted(&id, &plan.backend.to_string()) {
            continue;
        }
        // criterion's warm-up is the suite's ramp: every call measures from its first operation.
        let unramped = Plan { ramp_ns: 0, ..plan.clone() };
        let mut prepared = match Prepared::new(&unramped) {
            Ok(p) => p,
            Err(e) => {
                println!("{id}: skipped: {e}");
                continue;
            }
        };
        // As in one long `iobench run`, written pages stay dirty from call to call.
        prepared.sync_at_end = false;
        // Gathering evidence (vmstat, smaps, page-cache residency) takes 2-5 ms, and an idle
        // pause that long between samples put tokio-pread into a state 1.5x slower per
        // operation than a continuous run; it comes from one further run after the samples.
        prepared.collect_evidence = false;
        let mut collected = Collected { plan: plan.clone(), calls: Vec::new(), evidence: None };
        let mut sample_ops = 1;
        group.throughput(Throughput::Bytes(plan.bs_bytes));
        group.bench_function(label.as_str(), |b| {
            b.iter_custom(|iters| {
                // Every worker runs its share; criterion divides by `iters`.
                let per_thread = iters.div_ceil(plan.threads as u64);
                sample_ops = per_thread;
                let m = prepared.run(StopAt::ops(per_thread)).unwrap_or_else(|e| panic!("{id}: {e}"));
                let v = value(&m);
                collected.calls.push(m);
                v
            })
        });
        prepared.collect_evidence = true;
        match prepared.run(StopAt::ops(sample_ops)) {
            Ok(m) => collected.evidence = Some(m.evidence),
            Err(e) => println!("{id}: the run gathering evidence failed: {e}"),
        }
        // Written pages go to disk now, outside any measurement, so the next benchmark does
        // not start with this one's writeback still to come.
        if plan.rw.has_writes()
            && let Err(e) = prepared.sync()
        {
            println!("{id}: final sync failed: {e}");
        }
        out.runs.push(collected.into_result(group_name));
        let path = settings.out.join("results.json");
        if let Err(e) = out.write_atomic(&path) {
            eprintln!("could not write {}: {e}", path.display());
        }
    }
}

/// Flat sampling, `SAMPLES` samples over 2 s, after a warm-up as long as the suite's ramp for these
/// cells (at least 0.1 s: criterion needs one).
fn configure<M: Measurement>(group: &mut BenchmarkGroup<'_, M>, plans: &[&Plan]) {
    let ramp_ns = plans.iter().map(|p| p.ramp_ns).max().unwrap_or(0);
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_nanos(ramp_ns).max(Duration::from_millis(100)))
        .measurement_time(Duration::from_secs(2));
}

fn main() {
    let settings = Settings::from_env();
    let _ = std::fs::create_dir_all(&settings.dir);
    let plans = settings.plans();
    let mut results = Results::new(SUITE, Environment::capture(&settings.dir));

    // Workload names in suite order; a name may span several [[workload]] tables.
    let mut names: Vec<&str> = Vec::new();
    for p in &plans {
        if !names.contains(&p.name.as_str()) {
            names.push(&p.name);
        }
    }
    let of = |name: &str| -> Vec<&Plan> { plans.iter().filter(|p| p.name == name).collect() };

    let mut c = Criterion::default().configure_from_args();
    for name in &names {
        let mut group = c.benchmark_group(*name);
        configure(&mut group, &of(name));
        let value = |m: &Measured| Duration::from_nanos(m.runtime_ns);
        bench_plans::<WallTime>(&settings, &mut group, name, &of(name), value, &mut results);
        group.finish();
    }

    // CPU time per operation: what each backend costs the machine, not just how long it takes.
    // Its results get their own workload name, so they are not taken for repeats of the above.
    let cpu_name = format!("{}-cpu", names[0]);
    let mut cpu = Criterion::default().with_measurement(common::cpu_time::CpuTime).configure_from_args();
    let mut group = cpu.benchmark_group(cpu_name.as_str());
    configure(&mut group, &of(names[0]));
    let value = |m: &Measured| ((m.cpu.user_s + m.cpu.sys_s) * 1e9) as u64;
    bench_plans(&settings, &mut group, &cpu_name, &of(names[0]), value, &mut results);
    group.finish();

    if !results.runs.is_empty() {
        println!("iobench results: {}", settings.out.join("results.json").display());
    }
    c.final_summary();
}
