//! The fixed calibration cells: one per backend fio also has. Each cell is written once, and
//! both sides' settings (iobench's workload, fio's command line) are derived from it, so the
//! two cannot drift apart.

use crate::base::error::{Error, Result};
use crate::workload::raw::RawWorkload;
use serde::Serialize;
use std::path::Path;
use toml::Value;

/// The throughput a cell's ratio compares (its JSON key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Metric {
    Iops,
    BwBytesPerS,
}

impl Metric {
    pub(crate) fn key(self) -> &'static str {
        match self {
            Metric::Iops => "iops",
            Metric::BwBytesPerS => "bw_bytes_per_s",
        }
    }
}

/// The page-cache state each run starts in, on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    /// The file is read first (iobench `cache = warm`; fio `--invalidate=0` once it is resident).
    Warm,
    /// Left alone: O_DIRECT and null never go through the cache (`as-is`; fio `--invalidate=0`).
    AsIs,
    /// Evicted (iobench `cache = cold`; fio's default `invalidate=1` on its own file).
    Cold,
}

/// Which advice key gives iobench what fio's default `fadvise_hint=1` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// O_DIRECT and null: a page-cache hint changes nothing, and iobench's O_DIRECT backends
    /// refuse `fadvise`.
    None,
    /// `posix_fadvise` on the descriptor (fio's td_io_open_file).
    Fadvise,
    /// `madvise` on the mapping (fio's engines/mmap.c fio_madvise_file).
    Madvise,
}

/// What fio reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// No file (fio's null engine).
    None,
    /// iobench's own data file, the very one iobench just ran on.
    DataFile,
    /// A file of fio's own, so fio's data never lands in a file iobench verifies.
    WriteFile,
}

/// One cell: the shared workload, then what each side needs to do the same work.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    pub(crate) id: &'static str,
    pub(crate) backend: &'static str,
    pub(crate) rw: &'static str,
    pub(crate) bs: &'static str,
    pub(crate) iodepth: u32,
    pub(crate) threads: u32,
    pub(crate) start: Start,
    /// iobench's `consume` for reads: `none` where fio never looks at the bytes, `copy` for mmap,
    /// whose fio engine memcpy's each block out of the mapping.
    pub(crate) consume: &'static str,
    pub(crate) hint: Hint,
    /// fdatasync every N writes (iobench `durability = fdatasync:N`, fio `--fdatasync=N`).
    pub(crate) fdatasync_every: Option<u32>,
    pub(crate) fio_engine: &'static str,
    /// fio's `--direct`; `None` leaves it out (the null engine).
    pub(crate) fio_direct: Option<bool>,
}

const BASE: Cell = Cell {
    id: "",
    backend: "",
    rw: "randread",
    bs: "4k",
    iodepth: 1,
    threads: 1,
    start: Start::Warm,
    consume: "none",
    hint: Hint::Fadvise,
    fdatasync_every: None,
    fio_engine: "psync",
    fio_direct: Some(false),
};

/// The cells, in the order they run (the write cell last: it changes iobench's file).
pub(crate) fn all() -> Vec<Cell> {
    let direct = Cell { start: Start::AsIs, hint: Hint::None, fio_direct: Some(true), ..BASE };
    let mmap = Cell { backend: "mmap", consume: "copy", hint: Hint::Madvise, fio_engine: "mmap", ..BASE };
    vec![
        Cell {
            id: "null-4k",
            backend: "null",
            start: Start::AsIs,
            hint: Hint::None,
            fio_engine: "null",
            fio_direct: None,
            ..BASE
        },
        Cell { id: "direct-randread-4k-qd1", backend: "direct", ..direct },
        Cell {
            id: "uring-direct-randread-4k-qd32",
            backend: "uring-direct",
            iodepth: 32,
            fio_engine: "io_uring",
            ..direct
        },
        Cell {
            id: "uring-direct-read-1m-qd8",
            backend: "uring-direct",
            rw: "read",
            bs: "1m",
            iodepth: 8,
            fio_engine: "io_uring",
            ..direct
        },
        Cell { id: "buffered-randread-4k-warm", backend: "buffered", ..BASE },
        Cell { id: "buffered-randread-4k-warm-2threads", backend: "buffered", threads: 2, ..BASE },
        Cell { id: "buffered-read-1m-warm", backend: "buffered", rw: "read", bs: "1m", ..BASE },
        Cell { id: "mmap-randread-4k-warm", ..mmap },
        Cell { id: "mmap-read-1m-warm", rw: "read", bs: "1m", ..mmap },
        Cell { id: "uring-randread-4k-warm-qd32", backend: "uring", iodepth: 32, fio_engine: "io_uring", ..BASE },
        // Both sides start cold, so 4 KiB writes build 4 KiB folios on both: a file warmed with
        // 1 MiB reads sits in large folios, which made small writes about 3x slower on ext4
        // (results/2026-11-26-vm/calibration.md).
        Cell {
            id: "buffered-randwrite-4k-fdatasync32-cold",
            backend: "buffered",
            rw: "randwrite",
            start: Start::Cold,
            fdatasync_every: Some(32),
            ..BASE
        },
    ]
}

