//! Warnings above a report: each says what went wrong with the measurement and what to do.

use super::cells::{Cell, Group};
use crate::base::units::{format_bytes, format_ns};
use crate::result::Measured;
use crate::result::RunStatus;
use crate::workload::plan::CacheState;
use std::fmt;

/// Repeats spanning more than this share of their median make a ranking doubtful.
pub(crate) const MAX_SPREAD: f64 = 0.10;
/// More cells than this with a wide spread are told as one warning (the rankings show each).
pub(crate) const MAX_SPREAD_LISTED: usize = 4;
/// The harness's own cost per operation (null backend's p50) above this share of an op's p50.
pub(crate) const MAX_OVERHEAD: f64 = 0.05;

#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    ColdButResident {
        workload: String,
        backend: String,
        pct: f64,
    },
    WarmButEvicted {
        workload: String,
        backend: String,
        pct: f64,
    },
    Spread {
        workload: String,
        backend: String,
        pct: f64,
        runs: usize,
    },
    /// Many cells with a wide spread: how many of how many, and the widest.
    SpreadMany {
        cells: usize,
        of: usize,
        widest: Box<Warning>,
    },
    Skipped {
        backend: String,
        reason: String,
        cells: usize,
    },
    Failed {
        workload: String,
        backend: String,
        reason: String,
    },
    Overhead {
        workload: String,
        backend: String,
        null_p50_ns: f64,
        p50_ns: f64,
    },
    SingleRuns,
    /// cache = cold, but the page cache served most of the reads (read-around, re-reads).
    ColdTurnedWarm {
        workload: String,
        backend: String,
        resident_end_pct: f64,
        served_min_pct: f64,
        cause: String,
        hint: &'static str,
    },
    /// Random reads that made storage read far more than they asked for.
    ReadAmplification {
        workload: String,
        backend: String,
        amplification: f64,
        cause: String,
        fio_default: &'static str,
        hint: &'static str,
    },
    /// O_DIRECT reads the block layer split into several device requests each.
    DirectReadsSplit {
        workload: String,
        backend: String,
        requests_per_read: f64,
        block_bytes: u64,
        buffers: &'static str,
    },
    /// Many write cells absorbed: how many, and the most absorbed.
    WritesAbsorbedMany {
        cells: usize,
        most: Box<Warning>,
    },
    /// A write run whose bytes mostly never reached the device (overwrites absorbed).
    WritesAbsorbed {
        workload: String,
        backend: String,
        written_bytes: u64,
        device_bytes: u64,
    },
}

