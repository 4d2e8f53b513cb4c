//! `iobench env` for people: the environment as aligned lines (`--json` prints the document).

use crate::app::probe::DeviceCeilings;
use crate::base::units::format_size;
use crate::observe::environment::Environment;
use std::fmt::Write;

fn gb_s(bytes_per_s: f64) -> String {
    format!("{:.1} GB/s", bytes_per_s / 1e9)
}

/// The environment as a few labelled lines.
pub fn render(env: &Environment) -> String {
    let mut out = String::new();
    let mut line = |label: &str, text: String| {
        let _ = writeln!(out, "{label:<12} {text}");
    };
    line("iobench", format!("{} on {} (kernel {})", env.iobench_version, env.hostname, env.kernel));
    let governor = if env.cpu_governor.is_empty() { "no cpufreq".to_string() } else { env.cpu_governor.clone() };
    line("CPU", format!("{}, {} cores, governor: {governor}", env.cpu_model, env.cpus));
    let cg = &env.cgroup_memory;
    let limit = match (cg.version.as_str(), cg.limit_bytes) {
        ("", _) => "no memory cgroup found".to_string(),
        (v, Some(l)) => format!("cgroup {v} {}: limit {}", cg.path, format_size(l)),
        (v, None) => format!("cgroup {v} {}: no limit", cg.path),
    };
    let gib = env.memory_bytes as f64 / (1u64 << 30) as f64;
    line("Memory", format!("{gib:.1} GiB, page size {}; {limit}", format_size(env.page_size_bytes)));
    line("Filesystem", format!("{} on {} ({})", env.fs_type, env.device, env.mount_options));
    match &env.block_device {
        Some(d) => line(
            "Device",
            format!(
                "{} {}: scheduler {}, block {} B logical / {} B physical, {}, nr_requests {}, read_ahead_kb {}",
                d.name,
                d.model,
                if d.scheduler.is_empty() { "?" } else { &d.scheduler },
                d.logical_block_bytes,
                d.physical_block_bytes,
                if d.rotational { "rotational" } else { "non-rotational" },
                d.nr_requests,
                d.read_ahead_kb
            ),
        ),
        None => line("Device", "no single block device (tmpfs, overlayfs, btrfs?)".into()),
    }
    line("THP", format!("enabled {}, defrag {}", env.thp_enabled, env.thp_defrag));
    let u = &env.io_uring;
    let sysctl = u.disabled_sysctl.map(|v| format!("io_uring_disabled = {v}")).unwrap_or_else(|| "no sysctl".into());
    let uring = if u.available {
        format!("available ({sysctl}); setup flags accepted: {}", u.setup_flags.join(", "))
    } else {
        format!("NOT available ({sysctl}): {}", u.error.as_deref().unwrap_or("unknown error"))
    };
    line("io_uring", uring);
    match &env.memory_ceilings {
        Some(c) => line(
            "Ceilings",
            format!(
                "one core: memory read {}, memcpy {} ({} buffer; warm-cache runs cannot beat these)",
                gb_s(c.read_bytes_per_s),
                gb_s(c.memcpy_bytes_per_s),
                format_size(c.buffer_bytes)
            ),
        ),
        None => line("Ceilings", "not measured".into()),
    }
    out
}

/// The device ceilings `iobench probe` measured, as lines.
pub fn render_device(d: &DeviceCeilings) -> String {
    let mut out = String::new();
    for (label, f) in [("Seq read", &d.sequential_read), ("Rand 4k", &d.random_read_4k)] {
        let bs = format_size(f.bs_bytes);
        let how = format!("{} {} bs={bs} iodepth={} threads={}", f.backend, f.rw, f.iodepth, f.threads);
        let _ = writeln!(out, "{label:<12} {:.0} IOPS, {} ({how})", f.iops, gb_s(f.bw_bytes_per_s));
        if let Some(r) = &f.fallback_reason {
            let _ = writeln!(out, "{:<12} fell back from {r}", "");
        }
    }
    out
}
