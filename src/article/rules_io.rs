//! Rules for the rows about moving bytes: copies, random access and write persistence.

use super::figures::{
    Cell, NOISE_FLOOR, below, cpu_ns_per_kib, cpu_share, durable_write_us, env_f64, final_sync_ms, gb_per_s, kiops,
    major_fault_share, margin, mean_us, p99_us, read_amp, show, sig,
};
use super::suite::{COPIES, COPIES_COLD, DURABILITY, RANDOM_COLD, RANDOM_WARM};
use super::{Finding, Verdict};
use crate::base::units::format_size;
use crate::os::advice::Advice;
use crate::result::Results;
use crate::workload::backends::BackendKind as B;
use crate::workload::plan::{Durability, Plan};

pub(super) fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// What the copies row compares, in ns of CPU per KiB (all medians).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CopyCosts {
    /// mmap and pread, 1 MiB sequential reads of a warm file.
    pub(crate) mmap: f64,
    pub(crate) pread: f64,
    /// One core reading and summing a KiB, and memcpy'ing a KiB (the environment's ceilings).
    pub(crate) read_pass: f64,
    pub(crate) memcpy: f64,
    /// The larger relative spread of the two cells' repeats (at least the noise floor), for
    /// read() against mmap; mmap's own (at least the noise floor), for mmap against a ceiling.
    pub(crate) margin: f64,
    pub(crate) mmap_margin: f64,
}

impl CopyCosts {
    /// read()'s CPU beyond mmap's, in memcpys of the same bytes: the cost ratio.
    pub(crate) fn read_copies(&self) -> f64 {
        (self.pread - self.mmap) / self.memcpy
    }
    /// mmap's CPU beyond one read pass over the bytes, in memcpys.
    pub(crate) fn mmap_copies(&self) -> f64 {
        (self.mmap - self.read_pass) / self.memcpy
    }
    /// pread costs more than mmap + `copies` memcpys by more than the margin.
    fn read_exceeds(&self, copies: f64) -> bool {
        below(self.mmap + copies * self.memcpy, self.pread, self.margin)
    }
    /// mmap costs less than one read pass + `copies` memcpys by more than the margin.
    fn mmap_under(&self, copies: f64) -> bool {
        below(self.mmap, self.read_pass + copies * self.memcpy, self.mmap_margin)
    }

    /// The verdict: zero copies for mmap is under half a memcpy beyond one read pass; two
    /// copies for read() are at least 1.5 memcpys beyond mmap; one copy at least half of one.
    pub(crate) fn verdict(&self) -> Verdict {
        let (r, m) = (sig(self.read_copies()), sig(self.mmap_copies()));
        if !self.mmap_under(0.5) {
            return Verdict::DoesNotHold(format!(
                "mmap's reads cost {m} memcpys of the same bytes beyond one read pass: not zero copies"
            ));
        }
        if self.read_exceeds(1.5) {
            Verdict::Holds
        } else if self.read_exceeds(0.5) {
            Verdict::HoldsIf(format!(
                "read() costs {r} memcpys of the same bytes beyond mmap, about one copy's worth, not two"
            ))
        } else {
            Verdict::DoesNotHold(format!(
                "read()'s CPU beyond mmap's is {r} of one memcpy of the same bytes: less than one copy's worth, not two"
            ))
        }
    }
}

