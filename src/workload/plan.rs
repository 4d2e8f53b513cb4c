//! Raw workloads become validated plans here; every check and its message lives in this file.
//! Backends and the run loop only ever see a `Plan`.

use crate::base::error::{Error, Result};
use crate::base::units::{parse_duration, parse_size};
use crate::patterns::block::SECTOR;
use crate::workload::backends::BackendKind;
use crate::workload::raw::RawWorkload;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use toml::Value;

/// Direction mix of the data operations, with fio's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rw {
    Read,
    Write,
    Randread,
    Randwrite,
    Rw,
    Randrw,
    /// In-place updates of random records (uniform or zipf), see `crate::patterns::records`.
    Records,
    /// In-place updates of records in file order.
    Seqrecords,
    /// Whole scans of a generated text log, counting lines and matches (see `crate::patterns::scan`).
    Scan,
}

impl Rw {
    pub const NAMES: [&'static str; 9] =
        ["read", "write", "randread", "randwrite", "rw", "randrw", "records", "seqrecords", "scan"];

    pub fn is_random(self) -> bool {
        matches!(self, Rw::Randread | Rw::Randwrite | Rw::Randrw | Rw::Records)
    }
    pub fn has_writes(self) -> bool {
        !matches!(self, Rw::Read | Rw::Randread | Rw::Scan)
    }
    pub fn has_reads(self) -> bool {
        !matches!(self, Rw::Write | Rw::Randwrite)
    }
    /// Record updates, in random or file order.
    pub fn is_records(self) -> bool {
        matches!(self, Rw::Records | Rw::Seqrecords)
    }
    /// Block patterns (fio's), as opposed to the article's record and scan patterns.
    pub fn is_blocks(self) -> bool {
        !self.is_records() && self != Rw::Scan
    }
}

/// How random offsets are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Distribution {
    Uniform,
    /// fio's `zipf:θ`: rank r has weight 1/r^θ; ranks are scattered over the file.
    Zipf {
        theta: f64,
    },
}

/// When written data is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Durability {
    None,
    Fsync {
        every: u32,
    },
    Fdatasync {
        every: u32,
    },
    /// The file is opened with O_DSYNC: every write is durable when it returns.
    Odsync,
    /// mmap only: `msync(MS_SYNC)` every N writes.
    Msync {
        every: u32,
    },
    /// mmap only: `msync(MS_ASYNC)` every N writes (a no-op on modern Linux, measured anyway).
    MsyncAsync {
        every: u32,
    },
}

impl Durability {
    /// Writes between two sync operations, if the policy issues sync operations.
    pub fn every(self) -> Option<u32> {
        match self {
            Durability::Fsync { every }
            | Durability::Fdatasync { every }
            | Durability::Msync { every }
            | Durability::MsyncAsync { every } => Some(every),
            Durability::None | Durability::Odsync => None,
        }
    }
}

impl std::fmt::Display for Durability {
    /// The same spelling the `durability` key takes (`fdatasync:32`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Durability::None => f.write_str("none"),
            Durability::Odsync => f.write_str("odsync"),
            Durability::Fsync { every } => write!(f, "fsync:{every}"),
            Durability::Fdatasync { every } => write!(f, "fdatasync:{every}"),
            Durability::Msync { every } => write!(f, "msync:{every}"),
            Durability::MsyncAsync { every } => write!(f, "msync-async:{every}"),
        }
    }
}

/// What the loop does with the bytes each read delivered, inside the timed operation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consume {
    /// Every 8-byte word is summed: what an application that uses all of its data pays.
    #[default]
    Sum,
    /// One byte per 4 KiB page is read: the least that still makes an mmap read fault
    /// (mmapbench's choice).
    Touch,
    /// The bytes are left alone, as fio does; mmap, whose reads happen only when touched, touches.
    None,
    /// mmap copies each block out of the mapping into the slot's buffer, as fio's mmap engine
    /// does; descriptor backends' reads already copied it there, so they do nothing more.
    Copy,
}

impl Consume {
    pub const NAMES: [&'static str; 4] = ["sum", "touch", "none", "copy"];

    pub fn name(self) -> &'static str {
        match self {
            Consume::Sum => "sum",
            Consume::Touch => "touch",
            Consume::None => "none",
            Consume::Copy => "copy",
        }
    }
}