/// A cold cell is called warm when it ends with more than this share of the file cached, or
/// when at least this share of its bytes came from the page cache.
pub(crate) const MAX_COLD_WARMTH_PCT: f64 = 50.0;
/// Random reads whose storage bytes exceed this multiple of the bytes asked for.
pub(crate) const MAX_RANDOM_READ_AMPLIFICATION: f64 = 10.0;
/// Device requests per O_DIRECT read at which the reads count as split.
pub const MAX_REQUESTS_PER_DIRECT_READ: f64 = 1.5;
/// Written bytes above this multiple of what reached the device by the end of the final sync.
pub(crate) const MAX_WRITES_ABSORBED: f64 = 2.0;

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ColdButResident { workload, backend, pct } => write!(
                f,
                "{workload} on {backend}: cache = cold was requested but {pct:.1}% of the file was cached at the start; \
                 another process keeps it mapped or open: stop it, or drop caches as root (echo 1 > /proc/sys/vm/drop_caches)"
            ),
            Warning::WarmButEvicted { workload, backend, pct } => write!(
                f,
                "{workload} on {backend}: cache = warm was requested but only {pct:.1}% of the file was cached; \
                 the file does not fit in free memory: use a smaller size"
            ),
            Warning::Spread { workload, backend, pct, runs } => write!(
                f,
                "{workload} on {backend}: its {runs} repeats span {pct:.0}% of their median (over 10%); \
                 the machine was noisy: close other work, raise runtime, or raise repeat"
            ),
            Warning::SpreadMany { cells, of, widest } => {
                let Warning::Spread { workload, backend, pct, .. } = widest.as_ref() else { return Ok(()) };
                write!(
                    f,
                    "{cells} of {of} cells have repeats spanning over 10% of their median (widest: {workload} on \
                     {backend}, {pct:.0}%; the rankings show each cell's spread); the machine was noisy: close other \
                     work, raise runtime, or raise repeat"
                )
            }
            Warning::Skipped { backend, reason, cells } => {
                write!(f, "{backend} was skipped in {cells} run{}: {reason}", if *cells == 1 { "" } else { "s" })
            }
            Warning::Failed { workload, backend, reason } => {
                write!(f, "{workload} on {backend} failed: {reason}")
            }
            Warning::Overhead { workload, backend, null_p50_ns, p50_ns } => write!(
                f,
                "{workload} on {backend}: the harness's own cost per operation ({}, the null backend's p50) is {:.0}% \
                 of its p50 ({}); differences this small are the harness's: compare with larger blocks or with fio",
                format_ns(*null_p50_ns),
                null_p50_ns / p50_ns * 100.0,
                format_ns(*p50_ns)
            ),
            Warning::ColdTurnedWarm { workload, backend, resident_end_pct, served_min_pct, cause, hint } => {
                let served = if *served_min_pct > MAX_COLD_WARMTH_PCT {
                    format!("at least {served_min_pct:.0}% of the bytes read came from the page cache")
                } else {
                    "its random reads came back to cached pages".into()
                };
                write!(
                    f,
                    "{workload} on {backend}: cache = cold, but {resident_end_pct:.0}% of the file was cached by the \
                     end and {served} ({cause}): this cell measures mostly warm reads; {hint}"
                )
            }
            Warning::ReadAmplification { workload, backend, amplification, cause, fio_default, hint } => write!(
                f,
                "{workload} on {backend}: storage read {amplification:.0}x the bytes these random reads asked for \
                 ({cause}); fio's default fadvise_hint=1 would apply {fio_default} to this job; {hint}"
            ),
            Warning::WritesAbsorbed { workload, backend, written_bytes, device_bytes } => write!(
                f,
                "{workload} on {backend}: it wrote {} but only {} reached the device by the end of its final sync \
                 ({:.1}x absorbed: overwrites of pages still dirty in the page cache), so durable MB/s counts bytes \
                 written, not bytes made durable; use a larger file or io_size to make every write reach storage",
                format_bytes(*written_bytes),
                format_bytes(*device_bytes),
                *written_bytes as f64 / (*device_bytes).max(1) as f64
            ),
            Warning::DirectReadsSplit { workload, backend, requests_per_read, block_bytes, buffers } => write!(
                f,
                "{workload} on {backend}: the device completed {requests_per_read:.1} requests per {} O_DIRECT read: \
                 each {buffers} buffer spans {} pages of 4 KiB, more segments than the device takes in one request \
                 (block_device.max_segments in the environment), so the block layer splits every read; this cell \
                 measures the split as much as the device: --buffers hugepage gives each read one physically \
                 contiguous buffer",
                format_bytes(*block_bytes),
                block_bytes / 4096
            ),
            Warning::WritesAbsorbedMany { cells, most } => {
                write!(
                    f,
                    "{cells} write cells wrote more than twice what reached the device by the end of their final sync (the rankings note each); the most: {most}"
                )
            }
            Warning::SingleRuns => write!(
                f,
                "every cell ran once, so no spread is known and rankings within ±15% may be noise: \
                 set repeat = 3 in the suite for medians and spreads"
            ),
        }
    }
}

