//! A raw workload becomes a `Plan` here, as a list of named checks: one per key or group of keys
//! that depend on each other. The checks of tuning keys live in `tuning`, of resource limits in
//! `resources`, of the record and scan keys in `pattern_keys`; keys that do not apply are
//! handled by `applies`, and values are read by `values`. Backends and the run loop only ever
//! see a `Plan`.

use super::applies::Applies;
use super::backends::BackendKind;
use super::plan::{CacheState, Consume, DEFAULT_DIR, Distribution, Durability, Plan, PlanContext, Rw, UringOptions};
use super::raw::RawWorkload;
use super::values::{self, SizeKey};
use crate::base::error::{Error, Result};
use crate::patterns::block::SECTOR;
use std::path::PathBuf;
use std::time::Duration;

const MAX_IODEPTH: i64 = 4096;
const MAX_THREADS: i64 = 256;
const BS: SizeKey = SizeKey { key: "bs", examples: "4k, 1m" };
const SIZE: SizeKey = SizeKey { key: "size", examples: "64m, 1g" };
const IO_SIZE: SizeKey = SizeKey { key: "io_size", examples: "" };

impl Plan {
    /// Validates one expanded workload for the backend it names. Returns the plan and notes
    /// for the user.
    pub fn from_raw(raw: &RawWorkload, ctx: PlanContext) -> Result<(Plan, Vec<String>)> {
        let backend: BackendKind = raw.backend.as_deref().unwrap_or("buffered").parse()?;
        Plan::for_backend(raw, ctx, backend)
    }

    /// Validates one expanded workload for `backend` (whatever `raw.backend` says): how plans
    /// are made for backends from outside iobench, whose names only their caller knows.
    pub(crate) fn for_backend(
        raw: &RawWorkload,
        ctx: PlanContext,
        backend: BackendKind,
    ) -> Result<(Plan, Vec<String>)> {
        let mut notes = Vec::new();
        let mut v = Checks { raw, ctx, backend, notes: &mut notes };
        let rw = v.pattern()?;
        let rwmixread_pct = v.read_mix(rw)?;
        let (bs, size) = v.block_and_file_size()?;
        let (runtime, io_size) = v.run_length(bs)?;
        let ramp = values::duration("ramp_time", raw.ramp_time.as_ref())?.unwrap_or_default();
        let threads = values::count("threads", raw.threads, 1, 1, Some(MAX_THREADS))? as u32;
        let iodepth = v.iodepth()?;
        let seed = values::count("seed", raw.seed, 0x0010_bec4, 0, None)? as u64;
        let distribution = v.distribution(rw)?;
        let durability = v.durability(rw)?;
        let cache = v.cache_state()?;
        let verify = v.verify()?;
        let consume = v.consume(rw)?;
        let randommap = v.random_map(rw, distribution);
        let (complete_min, complete_max) = v.completion_batches(iodepth)?;
        let uring = v.uring_options(iodepth)?;
        let tuning = super::tuning::Tuning::from_raw(raw, rw, &mut v.applies())?;
        let series_interval_ns = super::tuning::series_interval(raw.series_interval.as_ref())?;
        let limits = super::resources::ResourceLimits::from_raw(raw, bs, &mut v.applies())?;
        let (dir, filename) = v.files()?;
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
        super::pattern_keys::finish(&mut plan, raw, &mut Applies::of(backend, ctx, &mut notes))?;
        Ok((plan, notes))
    }
}

impl<'a> Applies<'a> {
    fn of(backend: BackendKind, ctx: PlanContext, notes: &'a mut Vec<String>) -> Applies<'a> {
        Applies { backend, several_backends: ctx.several_backends, notes }
    }
}

/// The workload being checked, the backend it is checked for, and the notes so far.
struct Checks<'a, 'n> {
    raw: &'a RawWorkload,
    ctx: PlanContext,
    backend: BackendKind,
    notes: &'n mut Vec<String>,
}

impl Checks<'_, '_> {
    fn applies(&mut self) -> Applies<'_> {
        Applies::of(self.backend, self.ctx, self.notes)
    }

