//! The environment a result was measured in, captured once per invocation.

use crate::os;
use crate::os::procfs::{read_trim, selected};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Environment {
    pub iobench_version: String,
    pub hostname: String,
    pub kernel: String,
    pub cpu_model: String,
    pub cpus: u32,
    pub memory_bytes: u64,
    pub page_size_bytes: u64,
    pub fs_type: String,
    pub mount_options: String,
    pub device: String,
    pub thp_enabled: String,
    pub thp_defrag: String,
    /// The block device behind `device` (null for tmpfs, overlayfs…).
    pub block_device: Option<crate::os::blockdev::DeviceInfo>,
    pub io_uring: crate::os::io_uring::UringSupport,
    /// Empty when the kernel exposes no cpufreq (common in VMs).
    pub cpu_governor: String,
    pub cgroup_memory: crate::os::cgroup::CgroupMemory,
    /// One core's memory bandwidth: the ceiling of warm-cache runs. Null unless measured
    /// (`iobench env`, `iobench run`: see `capture_with_ceilings`).
    pub memory_ceilings: Option<crate::observe::ceilings::MemoryCeilings>,
}

/// Buffer size of the memory ceilings: eight times the largest L3 cache of common servers, and small
/// enough (about 0.15 s) that every `iobench run` can afford to measure them.
pub(crate) const CEILING_BUFFER_BYTES: usize = 256 << 20;

impl Environment {
    /// Captures the machine and the filesystem holding `dir`, without the memory ceilings.
    pub fn capture(dir: &Path) -> Environment {
        Environment::capture_as(dir, false)
    }

    /// `capture`, plus the memory ceilings (about 0.15 s and 256 MiB of memory): what
    /// `iobench run` and `iobench env` record, and what library users and tests skip.
    pub fn capture_with_ceilings(dir: &Path) -> Environment {
        Environment::capture_as(dir, true)
    }

    fn capture_as(dir: &Path, with_ceilings: bool) -> Environment {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_bytes = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .unwrap_or(0);
        let mount = os::mounts::mount_of(dir).or_else(|| os::mounts::mount_of(Path::new(".")));
        Environment {
            iobench_version: env!("CARGO_PKG_VERSION").to_string(),
            hostname: read_trim("/proc/sys/kernel/hostname").unwrap_or_default(),
            kernel: os::procfs::kernel_release(),
            cpu_model,
            cpus: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
            memory_bytes,
            page_size_bytes: os::fsinfo::page_size() as u64,
            fs_type: mount.as_ref().map(|m| m.fs_type.clone()).unwrap_or_default(),
            mount_options: mount.as_ref().map(|m| m.options.clone()).unwrap_or_default(),
            device: mount.as_ref().map(|m| m.device.clone()).unwrap_or_default(),
            thp_enabled: selected(&read_trim(os::knobs::THP_ENABLED).unwrap_or_default()),
            thp_defrag: selected(&read_trim(os::knobs::THP_DEFRAG).unwrap_or_default()),
            block_device: os::blockdev::of_path(dir)
                .or_else(|| os::blockdev::of_path(Path::new(".")))
                .map(|d| d.info()),
            io_uring: crate::os::io_uring::probe_uring(),
            cpu_governor: crate::os::procfs::cpu_governor(),
            cgroup_memory: crate::os::cgroup::cgroup_memory(),
            memory_ceilings: with_ceilings.then(|| crate::observe::ceilings::measure_memory(CEILING_BUFFER_BYTES, 3)),
        }
    }
}