/// Page-cache state the file must be in when measurement starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheState {
    /// The whole file is read first; at least 99% must be resident.
    Warm,
    /// fsync + `posix_fadvise(DONTNEED)`; at most 1% may stay resident.
    Cold,
    /// Left as the previous run left it.
    AsIs,
}

impl std::fmt::Display for CacheState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CacheState::Warm => "warm",
            CacheState::Cold => "cold",
            CacheState::AsIs => "as-is",
        })
    }
}

/// A validated workload for one backend. Serialized into every result as `workload`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub name: String,
    pub backend: BackendKind,
    pub rw: Rw,
    /// Percentage of reads for `rw` and `randrw`.
    pub rwmixread_pct: u32,
    pub bs_bytes: u64,
    pub size_bytes: u64,
    /// Measured time; the run ends at whichever of runtime and io_size comes first.
    pub runtime_ns: Option<u64>,
    /// Measured bytes per thread (fio's `io_size`).
    pub io_size_bytes: Option<u64>,
    pub ramp_ns: u64,
    pub iodepth: u32,
    pub threads: u32,
    pub seed: u64,
    pub distribution: Distribution,
    pub durability: Durability,
    pub cache: CacheState,
    pub dir: PathBuf,
    /// A file named by the user instead of iobench's own file in `dir` (fio's `filename`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<PathBuf>,
    /// What the invocation allowed beyond iobench's own files (set by `safety::admit`).
    #[serde(skip)]
    pub permit: Permit,
    pub verify: bool,
    /// What reads' bytes go through (absent in results older than the key: they summed).
    #[serde(default)]
    pub consume: Consume,
    /// Uniform random offsets visit each block once per pass (fio's random map; `norandommap`
    /// turns it off). Absent in older results, which drew offsets with replacement.
    #[serde(default)]
    pub randommap: bool,
    /// Completions the loop waits for before refilling the queue (fio's iodepth_batch_complete_min).
    #[serde(default = "one")]
    pub iodepth_batch_complete_min: u32,
    /// Most completions a queue backend hands back per wait (fio's iodepth_batch_complete_max):
    /// with 1, each freed slot is refilled before the next completion is looked at.
    #[serde(default = "one")]
    pub iodepth_batch_complete_max: u32,
    /// io_uring options; present only for `uring` and `uring-direct`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uring: Option<UringOptions>,
    /// madvise/fadvise/THP/readahead/cache settings (see `tuning`).
    #[serde(default)]
    pub tuning: crate::workload::tuning::Tuning,
    /// Time-series interval; null = the session's default.
    #[serde(default)]
    pub series_interval_ns: Option<u64>,
    /// memory_limit, address_space_limit (run in a child process) and the mmap window.
    #[serde(default)]
    pub limits: crate::workload::resources::ResourceLimits,
    /// rw = records / seqrecords: record size and update I/O unit (see `kinds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<crate::workload::pattern_keys::RecordOptions>,
    /// rw = scan: read-ahead depth and the match pattern (see `kinds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<crate::workload::pattern_keys::ScanOptions>,
}

/// What `admit` allowed one plan beyond iobench's own files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permit {
    pub overwrite: bool,
    pub device: bool,
}

fn one() -> u32 {
    1
}

/// io_uring options, with fio's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UringOptions {
    /// The buffers are registered once (IORING_REGISTER_BUFFERS) and used by READ/WRITE_FIXED.
    pub fixedbufs: bool,
    /// The data file is registered once (IORING_REGISTER_FILES): no file lookup per operation.
    pub registerfiles: bool,
    /// A kernel thread polls the submission queue (IORING_SETUP_SQPOLL).
    pub sqthread_poll: bool,
    /// Idle time after which the polling thread sleeps until woken.
    pub sqthread_poll_idle_ms: u32,
    /// Operations per submitting io_uring_enter (fio's default 1); 0 hands over all queued before
    /// the loop waits, which saves system calls when reads hit the page cache.
    pub iodepth_batch_submit: u32,
}

pub const DEFAULT_DIR: &str = "iobench-data";
const MAX_IODEPTH: i64 = 4096;
const MAX_THREADS: i64 = 256;

/// What the whole invocation looks like, for checks that depend on the other workloads.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanContext {
    /// The invocation mixes queue and sync backends: sync ones run at depth 1 with a note
    /// instead of failing on `iodepth`.
    pub mixed_backends: bool,
    /// The invocation runs more than one backend: settings that do not apply to a backend are
    /// left off with a note instead of failing (see `tuning`).
    pub several_backends: bool,
}

