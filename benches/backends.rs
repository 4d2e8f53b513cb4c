//! `cargo bench`: criterion groups that compare the backends through the library's own run loop.
//!
//! One group per workload, one benchmark per backend. Each benchmark prepares its file once,
//! outside the timed region, then `iter_custom` runs the loop for exactly the requested number of
//! operations and returns the loop's own measured time. Sampling is flat, so the page-cache
//! state does not depend on iteration counts. The latency histograms seen are written as an
//! iobench results file to target/iobench-bench/results.json (`iobench report` reads it).
//!
//! Environment: IOBENCH_BENCH_DIR (data directory, default target/iobench-bench/data),
//! IOBENCH_BENCH_SIZE (file size, default 256m), IOBENCH_BENCH_BACKENDS (comma list, default all).

#[path = "common/cpu_time.rs"]
mod cpu_time;

use criterion::measurement::{Measurement, WallTime};
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use iobench::env::Environment;
use iobench::plan::{Plan, PlanContext};
use iobench::result::{Measured, Results, RunResult, RunStatus};
use iobench::run::{Limit, Prepared};
use iobench::stats;
use iobench::workload::{RawWorkload, cli_value};
use std::path::PathBuf;
use std::time::Duration;

struct Workload {
    group: &'static str,
    rw: &'static str,
    bs: &'static str,
    cache: &'static str,
    /// (backend, iodepth, threads, durability)
    cells: &'static [(&'static str, u32, u32, &'static str)],
}

const SYNC_READERS: &[(&str, u32, u32, &str)] =
    &[("buffered", 1, 1, "none"), ("mmap", 1, 1, "none"), ("uring", 1, 1, "none"), ("tokio-pread", 1, 1, "none")];

const WORKLOADS: &[Workload] = &[
    Workload { group: "randread-4k-warm", rw: "randread", bs: "4k", cache: "warm", cells: SYNC_READERS },
    Workload { group: "read-1m-warm", rw: "read", bs: "1m", cache: "warm", cells: SYNC_READERS },
    Workload {
        group: "randread-4k-direct-qd1",
        rw: "randread",
        bs: "4k",
        cache: "as-is",
        cells: &[("direct", 1, 1, "none"), ("uring-direct", 1, 1, "none")],
    },
    Workload {
        group: "randread-4k-direct-qd32",
        rw: "randread",
        bs: "4k",
        cache: "as-is",
        cells: &[("direct", 1, 32, "none"), ("uring-direct", 32, 1, "none")],
    },
    Workload {
        group: "randwrite-4k",
        rw: "randwrite",
        bs: "4k",
        cache: "warm",
        cells: &[
            ("buffered", 1, 1, "none"),
            ("buffered", 1, 1, "fdatasync:64"),
            ("mmap", 1, 1, "none"),
            ("mmap", 1, 1, "msync-async:64"),
            ("uring", 8, 1, "none"),
        ],
    },
    Workload { group: "null", rw: "randread", bs: "4k", cache: "as-is", cells: &[("null", 1, 1, "none")] },
];

/// What `cargo bench` was asked for: data directory, file size, backends, and criterion's filter.
struct Settings {
    dir: PathBuf,
    size: String,
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
            dir: std::env::var_os("IOBENCH_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| target.join("data")),
            size: std::env::var("IOBENCH_BENCH_SIZE").unwrap_or_else(|_| "256m".into()),
            backends: std::env::var("IOBENCH_BENCH_BACKENDS")
                .ok()
                .map(|s| s.split(',').map(|b| b.trim().to_string()).collect()),
            filter,
        }
    }

    fn plan(&self, w: &Workload, cell: (&str, u32, u32, &str), id: &str) -> Plan {
        let (backend, iodepth, threads, durability) = cell;
        let raw = RawWorkload {
            name: Some(w.group.to_string()),
            backend: Some(backend.into()),
            rw: Some(w.rw.into()),
            bs: Some(cli_value(w.bs)),
            size: Some(cli_value(&self.size)),
            iodepth: Some(iodepth as i64),
            threads: Some(threads as i64),
            durability: (durability != "none").then(|| durability.to_string()),
            cache: Some(w.cache.into()),
            dir: Some(self.dir.to_string_lossy().into_owned()),
            ..Default::default()
        };
        match Plan::from_raw(&raw, PlanContext { mixed_backends: true, ..Default::default() }) {
            Ok((p, _)) => p,
            Err(e) => panic!("bench {id} has an invalid workload: {e}"),
        }
    }

    fn wanted(&self, id: &str, backend: &str) -> bool {
        self.filter.as_ref().is_none_or(|f| id.contains(f.as_str()))
            && self.backends.as_ref().is_none_or(|list| list.iter().any(|b| b == backend))
    }
}

