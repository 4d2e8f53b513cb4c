//! Rules for the rows about moving bytes: copies, random access, sequential throughput, write
//! persistence, and the io_uring claim.

use super::figures::{
    Cell, NOISE_FLOOR, below, cpu_ns_per_kib, durable_write_us, env_f64, final_sync_ms, gb_per_s, margin, p50_us,
    p99_us, ratio, show, sig,
};
use super::suite::{COPIES, COPIES_COLD, DURABILITY, RANDOM_COLD, RANDOM_WARM, SEQ_COLD, SEQ_WARM};
use super::{Finding, Verdict};
use crate::base::units::format_size;
use crate::result::Results;
use crate::workload::backends::BackendKind as B;
use crate::workload::plan::{Durability, Plan};

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// Copies counted from a CPU cost in passes over the same bytes.
fn count_copies(equivalents: f64) -> u32 {
    if equivalents < 0.5 {
        0
    } else if equivalents < 1.5 {
        1
    } else {
        2
    }
}

fn copies_word(n: u32) -> &'static str {
    match n {
        0 => "0 copies",
        1 => "1 copy",
        _ => "2 or more copies",
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
    let (mmap, pread, direct, cold) =
        (of(COPIES, B::Mmap), of(COPIES, B::Buffered), of(COPIES, B::Direct), of(COPIES_COLD, B::Buffered));
    for (label, cell) in [
        ("mmap, warm cache", &mmap),
        ("pread, warm cache", &pread),
        ("O_DIRECT pread", &direct),
        ("pread, cold cache", &cold),
    ] {
        f.figure(format!("{label}: CPU per KiB"), show(cell, cpu_ns_per_kib, "ns/KiB"));
        f.figure(format!("{label}: throughput"), show(cell, gb_per_s, "GB/s"));
    }
    let memcpy = env_f64(r, "/memory_ceilings/memcpy_bytes_per_s");
    let readsum = env_f64(r, "/memory_ceilings/read_bytes_per_s");
    if let (Some(c), Some(s)) = (memcpy, readsum) {
        f.figure("one core: read-and-sum / memcpy", format!("{} / {} GB/s", sig(s / 1e9), sig(c / 1e9)));
    }
    f.rule = "Copies are counted in passes over the bytes, from the CPU time of 1 MiB sequential reads of a warm \
              file. mmap's: its CPU ns/KiB beyond one read pass at one core's read bandwidth, divided by that \
              pass's cost. read()'s: the CPU ns/KiB pread spends beyond mmap, divided by mmap's ns/KiB (mmap's \
              whole cost is one pass over the same bytes). Under 0.5 counts as 0 copies, under 1.5 as 1, else 2 \
              or more. Holds if mmap makes 0 and read() 2 or more; holds with a condition if mmap makes 0 and \
              read() 1; does not hold otherwise."
        .into();
    let (Some(cm), Some(cb)) = (mmap.median(cpu_ns_per_kib), pread.median(cpu_ns_per_kib)) else {
        let missing = if mmap.is_measured() { &pread } else { &mmap };
        f.verdict = Verdict::NotMeasured(format!("the warm 1 MiB reads are missing: {}", missing.why_missing()));
        return f;
    };
    let Some(read_bps) = readsum else {
        f.verdict = Verdict::NotMeasured(
            "the environment has no memory ceilings (iobench reproduce measures them); copies cannot be counted".into(),
        );
        return f;
    };
    let pass_ns = 1024.0 / read_bps * 1e9;
    let mmap_eq = (cm - pass_ns).max(0.0) / pass_ns;
    let read_eq = (cb - cm).max(0.0) / cm.max(1e-9);
    let (n_read, n_mmap) = (count_copies(read_eq), count_copies(mmap_eq));
    f.figure("one read pass at one core's read bandwidth", format!("{} ns/KiB", sig(pass_ns)));
    f.observe(format!(
        "mmap: {} — {} ns/KiB in all, {} passes beyond one read pass: the bytes are read where the page cache \
         holds them.",
        copies_word(n_mmap),
        sig(cm),
        sig(mmap_eq)
    ));
    f.observe(format!(
        "read(): {} from the page cache into the buffer — {} ns/KiB more CPU than mmap, {} passes over the bytes; \
         throughput {} of mmap's.",
        copies_word(n_read),
        sig(cb - cm),
        sig(read_eq),
        pread.median(gb_per_s).zip(mmap.median(gb_per_s)).map_or("—".into(), |(b, m)| ratio(b, m))
    ));
    if let Some(cc) = cold.median(cpu_ns_per_kib) {
        f.observe(format!(
            "The device's transfer into the page cache is DMA, not a CPU copy (mmap needs it too when the data is \
             not cached): a cold read() costs {} ns/KiB more CPU than a warm one, for I/O and page-cache work.",
            sig(cc - cb)
        ));
    }
    if let Some(cd) = direct.median(cpu_ns_per_kib) {
        f.observe(format!(
            "O_DIRECT: the device writes straight into the buffer, no CPU copy ({} ns/KiB of CPU, mostly I/O \
             submission).",
            sig(cd)
        ));
    }
    f.verdict = match (n_mmap, n_read) {
        (0, n) if n >= 2 => Verdict::Holds,
        (0, 1) => Verdict::HoldsIf(format!(
            "read() makes one CPU copy, not two ({} ns/KiB here); the other transfer is the device's DMA into the \
             page cache, which mmap also needs when the data is not cached",
            sig(cb - cm)
        )),
        _ => Verdict::DoesNotHold,
    };
    f
}

