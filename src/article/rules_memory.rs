//! Rules for the rows about memory: memory pressure, 32-bit address space, and the transparent
//! huge pages claim.

use super::figures::{
    Cell, NOISE_FLOOR, below, cpu_ns_per_kib, faults_per_gb, first_last_iops, gb_per_s, kiops, major_faults, margin,
    p50_us, show, sig,
};
use super::suite::{ADDRESS_SPACE, MEMORY_LIMIT, THP_RANDOM, THP_SEQ};
use super::{Finding, Verdict};
use crate::base::units::format_size;
use crate::os::advice::Advice;
use crate::result::Results;
use crate::workload::backends::BackendKind as B;

const RSS: &str = "/backend_setup/isolation/child_max_rss_bytes";
const PEAK: &str = "/backend_setup/isolation/peak_usage_bytes";
const PMD: &str = "/evidence/mapping/pmd_mapped_pct";

fn mib(bytes: f64) -> String {
    format!("{} MiB", sig(bytes / (1u64 << 20) as f64))
}

pub(crate) fn memory_pressure(r: &Results) -> Finding {
    let mut f = Finding::new(
        "memory-pressure",
        "Memory pressure",
        "mmap: consumes virtual address space; read(): limited by buffer size",
        vec![MEMORY_LIMIT],
    );
    let mmap = Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Mmap && p.tuning.advice.is_none());
    let mmap_random = Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Mmap && p.tuning.advice.is_some());
    let pread = Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Buffered);
    let direct = Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Direct);
    let plan = r.runs.iter().find(|x| x.workload.name == MEMORY_LIMIT).map(|x| &x.workload);
    let limit = plan.and_then(|p| p.limits.memory_limit_bytes);
    if let (Some(p), Some(l)) = (plan, limit) {
        f.figure(
            "setup",
            format!(
                "random 4 KiB reads of a {} file in a {} memory cgroup, starting cold",
                format_size(p.size_bytes),
                format_size(l)
            ),
        );
    }
    for (label, c) in [("mmap", &mmap), ("mmap + MADV_RANDOM", &mmap_random), ("pread", &pread), ("O_DIRECT", &direct)]
    {
        f.figure(format!("{label}: throughput"), show(c, kiops, "K IOPS"));
        if let Some((first, last)) = c.ok().next().and_then(first_last_iops) {
            f.figure(
                format!("{label}: first → last interval"),
                format!("{} → {} K IOPS", sig(first / 1e3), sig(last / 1e3)),
            );
        }
        f.figure(format!("{label}: major faults"), show(c, major_faults, ""));
        if let Some(rss) = c.json_median(RSS) {
            let peak = c.json_median(PEAK).map_or("—".into(), mib);
            f.figure(format!("{label}: peak RSS / cgroup peak"), format!("{} / {peak}", mib(rss)));
        }
    }
    f.rule = format!(
        "Random 4 KiB reads under a memory limit, file 4× larger. A: mmap's peak resident set (with or without \
         MADV_RANDOM, the larger) is at least 4× pread's: its memory grows with the file it touches, not with a \
         buffer. B: the memory cgroup's peak with pread stays under half the limit: read()'s memory really is \
         bounded by its buffers. C: mmap (default advice) keeps pread's throughput, within the spread of repeats \
         (at least {:.0}%). Holds if A, B and C; holds with a condition (B or C failing, named) if A; does not \
         hold if not A.",
        NOISE_FLOOR * 100.0
    );
    let rm = [mmap.json_median(RSS), mmap_random.json_median(RSS)].into_iter().flatten().reduce(f64::max);
    let (Some(rm), Some(rb)) = (rm, pread.json_median(RSS)) else {
        let missing = if mmap.is_measured() { &pread } else { &mmap };
        f.verdict = Verdict::NotMeasured(format!("the memory-limited runs are missing: {}", missing.why_missing()));
        return f;
    };
    let a = rm >= 4.0 * rb;
    let peak_b = pread.json_median(PEAK);
    let mut conditions = Vec::new();
    match (peak_b, limit) {
        (Some(p), Some(l)) if p < 0.5 * l as f64 => {}
        (p, l) => conditions.push(format!(
            "for the process's own memory only: the page cache behind read() filled the limit as well (cgroup \
             peak {} of {})",
            p.map_or("—".into(), mib),
            l.map_or("—".into(), |l| mib(l as f64))
        )),
    }
    f.observe(format!("Peak RSS: mmap {} vs pread {} ({}×).", mib(rm), mib(rb), sig(rm / rb.max(1.0))));
    if let (Some(mv), Some(bv)) = (mmap.median(kiops), pread.median(kiops)) {
        let dv = direct.median(kiops).map_or("—".into(), |d| format!("{} K", sig(d)));
        f.observe(format!(
            "Throughput under the limit: mmap {} K, pread {} K, O_DIRECT {dv} IOPS; mmap took {} major faults.",
            sig(mv),
            sig(bv),
            mmap.median(major_faults).map_or("—".into(), sig)
        ));
        if below(mv, bv, margin(&mmap, &pread, kiops)) {
            conditions.push(format!(
                "and under the limit mmap's throughput collapses: {} K IOPS, {:.1}% of pread's {} K",
                sig(mv),
                mv / bv * 100.0,
                sig(bv)
            ));
        }
    }
    f.verdict = if !a {
        Verdict::DoesNotHold
    } else if conditions.is_empty() {
        Verdict::Holds
    } else {
        Verdict::HoldsIf(conditions.join("; "))
    };
    f
}