/// Figures gathered over every call of one benchmark, for the results file.
struct Collected {
    plan: Plan,
    measured: Option<Measured>,
    hist: stats::Hist,
}

impl Collected {
    fn add(&mut self, m: Measured) {
        if let Ok(h) = stats::decode(&m.latency_histogram) {
            stats::merge(&mut self.hist, &h);
        }
        match &mut self.measured {
            None => self.measured = Some(m),
            Some(total) => {
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
        }
    }

    fn into_result(self, id: String) -> RunResult {
        let measured = self.measured.map(|mut m| {
            let secs = m.runtime_ns.max(1) as f64 / 1e9;
            m.iops = m.ops as f64 / secs;
            m.bw_bytes_per_s = m.bytes as f64 / secs;
            m.latency_ns = stats::summarize(&self.hist);
            m.latency_histogram = stats::encode(&self.hist);
            m.per_thread.clear();
            m.series.points.clear();
            m
        });
        let mut plan = self.plan;
        plan.name = id;
        RunResult {
            backend: plan.backend.to_string(),
            workload: plan,
            status: if measured.is_some() { RunStatus::Ok } else { RunStatus::Skipped },
            reason: None,
            notes: vec!["measured by cargo bench (criterion iter_custom)".into()],
            measured,
        }
    }
}

/// Registers one benchmark per backend of `w` in `group`; `value` turns a measured run into the
/// value criterion records (wall time or CPU time).
fn bench_workload<M: Measurement>(
    settings: &Settings,
    group: &mut BenchmarkGroup<'_, M>,
    w: &Workload,
    suffix: &str,
    value: fn(&Measured) -> M::Value,
    out: &mut Vec<RunResult>,
) {
    for &cell in w.cells {
        let (backend, iodepth, threads, durability) = cell;
        let mut label = backend.to_string();
        if iodepth > 1 {
            label.push_str(&format!("-qd{iodepth}"));
        }
        if threads > 1 {
            label.push_str(&format!("-{threads}threads"));
        }
        if durability != "none" {
            label.push_str(&format!("-{durability}"));
        }
        let id = format!("{}{suffix}/{label}", w.group);
        if !settings.wanted(&id, backend) {
            continue;
        }
        let plan = settings.plan(w, cell, &id);
        let mut prepared = match Prepared::new(&plan) {
            Ok(p) => p,
            Err(e) => {
                println!("{id}: skipped: {e}");
                continue;
            }
        };
        let mut collected = Collected { plan: plan.clone(), measured: None, hist: stats::new_hist() };
        let bs = plan.bs_bytes;
        group.throughput(Throughput::Bytes(bs));
        group.bench_function(label.as_str(), |b| {
            b.iter_custom(|iters| {
                // Every worker runs its share; criterion divides by `iters`.
                let per_thread = iters.div_ceil(plan.threads as u64);
                let m = prepared.run(Limit::ops(per_thread)).unwrap_or_else(|e| panic!("{id}: {e}"));
                let v = value(&m);
                collected.add(m);
                v
            })
        });
        out.push(collected.into_result(format!("{id} (cargo bench)")));
    }
}

fn configure<M: Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

fn main() {
    let settings = Settings::from_env();
    let _ = std::fs::create_dir_all(&settings.dir);
    let mut results = Results::new("cargo-bench", Environment::capture(&settings.dir));

    let mut c = Criterion::default().configure_from_args();
    for w in WORKLOADS {
        let mut group = c.benchmark_group(w.group);
        configure(&mut group);
        bench_workload::<WallTime>(
            &settings,
            &mut group,
            w,
            "",
            |m| Duration::from_nanos(m.runtime_ns),
            &mut results.runs,
        );
        group.finish();
    }

    // CPU time per operation: what each backend costs the machine, not just how long it takes.
    let mut cpu = Criterion::default().with_measurement(cpu_time::CpuTime).configure_from_args();
    let mut group = cpu.benchmark_group("randread-4k-warm-cpu");
    configure(&mut group);
    bench_workload(
        &settings,
        &mut group,
        &WORKLOADS[0],
        "-cpu",
        |m| ((m.cpu.user_s + m.cpu.sys_s) * 1e9) as u64,
        &mut results.runs,
    );
    group.finish();

    let path = settings.dir.parent().unwrap_or(&settings.dir).join("results.json");
    if !results.runs.is_empty() {
        match results.write_atomic(&path) {
            Ok(()) => println!("iobench results: {}", path.display()),
            Err(e) => eprintln!("could not write {}: {e}", path.display()),
        }
    }
    c.final_summary();
}