pub(crate) fn copies(r: &Results) -> Finding {
    let mut f = Finding::new(
        "copies",
        "User-kernel copies",
        "mmap: zero copies (direct page cache access); read()/write(): two copies per operation",
        vec![COPIES, COPIES_COLD],
    );
    let of = |name: &str, b: B| Cell::select(r, name, move |p| p.backend == b);
    let mmap = f.track("mmap, warm", of(COPIES, B::Mmap));
    let pread = f.track("pread, warm", of(COPIES, B::Buffered));
    let direct = f.track("O_DIRECT", of(COPIES, B::Direct));
    let cold = f.track("pread, cold", of(COPIES_COLD, B::Buffered));
    for (label, cell) in
        [("mmap, warm", &mmap), ("pread, warm", &pread), ("O_DIRECT pread", &direct), ("pread, cold", &cold)]
    {
        f.figure(format!("{label}: CPU per KiB"), show(cell, cpu_ns_per_kib, "ns/KiB"));
        f.figure(format!("{label}: throughput"), show(cell, gb_per_s, "GB/s"));
    }
    let memcpy = env_f64(r, "/memory_ceilings/memcpy_bytes_per_s");
    let readsum = env_f64(r, "/memory_ceilings/read_bytes_per_s");
    f.rule = "1 MiB sequential reads of a warm file. Copies are counted as a cost ratio: CPU ns per KiB in units of \
              one memcpy of a KiB on one core (the environment's memcpy ceiling). read()'s copies: its CPU beyond \
              mmap's; mmap's: its CPU beyond one read-and-sum pass (the read ceiling). Each comparison must clear \
              the spread of repeats (at least 10%). Holds if mmap is under 0.5 and read() at least 1.5; holds \
              with a condition if mmap is under 0.5 and read() at least 0.5 (about one copy); does not hold \
              otherwise."
        .into();
    let (Some(cm), Some(cb)) = (mmap.median(cpu_ns_per_kib), pread.median(cpu_ns_per_kib)) else {
        let missing = if mmap.is_measured() { &pread } else { &mmap };
        f.verdict = Verdict::NotMeasured(format!("the warm 1 MiB reads are missing: {}", missing.why_missing()));
        return f;
    };
    let (Some(copy_bps), Some(read_bps)) = (memcpy, readsum) else {
        f.verdict = Verdict::NotMeasured(
            "needs the environment's memory ceilings (memory_ceilings.memcpy_bytes_per_s, read_bytes_per_s; \
             iobench reproduce measures them)"
                .into(),
        );
        return f;
    };
    let costs = CopyCosts {
        mmap: cm,
        pread: cb,
        read_pass: 1024.0 / read_bps * 1e9,
        memcpy: 1024.0 / copy_bps * 1e9,
        margin: margin(&mmap, &pread, cpu_ns_per_kib),
        mmap_margin: margin(&mmap, &mmap, cpu_ns_per_kib),
    };
    let buffer = r.environment.memory_ceilings.as_ref().map_or(0, |c| c.buffer_bytes);
    f.figure(
        "one core: memcpy / read-and-sum",
        format!(
            "{} / {} ns per KiB ({} / {} GB/s over {})",
            sig(costs.memcpy),
            sig(costs.read_pass),
            sig(copy_bps / 1e9),
            sig(read_bps / 1e9),
            format_size(buffer)
        ),
    );
    f.figure("cost ratio: read() beyond mmap", format!("{} memcpys", sig(costs.read_copies())));
    f.figure("cost ratio: mmap beyond one read pass", format!("{} memcpys", sig(costs.mmap_copies())));
    copies_observations(&mut f, (&mmap, &pread, &direct, &cold), &costs);
    f.verdict = costs.verdict();
    f
}