pub(crate) fn address_space(r: &Results) -> Finding {
    let mut f = Finding::new(
        "address-space",
        "32-bit safety",
        "mmap: limited (~2 GB mapping limit); read(): safe for arbitrarily large files",
        vec![ADDRESS_SPACE],
    );
    let whole = Cell::select(r, ADDRESS_SPACE, |p| p.backend == B::Mmap && p.limits.window_bytes.is_none());
    let windowed = Cell::select(r, ADDRESS_SPACE, |p| p.backend == B::Mmap && p.limits.window_bytes.is_some());
    let pread = Cell::select(r, ADDRESS_SPACE, |p| p.backend == B::Buffered);
    let plan = r.runs.iter().find(|x| x.workload.name == ADDRESS_SPACE).map(|x| &x.workload);
    let window = windowed.runs.first().and_then(|x| x.workload.limits.window_bytes);
    f.rule = "A file larger than the address space (RLIMIT_AS) of the process reading it. Holds if mapping the \
              whole file fails with ENOMEM and pread reads it; holds with a condition if, in addition, mapping it \
              in windows works (the limit is on whole-file mappings only); does not hold if the whole mapping \
              succeeds or pread fails."
        .into();
    let Some((size, limit)) = plan.and_then(|p| Some((p.size_bytes, p.limits.address_space_limit_bytes?))) else {
        f.verdict = Verdict::NotMeasured("no address-space-limited run in the results".into());
        return f;
    };
    f.figure(
        "setup",
        format!("sequential 1 MiB reads of a {} file, RLIMIT_AS = {}", format_size(size), format_size(limit)),
    );
    let outcome = |c: &Cell<'_>| {
        if c.is_measured() { show(c, gb_per_s, "GB/s") } else { c.why_missing() }
    };
    f.figure("mmap, whole file", outcome(&whole));
    f.figure(format!("mmap, {} windows", window.map_or("—".into(), format_size)), outcome(&windowed));
    f.figure("pread", outcome(&pread));
    if size <= limit {
        f.verdict = Verdict::NotMeasured(format!(
            "the file ({}) is not larger than the address-space limit ({})",
            format_size(size),
            format_size(limit)
        ));
        return f;
    }
    let mapping_failed = whole.all_failed_with("ENOMEM");
    f.verdict = if !mapping_failed || !pread.is_measured() {
        Verdict::DoesNotHold
    } else if windowed.is_measured() {
        Verdict::HoldsIf(format!(
            "for whole-file mappings: mapped in {} windows, mmap read the file at {} GB/s (pread {} GB/s)",
            window.map_or("—".into(), format_size),
            windowed.median(gb_per_s).map_or("—".into(), sig),
            pread.median(gb_per_s).map_or("—".into(), sig)
        ))
    } else {
        Verdict::Holds
    };
    if mapping_failed {
        f.observe(
            "mmap failed: ENOMEM — the mapping did not fit in the address space; the run reports it as a result.",
        );
    }
    f
}

