//! Rules for the rows about memory: memory pressure (one verdict per mmap advice) and the
//! transparent huge pages claim.

use super::figures::{
    Cell, NOISE_FLOOR, below, cpu_s_per_gb, faults_per_gb, first_last_iops, gb_per_s, kiops, major_faults, margin,
    p50_us, p99_us, read_amp, show, sig, sys_s_per_gb, user_s_per_gb,
};
use super::rules_io::pct;
use super::suite::{MEMORY_LIMIT, SEQ_COLD, THP_RANDOM, THP_SEQ};
use super::{Finding, Verdict, combine};
use crate::base::units::format_size;
use crate::os::advice::Advice;
use crate::result::{Measured, Results};
use crate::workload::backends::BackendKind as B;

const RSS: &str = "/backend_setup/isolation/child_max_rss_bytes";
const PEAK: &str = "/backend_setup/isolation/peak_usage_bytes";
const VM_PEAK: &str = "/backend_setup/isolation/vm_peak_bytes";
const VM_START: &str = "/backend_setup/isolation/vm_size_start_bytes";
const PMD: &str = "/evidence/mapping/pmd_mapped_pct";
const NEEDS_VM: &str = "needs the child's VmPeak (backend_setup.isolation.vm_peak_bytes and vm_size_start_bytes, \
                        which the memory-limited child records)";

fn mib(bytes: f64) -> String {
    format!("{} MiB", sig(bytes / (1u64 << 20) as f64))
}

/// How much address space a run's child added at its peak: VmPeak − VmSize at its start.
fn vm_growth(m: &Measured) -> Option<f64> {
    let peak = super::figures::json_f64(m, VM_PEAK)?;
    Some(peak - super::figures::json_f64(m, VM_START).unwrap_or(0.0))
}

/// One advice's figures under the memory limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pressure {
    pub(crate) file_bytes: f64,
    /// Address space added at the peak (VmPeak − VmSize at start) by the mmap and pread children.
    pub(crate) mmap_vm: f64,
    pub(crate) pread_vm: f64,
    /// (mmap, pread) K IOPS under the limit and the margin between them.
    pub(crate) kiops: (f64, f64),
    pub(crate) margin: f64,
    /// Readahead of the device, bytes read per major fault, and read amplification of mmap.
    pub(crate) read_ahead_kb: Option<f64>,
    pub(crate) kib_per_fault: Option<f64>,
    pub(crate) read_amp: Option<f64>,
}

impl Pressure {
    /// A: mmap's address space grows with the file (at least 90% of it); B: pread's does not
    /// (under 10% of it). Holds if A and B and mmap keeps pread's throughput; holds with a
    /// condition (the slowdown, with readahead and amplification) if it does not.
    pub(crate) fn verdict(&self) -> Verdict {
        let (size, m, b) = (self.file_bytes, self.mmap_vm, self.pread_vm);
        if m < 0.9 * size {
            return Verdict::DoesNotHold(format!(
                "mmap's address space grew by {} for a {} file",
                mib(m),
                format_size(size as u64)
            ));
        }
        if b >= 0.1 * size {
            return Verdict::DoesNotHold(format!(
                "read()'s address space grew by {}, a tenth or more of the {} file",
                mib(b),
                format_size(size as u64)
            ));
        }
        let (mi, bi) = self.kiops;
        if !below(mi, bi, self.margin) {
            return Verdict::Holds;
        }
        let ra = self.read_ahead_kb.map_or("—".into(), |r| format!("{r:.0}"));
        let per_fault = self.kib_per_fault.map_or("—".into(), |k| format!("{} KiB", sig(k)));
        let amp = self.read_amp.map_or("—".into(), |a| format!("{}×", sig(a)));
        Verdict::HoldsIf(format!(
            "address space as claimed (mmap +{}, read() +{}), and under the limit mmap also ran at {} of pread's \
             IOPS ({} vs {} K): read_ahead_kb = {ra}, {per_fault} read per major fault, read amplification {amp}",
            mib(m),
            mib(b),
            pct(mi / bi),
            sig(mi),
            sig(bi)
        ))
    }
}

