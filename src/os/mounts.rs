//! /proc/self/mounts: the mount (filesystem type, device, options) holding a path.

use std::path::Path;

/// The mount entry (filesystem type, device, options) holding `path`, from /proc/self/mounts.
pub(crate) fn mount_of(path: &Path) -> Option<Mount> {
    let path = path.canonicalize().ok()?;
    let text = std::fs::read_to_string("/proc/self/mounts").ok()?;
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4).then(|| Mount {
                device: f[0].to_string(),
                mount_point: f[1].replace("\\040", " "),
                fs_type: f[2].to_string(),
                options: f[3].to_string(),
            })
        })
        .filter(|m| path.starts_with(&m.mount_point))
        .max_by_key(|m| m.mount_point.len())
}

#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Mount {
    pub device: String,
    pub mount_point: String,
    pub fs_type: String,
    pub options: String,
}