fn copies_observations(f: &mut Finding, cells: (&Cell<'_>, &Cell<'_>, &Cell<'_>, &Cell<'_>), c: &CopyCosts) {
    let (mmap, pread, direct, cold) = cells;
    if let (Some(a), Some(b)) = (mmap.median(cpu_share), pread.median(cpu_share)) {
        f.observe(format!(
            "Both warm cells kept one core busy (CPU time {} and {} of their runtime): their CPU per KiB is, in \
             effect, the inverse of their throughput.",
            pct(a),
            pct(b)
        ));
    }
    if let Some(run) = pread.runs.first() {
        let w = &run.workload;
        f.observe(format!(
            "read() copied into {} reused buffer(s) of {} (iodepth × threads), which can stay in the CPU's \
             caches; the memcpy ceiling copies between two halves of the environment's buffer in memory.",
            w.iodepth * w.threads,
            format_size(w.bs_bytes)
        ));
    }
    f.observe(format!(
        "read(): {} ns/KiB more CPU than mmap ({} memcpys of the same bytes); mmap: {} ns/KiB beyond one \
         read pass ({} memcpys).",
        sig(c.pread - c.mmap),
        sig(c.read_copies()),
        sig(c.mmap - c.read_pass),
        sig(c.mmap_copies())
    ));
    if let Some(cc) = cold.median(cpu_ns_per_kib) {
        f.observe(format!(
            "A cold read() cost {} ns/KiB of CPU, {} more than a warm one: the device's transfer into the page \
             cache is DMA, so that difference is I/O and page-cache work, not a CPU copy.",
            sig(cc),
            sig(cc - c.pread)
        ));
    }
    if let Some(cd) = direct.median(cpu_ns_per_kib) {
        f.observe(format!(
            "O_DIRECT: {} ns/KiB of CPU ({} memcpys), with no page-cache copy at all.",
            sig(cd),
            sig(cd / c.memcpy)
        ));
    }
}

/// mmap against pread in one cache state: faster (throughput), slower, and tail worse (p99).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Race {
    pub(crate) faster: bool,
    pub(crate) slower: bool,
    pub(crate) tail_worse: bool,
}

/// Compares median IOPS and p99 with their margins (one thread at depth 1: IOPS is 1 ÷ the
/// mean latency, so the throughput test is the mean-latency test).
pub(crate) fn race(mmap: (f64, f64), pread: (f64, f64), margins: (f64, f64)) -> Race {
    let ((mi, m99), (bi, b99)) = (mmap, pread);
    Race { faster: below(bi, mi, margins.0), slower: below(mi, bi, margins.0), tail_worse: below(b99, m99, margins.1) }
}

pub(crate) fn random_access(r: &Results) -> Finding {
    let mut f = Finding::new(
        "random-access",
        "Random access",
        "mmap: O(1) pointer arithmetic; read(): O(1) seek + read, high syscall overhead",
        vec![RANDOM_WARM, RANDOM_COLD],
    );
    let warm_m = f.track("warm mmap", Cell::select(r, RANDOM_WARM, |p| p.backend == B::Mmap));
    let warm_b = f.track("warm pread", Cell::select(r, RANDOM_WARM, |p| p.backend == B::Buffered));
    let cold_d = Cell::select(r, RANDOM_COLD, |p| p.backend == B::Mmap && p.tuning.advice.is_none());
    let cold_d = f.track("cold mmap", cold_d);
    let cold_r = Cell::select(r, RANDOM_COLD, |p| p.backend == B::Mmap && p.tuning.advice == Some(Advice::Random));
    let cold_r = f.track("cold mmap + MADV_RANDOM", cold_r);
    let cold_b = f.track("cold pread", Cell::select(r, RANDOM_COLD, |p| p.backend == B::Buffered));
    for (label, cell) in [
        ("warm: mmap", &warm_m),
        ("warm: pread", &warm_b),
        ("cold: mmap", &cold_d),
        ("cold: mmap + MADV_RANDOM", &cold_r),
        ("cold: pread", &cold_b),
    ] {
        f.figure(format!("{label}: throughput · mean · p99"), {
            let (a, b, c) = (show(cell, kiops, "K IOPS"), show(cell, mean_us, "µs"), show(cell, p99_us, "µs"));
            format!("{a} · {b} · {c}")
        });
        if label.starts_with("cold") && cell.is_measured() {
            f.figure(
                format!("{label}: read amplification · reads that major-faulted"),
                format!("{} · {}", show(cell, read_amp, "×"), show(cell, |m| major_fault_share(m) * 100.0, "%")),
            );
        }
    }
    f.rule = format!(
        "4 KiB random reads, one thread, warm and cold cache. In each state mmap is faster if its throughput \
         (IOPS; at depth 1 the inverse of the mean latency) exceeds pread's by more than the spread of repeats (at \
         least {}), slower if pread's exceeds mmap's so, and its tail is worse if its p99 exceeds pread's so. \
         Holds if mmap with its default advice is faster warm and cold with no worse tail; holds with a \
         condition (named) if it is faster in at least one state (MADV_RANDOM counts for cold); does not hold \
         otherwise.",
        pct(NOISE_FLOOR)
    );
    let states = [("warm", &warm_m, &warm_b), ("cold", &cold_d, &cold_b), ("cold with MADV_RANDOM", &cold_r, &cold_b)];
    let mut outcome: Vec<(&str, Race, String)> = Vec::new();
    for (state, m, b) in states {
        let (Some(mi), Some(bi), Some(m99), Some(b99)) =
            (m.median(kiops), b.median(kiops), m.median(p99_us), b.median(p99_us))
        else {
            continue;
        };
        let res = race((mi, m99), (bi, b99), (margin(m, b, kiops), margin(m, b, p99_us)));
        let text =
            format!("{state}: mmap {} vs pread {} K IOPS, p99 {} vs {} µs", sig(mi), sig(bi), sig(m99), sig(b99));
        f.observe(format!(
            "{text}: mmap {}{}.",
            if res.faster {
                "faster"
            } else if res.slower {
                "slower"
            } else {
                "within noise"
            },
            if res.tail_worse { ", with a worse tail" } else { "" }
        ));
        outcome.push((state, res, text));
    }
    f.verdict = random_verdict(&outcome, &warm_m, &cold_d, &cold_b);
    f
}

