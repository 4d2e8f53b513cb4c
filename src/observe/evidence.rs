//! Evidence of what the kernel did during a measured interval, so a setting is never taken on
//! trust: /proc/vmstat deltas (system-wide), the process's smaps_rollup and, for mmap, the
//! mapping's own smaps entry (how much was PMD-mapped), page-cache residency of the data file
//! at both ends, bytes the backing device read and wrote (/proc/diskstats of that device only)
//! per byte the workload moved, and io-wq worker threads seen.
//!
//! `Evidence::start` is taken when measurement starts and `EvidenceProbe::finish` after the
//! last operation, while the backends (and their mappings) still exist.

use crate::backend::MappedRegion;
use crate::datafile::blocks::DataFile;
use crate::os::blockdev::{self, BlockDevice, DiskCounters};
use crate::os::knobs::{self, THP_DEFRAG, THP_ENABLED};
use crate::os::vmstat::VmStat;
use crate::os::{self, smaps};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

/// What the kernel did during one measured run (`evidence` in every result).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Evidence {
    /// System THP mode and defrag policy in force during the run.
    pub thp_enabled: String,
    pub thp_defrag: String,
    /// Backing device of the data file (empty if it has none, e.g. tmpfs or overlayfs).
    pub device: String,
    pub read_ahead_kb: Option<u64>,
    /// Increase of /proc/vmstat event counters over the measured interval (whole machine).
    pub vmstat_delta: BTreeMap<String, u64>,
    pub dirty_bytes_start: u64,
    pub dirty_bytes_end: u64,
    pub writeback_bytes_start: u64,
    pub writeback_bytes_end: u64,
    /// /proc/self/smaps_rollup at the end of the run, in bytes.
    pub smaps_rollup_end: BTreeMap<String, u64>,
    /// mmap: the mapping's smaps entry at the end of the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<MappingEvidence>,
    /// Share of the data file in the page cache when measurement started and ended (mincore).
    pub resident_start_pct: Option<f64>,
    pub resident_end_pct: Option<f64>,
    /// Bytes the backing device read / wrote during the measured interval (sectors × 512).
    pub device_read_bytes: Option<u64>,
    pub device_written_bytes: Option<u64>,
    /// Requests the backing device completed during the measured interval (/proc/diskstats
    /// reads and writes completed, after merging): more than one per O_DIRECT operation means the
    /// block layer split them (see `DeviceInfo::max_segments`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_read_ios: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_write_ios: Option<u64>,
    /// Storage bytes this process caused to be read / written (/proc/self/io; other
    /// processes' I/O on the device does not count here, unlike `device_*`).
    pub process_read_bytes: Option<u64>,
    pub process_written_bytes: Option<u64>,
    /// Device bytes read per byte the workload read (1 = no readahead waste).
    pub read_amplification: Option<f64>,
    /// `process_read_bytes` per byte the workload read: the same ratio, free of other
    /// processes' I/O on the device (readahead is charged to the process that caused it).
    pub process_read_amplification: Option<f64>,
    /// Device bytes written per byte the workload wrote (writeback may land after the run).
    pub write_amplification: Option<f64>,
    /// At least this share of the bytes the workload read came from the page cache rather than
    /// storage: 1 − min(1, storage bytes read by the process ÷ bytes read), in percent (device
    /// bytes stand in where /proc/self/io is missing). Every byte served by the device had to
    /// be read from storage by this process, so storage bytes bound the device-served part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_served_min_pct: Option<f64>,
    /// Bytes the backing device wrote from the start of measurement to the end of the final
    /// sync: what reached storage of what the run wrote (write runs with a final sync).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_written_through_sync_bytes: Option<u64>,
    /// io_uring: most io-wq worker threads (`iou-wrk-*`) seen at once during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iowq_workers_max: Option<u32>,
    /// Cold starts: free memory touched and freed just before the run, and how long that took
    /// (a slow rate means the host had taken the memory back; see `os::freemem`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycled_free_memory_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycled_free_memory_ns: Option<u64>,
    /// What setup applied and how it went (madvise, prefault, collapse, fadvise, buffers).
    pub setup: Vec<String>,
    /// Share of the whole machine's CPU time the hypervisor stole during the measured interval
    /// (/proc/stat `steal` ÷ all ticks), in percent; `None` if no tick passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_pct: Option<f64>,
}