/// Every warning for these groups, in the order a reader should see them.
pub(crate) fn collect(groups: &[Group<'_>]) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut skipped: Vec<(String, String, usize)> = Vec::new();
    // Without a null run in the same workload, the cheapest null run anywhere stands in.
    let any_null = groups
        .iter()
        .flat_map(|g| g.cells.iter())
        .filter(|c| c.backend == "null" && c.is_measured())
        .map(|c| c.p50.median)
        .fold(None, |acc: Option<f64>, v| Some(acc.map_or(v, |a| a.min(v))));
    for g in groups {
        let null_p50 =
            g.cells.iter().find(|c| c.backend == "null" && c.is_measured()).map(|c| c.p50.median).or(any_null);
        for c in &g.cells {
            let workload = g.label.clone();
            let backend = c.label();
            for r in &c.not_ok {
                let reason = r.reason.clone().unwrap_or_default();
                if r.status == RunStatus::Skipped {
                    match skipped.iter_mut().find(|(b, why, _)| *b == c.backend && *why == reason) {
                        Some(s) => s.2 += 1,
                        None => skipped.push((c.backend.clone(), reason, 1)),
                    }
                } else {
                    out.push(Warning::Failed { workload: workload.clone(), backend: backend.clone(), reason });
                }
            }
            cache_warnings(c, &workload, &mut out);
            evidence_warnings(c, &workload, &mut out);
            let t = c.throughput(g.metric);
            if t.n > 1 && t.rel_range() > MAX_SPREAD && !c.is_null() {
                out.push(Warning::Spread {
                    workload: workload.clone(),
                    backend: backend.clone(),
                    pct: t.rel_range() * 100.0,
                    runs: t.n,
                });
            }
            if let Some(null) = null_p50
                && c.backend != "null"
                && c.is_measured()
                && c.p50.median > 0.0
                && null > MAX_OVERHEAD * c.p50.median
            {
                out.push(Warning::Overhead { workload, backend, null_p50_ns: null, p50_ns: c.p50.median });
            }
        }
    }
    for (backend, reason, cells) in skipped {
        out.push(Warning::Skipped { backend, reason, cells });
    }
    let measured: Vec<&Cell> = groups.iter().flat_map(|g| g.cells.iter()).filter(|c| c.is_measured()).collect();
    collapse_spreads(&mut out, measured.len());
    collapse_absorbed(&mut out);
    if !measured.is_empty() && measured.iter().all(|c| c.ok.len() == 1) {
        out.push(Warning::SingleRuns);
    }
    out
}

/// Replaces more than `MAX_SPREAD_LISTED` spread warnings by one, where the first of them was.
fn collapse_spreads(out: &mut Vec<Warning>, measured: usize) {
    let pct = |w: &Warning| if let Warning::Spread { pct, .. } = w { Some(*pct) } else { None };
    collapse(out, pct, |cells, widest| Warning::SpreadMany { cells, of: measured, widest });
}

/// Likewise for write cells whose bytes the page cache absorbed, keeping the most absorbed.
fn collapse_absorbed(out: &mut Vec<Warning>) {
    let ratio = |w: &Warning| match w {
        Warning::WritesAbsorbed { written_bytes, device_bytes, .. } => {
            Some(*written_bytes as f64 / (*device_bytes).max(1) as f64)
        }
        _ => None,
    };
    collapse(out, ratio, |cells, most| Warning::WritesAbsorbedMany { cells, most });
}

/// Replaces the warnings of one kind (those `figure` gives a value) by one made by `many` from
/// their count and the one with the largest figure, when there are more than `MAX_SPREAD_LISTED`.
fn collapse(
    out: &mut Vec<Warning>,
    figure: impl Fn(&Warning) -> Option<f64>,
    many: impl Fn(usize, Box<Warning>) -> Warning,
) {
    let count = out.iter().filter(|w| figure(w).is_some()).count();
    if count <= MAX_SPREAD_LISTED {
        return;
    }
    let Some(at) = out.iter().position(|w| figure(w).is_some()) else { return };
    let largest = out
        .iter()
        .filter(|w| figure(w).is_some())
        .max_by(|a, b| figure(a).unwrap_or(0.0).total_cmp(&figure(b).unwrap_or(0.0)))
        .cloned();
    let Some(largest) = largest else { return };
    out.retain(|w| figure(w).is_none());
    out.insert(at.min(out.len()), many(count, Box::new(largest)));
}

fn cache_warnings(c: &Cell<'_>, workload: &str, out: &mut Vec<Warning>) {
    // Direct backends never use the cache, so its state does not matter to them.
    if c.plan.backend.is_direct() {
        return;
    }
    for m in c.ok.iter().filter_map(|r| r.measured.as_ref()) {
        let pct = m.cache.resident_before_pct;
        let w = match c.plan.cache {
            CacheState::Cold if pct >= 1.0 => {
                Warning::ColdButResident { workload: workload.into(), backend: c.label(), pct }
            }
            CacheState::Warm if pct < 99.0 => {
                Warning::WarmButEvicted { workload: workload.into(), backend: c.label(), pct }
            }
            _ => continue,
        };
        out.push(w);
        return;
    }
}

/// How much of a cold cell's reading the page cache did, in its warmest run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Warmth {
    pub(crate) resident_end_pct: f64,
    pub(crate) served_min_pct: f64,
    /// The reads could land on pages cached earlier in the run (random offsets, or more bytes
    /// read than the file holds), so the residency at the end says how often they did.
    pub(crate) rereads: bool,
}