fn random_verdict(outcome: &[(&str, Race, String)], warm: &Cell<'_>, cold: &Cell<'_>, pread: &Cell<'_>) -> Verdict {
    let get = |s: &str| outcome.iter().find(|o| o.0 == s);
    let (Some(w), Some(c)) = (get("warm"), get("cold")) else {
        let missing = [warm, cold, pread].into_iter().find(|c| !c.is_measured()).map(|c| c.why_missing());
        return Verdict::NotMeasured(missing.unwrap_or_else(|| "the random-read cells are missing".into()));
    };
    let clean = |o: &(&str, Race, String)| o.1.faster && !o.1.tail_worse;
    if clean(w) && clean(c) {
        return Verdict::Holds;
    }
    let word = |r: &Race| {
        if r.faster {
            "faster, worse tail"
        } else if r.slower {
            "slower"
        } else {
            "within noise"
        }
    };
    let others: Vec<String> =
        outcome.iter().filter(|o| !clean(o)).map(|o| format!("{} ({})", o.2, word(&o.1))).collect();
    let faster: Vec<&str> = outcome.iter().filter(|o| clean(o)).map(|o| o.0).collect();
    if !outcome.iter().any(|o| o.1.faster) {
        return Verdict::DoesNotHold(format!("mmap is faster in no cache state: {}", others.join("; ")));
    }
    let lead = if faster.is_empty() {
        "mmap is faster only with a worse tail".to_string()
    } else {
        format!("mmap is faster {} only", faster.join(" and "))
    };
    Verdict::HoldsIf(format!("{lead}; {}", others.join("; ")))
}

/// Row 5's comparisons, each decided with a margin from the repeats (at least the noise floor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Persistence {
    /// A: mmap stores without msync cost less than with msync(MS_SYNC): asynchronous.
    pub(crate) mmap_async: bool,
    /// B: the cheapest durable write() policy costs more than a plain pwrite.
    pub(crate) write_sync_when_asked: bool,
    /// C: a plain pwrite left more to write back after the run than that durable policy did.
    pub(crate) write_async_unsynced: bool,
    /// D: msync(MS_SYNC) per write is not costlier than the cheapest durable write().
    pub(crate) msync_as_cheap: bool,
}