pub(crate) fn memory_pressure(r: &Results) -> Finding {
    let mut f = Finding::new(
        "memory-pressure",
        "Memory pressure",
        "mmap: consumes virtual address space; read(): limited by buffer size",
        vec![MEMORY_LIMIT],
    );
    let sel = |pred: fn(&crate::workload::plan::Plan) -> bool| Cell::select(r, MEMORY_LIMIT, pred);
    let mmap = f.track("mmap", sel(|p| p.backend == B::Mmap && p.tuning.advice.is_none()));
    let random =
        f.track("mmap + MADV_RANDOM", sel(|p| p.backend == B::Mmap && p.tuning.advice == Some(Advice::Random)));
    let pread = f.track("pread", sel(|p| p.backend == B::Buffered));
    let direct = f.track("O_DIRECT", sel(|p| p.backend == B::Direct));
    let plan = r.runs.iter().find(|x| x.workload.name == MEMORY_LIMIT).map(|x| &x.workload);
    if let (Some(p), Some(l)) = (plan, plan.and_then(|p| p.limits.memory_limit_bytes)) {
        f.figure(
            "setup",
            format!(
                "random 4 KiB reads of a {} file in a {} memory cgroup, starting cold",
                format_size(p.size_bytes),
                format_size(l)
            ),
        );
    }
    if let Some(ra) = [&mmap, &random, &pread].iter().find_map(|c| c.ok().next()?.evidence.read_ahead_kb) {
        f.figure("read_ahead_kb of the device", format!("{ra}"));
    }
    for (label, c) in [("mmap", &mmap), ("mmap + MADV_RANDOM", &random), ("pread", &pread), ("O_DIRECT", &direct)] {
        pressure_figures(&mut f, label, c);
    }
    f.rule = format!(
        "Random 4 KiB reads in a memory cgroup 4× smaller than the file, in a child process that records its own \
         /proc/self/status. The claim itself, per mmap advice (default and MADV_RANDOM): mmap's address space \
         (VmPeak − VmSize at the child's start) grows by at least 90% of the file, read()'s by under 10% of \
         it. Does not hold if either fails; holds if both do and mmap keeps pread's throughput under the limit \
         (within the spread of repeats, at least {}); holds with a condition (the slowdown, with read_ahead_kb, \
         bytes read per major fault and read amplification) if it does not. The row: both advices' verdicts, combined.",
        pct(NOISE_FLOOR)
    );
    let size = plan.map_or(0.0, |p| p.size_bytes as f64);
    let pread_vm = pread.ok().filter_map(vm_growth).reduce(f64::max);
    for (label, c) in [("default advice", &mmap), ("MADV_RANDOM", &random)] {
        let v = match (c.ok().find_map(vm_growth), pread_vm) {
            _ if !c.is_measured() => Verdict::NotMeasured(c.why_missing()),
            _ if !pread.is_measured() => Verdict::NotMeasured(pread.why_missing()),
            (Some(m), Some(b)) => Pressure {
                file_bytes: size,
                mmap_vm: m,
                pread_vm: b,
                kiops: (c.median(kiops).unwrap_or(0.0), pread.median(kiops).unwrap_or(0.0)),
                margin: margin(c, &pread, kiops),
                read_ahead_kb: c.ok().find_map(|m| m.evidence.read_ahead_kb).map(|x| x as f64),
                kib_per_fault: kib_per_fault(c),
                read_amp: c.median(read_amp).filter(|a| *a > 0.0),
            }
            .verdict(),
            _ => Verdict::NotMeasured(NEEDS_VM.into()),
        };
        f.parts.push((label.into(), v));
    }
    if let (Some(pm), Some(pr)) = (mmap.json_median(PEAK), pread.json_median(PEAK)) {
        f.observe(format!(
            "The cgroup's peak was {} with mmap and {} with pread: page cache is charged to the cgroup whichever \
             path reads, so the limit bounds both; the claim is about the process's address space.",
            mib(pm),
            mib(pr)
        ));
    }
    f.verdict = combine(&f.parts);
    f
}

fn kib_per_fault(c: &Cell<'_>) -> Option<f64> {
    c.median(|m| {
        let read = m.evidence.process_read_bytes.or(m.evidence.device_read_bytes).unwrap_or(0) as f64;
        if m.faults.major > 0 { read / 1024.0 / m.faults.major as f64 } else { 0.0 }
    })
    .filter(|k| *k > 0.0)
}