impl Warmth {
    fn is_warm(&self) -> bool {
        self.served_min_pct > MAX_COLD_WARMTH_PCT || (self.rereads && self.resident_end_pct > MAX_COLD_WARMTH_PCT)
    }
}

/// A cold cell that reads, on a backend that uses the page cache, whose warmest run served more
/// than half its bytes from the cache, or ended more than half cached while its reads could
/// come back to cached pages. A single sequential pass ends fully cached without reading one
/// cached page, so its residency alone does not make it warm.
pub(crate) fn turned_warm(c: &Cell<'_>) -> Option<Warmth> {
    if c.plan.cache != CacheState::Cold || c.plan.backend.is_direct() || c.is_null() || !c.plan.rw.has_reads() {
        return None;
    }
    c.ok.iter()
        .filter_map(|r| r.measured.as_ref())
        .map(|m| Warmth {
            resident_end_pct: m.evidence.resident_end_pct.unwrap_or(0.0),
            served_min_pct: m.evidence.cache_served_min_pct.unwrap_or(0.0),
            rereads: c.plan.rw.is_random() || read_bytes(c.plan, m) > c.plan.size_bytes,
        })
        .filter(Warmth::is_warm)
        .max_by(|a, b| {
            a.served_min_pct.total_cmp(&b.served_min_pct).then(a.resident_end_pct.total_cmp(&b.resident_end_pct))
        })
}

fn read_bytes(plan: &crate::workload::plan::Plan, m: &Measured) -> u64 {
    m.read_ops * plan.op_bytes()
}

/// Storage bytes per major fault, when the run faulted.
fn per_fault(m: &Measured) -> Option<String> {
    let storage = m.evidence.process_read_bytes.or(m.evidence.device_read_bytes)?;
    (m.faults.major > 0)
        .then(|| format!("{} major faults read {} each", m.faults.major, format_bytes(storage / m.faults.major)))
}

/// The readahead in force: the advice (or its absence) and the device's read_ahead_kb.
fn readahead_in_force(c: &Cell<'_>, m: &Measured) -> String {
    let t = &c.plan.tuning;
    let advice = if c.plan.backend.reads_in_place() {
        t.advice
            .map_or("no madvise advice, so the kernel's fault read-around".into(), |a| format!("madvise {}", a.name()))
    } else {
        t.fadvise.map_or("no fadvise hint, so the kernel's readahead".into(), |h| format!("fadvise {}", h.name()))
    };
    match m.evidence.read_ahead_kb {
        Some(kb) => format!("{advice}, read_ahead_kb = {kb}"),
        None => advice,
    }
}