/// A backend's mapping, from its smaps entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MappingEvidence {
    pub size_bytes: u64,
    pub rss_bytes: u64,
    /// Bytes mapped by PMD (huge) entries: `FilePmdMapped` + `AnonHugePages`.
    pub pmd_mapped_bytes: u64,
    /// `pmd_mapped_bytes` as a share of the mapping's size.
    pub pmd_mapped_pct: f64,
    /// `pmd_mapped_bytes` as a share of its resident part.
    pub pmd_mapped_of_rss_pct: f64,
    /// smaps `VmFlags` of the mapping: `rr` = MADV_RANDOM, `sr` = MADV_SEQUENTIAL,
    /// `hg` = MADV_HUGEPAGE, `nh` = MADV_NOHUGEPAGE reached the kernel.
    pub vm_flags: Vec<String>,
    /// smaps `THPeligible`: the kernel would map huge pages here.
    pub thp_eligible: Option<bool>,
    /// Every size field of the mapping's smaps entry, in bytes.
    pub smaps: BTreeMap<String, u64>,
}

/// Readings taken when measurement started.
pub(crate) struct EvidenceProbe {
    vm: VmStat,
    device: Option<BlockDevice>,
    counters: Option<DiskCounters>,
    task_io: Option<(u64, u64)>,
    resident: Option<f64>,
    thp_enabled: String,
    thp_defrag: String,
    iowq: Option<IowqSampler>,
    cpu_times: Option<os::procstat::CpuTimes>,
}

fn page_bytes(vm: &VmStat, key: &str) -> u64 {
    vm.get(key).unwrap_or(0) * os::fsinfo::page_size() as u64
}

fn residency_pct(data: &DataFile) -> Option<f64> {
    let file = std::fs::File::open(&data.path).ok()?;
    os::residency::residency(&file).ok().map(|r| r * 100.0)
}

impl Evidence {
    /// Readings at the start of measurement. `sample_iowq` starts a sampler of io-wq threads.
    pub(crate) fn start(data: &DataFile, sample_iowq: bool) -> EvidenceProbe {
        let device = blockdev::of_path(&data.path);
        let iowq = sample_iowq.then(IowqSampler::start);
        let resident = residency_pct(data);
        EvidenceProbe {
            thp_enabled: knobs::read_knob(Path::new(THP_ENABLED)).unwrap_or_default(),
            thp_defrag: knobs::read_knob(Path::new(THP_DEFRAG)).unwrap_or_default(),
            counters: device.as_ref().and_then(BlockDevice::counters),
            task_io: task_io(),
            device,
            resident,
            iowq,
            cpu_times: os::procstat::read(),
            // Last, so the interval it opens is as short as possible.
            vm: VmStat::read(),
        }
    }
}

/// The device's write counter at the start of measurement, kept past `EvidenceProbe::finish`
/// so the bytes written through the final sync can be read after it.
pub(crate) struct WriteCounter {
    device: Option<BlockDevice>,
    counters: Option<DiskCounters>,
}

impl WriteCounter {
    /// Bytes the device wrote since measurement started.
    pub(crate) fn written_since_start(&self) -> Option<u64> {
        let start = self.counters?;
        let now = self.device.as_ref()?.counters()?;
        Some(now.since(&start).write_sectors * 512)
    }
}

impl EvidenceProbe {
    pub(crate) fn write_counter(&self) -> WriteCounter {
        WriteCounter { device: self.device.clone(), counters: self.counters }
    }