pub(crate) fn huge_pages(r: &Results) -> Finding {
    let mut f = Finding::new(
        "huge-pages",
        "Transparent huge pages",
        "\"transparent huge pages reduce page fault overhead for large mappings\"",
        vec![THP_SEQ, THP_RANDOM],
    );
    let cell = |name: &'static str, a: Advice| Cell::select(r, name, move |p| p.tuning.advice == Some(a));
    let (seq_h, seq_n) = (cell(THP_SEQ, Advice::Hugepage), cell(THP_SEQ, Advice::Nohugepage));
    let (rnd_h, rnd_n) = (cell(THP_RANDOM, Advice::Hugepage), cell(THP_RANDOM, Advice::Nohugepage));
    for (label, c) in [("one cold pass, MADV_HUGEPAGE", &seq_h), ("one cold pass, MADV_NOHUGEPAGE", &seq_n)] {
        f.figure(format!("{label}: faults"), show(c, faults_per_gb, "per GB"));
        f.figure(
            format!("{label}: CPU / throughput"),
            format!("{} · {}", show(c, cpu_ns_per_kib, "ns/KiB"), show(c, gb_per_s, "GB/s")),
        );
    }
    for (label, c) in [("warm random 4k, MADV_HUGEPAGE", &rnd_h), ("warm random 4k, MADV_NOHUGEPAGE", &rnd_n)] {
        f.figure(format!("{label}: faults"), show(c, faults_per_gb, "per GB"));
        f.figure(format!("{label}: p50"), show(c, p50_us, "µs"));
    }
    for (label, c) in [("MADV_HUGEPAGE", &seq_h), ("MADV_NOHUGEPAGE", &seq_n), ("MADV_HUGEPAGE, random", &rnd_h)] {
        if let Some(p) = c.json_median(PMD) {
            f.figure(format!("{label}: mapping PMD-mapped (smaps)"), format!("{}%", sig(p)));
        }
    }
    f.rule = format!(
        "1 MiB reads of a 1 GiB mapping in one cold pass, and 4 KiB random reads of it warm, with MADV_HUGEPAGE \
         and MADV_NOHUGEPAGE. A: huge pages cut the page faults per GB of the cold pass at least in half. Faster \
         or slower: throughput or CPU per KiB of the pass, or p50 of the random reads, differing by more than \
         the spread of repeats (at least {:.0}%). Holds if A and huge pages are faster somewhere and slower \
         nowhere; holds with a condition (named) if A otherwise; does not hold if not A.",
        NOISE_FLOOR * 100.0
    );
    let (Some(fh), Some(fn_)) = (seq_h.median(faults_per_gb), seq_n.median(faults_per_gb)) else {
        let missing = if seq_h.is_measured() { &seq_n } else { &seq_h };
        f.verdict = Verdict::NotMeasured(format!("the cold-pass runs are missing: {}", missing.why_missing()));
        return f;
    };
    let fewer = fh <= 0.5 * fn_;
    // (what, huge pages better, huge pages worse) per figure compared.
    let mut compared: Vec<(&str, bool, bool)> = Vec::new();
    if let (Some(h), Some(n)) = (seq_h.median(gb_per_s), seq_n.median(gb_per_s)) {
        let m = margin(&seq_h, &seq_n, gb_per_s);
        compared.push(("cold-pass throughput", below(n, h, m), below(h, n, m)));
    }
    if let (Some(h), Some(n)) = (seq_h.median(cpu_ns_per_kib), seq_n.median(cpu_ns_per_kib)) {
        let m = margin(&seq_h, &seq_n, cpu_ns_per_kib);
        compared.push(("cold-pass CPU per KiB", below(h, n, m), below(n, h, m)));
    }
    if let (Some(h), Some(n)) = (rnd_h.median(p50_us), rnd_n.median(p50_us)) {
        let m = margin(&rnd_h, &rnd_n, p50_us);
        compared.push(("warm random p50", below(h, n, m), below(n, h, m)));
    }
    let better: Vec<&str> = compared.iter().filter(|c| c.1).map(|c| c.0).collect();
    let worse: Vec<&str> = compared.iter().filter(|c| c.2).map(|c| c.0).collect();
    f.observe(format!(
        "Faults per GB in the cold pass: {} with huge pages vs {} without ({}×).",
        sig(fh),
        sig(fn_),
        sig(fn_ / fh.max(1e-9))
    ));
    let list = |v: &[&str]| if v.is_empty() { "nothing".to_string() } else { v.join(", ") };
    f.observe(format!("With huge pages, better in: {}; worse in: {}.", list(&better), list(&worse)));
    f.verdict = match (fewer, better.is_empty(), worse.is_empty()) {
        (false, _, _) => Verdict::DoesNotHold,
        (true, false, true) => Verdict::Holds,
        (true, true, true) => Verdict::HoldsIf(format!(
            "faults drop ({} → {} per GB) but nothing runs measurably faster or cheaper",
            sig(fn_),
            sig(fh)
        )),
        (true, _, false) => Verdict::HoldsIf(format!(
            "faults drop ({} → {} per GB), but huge pages are worse in: {}{}",
            sig(fn_),
            sig(fh),
            worse.join(", "),
            if better.is_empty() { String::new() } else { format!(" (better in: {})", better.join(", ")) }
        )),
    };
    f
}