fn evidence_warnings(c: &Cell<'_>, workload: &str, out: &mut Vec<Warning>) {
    let Some(m) = c.median_run().and_then(|r| r.measured.as_ref()) else { return };
    let mmap = c.plan.backend.reads_in_place();
    if let Some(w) = turned_warm(c) {
        let mut causes = Vec::new();
        if let Some(f) = per_fault(m).filter(|_| mmap && c.plan.rw.is_random()) {
            causes.push(format!("{f}, {}", readahead_in_force(c, m)));
        } else if m.evidence.process_read_amplification.or(m.evidence.read_amplification).is_some_and(|a| a > 1.5) {
            causes.push(readahead_in_force(c, m));
        }
        let read = read_bytes(c.plan, m);
        if read > c.plan.size_bytes {
            causes.push(format!(
                "the run read {} of a {} file, so it came back to blocks it had read",
                format_bytes(read),
                format_bytes(c.plan.size_bytes)
            ));
        }
        if causes.is_empty() {
            causes.push("neither read-around nor re-reading explains it: the file was cached when read".into());
        }
        let cause = causes.join("; ");
        let hint = if mmap {
            "use a larger file, --advice random, or io_size = size (one pass)"
        } else {
            "use a larger file, --fadvise random, or io_size = size (one pass)"
        };
        out.push(Warning::ColdTurnedWarm {
            workload: workload.into(),
            backend: c.label(),
            resident_end_pct: w.resident_end_pct,
            served_min_pct: w.served_min_pct,
            cause,
            hint,
        });
    }
    let amplification = m.evidence.process_read_amplification.or(m.evidence.read_amplification).unwrap_or(0.0);
    if c.plan.rw.is_random()
        && c.plan.rw.has_reads()
        && !c.plan.backend.is_direct()
        && amplification > MAX_RANDOM_READ_AMPLIFICATION
    {
        let faults = per_fault(m).filter(|_| mmap).map(|f| format!("{f}; ")).unwrap_or_default();
        let (fio_default, hint) = if mmap {
            ("MADV_RANDOM", "measure without read-around with --advice random, or keep it to measure the default")
        } else {
            ("POSIX_FADV_RANDOM", "measure without readahead with --fadvise random, or keep it to measure the default")
        };
        out.push(Warning::ReadAmplification {
            workload: workload.into(),
            backend: c.label(),
            amplification,
            cause: format!("{faults}{}", readahead_in_force(c, m)),
            fio_default,
            hint,
        });
    }
    if let Some(requests_per_read) = split_direct_reads(c.plan, m) {
        out.push(Warning::DirectReadsSplit {
            workload: workload.into(),
            backend: c.label(),
            requests_per_read,
            block_bytes: c.plan.bs_bytes,
            buffers: if c.plan.tuning.buffers == crate::workload::tuning::BufferKind::Hugepage {
                "huge-page"
            } else {
                "plain"
            },
        });
    }
    if let Some((written_bytes, device_bytes)) = absorbed_writes(c.plan, m) {
        out.push(Warning::WritesAbsorbed {
            workload: workload.into(),
            backend: c.label(),
            written_bytes,
            device_bytes,
        });
    }
}

/// (bytes written, bytes the device wrote through the final sync) when the page cache absorbed
/// more than `MAX_WRITES_ABSORBED` of them.
pub(crate) fn absorbed_writes(plan: &crate::workload::plan::Plan, m: &Measured) -> Option<(u64, u64)> {
    let device = m.evidence.device_written_through_sync_bytes?;
    let written = m.write_ops * plan.op_bytes();
    (m.final_sync_ns.is_some() && written as f64 > MAX_WRITES_ABSORBED * device as f64).then_some((written, device))
}

/// Device read requests per O_DIRECT read, when the block layer split the reads: at least 1.5
/// requests per read while the device read no more bytes than asked (so it is not other I/O).
pub fn split_direct_reads(plan: &crate::workload::plan::Plan, m: &Measured) -> Option<f64> {
    let (ios, bytes) = (m.evidence.device_read_ios?, m.evidence.device_read_bytes?);
    let read = read_bytes(plan, m);
    if !plan.backend.is_direct() || plan.bs_bytes <= 4096 || m.read_ops == 0 || bytes as f64 > 1.2 * read as f64 {
        return None;
    }
    let per_read = ios as f64 / m.read_ops as f64;
    (per_read >= MAX_REQUESTS_PER_DIRECT_READ).then_some(per_read)
}
