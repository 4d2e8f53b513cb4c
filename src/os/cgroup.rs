//! A fresh memory cgroup for one child process: v1 (`memory.limit_in_bytes`) or v2
//! (`memory.max`), created under the cgroup iobench itself runs in (so any limit above still
//! applies) and removed when dropped.
//!
//! Page cache is charged to the cgroup of the process that faulted it in, so a workload in a
//! small cgroup sees a file larger than the limit as a file larger than RAM.
//!
//! Also the memory limit this process runs under (`cgroup_memory`, for the environment).

use crate::base::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V1,
    V2,
}

impl Version {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Version::V1 => "v1",
            Version::V2 => "v2",
        }
    }
}

/// What to do instead when iobench may not create a cgroup.
const ALTERNATIVE: &str = "run as root, or leave memory_limit off and limit the whole command instead \
                           (systemd-run --scope -p MemoryMax=512M iobench run ...)";

#[derive(Debug)]
pub(crate) struct Cgroup {
    pub(crate) dir: PathBuf,
    pub(crate) version: Version,
    pub(crate) limit: u64,
}

/// Where the memory controller is mounted and in which version.
fn memory_mount() -> Option<(PathBuf, Version)> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").ok()?;
    let mut v2 = None;
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        match f[2] {
            "cgroup" if f[3].split(',').any(|o| o == "memory") => return Some((PathBuf::from(f[1]), Version::V1)),
            "cgroup2" if v2.is_none() => v2 = Some(PathBuf::from(f[1])),
            _ => {}
        }
    }
    // v2 holds the memory controller only if no v1 hierarchy has it (checked above).
    let root = v2?;
    let controllers = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    controllers.split_whitespace().any(|c| c == "memory").then_some((root, Version::V2))
}

/// This process's cgroup path (relative to the hierarchy's root) for `version`.
fn own_path(version: Version) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.splitn(3, ':');
        let (_id, controllers, path) = (f.next()?, f.next()?, f.next()?);
        let hit = match version {
            Version::V1 => controllers.split(',').any(|c| c == "memory"),
            Version::V2 => controllers.is_empty(),
        };
        hit.then(|| path.trim_start_matches('/').to_string())
    })
}

fn refused(what: &str, path: &Path, e: std::io::Error) -> Error {
    Error::System(format!("memory_limit: cannot {what} {} ({e}); {ALTERNATIVE}", path.display()))
}

impl Cgroup {
    /// Creates `iobench-<pid>-<n>` under this process's own memory cgroup with `limit` bytes.
    pub(crate) fn create(limit: u64) -> Result<Cgroup> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let (mount, version) = memory_mount().ok_or_else(|| {
            Error::System(format!("memory_limit: this system has no memory cgroup controller; {ALTERNATIVE}"))
        })?;
        let parent = mount.join(own_path(version).unwrap_or_default());
        remove_stale(&parent);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!("iobench-{}-{n}", std::process::id()));
        std::fs::create_dir(&dir).map_err(|e| refused("create the memory cgroup", &dir, e))?;
        let cg = Cgroup { dir, version, limit };
        match version {
            Version::V1 => cg.write("memory.limit_in_bytes", &limit.to_string())?,
            Version::V2 => {
                if !cg.dir.join("memory.max").exists() {
                    // The parent must hand the memory controller down; refused if it holds processes.
                    let control = parent.join("cgroup.subtree_control");
                    std::fs::write(&control, "+memory")
                        .map_err(|e| refused("enable the memory controller in", &control, e))?;
                }
                cg.write("memory.max", &limit.to_string())?;
                // Without swap the limit is the limit; where swap exists, keep the workload off it.
                let _ = std::fs::write(cg.dir.join("memory.swap.max"), "0");
            }
        }
        Ok(cg)
    }

    fn write(&self, file: &str, value: &str) -> Result<()> {
        let path = self.dir.join(file);
        std::fs::write(&path, value).map_err(|e| refused(&format!("write {value} to"), &path, e))
    }

    fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.join(file)).ok()
    }

    /// The file a process writes "0" into to move itself in (opened before the child forks).
    pub(crate) fn procs_file(&self) -> Result<File> {
        let path = self.dir.join("cgroup.procs");
        OpenOptions::new().write(true).open(&path).map_err(|e| refused("open", &path, e))
    }

    /// Highest memory use of the cgroup (page cache included), where the kernel reports it.
    pub(crate) fn peak(&self) -> Option<u64> {
        let file = if self.version == Version::V1 { "memory.max_usage_in_bytes" } else { "memory.peak" };
        self.read(file)?.trim().parse().ok()
    }

    /// Processes the OOM killer killed in this cgroup.
    pub(crate) fn oom_kills(&self) -> u64 {
        let file = if self.version == Version::V1 { "memory.oom_control" } else { "memory.events" };
        keyed(&self.read(file).unwrap_or_default(), "oom_kill").unwrap_or(0)
    }

    /// Times usage hit the limit (v1 `memory.failcnt`, v2 `max` events): reclaim was forced.
    pub(crate) fn limit_hits(&self) -> Option<u64> {
        match self.version {
            Version::V1 => self.read("memory.failcnt")?.trim().parse().ok(),
            Version::V2 => keyed(&self.read("memory.events")?, "max"),
        }
    }
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

pub(crate) fn cgroup_memory() -> CgroupMemory {
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

/// `key value` lines, as in memory.events and memory.oom_control.
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.trim().parse().ok())
}

/// The limit of the memory cgroup this process runs in, as the kernel reports it (for the child
/// to confirm the limit is in force). None if unlimited or unknown.
pub(crate) fn own_limit() -> Option<(PathBuf, u64)> {
    let (mount, version) = memory_mount()?;
    let dir = mount.join(own_path(version)?);
    let file = if version == Version::V1 { "memory.limit_in_bytes" } else { "memory.max" };
    let limit = std::fs::read_to_string(dir.join(file)).ok()?.trim().parse().ok()?;
    Some((dir, limit))
}

/// Removes `iobench-<pid>-*` cgroups left by processes that no longer exist (killed with SIGKILL).
fn remove_stale(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("iobench-").and_then(|r| r.split('-').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        // The child has been reaped, but the kernel may take a moment to let the cgroup go.
        for _ in 0..50 {
            match std::fs::remove_dir(&self.dir) {
                Ok(()) => return,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
            }
        }
        eprintln!("iobench: could not remove {}; remove it with rmdir", self.dir.display());
    }
}