fn pressure_figures(f: &mut Finding, label: &str, c: &Cell<'_>) {
    f.figure(format!("{label}: throughput"), show(c, kiops, "K IOPS"));
    if let Some((first, last)) = c.ok().next().and_then(first_last_iops) {
        f.figure(
            format!("{label}: first → last interval"),
            format!("{} → {} K IOPS", sig(first / 1e3), sig(last / 1e3)),
        );
    }
    if !c.is_measured() {
        return;
    }
    f.figure(format!("{label}: major faults · read amplification"), {
        let amp = c.median(read_amp).filter(|a| *a > 0.0).map_or("—".into(), |a| format!("{}×", sig(a)));
        format!("{} · {amp}", show(c, major_faults, ""))
    });
    let vm = c.ok().find_map(vm_growth).map_or("— (not recorded)".into(), mib);
    let peak = c.json_median(VM_PEAK).map_or("—".into(), mib);
    f.figure(format!("{label}: address space added (VmPeak − VmSize at start) / VmPeak"), format!("{vm} / {peak}"));
    if let Some(rss) = c.json_median(RSS) {
        let cg = c.json_median(PEAK).map_or("—".into(), mib);
        f.figure(format!("{label}: peak RSS / cgroup peak"), format!("{} / {cg}", mib(rss)));
    }
}

/// One cold pass's whole cost: CPU per GB (user, system), throughput, per-read latency.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PassCost {
    pub(crate) user_s_per_gb: f64,
    pub(crate) sys_s_per_gb: f64,
    pub(crate) gbps: f64,
    pub(crate) p99_us: f64,
}

impl PassCost {
    fn of(c: &Cell<'_>) -> Option<PassCost> {
        Some(PassCost {
            user_s_per_gb: c.median(user_s_per_gb)?,
            sys_s_per_gb: c.median(sys_s_per_gb)?,
            gbps: c.median(gb_per_s)?,
            p99_us: c.median(p99_us)?,
        })
    }
    fn cpu(&self) -> f64 {
        self.user_s_per_gb + self.sys_s_per_gb
    }
}

/// CPU differences under this many s per GB are below getrusage's resolution for a short pass.
const CPU_FLOOR_S_PER_GB: f64 = 0.002;

/// The cold pass with huge pages (`huge`) against without (`none`); `m` = margins for
/// (CPU, system CPU, throughput, p99). Holds if huge pages make the whole pass better in some
/// figure and worse in none; holds with a condition if only the fault handling (system time)
/// is cheaper; does not hold, naming the figures, otherwise.
pub(crate) fn thp_verdict(huge: PassCost, none: PassCost, m: [f64; 4]) -> Verdict {
    let less = |a: f64, b: f64, margin: f64| below(a, b, margin) && b - a > CPU_FLOOR_S_PER_GB;
    let figures = [
        ("CPU", less(huge.cpu(), none.cpu(), m[0]), less(none.cpu(), huge.cpu(), m[0]), huge.cpu(), none.cpu(), "s/GB"),
        (
            "throughput",
            below(none.gbps, huge.gbps, m[2]),
            below(huge.gbps, none.gbps, m[2]),
            huge.gbps,
            none.gbps,
            "GB/s",
        ),
        (
            "p99 per read",
            below(huge.p99_us, none.p99_us, m[3]),
            below(none.p99_us, huge.p99_us, m[3]),
            huge.p99_us,
            none.p99_us,
            "µs",
        ),
    ];
    let text = |x: &(&str, bool, bool, f64, f64, &str)| format!("{} {} vs {} {}", x.0, sig(x.3), sig(x.4), x.5);
    let better: Vec<String> = figures.iter().filter(|x| x.1).map(text).collect();
    let worse: Vec<String> = figures.iter().filter(|x| x.2).map(text).collect();
    if !worse.is_empty() {
        return Verdict::DoesNotHold(format!(
            "with MADV_HUGEPAGE the cold pass is worse in: {}{}",
            worse.join(", "),
            if better.is_empty() { String::new() } else { format!(" (better in: {})", better.join(", ")) }
        ));
    }
    if !better.is_empty() {
        return Verdict::Holds;
    }
    let all: Vec<String> = figures.iter().map(text).collect();
    if less(huge.sys_s_per_gb, none.sys_s_per_gb, m[1]) {
        return Verdict::HoldsIf(format!(
            "fault handling is cheaper (system CPU {} vs {} s/GB), but the pass as a whole is not: {}",
            sig(huge.sys_s_per_gb),
            sig(none.sys_s_per_gb),
            all.join(", ")
        ));
    }
    Verdict::DoesNotHold(format!("no figure of the cold pass differs beyond the margin: {}", all.join(", ")))
}