pub(crate) fn random_access(r: &Results) -> Finding {
    let mut f = Finding::new(
        "random-access",
        "Random access",
        "mmap: O(1) pointer arithmetic; read(): O(1) seek + read, high syscall overhead",
        vec![RANDOM_WARM, RANDOM_COLD],
    );
    let warm_m = Cell::select(r, RANDOM_WARM, |p| p.backend == B::Mmap);
    let warm_b = Cell::select(r, RANDOM_WARM, |p| p.backend == B::Buffered);
    let cold_default = Cell::select(r, RANDOM_COLD, |p| p.backend == B::Mmap && p.tuning.advice.is_none());
    let cold_random = Cell::select(r, RANDOM_COLD, |p| p.backend == B::Mmap && p.tuning.advice.is_some());
    let cold_b = Cell::select(r, RANDOM_COLD, |p| p.backend == B::Buffered);
    for (label, cell) in [
        ("warm: mmap", &warm_m),
        ("warm: pread", &warm_b),
        ("cold: mmap", &cold_default),
        ("cold: mmap + MADV_RANDOM", &cold_random),
        ("cold: pread", &cold_b),
    ] {
        f.figure(format!("{label}: p50 latency"), show(cell, p50_us, "µs"));
        f.figure(format!("{label}: p99 latency"), show(cell, p99_us, "µs"));
    }
    // The cold mmap figure is mmap's best: with or without MADV_RANDOM, whichever has the lower p50.
    let cold_m = match (cold_default.median(p50_us), cold_random.median(p50_us)) {
        (Some(a), Some(b)) if b < a => cold_random,
        (None, Some(_)) => cold_random,
        _ => cold_default,
    };
    f.rule = format!(
        "4 KiB random reads, one thread, warm and cold cache (cold: mmap with whichever advice has the lower \
         p50). mmap is faster in a cache state if its p50 is below pread's by more than the spread of repeats (at \
         least {}); its tail is worse if its p99 is above pread's by more than that. Holds if mmap is faster in \
         both states with no worse tail; holds with a condition (named) if it is faster in at least one; does \
         not hold if in neither.",
        pct(NOISE_FLOOR)
    );
    let (Some(wm), Some(wb)) = (warm_m.median(p50_us), warm_b.median(p50_us)) else {
        let missing = if warm_m.is_measured() { &warm_b } else { &warm_m };
        f.verdict = Verdict::NotMeasured(format!("warm random reads missing: {}", missing.why_missing()));
        return f;
    };
    f.observe(format!(
        "Warm: pread's p50 is {} µs above mmap's ({} vs {} µs): the system call and the copy.",
        sig(wb - wm),
        sig(wb),
        sig(wm)
    ));
    let mut conditions = Vec::new();
    let mut faster = Vec::new();
    for (state, m, b) in [("warm", &warm_m, &warm_b), ("cold", &cold_m, &cold_b)] {
        let (Some(m50), Some(b50), Some(m99), Some(b99)) =
            (m.median(p50_us), b.median(p50_us), m.median(p99_us), b.median(p99_us))
        else {
            conditions.push(format!(
                "{state} not measured ({})",
                if m.is_measured() { b.why_missing() } else { m.why_missing() }
            ));
            continue;
        };
        let (p50_margin, p99_margin) = (margin(m, b, p50_us), margin(m, b, p99_us));
        if below(m50, b50, p50_margin) {
            faster.push(state);
            if below(b99, m99, p99_margin) {
                conditions.push(format!(
                    "at the median only: {state}, mmap's p99 is {} µs vs pread's {} µs",
                    sig(m99),
                    sig(b99)
                ));
            }
        } else {
            conditions.push(format!("not with a {state} cache (mmap p50 {} µs vs pread {} µs)", sig(m50), sig(b50)));
        }
    }
    if let (Some(m), Some(c50)) = (cold_m.ok().next(), cold_m.median(p50_us)) {
        let faulted = m.faults.major as f64 / m.ops.max(1) as f64;
        f.observe(format!(
            "Cold: mmap took a major fault on {:.0}% of its reads (each fault reads ahead around the page, so later \
             reads find neighbours cached); its p50 is {} µs, pread's {} µs.",
            faulted * 100.0,
            sig(c50),
            cold_b.median(p50_us).map_or("—".into(), sig)
        ));
    }
    f.verdict = if faster.is_empty() {
        Verdict::DoesNotHold
    } else if conditions.is_empty() {
        Verdict::Holds
    } else {
        Verdict::HoldsIf(conditions.join("; "))
    };
    f
}

