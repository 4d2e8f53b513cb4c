//! The block device behind a file: found from the file's `st_dev` through `/sys/dev/block`,
//! with the whole disk (which holds `queue/`) for a partition. Filesystems without one block
//! device (tmpfs, overlayfs, btrfs subvolumes) have none, and callers say "unknown".

use super::procfs::read_trim;
use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockDevice {
    /// Kernel name (`vda`, `nvme0n1p2`).
    pub(crate) name: String,
    pub(crate) major: u32,
    pub(crate) minor: u32,
    /// sysfs directory of the device (partition or disk).
    pub(crate) sysfs: PathBuf,
    /// sysfs directory of the whole disk (the partition's parent, or `sysfs`).
    pub(crate) disk: PathBuf,
}

/// What `iobench env` reports about the device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeviceInfo {
    pub name: String,
    pub model: String,
    pub scheduler: String,
    pub logical_block_bytes: u64,
    pub physical_block_bytes: u64,
    pub rotational: bool,
    pub nr_requests: u64,
    pub read_ahead_kb: u64,
    /// Largest request, and most memory segments per request: an O_DIRECT read whose buffer
    /// spans more pages than `max_segments` is split into several requests.
    pub max_sectors_kb: u64,
    pub max_segments: u64,
}

/// The block device holding `path`, if it has one.
pub(crate) fn of_path(path: &Path) -> Option<BlockDevice> {
    let dev = std::fs::metadata(path).ok()?.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let sysfs = std::fs::canonicalize(format!("/sys/dev/block/{major}:{minor}")).ok()?;
    let name = sysfs.file_name()?.to_string_lossy().into_owned();
    let disk = if sysfs.join("partition").exists() { sysfs.parent()?.to_path_buf() } else { sysfs.clone() };
    Some(BlockDevice { name, major, minor, sysfs, disk })
}

impl BlockDevice {
    /// The knob that sets this device's readahead (per disk, shared by its partitions).
    pub(crate) fn read_ahead_kb_path(&self) -> PathBuf {
        self.disk.join("queue/read_ahead_kb")
    }

    pub(crate) fn info(&self) -> DeviceInfo {
        let q = |f: &str| read_trim(self.disk.join("queue").join(f));
        let num = |f: &str| q(f).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let dev = self.disk.join("device");
        let model = read_trim(dev.join("model"))
            .filter(|m| !m.is_empty())
            .or_else(|| {
                // virtio and some others have no model: name the driver instead.
                let driver = std::fs::read_link(dev.join("driver")).ok()?;
                Some(format!("({} driver)", driver.file_name()?.to_string_lossy()))
            })
            .unwrap_or_default();
        DeviceInfo {
            name: self.name.clone(),
            model,
            scheduler: q("scheduler").map(|s| super::procfs::selected(&s)).unwrap_or_default(),
            logical_block_bytes: num("logical_block_size"),
            physical_block_bytes: num("physical_block_size"),
            rotational: num("rotational") == 1,
            nr_requests: num("nr_requests"),
            read_ahead_kb: num("read_ahead_kb"),
            max_sectors_kb: num("max_sectors_kb"),
            max_segments: num("max_segments"),
        }
    }

    /// This device's (partition or disk) I/O counters from /proc/diskstats.
    pub(crate) fn counters(&self) -> Option<DiskCounters> {
        let text = std::fs::read_to_string("/proc/diskstats").ok()?;
        parse_diskstats(&text, self.major, self.minor)
    }
}

/// Requests completed and sectors moved, as /proc/diskstats counts them since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DiskCounters {
    pub(crate) read_ios: u64,
    pub(crate) read_sectors: u64,
    pub(crate) write_ios: u64,
    pub(crate) write_sectors: u64,
}

impl DiskCounters {
    /// What happened between `earlier` and `self` (counters only grow; a reset reads as 0).
    pub(crate) fn since(&self, earlier: &DiskCounters) -> DiskCounters {
        DiskCounters {
            read_ios: self.read_ios.saturating_sub(earlier.read_ios),
            read_sectors: self.read_sectors.saturating_sub(earlier.read_sectors),
            write_ios: self.write_ios.saturating_sub(earlier.write_ios),
            write_sectors: self.write_sectors.saturating_sub(earlier.write_sectors),
        }
    }
}

/// The counters of the line for `major:minor`: reads completed (field 4), sectors read (6),
/// writes completed (8), sectors written (10). Sectors are always 512 bytes here, whatever the
/// device's block size.
pub(crate) fn parse_diskstats(text: &str, major: u32, minor: u32) -> Option<DiskCounters> {
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 10 || f[0].parse() != Ok(major) || f[1].parse() != Ok(minor) {
            return None;
        }
        let n = |i: usize| f[i].parse::<u64>().ok();
        Some(DiskCounters { read_ios: n(3)?, read_sectors: n(5)?, write_ios: n(7)?, write_sectors: n(9)? })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diskstats_line_is_found_by_number() {
        let text = "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n 254       0 vda 100 5 8000 30 40 2 640 9 0 50 60\n";
        let c = DiskCounters { read_ios: 100, read_sectors: 8000, write_ios: 40, write_sectors: 640 };
        assert_eq!(parse_diskstats(text, 254, 0), Some(c));
        assert_eq!(parse_diskstats(text, 254, 1), None);
    }
}