pub(crate) fn huge_pages(r: &Results) -> Finding {
    let mut f = Finding::new(
        "huge-pages",
        "Transparent huge pages",
        "\"transparent huge pages reduce page fault overhead for large mappings\"",
        vec![THP_SEQ, THP_RANDOM],
    );
    let cell = |name: &'static str, a: Option<Advice>| Cell::select(r, name, move |p| p.tuning.advice == a);
    let seq_h = f.track("cold pass, MADV_HUGEPAGE", cell(THP_SEQ, Some(Advice::Hugepage)));
    let seq_n = f.track("cold pass, MADV_NOHUGEPAGE", cell(THP_SEQ, Some(Advice::Nohugepage)));
    let seq_d = f.track("cold pass, default advice", cell(THP_SEQ, None));
    for (label, c) in [("MADV_HUGEPAGE", &seq_h), ("MADV_NOHUGEPAGE", &seq_n), ("default advice", &seq_d)] {
        if !c.is_measured() && c.runs.is_empty() {
            continue;
        }
        f.figure(format!("cold pass, {label}: CPU user + system"), {
            let (u, s) = (show(c, user_s_per_gb, "s/GB"), show(c, sys_s_per_gb, "s/GB"));
            format!("{u} + {s}")
        });
        f.figure(
            format!("cold pass, {label}: throughput · p50 / p99 per 1 MiB read"),
            format!("{} · {} / {}", show(c, gb_per_s, "GB/s"), show(c, p50_us, "µs"), show(c, p99_us, "µs")),
        );
        f.figure(format!("cold pass, {label}: faults · PMD-mapped"), {
            let pmd = c.json_median(PMD).map_or("—".into(), |p| format!("{}%", sig(p)));
            format!("{} · {pmd}", show(c, faults_per_gb, "per GB"))
        });
    }
    f.rule = format!(
        "One cold pass of 1 MiB reads over a 1 GiB mapping, with MADV_HUGEPAGE against MADV_NOHUGEPAGE, judged on \
         its whole cost: CPU per GB (user + system), throughput, and the p99 of its reads (each read includes its \
         page faults, from the latency histogram). A figure differs if it does so by more than the spread of \
         repeats (at least {}). Holds if huge pages are better in some figure and worse in none; holds with a \
         condition if only the fault handling (system CPU) is cheaper; does not hold (naming the figures) \
         otherwise. Cold passes the anomaly guard left out decide nothing.",
        pct(NOISE_FLOOR)
    );
    default_share_observation(&mut f, r, &seq_d);
    warm_random_observation(&mut f, r);
    let (Some(h), Some(n)) = (PassCost::of(&seq_h), PassCost::of(&seq_n)) else {
        let missing = if seq_h.is_measured() { &seq_n } else { &seq_h };
        f.verdict = Verdict::NotMeasured(format!("the cold passes are missing: {}", missing.why_missing()));
        return f;
    };
    let m = [
        margin(&seq_h, &seq_n, cpu_s_per_gb),
        margin(&seq_h, &seq_n, sys_s_per_gb),
        margin(&seq_h, &seq_n, gb_per_s),
        margin(&seq_h, &seq_n, p99_us),
    ];
    f.verdict = thp_verdict(h, n, m);
    f
}

/// The default mapping's PMD share: huge pages without any madvise, where the file system
/// gives the page cache large folios.
fn default_share_observation(f: &mut Finding, r: &Results, default: &Cell<'_>) {
    let fallback = Cell::select(r, SEQ_COLD, |p| p.backend == B::Mmap && p.bs_bytes == 1 << 20);
    let (share, from) = match default.json_median(PMD) {
        Some(s) => (s, "the default-advice cold pass"),
        None => match fallback.json_median(PMD) {
            Some(s) => (s, "the sequential-cold mmap 1 MiB cells"),
            None => return,
        },
    };
    f.figure("default mapping (no madvise): PMD-mapped", format!("{}% ({from})", sig(share)));
    if share > 50.0 {
        let ext4 = if r.environment.fs_type == "ext4" {
            " (ext4 gives the page cache large folios since Linux 6.16, commit 7ac67301e82f)"
        } else {
            ""
        };
        f.observe(format!(
            "Without any madvise the mapping was {}% PMD-mapped{ext4}: huge pages are in use by default here, so \
             MADV_NOHUGEPAGE, not the default, is the pass without them.",
            sig(share)
        ));
    }
}

fn warm_random_observation(f: &mut Finding, r: &Results) {
    let cell = |a: Advice| Cell::select(r, THP_RANDOM, move |p| p.tuning.advice == Some(a));
    let (h, n) = (cell(Advice::Hugepage), cell(Advice::Nohugepage));
    if let (Some(a), Some(b)) = (h.median(p50_us), n.median(p50_us)) {
        f.figure("warm random 4 KiB reads: p50 with / without huge pages", format!("{} / {} µs", sig(a), sig(b)));
        f.observe(format!(
            "Warm random 4 KiB reads (no faults, TLB reach only): p50 {} µs with huge pages vs {} µs without.",
            sig(a),
            sig(b)
        ));
    }
}