/// Per-write costs in µs and final syncs in ms, each pair with its margin.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PersistenceFigures {
    /// (mmap no sync, mmap + MS_SYNC), (plain pwrite, cheapest durable write()).
    pub(crate) mmap: (f64, f64),
    pub(crate) write: (f64, f64),
    /// Final sync after the run: (plain pwrite, cheapest durable write()).
    pub(crate) final_sync: (f64, f64),
    /// Margins for A, B, C and D.
    pub(crate) margins: [f64; 4],
}

impl PersistenceFigures {
    pub(crate) fn decide(&self) -> Persistence {
        let [ma, mb, mc, md] = self.margins;
        Persistence {
            mmap_async: below(self.mmap.0, self.mmap.1, ma),
            write_sync_when_asked: below(self.write.0, self.write.1, mb),
            write_async_unsynced: below(self.final_sync.1, self.final_sync.0, mc),
            msync_as_cheap: !below(self.write.1, self.mmap.1, md),
        }
    }
}

pub(crate) fn write_persistence(r: &Results) -> Finding {
    let mut f = Finding::new(
        "write-persistence",
        "Write persistence",
        "mmap: asynchronous (kernel controlled); read()/write(): synchronous with fsync()/O_SYNC",
        vec![DURABILITY],
    );
    let cell = |b: B, d: Durability| Cell::select(r, DURABILITY, move |p: &Plan| p.backend == b && p.durability == d);
    let (m_none, m_async) = (cell(B::Mmap, Durability::None), cell(B::Mmap, Durability::MsyncAsync { every: 1 }));
    let (m_sync, w_none) = (cell(B::Mmap, Durability::Msync { every: 1 }), cell(B::Buffered, Durability::None));
    let durable = [
        ("pwrite + fsync", cell(B::Buffered, Durability::Fsync { every: 1 })),
        ("pwrite + fdatasync", cell(B::Buffered, Durability::Fdatasync { every: 1 })),
        ("pwrite, O_DSYNC", cell(B::Buffered, Durability::Odsync)),
        ("io_uring write + fsync", cell(B::Uring, Durability::Fsync { every: 1 })),
    ];
    let plain = [
        ("mmap store, no sync", &m_none),
        ("mmap + msync(MS_ASYNC)", &m_async),
        ("mmap + msync(MS_SYNC)", &m_sync),
        ("pwrite, no sync", &w_none),
    ];
    for (label, c) in plain.into_iter().chain(durable.iter().map(|(l, c)| (*l, c))) {
        f.figure(format!("{label}: per write until durable"), show(c, durable_write_us, "µs"));
    }
    for (label, c) in [("mmap, no sync", &m_none), ("mmap + MS_ASYNC", &m_async), ("pwrite, no sync", &w_none)] {
        f.figure(format!("{label}: final sync after the run"), show(c, final_sync_ms, "ms"));
    }
    f.rule = "Random 4 KiB writes; per-write cost = the write's mean latency + its share of sync calls; two figures \
              differ if one exceeds the other by more than the spread of both cells' repeats (at least 10%). A: \
              mmap stores without msync cost less than with msync(MS_SYNC) (asynchronous). B: the cheapest of \
              fsync, fdatasync, O_DSYNC (and io_uring + fsync) costs more than a plain pwrite (write() is \
              synchronous when asked). C: a plain pwrite left more to write back after the run (final sync) than \
              that policy (write() is asynchronous without a sync too). D: msync(MS_SYNC) is not costlier per \
              write than that policy (mmap is made durable as cheaply). Does not hold if A or B fails; holds with \
              a condition if C and D (the two paths behave alike); holds otherwise."
        .into();
    let best = durable
        .iter()
        .filter_map(|(l, c)| c.median(durable_write_us).map(|v| (*l, v, c)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let (Some(mn), Some(ms), Some(wn), Some((best_label, wd, best_cell))) =
        (m_none.median(durable_write_us), m_sync.median(durable_write_us), w_none.median(durable_write_us), best)
    else {
        let missing = [&m_none, &m_sync, &w_none].into_iter().find(|c| !c.is_measured()).map(|c| c.why_missing());
        f.verdict = Verdict::NotMeasured(missing.unwrap_or_else(|| "no durable write() policy completed".into()));
        return f;
    };
    let figures = PersistenceFigures {
        mmap: (mn, ms),
        write: (wn, wd),
        final_sync: (w_none.median(final_sync_ms).unwrap_or(0.0), best_cell.median(final_sync_ms).unwrap_or(0.0)),
        margins: [
            margin(&m_none, &m_sync, durable_write_us),
            margin(&w_none, best_cell, durable_write_us),
            margin(&w_none, best_cell, final_sync_ms),
            margin(&m_sync, best_cell, durable_write_us),
        ],
    };
    f.observe(format!(
        "Durable per write: msync(MS_SYNC) {} µs, {} the cheapest write() policy, {best_label}, at {} µs (margin \
         {}); without any sync: mmap {} µs, pwrite {} µs; final sync after the plain pwrite run {} ms, after \
         {best_label} {} ms.",
        sig(ms),
        if figures.decide().msync_as_cheap { "not costlier than" } else { "costlier than" },
        sig(wd),
        pct(figures.margins[3]),
        sig(mn),
        sig(wn),
        sig(figures.final_sync.0),
        sig(figures.final_sync.1)
    ));
    ms_async_observation(&mut f, &m_none, &m_async);
    f.verdict = persistence_verdict(&figures, best_label);
    f
}

/// The row's verdict from its four comparisons.
pub(crate) fn persistence_verdict(x: &PersistenceFigures, best: &str) -> Verdict {
    let p = x.decide();
    let (mn, ms) = x.mmap;
    let (wn, wd) = x.write;
    if !p.mmap_async {
        return Verdict::DoesNotHold(format!(
            "mmap stores without msync ({} µs per write) are not cheaper than with msync(MS_SYNC) ({} µs)",
            sig(mn),
            sig(ms)
        ));
    }
    if !p.write_sync_when_asked {
        return Verdict::DoesNotHold(format!(
            "{best} ({} µs per write) is not costlier than a plain pwrite ({} µs)",
            sig(wd),
            sig(wn)
        ));
    }
    if p.write_async_unsynced && p.msync_as_cheap {
        return Verdict::HoldsIf(format!(
            "both paths are asynchronous until synced (a plain pwrite left {} ms to write back), and \
             msync(MS_SYNC) makes mmap durable per write as cheaply as {best}: {} vs {} µs",
            sig(x.final_sync.0),
            sig(ms),
            sig(wd)
        ));
    }
    Verdict::Holds
}

/// What msync(MS_ASYNC) did, compared with no msync: per-write cost and what was left to write
/// back at the end. The kernel's side is cited, not assumed: since 2.6.19 (commit 204ec841fbea,
/// "mm: msync() cleanup") MS_ASYNC starts no write-back (the comment above msync in mm/msync.c).
fn ms_async_observation(f: &mut Finding, none: &Cell<'_>, asynchronous: &Cell<'_>) {
    let (Some(an), Some(aa), Some(sn), Some(sa)) = (
        none.median(durable_write_us),
        asynchronous.median(durable_write_us),
        none.median(final_sync_ms),
        asynchronous.median(final_sync_ms),
    ) else {
        return;
    };
    let m = margin(none, asynchronous, final_sync_ms);
    let left = if below(sa, sn, m) {
        format!("left less to write back than no msync (final sync {} vs {} ms, margin {})", sig(sa), sig(sn), pct(m))
    } else {
        format!(
            "left as much to write back as no msync at all (final sync {} vs {} ms, within the margin of {}): it \
             started no write-back, as mm/msync.c says of MS_ASYNC since Linux 2.6.19 (commit 204ec841fbea, \"mm: \
             msync() cleanup\")",
            sig(sa),
            sig(sn),
            pct(m)
        )
    };
    f.observe(format!(
        "msync(MS_ASYNC) after every store cost {} µs per write vs {} µs without, and {left}.",
        sig(aa),
        sig(an)
    ));
}