    /// Readings at the end, while the backend still holds `mapped` (its mapping, if any).
    /// `read_bytes` and `written_bytes` are what the workload moved in the measured interval;
    /// `setup` is what setup did (the loop's and the backend's notes).
    pub(crate) fn finish(
        self,
        data: &DataFile,
        mapped: Option<MappedRegion>,
        read_bytes: u64,
        written_bytes: u64,
        setup: Vec<String>,
    ) -> Evidence {
        let vm = VmStat::read();
        let moved = match (self.counters, self.device.as_ref().and_then(BlockDevice::counters)) {
            (Some(start), Some(end)) => Some(end.since(&start)),
            _ => None,
        };
        let (process_read_bytes, process_written_bytes) = match (self.task_io, task_io()) {
            (Some((r0, w0)), Some((r1, w1))) => (Some(r1.saturating_sub(r0)), Some(w1.saturating_sub(w0))),
            _ => (None, None),
        };
        let iowq_workers_max = self.iowq.map(IowqSampler::stop);
        let device_read_bytes = moved.map(|d| d.read_sectors * 512);
        let device_written_bytes = moved.map(|d| d.write_sectors * 512);
        let ratio = |dev: Option<u64>, moved: u64| dev.filter(|_| moved > 0).map(|d| d as f64 / moved as f64);
        let mapping = mapped.and_then(mapping_evidence);
        Evidence {
            thp_enabled: self.thp_enabled,
            thp_defrag: self.thp_defrag,
            device: self.device.as_ref().map(|d| d.name.clone()).unwrap_or_default(),
            read_ahead_kb: self
                .device
                .as_ref()
                .and_then(|d| knobs::read_knob(&d.read_ahead_kb_path()).ok()?.parse().ok()),
            vmstat_delta: vm.deltas_since(&self.vm),
            dirty_bytes_start: page_bytes(&self.vm, "nr_dirty"),
            dirty_bytes_end: page_bytes(&vm, "nr_dirty"),
            writeback_bytes_start: page_bytes(&self.vm, "nr_writeback"),
            writeback_bytes_end: page_bytes(&vm, "nr_writeback"),
            smaps_rollup_end: smaps::rollup(),
            mapping,
            resident_start_pct: self.resident,
            resident_end_pct: residency_pct(data),
            device_read_bytes,
            device_written_bytes,
            device_read_ios: moved.map(|d| d.read_ios),
            device_write_ios: moved.map(|d| d.write_ios),
            process_read_bytes,
            process_written_bytes,
            read_amplification: ratio(device_read_bytes, read_bytes),
            process_read_amplification: ratio(process_read_bytes, read_bytes),
            write_amplification: ratio(device_written_bytes, written_bytes),
            cache_served_min_pct: ratio(process_read_bytes.or(device_read_bytes), read_bytes)
                .map(|storage_per_byte| 100.0 * (1.0 - storage_per_byte.min(1.0))),
            device_written_through_sync_bytes: None,
            recycled_free_memory_bytes: None,
            recycled_free_memory_ns: None,
            iowq_workers_max,
            setup,
            steal_pct: self.cpu_times.zip(os::procstat::read()).and_then(|(a, b)| os::procstat::steal_pct(a, b)),
        }
    }
}

/// (read_bytes, write_bytes) of /proc/self/io: storage I/O the process caused.
fn task_io() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/self/io").ok()?;
    let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse::<u64>().ok());
    Some((field("read_bytes:")?, field("write_bytes:")?))
}

fn mapping_evidence(region: MappedRegion) -> Option<MappingEvidence> {
    let range = smaps::range(region.addr, region.len)?;
    let sizes = range.sizes;
    let get = |k: &str| sizes.get(k).copied().unwrap_or(0);
    let size = get("size_bytes");
    let rss = get("rss_bytes");
    let pmd = get("file_pmd_mapped_bytes") + get("anon_huge_pages_bytes") + get("shmem_pmd_mapped_bytes");
    let pct = |part: u64, whole: u64| if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 };
    Some(MappingEvidence {
        size_bytes: size,
        rss_bytes: rss,
        pmd_mapped_bytes: pmd,
        pmd_mapped_pct: pct(pmd, size),
        pmd_mapped_of_rss_pct: pct(pmd, rss),
        vm_flags: range.vm_flags,
        thp_eligible: range.thp_eligible,
        smaps: sizes,
    })
}

/// Threads of this process named `iou-wrk-*` (io_uring's io-wq workers) right now.
pub fn count_iowq_workers() -> u32 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else { return 0 };
    dir.filter_map(|e| e.ok())
        .filter(|e| std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.starts_with("iou-wrk-")))
        .count() as u32
}

/// Samples `count_iowq_workers` every 50 ms on its own thread until stopped (workers come and
/// go with load, so one reading at the end could miss them).
struct IowqSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU32>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl IowqSampler {
    fn start() -> IowqSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU32::new(0));
        let (s, m) = (Arc::clone(&stop), Arc::clone(&max));
        let handle = std::thread::Builder::new()
            .name("iobench-iowq".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    m.fetch_max(count_iowq_workers(), Ordering::Relaxed);
                    // Parked rather than asleep, so `stop` returns at once instead of after up
                    // to 50 ms (criterion counts that wall time against every `cargo bench` call).
                    std::thread::park_timeout(Duration::from_millis(50));
                }
            })
            .ok();
        IowqSampler { stop, max, handle }
    }

    fn stop(mut self) -> u32 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            h.thread().unpark();
            let _ = h.join();
        }
        // A last look: workers linger a few seconds after their last work item.
        self.max.load(Ordering::Relaxed).max(count_iowq_workers())
    }
}