    /// `rw`: fio's names, and the article's patterns.
    fn pattern(&self) -> Result<Rw> {
        Ok(match self.raw.rw.as_deref().unwrap_or("randread") {
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
                let expected = Rw::NAMES.join(", ");
                return Err(Error::invalid("rw", format!("unknown pattern '{other}' (expected one of {expected})")));
            }
        })
    }

    /// `rwmixread`: a percentage, for the mixed patterns only.
    fn read_mix(&self, rw: Rw) -> Result<u32> {
        match values::percentage("rwmixread", self.raw.rwmixread)? {
            None => Ok(match rw {
                Rw::Rw | Rw::Randrw => 50,
                Rw::Read | Rw::Randread | Rw::Scan => 100,
                Rw::Write | Rw::Randwrite | Rw::Records | Rw::Seqrecords => 0,
            }),
            Some(_) if !matches!(rw, Rw::Rw | Rw::Randrw) => {
                Err(Error::invalid("rwmixread", "applies only to rw = \"rw\" or \"randrw\""))
            }
            Some(p) => Ok(p),
        }
    }

    /// `bs` and `size`: above zero, whole sectors, the file at least one block.
    fn block_and_file_size(&self) -> Result<(u64, u64)> {
        let bs = BS.read_positive(self.raw.bs.as_ref())?.unwrap_or(4096);
        let size = SIZE.read_positive(self.raw.size.as_ref())?.unwrap_or(256 << 20);
        if bs % SECTOR != 0 {
            return Err(Error::invalid("bs", format!("{bs} is not a multiple of 512 bytes")));
        }
        if size < bs {
            return Err(Error::invalid("size", format!("{size} bytes is smaller than the block size bs = {bs}")));
        }
        Ok((bs, size))
    }

    /// `runtime` and `io_size`: whichever ends first; 5 s when neither is given.
    fn run_length(&self, bs: u64) -> Result<(Option<Duration>, Option<u64>)> {
        let runtime = values::duration("runtime", self.raw.runtime.as_ref())?;
        let io_size = IO_SIZE.read_positive(self.raw.io_size.as_ref())?;
        if let Some(n) = io_size
            && n < bs
        {
            return Err(Error::invalid("io_size", format!("{n} bytes is less than one block (bs = {bs})")));
        }
        match (runtime, io_size) {
            (Some(d), _) if d.is_zero() => Err(Error::invalid("runtime", "must be greater than 0 (for example 5s)")),
            (None, None) => Ok((Some(Duration::from_secs(5)), None)),
            (r, n) => Ok((r, n)),
        }
    }

    /// `iodepth`: operations in flight, on queue backends. A synchronous backend runs at depth
    /// 1 with a note when the invocation mixes both kinds, and refuses a depth otherwise.
    fn iodepth(&mut self) -> Result<u32> {
        let iodepth = values::count("iodepth", self.raw.iodepth, 1, 1, Some(MAX_IODEPTH))? as u32;
        let backend = self.backend;
        if iodepth == 1 || backend.is_queue() {
            return Ok(iodepth);
        }
        if self.ctx.mixed_backends {
            self.notes.push(format!("{backend} is synchronous: it ran at iodepth 1 (use threads for concurrency)"));
            return Ok(1);
        }
        Err(Error::invalid(
            "iodepth",
            format!(
                "{backend} completes each operation before the next, so iodepth {iodepth} cannot apply; use \
                 --threads {iodepth} for concurrency, or a queue backend (uring, uring-direct, tokio, tokio-pread)"
            ),
        ))
    }

    /// `random_distribution`: uniform, or fio's `zipf:θ` for random patterns.
    fn distribution(&self, rw: Rw) -> Result<Distribution> {
        let key = "random_distribution";
        let distribution = match self.raw.random_distribution.as_deref() {
            None | Some("random") | Some("uniform") => Distribution::Uniform,
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
                Distribution::Zipf { theta }
            }
            Some(s) => {
                let expected = "expected uniform or zipf:θ, e.g. zipf:1.2";
                return Err(Error::invalid(key, format!("unknown distribution '{s}' ({expected})")));
            }
        };
        if matches!(distribution, Distribution::Zipf { .. }) && !rw.is_random() {
            return Err(Error::invalid(key, "applies only to random patterns (randread, randwrite, randrw, records)"));
        }
        Ok(distribution)
    }

    /// `durability`: a policy for patterns with writes, msync for mappings, fsync otherwise.
    fn durability(&self, rw: Rw) -> Result<Durability> {
        let durability = parse_durability(self.raw.durability.as_deref())?;
        if durability != Durability::None && !rw.has_writes() {
            let rw = self.raw.rw.as_deref().unwrap_or("randread");
            return Err(Error::invalid("durability", format!("applies only to patterns with writes, not rw = {rw}")));
        }
        let maps = self.backend.capabilities().maps_file;
        match durability {
            Durability::Msync { .. } | Durability::MsyncAsync { .. } if !maps => Err(Error::invalid(
                "durability",
                format!("msync applies only to the mmap backend, not {}; use fsync:N or fdatasync:N", self.backend),
            )),
            Durability::Fsync { .. } | Durability::Fdatasync { .. } | Durability::Odsync if maps => {
                Err(Error::invalid("durability", "the mmap backend makes writes durable with msync:N or msync-async:N"))
            }
            d => Ok(d),
        }
    }

    /// `cache`: warm, cold or as-is; warm means nothing to a backend that bypasses the cache.
    fn cache_state(&mut self) -> Result<CacheState> {
        let cache = match self.raw.cache.as_deref().unwrap_or("warm") {
            "warm" => CacheState::Warm,
            "cold" => CacheState::Cold,
            "as-is" | "asis" => CacheState::AsIs,
            other => {
                return Err(Error::invalid("cache", format!("unknown state '{other}' (expected warm, cold or as-is)")));
            }
        };
        if cache == CacheState::Warm && self.backend.is_direct() {
            let backend = self.backend;
            self.notes.push(format!("{backend} bypasses the page cache: cache = warm only affects other backends"));
        }
        Ok(cache)
    }

    /// `verify`: every block read checked against the pattern, on backends that move data.
    fn verify(&mut self) -> Result<bool> {
        let verify = values::on_off("verify", self.raw.verify.as_ref())?.unwrap_or(false);
        let moves_data = self.backend.capabilities().moves_data;
        let backend = self.backend.to_string();
        self.applies().options(&[("verify", verify && !moves_data)], "backends that move data", &backend);
        Ok(verify && moves_data)
    }

    /// `consume`: what reads' bytes go through, for block patterns that read.
    fn consume(&mut self, rw: Rw) -> Result<Consume> {
        let consume = match self.raw.consume.as_deref() {
            None | Some("sum") => Consume::Sum,
            Some("touch") => Consume::Touch,
            Some("none") => Consume::None,
            Some("copy") => Consume::Copy,
            Some(other) => {
                let expected = Consume::NAMES.join(", ");
                return Err(Error::invalid("consume", format!("unknown mode '{other}' (expected one of {expected})")));
            }
        };
        let given = self.raw.consume.is_some() && !(rw.is_blocks() && rw.has_reads());
        let here = format!("rw = {}", super::plan::rw_name(rw));
        self.applies().options(&[("consume", given)], "block patterns that read", &here);
        Ok(consume)
    }

    /// The random map: fio keeps one for uniform random block offsets (`norandommap` opts out;
    /// zipf draws with replacement).
    fn random_map(&mut self, rw: Rw, distribution: Distribution) -> bool {
        let uniform_random_blocks = rw.is_random() && rw.is_blocks() && distribution == Distribution::Uniform;
        let norandommap = values::on_off("norandommap", self.raw.norandommap.as_ref());
        let off = norandommap.as_ref().is_ok_and(|n| *n == Some(true));
        let given = self.raw.norandommap.is_some() && !uniform_random_blocks;
        let here = format!("rw = {}", super::plan::rw_name(rw));
        self.applies().options(&[("norandommap", given)], "uniform random block patterns", &here);
        uniform_random_blocks && !off
    }

    /// `iodepth_batch_complete_min` and `_max`: completions waited for, and taken, per reap.
    fn completion_batches(&self, iodepth: u32) -> Result<(u32, u32)> {
        let raw = self.raw;
        let min = values::count("iodepth_batch_complete_min", raw.iodepth_batch_complete_min, 1, 1, Some(MAX_IODEPTH))?
            as u32;
        if min > iodepth && self.backend.is_queue() {
            return Err(Error::invalid(
                "iodepth_batch_complete_min",
                format!("{min} exceeds iodepth {iodepth}, so the wait could never end; use 1 to {iodepth}"),
            ));
        }
        let key = "iodepth_batch_complete_max";
        let max = values::count(key, raw.iodepth_batch_complete_max, min as i64, 1, Some(MAX_IODEPTH))? as u32;
        if max < min {
            return Err(Error::invalid(
                key,
                format!("{max} is below iodepth_batch_complete_min {min}; use at least {min}"),
            ));
        }
        Ok((min, max))
    }

    /// The io_uring options, for `uring` and `uring-direct`; left off with a note elsewhere.
    fn uring_options(&mut self, iodepth: u32) -> Result<Option<UringOptions>> {
        let raw = self.raw;
        let fixedbufs = values::on_off("fixedbufs", raw.fixedbufs.as_ref())?.unwrap_or(false);
        let registerfiles = values::on_off("registerfiles", raw.registerfiles.as_ref())?.unwrap_or(false);
        let sqthread_poll = values::on_off("sqthread_poll", raw.sqthread_poll.as_ref())?.unwrap_or(false);
        let idle = values::duration("sqthread_poll_idle", raw.sqthread_poll_idle.as_ref())?;
        // fio's default, 1, dispatches each request at once; measured here it beats batching on a device.
        let batch_submit =
            values::count("iodepth_batch_submit", raw.iodepth_batch_submit, 1, 0, Some(MAX_IODEPTH))? as u32;
        if !self.backend.capabilities().io_uring {
            let given = [
                ("fixedbufs", raw.fixedbufs.is_some()),
                ("registerfiles", raw.registerfiles.is_some()),
                ("sqthread_poll", raw.sqthread_poll.is_some()),
                ("sqthread_poll_idle", raw.sqthread_poll_idle.is_some()),
                ("iodepth_batch_submit", raw.iodepth_batch_submit.is_some()),
            ];
            let backend = self.backend.to_string();
            self.applies().options(&given, "uring and uring-direct", &backend);
            return Ok(None);
        }
        if idle.is_some() && !sqthread_poll {
            return Err(Error::invalid(
                "sqthread_poll_idle",
                "applies only with sqthread_poll = true (--sqthread-poll)",
            ));
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
        let sqthread_poll_idle_ms = idle_ms as u32;
        Ok(Some(UringOptions {
            fixedbufs,
            registerfiles,
            sqthread_poll,
            sqthread_poll_idle_ms,
            iodepth_batch_submit: batch_submit,
        }))
    }

    /// `dir` and `filename`: like fio, a relative filename lives in `dir` when one is given.
    fn files(&self) -> Result<(PathBuf, Option<PathBuf>)> {
        let raw = self.raw;
        let dir = PathBuf::from(raw.dir.as_deref().unwrap_or(DEFAULT_DIR));
        let filename = match raw.filename.as_deref().map(str::trim) {
            None => None,
            Some("") => return Err(Error::invalid("filename", "is empty; name a file, or leave it out to use --dir")),
            Some(f) if raw.dir.is_some() => Some(dir.join(f)),
            Some(f) => Some(PathBuf::from(f)),
        };
        Ok((dir, filename))
    }
}

/// `durability`: `none`, `fsync:N`, `fdatasync:N`, `odsync`, `msync:N`, `msync-async:N`.
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
            let expected = "expected none, fsync:N, fdatasync:N, odsync, msync:N or msync-async:N";
            return Err(Error::invalid(key, format!("unknown policy '{text}' ({expected})")));
        }
    })
}