impl Plan {
    pub fn runtime(&self) -> Option<Duration> {
        self.runtime_ns.map(Duration::from_nanos)
    }
    pub fn ramp(&self) -> Duration {
        Duration::from_nanos(self.ramp_ns)
    }
    pub fn blocks(&self) -> u64 {
        self.size_bytes / self.bs_bytes
    }
    /// Bytes one operation covers: the whole file for a scan, else one block or record.
    pub fn op_bytes(&self) -> u64 {
        if self.rw == Rw::Scan { self.size_bytes } else { self.bs_bytes }
    }

    /// Validates one expanded workload. Returns the plan and notes for the user.
    pub fn from_raw(raw: &RawWorkload, ctx: PlanContext) -> Result<(Plan, Vec<String>)> {
        let mut notes = Vec::new();
        let backend: BackendKind = raw.backend.as_deref().unwrap_or("buffered").parse()?;
        let rw = match raw.rw.as_deref().unwrap_or("randread") {
            "read" => Rw::Read,
            "write" => Rw::Write,
            "randread" => Rw::Randread,
            "randwrite" => Rw::Randwrite,
            "rw" | "readwrite" => Rw::Rw,
            "randrw" => Rw::Randrw,
            "records" => Rw::Records,
            "seqrecords" => Rw::Seqrecords,
            "scan" => Rw::Scan,
            other => {
                return Err(Error::invalid(
                    "rw",
                    format!("unknown pattern '{other}' (expected one of {})", Rw::NAMES.join(", ")),
                ));
            }
        };
        let rwmixread_pct = match raw.rwmixread {
            None => match rw {
                Rw::Rw | Rw::Randrw => 50,
                Rw::Read | Rw::Randread => 100,
                Rw::Write | Rw::Randwrite | Rw::Records | Rw::Seqrecords => 0,
                Rw::Scan => 100,
            },
            Some(p) if !(0..=100).contains(&p) => {
                return Err(Error::invalid("rwmixread", format!("{p} is not a percentage from 0 to 100")));
            }
            Some(_) if !matches!(rw, Rw::Rw | Rw::Randrw) => {
                return Err(Error::invalid("rwmixread", "applies only to rw = \"rw\" or \"randrw\""));
            }
            Some(p) => p as u32,
        };
        let bs = size_value("bs", raw.bs.as_ref(), 4096)?;
        let size = size_value("size", raw.size.as_ref(), 256 << 20)?;
        if bs == 0 {
            return Err(Error::invalid("bs", "must be greater than 0 (examples: 4k, 1m)"));
        }
        if size == 0 {
            return Err(Error::invalid("size", "must be greater than 0 (examples: 64m, 1g)"));
        }
        if bs % SECTOR != 0 {
            return Err(Error::invalid("bs", format!("{bs} is not a multiple of 512 bytes")));
        }
        if size < bs {
            return Err(Error::invalid("size", format!("{size} bytes is smaller than the block size bs = {bs}")));
        }
        let runtime = opt_duration("runtime", raw.runtime.as_ref())?;
        let io_size = match raw.io_size.as_ref() {
            None => None,
            Some(v) => Some(size_value("io_size", Some(v), 0)?),
        };
        if io_size == Some(0) {
            return Err(Error::invalid("io_size", "must be greater than 0"));
        }
        if let Some(n) = io_size
            && n < bs
        {
            return Err(Error::invalid("io_size", format!("{n} bytes is less than one block (bs = {bs})")));
        }
        let runtime = match (runtime, io_size) {
            (Some(d), _) if d.is_zero() => {
                return Err(Error::invalid("runtime", "must be greater than 0 (for example 5s)"));
            }
            (None, None) => Some(Duration::from_secs(5)),
            (r, _) => r,
        };
        let ramp = opt_duration("ramp_time", raw.ramp_time.as_ref())?.unwrap_or_default();
        let threads = int_in("threads", raw.threads, 1, 1, MAX_THREADS)? as u32;
        let mut iodepth = int_in("iodepth", raw.iodepth, 1, 1, MAX_IODEPTH)? as u32;
        if iodepth > 1 && !backend.is_queue() {
            if ctx.mixed_backends {
                notes.push(format!("{backend} is synchronous: it ran at iodepth 1 (use threads for concurrency)"));
                iodepth = 1;
            } else {
                return Err(Error::invalid(
                    "iodepth",
                    format!(
                        "{backend} completes each operation before the next, so iodepth {iodepth} cannot apply; \
                         use --threads {iodepth} for concurrency, or a queue backend (uring, uring-direct, tokio, tokio-pread)"
                    ),
                ));
            }
        }
        let seed = match raw.seed {
            Some(s) if s < 0 => {
                return Err(Error::invalid("seed", format!("{s} is negative; use a whole number from 0")));
            }
            Some(s) => s as u64,
            None => 0x0010_bec4,
        };
        let distribution = parse_distribution(raw.random_distribution.as_deref())?;
        if matches!(distribution, Distribution::Zipf { .. }) && !rw.is_random() {
            return Err(Error::invalid(
                "random_distribution",
                "applies only to random patterns (randread, randwrite, randrw, records)",
            ));
        }
        let durability = parse_durability(raw.durability.as_deref())?;
        if durability != Durability::None && !rw.has_writes() {
            return Err(Error::invalid(
                "durability",
                format!("applies only to patterns with writes, not rw = {}", raw.rw.as_deref().unwrap_or("randread")),
            ));
        }
        match (durability, backend) {
            (Durability::Msync { .. } | Durability::MsyncAsync { .. }, b) if b != BackendKind::Mmap => {
                return Err(Error::invalid(
                    "durability",
                    format!("msync applies only to the mmap backend, not {b}; use fsync:N or fdatasync:N"),
                ));
            }
            (Durability::Fsync { .. } | Durability::Fdatasync { .. } | Durability::Odsync, BackendKind::Mmap) => {
                return Err(Error::invalid(
                    "durability",
                    "the mmap backend makes writes durable with msync:N or msync-async:N",
                ));
            }
            _ => {}
        }
        let cache = match raw.cache.as_deref().unwrap_or("warm") {
            "warm" => CacheState::Warm,
            "cold" => CacheState::Cold,
            "as-is" | "asis" => CacheState::AsIs,
            other => {
                return Err(Error::invalid("cache", format!("unknown state '{other}' (expected warm, cold or as-is)")));
            }
        };
        if cache == CacheState::Warm && backend.is_direct() {
            notes.push(format!("{backend} bypasses the page cache: cache = warm only affects other backends"));
        }
        let mut verify = raw.verify.unwrap_or(false);
        if verify && backend == BackendKind::Null {
            notes.push("null moves no data: there is nothing to verify".into());
            verify = false;
        }
        let consume = match raw.consume.as_deref() {
            None | Some("sum") => Consume::Sum,
            Some("touch") => Consume::Touch,
            Some("none") => Consume::None,
            Some("copy") => Consume::Copy,
            Some(other) => {
                return Err(Error::invalid(
                    "consume",
                    format!("unknown mode '{other}' (expected one of {})", Consume::NAMES.join(", ")),
                ));
            }
        };
        if raw.consume.is_some() && !(rw.is_blocks() && rw.has_reads()) {
            notes.push(format!("consume applies to block patterns that read, not rw = {}: not used", rw_name(rw)));
        }
        // fio keeps a random map for uniform random offsets only (zipf draws with replacement).
        let random_blocks = rw.is_random() && rw.is_blocks();
        let randommap = random_blocks && distribution == Distribution::Uniform && raw.norandommap != Some(true);
        if raw.norandommap.is_some() && !(random_blocks && distribution == Distribution::Uniform) {
            notes.push("norandommap applies to uniform random block patterns only: not used".into());
        }
        let complete_min =
            int_in("iodepth_batch_complete_min", raw.iodepth_batch_complete_min, 1, 1, MAX_IODEPTH)? as u32;
        if complete_min > iodepth && backend.is_queue() {
            return Err(Error::invalid(
                "iodepth_batch_complete_min",
                format!("{complete_min} exceeds iodepth {iodepth}, so the wait could never end; use 1 to {iodepth}"),
            ));
        }
        let complete_max =
            int_in("iodepth_batch_complete_max", raw.iodepth_batch_complete_max, complete_min as i64, 1, MAX_IODEPTH)?
                as u32;
        if complete_max < complete_min {
            return Err(Error::invalid(
                "iodepth_batch_complete_max",
                format!(
                    "{complete_max} is below iodepth_batch_complete_min {complete_min}; use at least {complete_min}"
                ),
            ));
        }
        let uring = uring_options(raw, backend, iodepth, &mut notes)?;
        let tuning = crate::workload::tuning::Tuning::from_raw(raw, backend, rw, ctx, &mut notes)?;
        let series_interval_ns = crate::workload::tuning::series_interval(raw.series_interval.as_ref())?;
        let limits = crate::workload::resources::ResourceLimits::from_raw(raw, backend, bs, ctx, &mut notes)?;
        let dir = PathBuf::from(raw.dir.as_deref().unwrap_or(DEFAULT_DIR));
        let filename = match raw.filename.as_deref().map(str::trim) {
            None => None,
            Some("") => return Err(Error::invalid("filename", "is empty; name a file, or leave it out to use --dir")),
            // Like fio: a relative filename lives in `dir` when one is given.
            Some(f) if raw.dir.is_some() => Some(dir.join(f)),
            Some(f) => Some(PathBuf::from(f)),
        };
        let mut plan = Plan {
            name: raw.name.clone().unwrap_or_default(),
            backend,
            rw,
            rwmixread_pct,
            bs_bytes: bs,
            size_bytes: size,
            runtime_ns: runtime.map(|d| d.as_nanos() as u64),
            io_size_bytes: io_size,
            ramp_ns: ramp.as_nanos() as u64,
            iodepth,
            threads,
            seed,
            distribution,
            durability,
            cache,
            dir,
            filename,
            permit: Default::default(),
            verify,
            consume,
            randommap,
            iodepth_batch_complete_min: complete_min.min(iodepth),
            iodepth_batch_complete_max: complete_max.min(iodepth),
            uring,
            tuning,
            series_interval_ns,
            limits,
            records: None,
            scan: None,
        };
        crate::workload::pattern_keys::finish(&mut plan, raw, ctx, &mut notes)?;
        Ok((plan, notes))
    }
}

