//! Parts of the environment that take more than reading one file: io_uring availability and
//! the setup flags this kernel accepts, the memory cgroup limit in force, the CPU governor.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// io_uring as this process can use it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UringSupport {
    /// `/proc/sys/kernel/io_uring_disabled` (0 allowed, 1 group only, 2 disabled; null if absent).
    pub disabled_sysctl: Option<u32>,
    /// A plain `io_uring_setup` succeeded.
    pub available: bool,
    /// Why it did not, if it did not (errno text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Setup flags a trial ring accepted (SQPOLL needs root on old kernels; IOPOLL is accepted
    /// at setup and refused later by devices without polled queues).
    pub setup_flags: Vec<String>,
}

/// Tries `io_uring_setup` plain and with each setup flag iobench may use.
#[cfg(feature = "uring")]
pub fn probe_uring() -> UringSupport {
    let disabled_sysctl =
        std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled").ok().and_then(|s| s.trim().parse().ok());
    let mut out = UringSupport { disabled_sysctl, ..Default::default() };
    if let Err(e) = io_uring::IoUring::new(4) {
        out.error = Some(e.to_string());
        return out;
    }
    out.available = true;
    type Setup = fn(&mut io_uring::Builder) -> &mut io_uring::Builder;
    let trials: [(&str, Setup); 8] = [
        ("IOPOLL", |b| b.setup_iopoll()),
        ("SQPOLL", |b| b.setup_sqpoll(100)),
        ("SUBMIT_ALL", |b| b.setup_submit_all()),
        ("COOP_TASKRUN", |b| b.setup_coop_taskrun()),
        ("TASKRUN_FLAG", |b| b.setup_coop_taskrun().setup_taskrun_flag()),
        ("SINGLE_ISSUER", |b| b.setup_single_issuer()),
        ("DEFER_TASKRUN", |b| b.setup_single_issuer().setup_defer_taskrun()),
        ("NO_SQARRAY", |b| b.setup_no_sqarray()),
    ];
    for (name, setup) in trials {
        let mut builder = io_uring::IoUring::builder();
        if setup(&mut builder).build(4).is_ok() {
            out.setup_flags.push(name.to_string());
        }
    }
    out
}

/// Without the `uring` feature this build has no io_uring to probe.
#[cfg(not(feature = "uring"))]
pub fn probe_uring() -> UringSupport {
    UringSupport { error: Some("built without io_uring (cargo feature `uring`)".into()), ..Default::default() }
}

/// The memory limit of this process's cgroup, in force if any ancestor sets one (the smallest
/// limit on the path to the root applies).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CgroupMemory {
    /// `v1` or `v2`; empty if no memory controller was found.
    pub version: String,
    /// The cgroup's path inside the hierarchy.
    pub path: String,
    /// The smallest limit on the way to the root; null = unlimited.
    pub limit_bytes: Option<u64>,
}

/// Limits at or above this are "no limit" (v1 writes PAGE_COUNTER_MAX × page size).
const UNLIMITED: u64 = 1 << 62;

pub fn cgroup_memory() -> CgroupMemory {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let mount_of = |fs: &str, option: Option<&str>| -> Option<PathBuf> {
        mounts.lines().find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let ok = f.len() >= 4 && f[2] == fs && option.is_none_or(|o| f[3].split(',').any(|x| x == o));
            ok.then(|| PathBuf::from(f[1]))
        })
    };
    // v1: "4:memory:/path"; v2: "0::/path".
    let v1 = cgroups.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        controllers.split(',').any(|c| c == "memory").then(|| path.to_string())
    });
    let (version, path, root, file) = match (v1, mount_of("cgroup", Some("memory"))) {
        (Some(path), Some(root)) => ("v1", path, root, "memory.limit_in_bytes"),
        _ => {
            let Some(path) = cgroups.lines().find_map(|l| l.strip_prefix("0::").map(String::from)) else {
                return CgroupMemory::default();
            };
            let Some(root) = mount_of("cgroup2", None) else { return CgroupMemory::default() };
            ("v2", path, root, "memory.max")
        }
    };
    let mut limit: Option<u64> = None;
    let mut dir = root.join(path.trim_start_matches('/'));
    loop {
        let value = std::fs::read_to_string(dir.join(file)).ok().and_then(|s| s.trim().parse::<u64>().ok());
        if let Some(v) = value.filter(|v| *v < UNLIMITED) {
            limit = Some(limit.map_or(v, |l| l.min(v)));
        }
        if dir == root || !dir.pop() || !dir.starts_with(&root) {
            break;
        }
    }
    CgroupMemory { version: version.into(), path, limit_bytes: limit }
}

/// The CPU frequency governor of cpu0 (empty when the kernel has no cpufreq, as in most VMs).
pub fn cpu_governor() -> String {
    read_trim(Path::new("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"))
}

pub fn read_trim(path: &Path) -> String {
    std::fs::read_to_string(path).map(|s| s.trim().to_string()).unwrap_or_default()
}