/// Median GB/s of `backend` at block size `bs` in workload `name`.
fn seq_cell<'a>(r: &'a Results, name: &str, backend: B, bs: u64) -> Cell<'a> {
    Cell::select(r, name, move |p| p.backend == backend && p.bs_bytes == bs)
}

/// Block sizes of workload `name`, ascending.
fn block_sizes(r: &Results, name: &str) -> Vec<u64> {
    let mut v: Vec<u64> = r.runs.iter().filter(|x| x.workload.name == name).map(|x| x.workload.bs_bytes).collect();
    v.sort_unstable();
    v.dedup();
    v
}

pub(crate) fn sequential(r: &Results) -> Finding {
    let mut f = Finding::new(
        "sequential",
        "Sequential throughput",
        "mmap: excellent (prefetcher friendly); read(): excellent with large buffers",
        vec![SEQ_WARM, SEQ_COLD],
    );
    f.rule = "Sequential reads by block size. \"Excellent\" means at least 80% of the best throughput any backend \
              reached with that cache state (best cell median). Four parts: mmap excellent at every block size (warm; cold), and \
              read() excellent at its largest block size (warm; cold). Holds if all four hold; does not hold if \
              none does; holds with a condition (the parts that fail) otherwise."
        .into();
    let mut parts: Vec<(String, bool)> = Vec::new();
    for (name, state) in [(SEQ_WARM, "warm"), (SEQ_COLD, "cold")] {
        let sizes = block_sizes(r, name);
        // The best cell median (not the best single run: one lucky repeat sets no bar).
        let mut configs: Vec<(B, u64)> = r
            .runs
            .iter()
            .filter(|x| x.workload.name == name)
            .map(|x| (x.workload.backend, x.workload.bs_bytes))
            .collect();
        configs.sort_by_key(|c| (c.0.name(), c.1));
        configs.dedup();
        let best = configs.iter().filter_map(|&(b, bs)| seq_cell(r, name, b, bs).median(gb_per_s)).fold(0.0, f64::max);
        if sizes.is_empty() || best <= 0.0 {
            continue;
        }
        f.figure(format!("{state}: best cell (median) of all backends"), format!("{} GB/s", sig(best)));
        let mut mmap_worst: Option<(u64, f64)> = None;
        for &bs in &sizes {
            let m = seq_cell(r, name, B::Mmap, bs);
            let b = seq_cell(r, name, B::Buffered, bs);
            f.figure(
                format!("{state}, bs {}: mmap / pread", format_size(bs)),
                format!("{} / {}", show(&m, gb_per_s, "GB/s"), show(&b, gb_per_s, "GB/s")),
            );
            if let Some(x) = m.median(gb_per_s)
                && mmap_worst.is_none_or(|(_, w)| x < w)
            {
                mmap_worst = Some((bs, x));
            }
        }
        if let Some((bs, x)) = mmap_worst {
            let ok = x >= 0.8 * best;
            let what = format!("mmap {state}: worst {} of best (bs {})", pct(x / best), format_size(bs));
            parts.push((what, ok));
        }
        let (small, large) = (sizes[0], sizes[sizes.len() - 1]);
        if let Some(x) = seq_cell(r, name, B::Buffered, large).median(gb_per_s) {
            parts.push((
                format!("read() {state} at bs {}: {} of best", format_size(large), pct(x / best)),
                x >= 0.8 * best,
            ));
            if let Some(s) = seq_cell(r, name, B::Buffered, small).median(gb_per_s) {
                f.observe(format!(
                    "read() {state}: {} GB/s at bs {} vs {} GB/s at bs {} ({} more per byte with the larger buffer).",
                    sig(s),
                    format_size(small),
                    sig(x),
                    format_size(large),
                    ratio(x, s)
                ));
            }
        }
    }
    for (what, ok) in &parts {
        f.observe(format!("{what}: {}", if *ok { "excellent" } else { "below 80%" }));
    }
    f.verdict = if parts.is_empty() {
        Verdict::NotMeasured("no sequential runs completed".into())
    } else if parts.iter().all(|(_, ok)| *ok) && parts.len() == 4 {
        Verdict::Holds
    } else if parts.iter().all(|(_, ok)| !*ok) {
        Verdict::DoesNotHold
    } else {
        let failed: Vec<&str> = parts.iter().filter(|(_, ok)| !*ok).map(|(w, _)| w.as_str()).collect();
        let failed = if failed.is_empty() { "some parts were not measured".to_string() } else { failed.join("; ") };
        Verdict::HoldsIf(format!("except: {failed}"))
    };
    f
}

