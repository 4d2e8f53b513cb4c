//! The 32-bit safety row: a real 32-bit process (the i686 build of iobench as the child) maps,
//! windows and preads a file larger than the largest mapping it can make; where no i686 build
//! exists, a 64-bit child under RLIMIT_AS stands in, labelled as the emulation it is.

use super::figures::{Cell, gb_per_s, json_at, show, sig};
use super::suite::{ADDRESS_SPACE, ADDRESS_SPACE_32};
use super::{Finding, Verdict};
use crate::base::units::format_size;
use crate::observe::addrspace::{LARGE_OFFSET, Outcome, Probe};
use crate::result::{Results, RunStatus};
use crate::workload::backends::BackendKind as B;

const PROBE: &str = "/backend_setup/isolation/address_space_probe";
const POINTER_BITS: &str = "/backend_setup/isolation/pointer_bits";
/// What the article's "~2 GB" covers: 1.6–2.4 GiB.
const ABOUT_2GB: (f64, f64) = (1.6 * (1u64 << 30) as f64, 2.4 * (1u64 << 30) as f64);

/// The three cells of one address-space workload.
struct Cells<'a> {
    whole: Cell<'a>,
    windowed: Cell<'a>,
    pread: Cell<'a>,
}

impl<'a> Cells<'a> {
    fn of(r: &'a Results, name: &str) -> Cells<'a> {
        Cells {
            whole: Cell::select(r, name, |p| p.backend == B::Mmap && p.limits.window_bytes.is_none()),
            windowed: Cell::select(r, name, |p| p.backend == B::Mmap && p.limits.window_bytes.is_some()),
            pread: Cell::select(r, name, |p| p.backend == B::Buffered),
        }
    }
    fn all(&self) -> [&Cell<'a>; 3] {
        [&self.whole, &self.windowed, &self.pread]
    }
    /// The probe of the first completed run that has one (every child of the workload probes).
    fn probe(&self) -> Option<Probe> {
        self.all().iter().flat_map(|c| c.ok()).find_map(|m| serde_json::from_value(json_at(m, PROBE)?).ok())
    }
    /// True if a completed run says it ran in a 32-bit process.
    fn ran_32bit(&self) -> bool {
        self.all().iter().flat_map(|c| c.ok()).any(|m| json_at(m, POINTER_BITS).and_then(|v| v.as_u64()) == Some(32))
    }
}

/// Bytes as GiB with three significant digits: address-space sizes read better so.
fn gib(bytes: u64) -> String {
    format!("{} GiB", sig(bytes as f64 / (1u64 << 30) as f64))
}

/// What the real 32-bit child found.
#[derive(Debug, Clone)]
pub(crate) struct Addr32 {
    pub(crate) file_bytes: u64,
    pub(crate) largest_mapping: u64,
    pub(crate) whole_file: Outcome,
    pub(crate) pread_ok: bool,
    /// The C library's `pread` with a 32-bit `off_t` at 2 GiB, and `pread64` there.
    pub(crate) pread_off_t: Option<Outcome>,
    pub(crate) pread64: Option<Outcome>,
    /// Windowed mmap's and pread's throughput, if measured.
    pub(crate) windowed_gbps: Option<f64>,
    pub(crate) pread_gbps: Option<f64>,
    pub(crate) window: Option<u64>,
}

impl Addr32 {
    /// Holds if the whole file does not map, pread reads it, the largest mapping is about 2 GB
    /// and a 32-bit `off_t` is no obstacle; holds with a condition naming what differs (the
    /// size of the limit, large-file support); does not hold if the file maps or pread fails.
    pub(crate) fn verdict(&self) -> Verdict {
        let (file, largest) = (gib(self.file_bytes), gib(self.largest_mapping));
        if self.file_bytes <= self.largest_mapping {
            return Verdict::NotMeasured(format!(
                "the {file} file fits in the largest mapping the 32-bit process could make ({largest}): raise size"
            ));
        }
        if self.whole_file.ok {
            return Verdict::DoesNotHold(format!("the whole {file} file mapped in the 32-bit process"));
        }
        if !self.pread_ok {
            return Verdict::DoesNotHold(format!("pread did not read the {file} file in the 32-bit process"));
        }
        let mut conditions = Vec::new();
        let l = self.largest_mapping as f64;
        if !(ABOUT_2GB.0..=ABOUT_2GB.1).contains(&l) {
            conditions.push(format!(
                "the limit is the largest mapping, {largest} here, not ~2 GB (on a 64-bit x86 kernel a 32-bit \
                 task's address space ends at IA32_PAGE_OFFSET, 4 GiB − 8 KiB: arch/x86/include/asm/page_64_types.h)"
            ));
        }
        if let (Some(narrow), Some(wide)) = (&self.pread_off_t, &self.pread64)
            && !narrow.ok
        {
            conditions.push(format!(
                "read() is safe for files over 2 GiB only with large-file support: {}; pread64 there: {}",
                narrow.detail, wide.detail
            ));
        }
        if conditions.is_empty() {
            return Verdict::Holds;
        }
        if let (Some(w), Some(p)) = (self.windowed_gbps, self.pread_gbps) {
            conditions.push(format!(
                "mapped in {} windows, mmap read the file too ({} GB/s; pread {} GB/s)",
                self.window.map_or("—".into(), format_size),
                sig(w),
                sig(p)
            ));
        }
        Verdict::HoldsIf(conditions.join("; "))
    }
}

pub(crate) fn address_space(r: &Results) -> Finding {
    let mut f = Finding::new(
        "address-space",
        "32-bit safety",
        "mmap: limited (~2 GB mapping limit); read(): safe for arbitrarily large files",
        vec![ADDRESS_SPACE_32, ADDRESS_SPACE],
    );
    f.rule = "A file larger than the largest single mapping a 32-bit process can make, read in a real 32-bit process \
              (the i686 build of iobench as the child, without io_uring), which finds that largest mapping by \
              bisection, tries to map the whole file, and reads one page at 2 GiB through the C library's pread \
              with a 32-bit off_t and through pread64; then windowed mmap and pread each read the file. Does not \
              hold if the whole file maps or pread fails; holds if not, with the largest mapping within 1.6–2.4 \
              GiB (\"~2 GB\") and the 32-bit off_t no obstacle; holds with a condition naming each difference \
              otherwise. Without an i686 build, a 64-bit child under RLIMIT_AS stands in, labelled as an \
              emulation: holds with that condition if the whole mapping fails and pread reads the file."
        .into();
    let real = Cells::of(r, ADDRESS_SPACE_32);
    let cells = [(&real.whole, "whole file"), (&real.windowed, "windows"), (&real.pread, "pread")];
    for (c, label) in cells {
        f.track(&format!("32-bit {label}"), c.clone());
    }
    if real.ran_32bit()
        && let Some(probe) = real.probe()
    {
        real_figures(&mut f, &real, &probe);
        let window = real.windowed.runs.first().and_then(|x| x.workload.limits.window_bytes);
        let facts = Addr32 {
            file_bytes: probe.file_bytes,
            largest_mapping: probe.largest_mapping_bytes,
            whole_file: probe.whole_file.clone(),
            pread_ok: real.pread.is_measured(),
            pread_off_t: probe.pread_off_t.clone(),
            pread64: probe.pread64.clone(),
            windowed_gbps: real.windowed.median(gb_per_s),
            pread_gbps: real.pread.median(gb_per_s),
            window,
        };
        f.verdict = facts.verdict();
        return f;
    }
    let why = why_no_32bit(&real);
    f.observe(format!("No 32-bit process ran: {why}."));
    f.verdict = emulation(&mut f, r, &why);
    f
}

fn real_figures(f: &mut Finding, real: &Cells<'_>, p: &Probe) {
    f.figure(
        "the child",
        format!("{}-bit process, {}-bit off_t (i686 build of iobench)", p.pointer_bits, p.off_t_bits),
    );
    f.figure(
        "largest single mapping (bisection) vs the article's ~2 GB",
        format!(
            "{}{} ({} GB) with {} already mapped",
            gib(p.largest_mapping_bytes),
            if p.largest_mapping_capped { " or more" } else { "" },
            sig(p.largest_mapping_bytes as f64 / 1e9),
            p.vm_size_bytes.map_or("—".into(), |v| format!("{} MiB", sig(v as f64 / (1u64 << 20) as f64)))
        ),
    );
    f.figure(format!("mmap of the whole {} file", gib(p.file_bytes)), p.whole_file.detail.clone());
    let outcome = |c: &Cell<'_>| if c.is_measured() { show(c, gb_per_s, "GB/s") } else { c.why_missing() };
    f.figure("iobench's mmap backend, whole file", outcome(&real.whole));
    let window = real.windowed.runs.first().and_then(|x| x.workload.limits.window_bytes);
    f.figure(format!("mmap in {} windows", window.map_or("—".into(), format_size)), outcome(&real.windowed));
    f.figure("pread (pread64)", outcome(&real.pread));
    if let Some(o) = &p.open_plain {
        f.figure("open() without O_LARGEFILE", o.detail.clone());
    }
    if let Some(o) = &p.pread_off_t {
        f.figure(format!("pread at {} with a 32-bit off_t", format_size(LARGE_OFFSET)), o.detail.clone());
    }
    if let Some(o) = &p.pread64 {
        f.figure(format!("pread64 at {}", format_size(LARGE_OFFSET)), o.detail.clone());
    }
}

/// Why the 32-bit cells have no figures: skipped (no i686 build), failed, or not in the results.
fn why_no_32bit(real: &Cells<'_>) -> String {
    let runs: Vec<_> = real.all().iter().flat_map(|c| c.runs.iter()).copied().collect();
    if runs.is_empty() {
        return format!(
            "these results have no {ADDRESS_SPACE_32} runs (arch = \"i686\"; the row needs their \
             isolation.pointer_bits = 32 and isolation.address_space_probe)"
        );
    }
    match runs.iter().find(|x| x.status != RunStatus::Ok) {
        Some(x) => x.reason.clone().unwrap_or_else(|| "no reason given".into()),
        None => "the runs record no 32-bit pointer width or address-space probe".into(),
    }
}

/// RLIMIT_AS in a 64-bit child: the fallback, labelled as an emulation.
fn emulation(f: &mut Finding, r: &Results, why: &str) -> Verdict {
    let emu = Cells::of(r, ADDRESS_SPACE);
    let plan = emu.all().iter().flat_map(|c| c.runs.iter()).map(|x| &x.workload).next().cloned();
    let Some((size, limit)) = plan.as_ref().and_then(|p| Some((p.size_bytes, p.limits.address_space_limit_bytes?)))
    else {
        return Verdict::NotMeasured(format!("no 32-bit process ({why}) and no RLIMIT_AS emulation in the results"));
    };
    f.figure(
        "emulation setup",
        format!(
            "a 64-bit child under RLIMIT_AS = {}, sequential 1 MiB reads of a {} file",
            format_size(limit),
            format_size(size)
        ),
    );
    let outcome = |c: &Cell<'_>| if c.is_measured() { show(c, gb_per_s, "GB/s") } else { c.why_missing() };
    f.figure("emulation: mmap, whole file", outcome(&emu.whole));
    f.figure("emulation: mmap in windows", outcome(&emu.windowed));
    f.figure("emulation: pread", outcome(&emu.pread));
    if let Some(p) = emu.probe() {
        f.figure("emulation: largest single mapping under the limit", gib(p.largest_mapping_bytes));
    }
    if size <= limit {
        return Verdict::NotMeasured(format!(
            "no 32-bit process ({why}), and the emulation's file ({}) is not larger than its limit ({})",
            format_size(size),
            format_size(limit)
        ));
    }
    let failed = !emu.whole.runs.is_empty() && emu.whole.runs.iter().all(|x| x.status == RunStatus::Failed);
    if !failed {
        return Verdict::DoesNotHold(format!("emulation only ({why}): the whole file mapped under RLIMIT_AS"));
    }
    if !emu.pread.is_measured() {
        return Verdict::DoesNotHold(format!("emulation only ({why}): pread failed: {}", emu.pread.why_missing()));
    }
    Verdict::HoldsIf(format!(
        "emulation only, a 64-bit process under RLIMIT_AS = {} (no 32-bit process: {why}): the whole {} file did \
         not map; pread read it at {} GB/s{}",
        format_size(limit),
        format_size(size),
        emu.pread.median(gb_per_s).map_or("—".into(), sig),
        emu.windowed.median(gb_per_s).map_or(String::new(), |w| format!(", windowed mmap at {} GB/s", sig(w)))
    ))
}