/// The pattern's name as the `rw` key spells it.
pub fn rw_name(rw: Rw) -> &'static str {
    match rw {
        Rw::Read => "read",
        Rw::Write => "write",
        Rw::Randread => "randread",
        Rw::Randwrite => "randwrite",
        Rw::Rw => "rw",
        Rw::Randrw => "randrw",
        Rw::Records => "records",
        Rw::Seqrecords => "seqrecords",
        Rw::Scan => "scan",
    }
}

/// The io_uring keys, for `uring` and `uring-direct`; other backends get a note if any is set.
fn uring_options(
    raw: &RawWorkload,
    backend: BackendKind,
    iodepth: u32,
    notes: &mut Vec<String>,
) -> Result<Option<UringOptions>> {
    let fixedbufs = flag_value("fixedbufs", raw.fixedbufs.as_ref())?;
    let registerfiles = flag_value("registerfiles", raw.registerfiles.as_ref())?;
    let sqthread_poll = flag_value("sqthread_poll", raw.sqthread_poll.as_ref())?;
    let idle = opt_duration("sqthread_poll_idle", raw.sqthread_poll_idle.as_ref())?;
    // fio's default, 1, dispatches each request at once; measured here it beats batching on a device.
    let batch_submit = int_in("iodepth_batch_submit", raw.iodepth_batch_submit, 1, 0, MAX_IODEPTH)? as u32;
    if !matches!(backend, BackendKind::Uring | BackendKind::UringDirect) {
        let given: Vec<&str> = [
            ("fixedbufs", raw.fixedbufs.is_some()),
            ("registerfiles", raw.registerfiles.is_some()),
            ("sqthread_poll", raw.sqthread_poll.is_some()),
            ("sqthread_poll_idle", raw.sqthread_poll_idle.is_some()),
            ("iodepth_batch_submit", raw.iodepth_batch_submit.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if !given.is_empty() {
            notes.push(format!("{} (io_uring options) not used by {backend}", given.join(", ")));
        }
        return Ok(None);
    }
    if idle.is_some() && !sqthread_poll {
        return Err(Error::invalid("sqthread_poll_idle", "applies only with sqthread_poll = true (--sqthread-poll)"));
    }
    let idle_ms = idle.map_or(1000, |d| d.as_millis());
    if idle_ms > u32::MAX as u128 {
        return Err(Error::invalid("sqthread_poll_idle", "is too long; use at most a few seconds, e.g. 1s"));
    }
    if batch_submit > iodepth {
        return Err(Error::invalid(
            "iodepth_batch_submit",
            format!("{batch_submit} exceeds iodepth {iodepth}; use 0 (all queued) or 1 to {iodepth}"),
        ));
    }
    Ok(Some(UringOptions {
        fixedbufs,
        registerfiles,
        sqthread_poll,
        sqthread_poll_idle_ms: idle_ms as u32,
        iodepth_batch_submit: batch_submit,
    }))
}

/// An on/off key: true/false, or fio's 1/0.
fn flag_value(key: &str, value: Option<&Value>) -> Result<bool> {
    match value {
        None => Ok(false),
        Some(Value::Boolean(b)) => Ok(*b),
        Some(Value::Integer(0)) => Ok(false),
        Some(Value::Integer(1)) => Ok(true),
        Some(v) => Err(Error::invalid(key, format!("{v} is not on or off; use true or false (or 1 or 0)"))),
    }
}

fn size_value(key: &str, value: Option<&Value>, default: u64) -> Result<u64> {
    match value {
        None => Ok(default),
        Some(Value::Integer(n)) if *n < 0 => {
            Err(Error::invalid(key, format!("{n} is negative; sizes are positive (examples: 4k, 1m)")))
        }
        Some(Value::Integer(n)) => Ok(*n as u64),
        Some(Value::String(s)) => parse_size(s).map_err(|m| Error::invalid(key, m)),
        Some(v) => Err(Error::invalid(key, format!("{v} is not a size (examples: 4096, \"4k\", \"1m\")"))),
    }
}

fn opt_duration(key: &str, value: Option<&Value>) -> Result<Option<Duration>> {
    match value {
        None => Ok(None),
        Some(Value::Integer(n)) if *n < 0 => {
            Err(Error::invalid(key, format!("{n} is negative; durations are positive (examples: \"500ms\", \"5s\")")))
        }
        // Nanoseconds are kept in a u64: about 584 years.
        Some(Value::Integer(n)) if *n as u64 > u64::MAX / 1_000_000_000 => {
            Err(Error::invalid(key, format!("{n} seconds is too long a duration")))
        }
        Some(Value::Integer(n)) => Ok(Some(Duration::from_secs(*n as u64))),
        Some(Value::String(s)) => parse_duration(s).map(Some).map_err(|m| Error::invalid(key, m)),
        Some(v) => Err(Error::invalid(key, format!("{v} is not a duration (examples: \"500ms\", \"5s\")"))),
    }
}

fn int_in(key: &str, value: Option<i64>, default: i64, min: i64, max: i64) -> Result<i64> {
    let v = value.unwrap_or(default);
    if v < min || v > max {
        return Err(Error::invalid(key, format!("{v} is out of range ({min} to {max})")));
    }
    Ok(v)
}

fn parse_distribution(text: Option<&str>) -> Result<Distribution> {
    let key = "random_distribution";
    match text {
        None | Some("random") | Some("uniform") => Ok(Distribution::Uniform),
        Some(s) if s.starts_with("zipf:") => {
            let theta: f64 = s[5..].parse().map_err(|_| {
                Error::invalid(key, format!("'{}' is not a number in '{s}' (example: zipf:1.2)", &s[5..]))
            })?;
            if !theta.is_finite() || theta <= 0.0 || theta > 100.0 {
                return Err(Error::invalid(
                    key,
                    format!("zipf θ must be greater than 0 (and at most 100), not {theta}"),
                ));
            }
            Ok(Distribution::Zipf { theta })
        }
        Some(s) => {
            Err(Error::invalid(key, format!("unknown distribution '{s}' (expected uniform or zipf:θ, e.g. zipf:1.2)")))
        }
    }
}

fn parse_durability(text: Option<&str>) -> Result<Durability> {
    let key = "durability";
    let Some(text) = text else { return Ok(Durability::None) };
    let (kind, every) = match text.split_once(':') {
        Some((k, n)) => {
            let n: u32 =
                n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    Error::invalid(key, format!("'{n}' in '{text}' is not a positive count of writes"))
                })?;
            (k, Some(n))
        }
        None => (text, None),
    };
    let every = every.unwrap_or(1);
    Ok(match kind {
        "none" => Durability::None,
        "fsync" => Durability::Fsync { every },
        "fdatasync" => Durability::Fdatasync { every },
        "odsync" | "dsync" => Durability::Odsync,
        "msync" => Durability::Msync { every },
        "msync-async" => Durability::MsyncAsync { every },
        _ => {
            return Err(Error::invalid(
                key,
                format!(
                    "unknown policy '{text}' (expected none, fsync:N, fdatasync:N, odsync, msync:N or msync-async:N)"
                ),
            ));
        }
    })
}