pub(crate) fn write_persistence(r: &Results) -> Finding {
    let mut f = Finding::new(
        "write-persistence",
        "Write persistence",
        "mmap: asynchronous (kernel controlled); read()/write(): synchronous with fsync()/O_SYNC",
        vec![DURABILITY],
    );
    let cell = |b: B, d: Durability| Cell::select(r, DURABILITY, move |p: &Plan| p.backend == b && p.durability == d);
    let m_none = cell(B::Mmap, Durability::None);
    let m_async = cell(B::Mmap, Durability::MsyncAsync { every: 1 });
    let m_sync = cell(B::Mmap, Durability::Msync { every: 1 });
    let w_none = cell(B::Buffered, Durability::None);
    let durable = [
        ("pwrite + fsync", cell(B::Buffered, Durability::Fsync { every: 1 })),
        ("pwrite + fdatasync", cell(B::Buffered, Durability::Fdatasync { every: 1 })),
        ("pwrite, O_DSYNC", cell(B::Buffered, Durability::Odsync)),
        ("io_uring write + fsync", cell(B::Uring, Durability::Fsync { every: 1 })),
    ];
    for (label, c) in [
        ("mmap store, no sync", &m_none),
        ("mmap + msync(MS_ASYNC)", &m_async),
        ("mmap + msync(MS_SYNC)", &m_sync),
        ("pwrite, no sync", &w_none),
    ]
    .into_iter()
    .chain(durable.iter().map(|(l, c)| (*l, c)))
    {
        f.figure(format!("{label}: per write until durable"), show(c, durable_write_us, "µs"));
    }
    for (label, c) in [("mmap, no sync", &m_none), ("mmap + MS_ASYNC", &m_async), ("pwrite, no sync", &w_none)] {
        f.figure(format!("{label}: final sync after the run"), show(c, final_sync_ms, "ms"));
    }
    f.rule = "Random 4 KiB writes; per-write cost = the write's mean latency + its share of sync calls. A: mmap \
              stores without msync cost under 10% of msync(MS_SYNC) per write (asynchronous). B: the cheapest of \
              fsync, fdatasync, O_DSYNC (and io_uring + fsync) costs at least 10× a plain pwrite (synchronous). \
              C: plain pwrite also costs under 10% of that (asynchronous too). D: msync(MS_SYNC) costs at most 3× \
              that (mmap can be synchronous as cheaply). Holds if A and B and not both C and D; holds with a \
              condition if A, B, C and D (the two paths behave alike); does not hold if A or B fails."
        .into();
    let best_durable = durable
        .iter()
        .filter_map(|(l, c)| c.median(durable_write_us).map(|v| (*l, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1));
    let (Some(mn), Some(ms), Some(wn), Some((best_label, wd))) = (
        m_none.median(durable_write_us),
        m_sync.median(durable_write_us),
        w_none.median(durable_write_us),
        best_durable,
    ) else {
        let missing = [&m_none, &m_sync, &w_none].into_iter().find(|c| !c.is_measured()).map(|c| c.why_missing());
        f.verdict = Verdict::NotMeasured(missing.unwrap_or_else(|| "no durable write() policy completed".into()));
        return f;
    };
    let a = mn < 0.1 * ms;
    let b = wd >= 10.0 * wn;
    let c = wn < 0.1 * wd;
    let d = ms <= 3.0 * wd;
    if let Some(ma) = m_async.median(durable_write_us) {
        f.observe(format!(
            "msync(MS_ASYNC) per write: {} µs vs {} µs with no msync at all: it starts no write-back on this kernel.",
            sig(ma),
            sig(mn)
        ));
    }
    f.observe(format!(
        "Durable per write: msync(MS_SYNC) {} µs, {best_label} {} µs (the cheapest write() policy); without any \
         sync: mmap {} µs, pwrite {} µs.",
        sig(ms),
        sig(wd),
        sig(mn),
        sig(wn)
    ));
    f.verdict = if !a || !b {
        Verdict::DoesNotHold
    } else if c && d {
        Verdict::HoldsIf(format!(
            "both paths are asynchronous until synced, and both can be made durable per write: msync(MS_SYNC) \
             {} µs vs {best_label} {} µs",
            sig(ms),
            sig(wd)
        ))
    } else {
        Verdict::Holds
    };
    f
}

/// io_uring's best (buffered or O_DIRECT) and mmap, per cache state and block size.
pub(crate) fn uring_sequential(r: &Results) -> Finding {
    let mut f = Finding::new(
        "uring-sequential",
        "io_uring vs mmap, sequential",
        "\"io_uring often outperforms mmap for sequential workloads\"",
        vec![SEQ_WARM, SEQ_COLD],
    );
    f.rule = format!(
        "Sequential reads, io_uring at depth 8 (the better of buffered and O_DIRECT) against mmap, for every \
         cache state and block size measured. io_uring wins a cell if its throughput exceeds mmap's by more than \
         the spread of repeats (at least {}). Holds if it wins at least half the cells (\"often\"); holds with a \
         condition (the cells it wins) if fewer; does not hold if none.",
        pct(NOISE_FLOOR)
    );
    let mut cells = 0;
    let mut wins = Vec::new();
    for (name, state) in [(SEQ_WARM, "warm"), (SEQ_COLD, "cold")] {
        for bs in block_sizes(r, name) {
            let m = seq_cell(r, name, B::Mmap, bs);
            let u = [seq_cell(r, name, B::Uring, bs), seq_cell(r, name, B::UringDirect, bs)]
                .into_iter()
                .filter(Cell::is_measured)
                .max_by(|a, b| a.median(gb_per_s).unwrap_or(0.0).total_cmp(&b.median(gb_per_s).unwrap_or(0.0)));
            let (Some(u), Some(mv)) = (u, m.median(gb_per_s)) else { continue };
            let uv = u.median(gb_per_s).unwrap_or(0.0);
            let which = u.runs.first().map_or("uring".into(), |x| x.backend.clone());
            let label = format!("{state}, bs {}", format_size(bs));
            f.figure(format!("{label}: {which} / mmap"), format!("{} / {} GB/s ({})", sig(uv), sig(mv), ratio(uv, mv)));
            cells += 1;
            if below(mv, uv, margin(&m, &u, gb_per_s)) {
                wins.push(label);
            }
        }
    }
    f.verdict = if cells == 0 {
        Verdict::NotMeasured("no cell has both io_uring and mmap figures (io_uring unavailable?)".into())
    } else if wins.len() * 2 >= cells {
        Verdict::Holds
    } else if wins.is_empty() {
        Verdict::DoesNotHold
    } else {
        Verdict::HoldsIf(format!("only in {} of {cells} cells: {}", wins.len(), wins.join("; ")))
    };
    f.observe(format!("io_uring is faster in {} of {cells} cells.", wins.len()));
    f
}
