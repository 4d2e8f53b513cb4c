//! Rules for sequential reads: the sequential-throughput row (against one core's memory
//! ceilings warm and the device's ceiling cold) and the io_uring claim.

use super::figures::{Cell, NOISE_FLOOR, below, cpu_share, env_f64, gb_per_s, margin, ratio, show, sig};
use super::rules_io::pct;
use super::suite::{DEVICE_CEILING, SEQ_COLD, SEQ_WARM};
use super::{Finding, Verdict};
use crate::base::units::format_size;
use crate::result::Results;
use crate::workload::backends::BackendKind as B;

/// Share of a ceiling a cell must reach to count as "excellent".
pub(crate) const EXCELLENT: f64 = 0.8;

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

/// The device's sequential ceiling in GB/s: the better of the device-ceiling cells (`iobench
/// probe`'s: io_uring with O_DIRECT at depth 32, and O_DIRECT with 4 threads, its fallback).
pub(crate) fn device_ceiling(r: &Results) -> Option<(f64, String)> {
    let cells =
        [(B::UringDirect, "uring-direct 1 MiB reads at depth 32"), (B::Direct, "O_DIRECT 1 MiB reads, 4 threads")];
    cells
        .into_iter()
        .filter_map(|(b, what)| {
            let c = Cell::select(r, DEVICE_CEILING, move |p| p.backend == b);
            c.median(gb_per_s).map(|v| (v, what.to_string()))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// One part of the sequential row: a cell's throughput against a ceiling.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    /// (what, share of the ceiling reached).
    Judged(String, f64),
    /// (what, why it was not judged).
    Unjudged(String, String),
}

impl Part {
    fn passes(&self) -> Option<bool> {
        match self {
            Part::Judged(_, share) => Some(*share >= EXCELLENT),
            Part::Unjudged(..) => None,
        }
    }
    fn describe(&self) -> String {
        match self {
            Part::Judged(what, share) => format!("{what}: {} of its ceiling", pct(*share)),
            Part::Unjudged(what, why) => format!("{what}: not judged ({why})"),
        }
    }
}

/// Holds if every part is judged and excellent; does not hold if every judged part falls
/// short; holds with a condition (the parts that fail or were not judged) otherwise.
pub(crate) fn sequential_verdict(parts: &[Part]) -> Verdict {
    let judged: Vec<bool> = parts.iter().filter_map(Part::passes).collect();
    if judged.is_empty() {
        let why: Vec<String> = parts.iter().map(Part::describe).collect();
        return Verdict::NotMeasured(if why.is_empty() { "no sequential runs".into() } else { why.join("; ") });
    }
    let short: Vec<String> = parts.iter().filter(|p| p.passes() != Some(true)).map(Part::describe).collect();
    if short.is_empty() {
        Verdict::Holds
    } else if judged.iter().all(|ok| !ok) {
        Verdict::DoesNotHold(format!("below {} of the ceiling: {}", pct(EXCELLENT), short.join("; ")))
    } else {
        Verdict::HoldsIf(format!("except: {}", short.join("; ")))
    }
}

pub(crate) fn sequential(r: &Results) -> Finding {
    let mut f = Finding::new(
        "sequential",
        "Sequential throughput",
        "mmap: excellent (prefetcher friendly); read(): excellent with large buffers",
        vec![SEQ_WARM, SEQ_COLD, DEVICE_CEILING],
    );
    f.rule = format!(
        "Sequential reads by block size against what each path can reach at most. Warm: mmap (reads the page \
         cache in place) against one core's read-and-sum ceiling, read() (copies it out) against one core's \
         memcpy ceiling. Cold: both against the device's ceiling (iobench probe's O_DIRECT sequential read, \
         workload device-ceiling, the better of its two cells). \"Excellent\" is at least {} of the ceiling: \
         mmap at every block size, read() at its largest. Four parts (mmap, read(); warm, cold); cold cells \
         the anomaly guard left out are not judged. Holds if all four are excellent; does not hold if every \
         judged part falls short; holds with a condition (the parts that fall short or were not judged) \
         otherwise.",
        pct(EXCELLENT)
    );
    let readsum = env_f64(r, "/memory_ceilings/read_bytes_per_s").map(|x| x / 1e9);
    let memcpy = env_f64(r, "/memory_ceilings/memcpy_bytes_per_s").map(|x| x / 1e9);
    let device = device_ceiling(r);
    if let (Some(s), Some(c)) = (readsum, memcpy) {
        f.figure("ceilings, warm: one core's read-and-sum / memcpy", format!("{} / {} GB/s", sig(s), sig(c)));
    }
    match &device {
        Some((v, what)) => f.figure("ceiling, cold: the device", format!("{} GB/s ({what})", sig(*v))),
        None => f.figure("ceiling, cold: the device", "— (no device-ceiling run in these results)".to_string()),
    }
    let mut parts = Vec::new();
    if device.is_none() && !block_sizes(r, SEQ_COLD).is_empty() {
        let why = "needs the device's ceiling: the device-ceiling workload (iobench probe's O_DIRECT read)";
        parts.push(Part::Unjudged("cold reads (mmap and read())".into(), why.into()));
    }
    let dev = device.as_ref().map(|d| Bar { gbps: d.0, which: "device" });
    parts.extend(state_parts(
        &mut f,
        r,
        SEQ_WARM,
        "warm",
        readsum.map(|v| Bar { gbps: v, which: "read-and-sum" }),
        memcpy.map(|v| Bar { gbps: v, which: "memcpy" }),
    ));
    parts.extend(state_parts(&mut f, r, SEQ_COLD, "cold", dev, dev));
    let parts = check_device_bar(parts, device.as_ref());
    for p in &parts {
        if let Part::Judged(what, share) = p {
            let word = if *share >= EXCELLENT { "excellent" } else { "short of it" };
            f.observe(format!("{what}: {} of the ceiling, {word}.", pct(*share)));
        }
    }
    f.verdict = sequential_verdict(&parts);
    f
}

/// A device ceiling that a cold read exceeds by more than the noise floor is no ceiling (the
/// O_DIRECT reads that measured it fell short of what the device gave the page cache): the cold
/// parts are then not judged, and say why.
fn check_device_bar(parts: Vec<Part>, device: Option<&(f64, String)>) -> Vec<Part> {
    let is_cold = |what: &str| what.contains(" cold");
    let above = parts.iter().filter_map(|p| match p {
        Part::Judged(what, share) if is_cold(what) && *share > 1.0 + NOISE_FLOOR => Some(*share),
        _ => None,
    });
    let (Some(top), Some((gbps, how))) = (above.reduce(f64::max), device) else { return parts };
    let why = format!(
        "a cold read reached {} of the device ceiling ({} GB/s, {how}): iobench's O_DIRECT reads measured below \
         what the device gave the page cache, so that is no ceiling",
        pct(top),
        sig(*gbps)
    );
    let (cold, mut kept): (Vec<Part>, Vec<Part>) =
        parts.into_iter().partition(|p| matches!(p, Part::Judged(what, _) if is_cold(what)));
    let names: Vec<String> = cold.iter().map(|p| p.describe()).collect();
    kept.push(Part::Unjudged("cold reads".into(), format!("{why}; {}", names.join("; "))));
    kept
}

/// A ceiling and its name.
#[derive(Debug, Clone, Copy)]
struct Bar {
    gbps: f64,
    which: &'static str,
}

/// The parts of one cache state: mmap's worst block size against `mmap_bar`, read()'s largest
/// against `read_bar`. A missing bar for the cold state is named once by the caller.
fn state_parts(
    f: &mut Finding,
    r: &Results,
    name: &str,
    state: &str,
    mmap_bar: Option<Bar>,
    read_bar: Option<Bar>,
) -> Vec<Part> {
    let sizes = block_sizes(r, name);
    if sizes.is_empty() {
        return vec![Part::Unjudged(format!("{state} reads"), "not in the results".into())];
    }
    let no_bar = |what: String| {
        (state != "cold").then(|| Part::Unjudged(what, "needs the environment's memory ceilings".into()))
    };
    let mut parts = Vec::new();
    let (worst, unjudged) = mmap_worst(f, r, name, state, &sizes);
    let mmap_what = format!("mmap {state}");
    // Block sizes the guard left out are named apart; the others are still judged.
    if !unjudged.is_empty() {
        let n =
            if unjudged.len() == 1 { "one block size".to_string() } else { format!("{} block sizes", unjudged.len()) };
        parts.push(Part::Unjudged(format!("{mmap_what} at {n}"), unjudged.join("; ")));
    }
    match (worst, mmap_bar) {
        (_, None) => parts.extend(no_bar(mmap_what)),
        (None, _) => {}
        (Some((bs, x)), Some(b)) => parts
            .push(Part::Judged(format!("{mmap_what} (worst bs {}, {} ceiling)", format_size(bs), b.which), x / b.gbps)),
    }
    let (small, large) = (sizes[0], sizes[sizes.len() - 1]);
    let read_what = format!("read() {state} at bs {}", format_size(large));
    let large_cell = seq_cell(r, name, B::Buffered, large);
    parts.extend(match (large_cell.median(gb_per_s), read_bar) {
        (_, None) => no_bar(read_what),
        (None, _) => Some(Part::Unjudged(read_what, large_cell.why_missing())),
        (Some(x), Some(b)) => Some(Part::Judged(format!("{read_what} ({} ceiling)", b.which), x / b.gbps)),
    });
    if let (Some(s), Some(l)) = (seq_cell(r, name, B::Buffered, small).median(gb_per_s), large_cell.median(gb_per_s)) {
        f.observe(format!(
            "read() {state}: {} GB/s at bs {} vs {} GB/s at bs {} ({} with the larger buffer).",
            sig(s),
            format_size(small),
            sig(l),
            format_size(large),
            ratio(l, s)
        ));
    }
    parts
}

/// mmap's slowest block size (by median) and the block sizes without figures, with why; the
/// figures of every block size go into the finding.
fn mmap_worst(
    f: &mut Finding,
    r: &Results,
    name: &str,
    state: &str,
    sizes: &[u64],
) -> (Option<(u64, f64)>, Vec<String>) {
    let mut worst: Option<(u64, f64)> = None;
    let mut unjudged = Vec::new();
    for &bs in sizes {
        let m = f.track(&format!("{state} mmap {}", format_size(bs)), seq_cell(r, name, B::Mmap, bs));
        let b = f.track(&format!("{state} pread {}", format_size(bs)), seq_cell(r, name, B::Buffered, bs));
        f.figure(
            format!("{state}, bs {}: mmap / pread", format_size(bs)),
            format!("{} / {}", show(&m, gb_per_s, "GB/s"), show(&b, gb_per_s, "GB/s")),
        );
        match m.median(gb_per_s) {
            Some(x) if worst.is_none_or(|(_, w)| x < w) => worst = Some((bs, x)),
            Some(_) => {}
            None => unjudged.push(format!("bs {}, {}", format_size(bs), m.why_missing())),
        }
    }
    (worst, unjudged)
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
         cache state and block size measured; cold cells the anomaly guard left out are not compared. \
         io_uring wins a cell if its throughput exceeds mmap's by more than the spread of repeats (at least \
         {}). Holds if it wins at least half the cells compared (\"often\"); holds with a condition (the cells \
         it wins) if fewer; does not hold if none.",
        pct(NOISE_FLOOR)
    );
    let mut cells = 0;
    let mut wins = Vec::new();
    let mut compared = Vec::new();
    for (name, state) in [(SEQ_WARM, "warm"), (SEQ_COLD, "cold")] {
        for bs in block_sizes(r, name) {
            let label = format!("{state}, bs {}", format_size(bs));
            let m = f.track(&format!("{label} mmap"), seq_cell(r, name, B::Mmap, bs));
            let u = [B::Uring, B::UringDirect]
                .into_iter()
                .map(|b| f.track(&format!("{label} {b}"), seq_cell(r, name, b, bs)))
                .filter(Cell::is_measured)
                .max_by(|a, b| a.median(gb_per_s).unwrap_or(0.0).total_cmp(&b.median(gb_per_s).unwrap_or(0.0)));
            let (Some(u), Some(mv)) = (u, m.median(gb_per_s)) else {
                f.figure(format!("{label}: io_uring / mmap"), format!("not compared ({})", m.why_missing()));
                continue;
            };
            let uv = u.median(gb_per_s).unwrap_or(0.0);
            let which = u.runs.first().map_or("uring".into(), |x| x.backend.clone());
            let cpu = m.median(cpu_share).map_or(String::new(), |c| format!("; mmap's CPU {} of runtime", pct(c)));
            f.figure(
                format!("{label}: {which} / mmap"),
                format!("{} / {} GB/s ({}){cpu}", sig(uv), sig(mv), ratio(uv, mv)),
            );
            cells += 1;
            compared.push(label.clone());
            if below(mv, uv, margin(&m, &u, gb_per_s)) {
                wins.push(label);
            }
        }
    }
    f.verdict = uring_verdict(cells, &wins);
    f.observe(format!("io_uring is faster in {} of {cells} cells compared.", wins.len()));
    f
}

/// The io_uring claim's verdict from the number of cells compared and those io_uring won.
pub(crate) fn uring_verdict(cells: usize, wins: &[String]) -> Verdict {
    if cells == 0 {
        Verdict::NotMeasured("no cell has both io_uring and mmap figures (io_uring unavailable?)".into())
    } else if wins.len() * 2 >= cells {
        Verdict::Holds
    } else if wins.is_empty() {
        Verdict::DoesNotHold(format!("io_uring is faster than mmap in none of the {cells} cells compared"))
    } else {
        Verdict::HoldsIf(format!("only in {} of {cells} cells: {}", wins.len(), wins.join("; ")))
    }
}