impl Cell {
    /// IOPS for small blocks, bytes/s for 1 MiB ones.
    pub(crate) fn metric(&self) -> Metric {
        if self.bs == "4k" { Metric::Iops } else { Metric::BwBytesPerS }
    }

    pub(crate) fn writes(&self) -> bool {
        self.rw.contains("write")
    }

    pub(crate) fn target(&self) -> Target {
        match (self.fio_engine, self.writes()) {
            ("null", _) => Target::None,
            (_, true) => Target::WriteFile,
            _ => Target::DataFile,
        }
    }

    /// What fio's `fadvise_hint=1` applies to a job of this pattern.
    fn hint_value(&self) -> &'static str {
        if self.rw.starts_with("rand") { "random" } else { "sequential" }
    }

    /// The advice both sides apply, as iobench's key and value (none for O_DIRECT and null).
    pub(crate) fn advice(&self) -> Option<(&'static str, &'static str)> {
        match self.hint {
            Hint::None => None,
            Hint::Fadvise => Some(("fadvise", self.hint_value())),
            Hint::Madvise => Some(("advice", self.hint_value())),
        }
    }

    /// The matched work in a few words, for the table: `consume=copy advice=random`.
    pub(crate) fn matched_work(&self) -> String {
        let advice = match self.advice() {
            Some((key, value)) => format!("{key}={value}"),
            None if self.backend == "null" => "no data".into(),
            None => "O_DIRECT (no hint)".into(),
        };
        match self.fdatasync_every {
            Some(n) => format!("fdatasync every {n} {advice}"),
            None => format!("consume={} {advice}", self.consume),
        }
    }

    /// The fio job in a few words, for the table: `io_uring direct=1 iodepth=32`.
    pub(crate) fn fio_label(&self) -> String {
        let mut words = vec![self.fio_engine.to_string()];
        match (self.fio_direct, self.start) {
            (Some(true), _) => words.push("direct=1".into()),
            (_, Start::Warm) => words.push("invalidate=0".into()),
            _ => {}
        }
        if self.iodepth > 1 {
            words.push(format!("iodepth={}", self.iodepth));
        }
        if self.threads > 1 {
            words.push(format!("numjobs={}", self.threads));
        }
        if let Some(n) = self.fdatasync_every {
            words.push(format!("fdatasync={n}"));
        }
        words.join(" ")
    }

    /// iobench's side as a workload, validated later by `Plan::from_raw`.
    pub(crate) fn raw(&self, dir: &Path, size_bytes: u64, runtime_ms: u64) -> Result<RawWorkload> {
        let dir = dir.to_str().ok_or_else(|| {
            Error::invalid("--dir", format!("{} is not valid UTF-8; choose another directory", dir.display()))
        })?;
        let advice = self.advice();
        let pick = |key: &str| advice.filter(|(k, _)| *k == key).map(|(_, v)| v.to_string());
        Ok(RawWorkload {
            name: Some(self.id.into()),
            backend: Some(self.backend.into()),
            rw: Some(self.rw.into()),
            bs: Some(Value::String(self.bs.into())),
            size: Some(Value::Integer(size_bytes as i64)),
            runtime: Some(Value::String(format!("{runtime_ms}ms"))),
            iodepth: Some(self.iodepth as i64),
            threads: Some(self.threads as i64),
            cache: Some(
                match self.start {
                    Start::Warm => "warm",
                    Start::AsIs => "as-is",
                    Start::Cold => "cold",
                }
                .into(),
            ),
            // Writes consume nothing (the key would only earn a note).
            consume: (!self.writes()).then(|| self.consume.into()),
            fadvise: pick("fadvise"),
            advice: pick("advice"),
            durability: self.fdatasync_every.map(|n| format!("fdatasync:{n}")),
            dir: Some(dir.into()),
            ..Default::default()
        })
    }

    /// fio's command line (without the program name) for one run on `file`.
    pub(crate) fn fio_args(&self, file: Option<&Path>, size_bytes: u64, runtime_ms: u64) -> Vec<String> {
        let mut args = vec![
            "--name=iobench-calibrate".to_string(),
            format!("--ioengine={}", self.fio_engine),
            format!("--rw={}", self.rw),
            format!("--bs={}", self.bs),
        ];
        if let Some(direct) = self.fio_direct {
            args.push(format!("--direct={}", u8::from(direct)));
        }
        if self.iodepth > 1 {
            args.push(format!("--iodepth={}", self.iodepth));
        }
        if self.threads > 1 {
            // Threads of one process, reported as one job, all on the same file (as iobench's workers).
            args.extend([format!("--numjobs={}", self.threads), "--group_reporting".into(), "--thread".into()]);
        }
        if self.start != Start::Cold && file.is_some() {
            // The caller made the file resident (warm) or it does not matter (O_DIRECT).
            args.push("--invalidate=0".into());
        }
        if let Some(n) = self.fdatasync_every {
            args.push(format!("--fdatasync={n}"));
        }
        if self.fio_engine != "null" {
            // Page-aligned buffers, as iobench's. Without O_DIRECT fio uses malloc's pointer as
            // is, 16 bytes past a page; the kernel's copy into it ran at half speed here (AMD EPYC:
            // 8 GB/s against 17 GB/s for 1 MiB reads from the page cache).
            args.push("--iomem_align=4k".into());
        }
        args.extend([
            "--output-format=json".into(),
            // Total latency (slat + clat), what iobench times: handed over to completion seen.
            "--lat_percentiles=1".into(),
            "--time_based".into(),
            format!("--runtime={runtime_ms}ms"),
            format!("--size={size_bytes}"),
        ]);
        if let Some(f) = file {
            args.push(format!("--filename={}", f.display()));
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::plan::{Consume, Plan, PlanContext};

    #[test]
    fn every_cell_is_a_valid_plan_with_its_matched_work() {
        let cells = all();
        assert_eq!(cells.len(), 11);
        for cell in &cells {
            let raw = cell.raw(Path::new("/tmp/iobench-cal-unit"), 64 << 20, 200).unwrap();
            let (plan, notes) = Plan::from_raw(&raw, PlanContext::default()).unwrap();
            assert!(notes.is_empty(), "{}: {notes:?}", cell.id);
            let want = if cell.backend == "mmap" { Consume::Copy } else { Consume::None };
            if !cell.writes() {
                assert_eq!(plan.consume, want, "{}", cell.id);
            }
            assert_eq!(plan.randommap, cell.rw.starts_with("rand"), "{}: fio's random map", cell.id);
            let fadvise = plan.tuning.fadvise.map(|h| h.name());
            let advice = plan.tuning.advice.map(|a| a.name());
            assert_eq!(fadvise.or(advice), cell.advice().map(|(_, v)| v), "{}", cell.id);
        }
        let ids: std::collections::HashSet<_> = cells.iter().map(|c| c.id).collect();
        assert_eq!(ids.len(), cells.len(), "ids are unique");
    }

    #[test]
    fn fio_args_match_the_cell() {
        let cells = all();
        let file = Path::new("/d/f.dat");
        let args = |id: &str| {
            let c = cells.iter().find(|c| c.id == id).unwrap();
            c.fio_args(Some(file).filter(|_| c.target() != Target::None), 1 << 30, 5000).join(" ")
        };
        let uring = args("uring-direct-randread-4k-qd32");
        assert!(uring.contains("--ioengine=io_uring --rw=randread --bs=4k --direct=1 --iodepth=32"), "{uring}");
        assert!(uring.contains("--runtime=5000ms --size=1073741824 --filename=/d/f.dat"), "{uring}");
        let two = args("buffered-randread-4k-warm-2threads");
        assert!(two.contains("--numjobs=2 --group_reporting --thread --invalidate=0"), "{two}");
        let write = args("buffered-randwrite-4k-fdatasync32-cold");
        assert!(write.contains("--fdatasync=32 --iomem_align=4k") && !write.contains("invalidate"), "{write}");
        let null = args("null-4k");
        assert!(!null.contains("--filename") && !null.contains("--direct") && !null.contains("iomem"), "{null}");
        assert!(args("uring-randread-4k-warm-qd32").contains("--direct=0"));
    }
}
