//! Fixed results documents for the article's verdict rules: runs built from workload keys and
//! a few figures, with no I/O.

use iobench::result::{Measured, Results, RunResult};
use iobench::workload::plan::{Plan, PlanContext};
use iobench::workload::raw::RawWorkload;
use serde_json::json;

pub const GIB: u64 = 1 << 30;
pub const MIB: u64 = 1 << 20;

/// A results document with memory ceilings (read 14 GB/s, memcpy 12 GB/s) and `runs`.
pub fn doc(runs: Vec<RunResult>) -> Results {
    let env = serde_json::from_value(json!({
        "hostname": "fixture",
        "memory_ceilings": { "buffer_bytes": GIB, "read_bytes_per_s": 14e9, "memcpy_bytes_per_s": 12e9 }
    }))
    .expect("environment fixture");
    let mut r = Results::new("article", env);
    r.runs = runs;
    r
}

/// The plan of workload `name` on `backend` with extra TOML `keys` (e.g. `bs = "1m"`).
pub fn plan(name: &str, backend: &str, keys: &str) -> Plan {
    let text = format!("name = {name:?}\nbackend = {backend:?}\n{keys}\n");
    let table: toml::Table = text.parse().expect("fixture keys are TOML");
    let raw: RawWorkload = toml::Value::Table(table).try_into().expect("fixture keys are workload keys");
    let ctx = PlanContext { mixed_backends: true, several_backends: true };
    Plan::from_raw(&raw, ctx).expect("fixture plan is valid").0
}

/// 1 GiB moved in 1 s, 1 µs per operation, no CPU time or faults: adjust with the setters.
pub fn measured() -> Measured {
    let lat = json!({ "min": 1000, "mean": 1000.0, "p50": 1000, "p90": 1000, "p99": 1000, "p99_9": 1000,
                      "p99_99": 1000, "max": 1000 });
    serde_json::from_value(json!({
        "ops": 262144, "read_ops": 262144, "write_ops": 0, "bytes": GIB, "runtime_ns": 1_000_000_000u64,
        "iops": 262144.0, "bw_bytes_per_s": GIB as f64, "latency_ns": lat, "latency_histogram": "",
        "cpu": { "user_s": 0.0, "sys_s": 0.0 }, "faults": { "minor": 0, "major": 0 }, "ctx_switches": 0,
        "cache": { "resident_before_pct": 100.0 }, "verified_blocks": 0, "per_thread": [],
        "series": { "interval_ns": 100_000_000u64, "points": [] }
    }))
    .expect("measured fixture")
}

/// A completed run of `name` on `backend` with `keys`, its figures set by `set`.
pub fn ok(name: &str, backend: &str, keys: &str, set: impl FnOnce(&mut Measured)) -> RunResult {
    let mut m = measured();
    set(&mut m);
    RunResult::ok(&plan(name, backend, keys), vec![], m)
}

/// A failed run of `name` on `backend` with `reason`.
pub fn failed(name: &str, backend: &str, keys: &str, reason: &str) -> RunResult {
    RunResult::failed(&plan(name, backend, keys), vec![], reason.into())
}

/// CPU time such that the run costs `ns` per KiB moved.
pub fn cpu_per_kib(m: &mut Measured, ns: f64) {
    m.cpu.sys_s = ns * (m.bytes as f64 / 1024.0) / 1e9;
    m.cpu.user_s = 0.0;
}

pub fn gbps(m: &mut Measured, gb: f64) {
    m.bw_bytes_per_s = gb * 1e9;
}

pub fn kiops(m: &mut Measured, k: f64) {
    m.iops = k * 1e3;
}

pub fn latency_us(m: &mut Measured, p50: f64, p99: f64) {
    m.latency_ns.p50 = (p50 * 1e3) as u64;
    m.latency_ns.p99 = (p99 * 1e3) as u64;
    m.latency_ns.mean = p50 * 1e3;
}

/// Writes with mean latency `write_us`, each followed by a sync of `sync_us`.
pub fn writes(m: &mut Measured, write_us: f64, sync_us: Option<f64>) {
    m.write_ops = 1000;
    m.read_ops = 0;
    m.latency_ns.mean = write_us * 1e3;
    m.sync = sync_us.map(|s| {
        serde_json::from_value(json!({
            "ops": 1000, "latency_histogram": "",
            "latency_ns": { "min": 0, "mean": s * 1e3, "p50": 0, "p90": 0, "p99": 0, "p99_9": 0, "p99_99": 0, "max": 0 }
        }))
        .expect("sync fixture")
    });
}

/// Page faults (minor) per GB moved.
pub fn faults_per_gb(m: &mut Measured, n: f64) {
    m.faults.minor = (n * m.bytes as f64 / 1e9) as u64;
}

/// What the isolation layer records: the child's peak RSS and the cgroup's peak, in MiB.
pub fn isolation(m: &mut Measured, rss_mib: u64, peak_mib: u64) {
    m.backend_setup.insert(
        "isolation".into(),
        json!({ "child_max_rss_bytes": rss_mib * MIB, "peak_usage_bytes": peak_mib * MIB }),
    );
}

/// User and system CPU time, in s.
pub fn cpu_s(m: &mut Measured, user: f64, sys: f64) {
    m.cpu.user_s = user;
    m.cpu.sys_s = sys;
}

/// Mean and p99 latency in µs, IOPS in K (one thread at depth 1: IOPS = 1 / mean).
pub fn random_reads(m: &mut Measured, kiops: f64, p99_us: f64) {
    m.iops = kiops * 1e3;
    m.latency_ns.mean = 1e6 / kiops;
    m.latency_ns.p99 = (p99_us * 1e3) as u64;
}

pub fn final_sync_ms(m: &mut Measured, ms: f64) {
    m.final_sync_ns = Some((ms * 1e6) as u64);
}

/// The memory-limited child's /proc/self/status: VmSize at its start and VmPeak, in MiB.
pub fn vm(m: &mut Measured, start_mib: u64, peak_mib: u64) {
    let iso = m.backend_setup.entry("isolation").or_insert_with(|| json!({}));
    iso["vm_size_start_bytes"] = json!(start_mib * MIB);
    iso["vm_peak_bytes"] = json!(peak_mib * MIB);
}

/// What a 32-bit child records: its pointer width and its address-space probe.
pub fn probe32(m: &mut Measured, file: u64, largest: u64, whole_ok: bool, pread32_ok: bool) {
    let outcome = |ok: bool, what: &str| json!({ "ok": ok, "detail": what });
    m.backend_setup.insert(
        "isolation".into(),
        json!({
            "pointer_bits": 32,
            "address_space_probe": {
                "pointer_bits": 32, "off_t_bits": 32, "largest_mapping_bytes": largest, "file_bytes": file,
                "whole_file": outcome(whole_ok, if whole_ok { "mapped" } else { "mmap of the whole file: ENOMEM" }),
                "pread_off_t": outcome(pread32_ok, if pread32_ok { "4096 bytes" } else { "pread at 2 GiB: EINVAL" }),
                "pread64": outcome(true, "4096 bytes, verified against the data pattern")
            }
        }),
    );
}
