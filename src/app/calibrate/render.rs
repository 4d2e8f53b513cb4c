//! The calibration for people (a line per cell on the terminal, `calibration.md`) and for
//! scripts (`calibration.json`).

use super::fio::Figures;
use super::{Calibration, CellResult, Status};
use crate::base::error::Result;
use crate::base::units::{format_ns, format_size};
use std::fmt::Write;
use std::path::PathBuf;

const WIDTHS: [usize; 6] = [40, 13, 13, 6, 11, 11];

/// The column heads of the terminal table.
pub fn header() -> String {
    let [id, ib, fio, ratio, p50a, p50b] = WIDTHS;
    format!(
        "{:<id$} {:>ib$} {:>fio$} {:>ratio$} {:>p50a$} {:>p50b$}  matched work | fio job",
        "cell", "iobench", "fio", "ratio", "p50 iobench", "p50 fio"
    )
}

/// One cell on the terminal: figures, ratio, p50s, and the work both sides did.
pub fn line(c: &CellResult) -> String {
    let [id, ib, fio, ratio, p50a, p50b] = WIDTHS;
    let work = format!("{} | {}", c.matched_work, c.fio_job);
    match (c.status, &c.iobench_median, &c.fio_median, c.ratio) {
        (Status::Ok, Some(a), Some(b), Some(r)) => format!(
            "{:<id$} {:>ib$} {:>fio$} {:>ratio$.2} {:>p50a$} {:>p50b$}  {work}",
            c.id,
            figure(c.metric, a),
            figure(c.metric, b),
            r,
            format_ns(a.p50_ns),
            format_ns(b.p50_ns)
        ),
        (status, ..) => {
            let reason = c.reason.as_deref().unwrap_or("");
            format!("{:<id$} {}: {reason}  ({work})", c.id, status_word(status))
        }
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Skipped => "skipped",
        Status::Failed => "FAILED",
        Status::Interrupted => "interrupted",
    }
}

/// `851.2 K IOPS`, `22.19 M IOPS`, `2.34 GB/s`: the cell's metric, human-sized.
fn figure(metric: &str, f: &Figures) -> String {
    if metric == "iops" {
        match f.iops {
            v if v >= 1e6 => format!("{:.2} M IOPS", v / 1e6),
            v if v >= 1e3 => format!("{:.1} K IOPS", v / 1e3),
            v => format!("{v:.0} IOPS"),
        }
    } else if f.bw_bytes_per_s >= 1e9 {
        format!("{:.2} GB/s", f.bw_bytes_per_s / 1e9)
    } else {
        format!("{:.0} MB/s", f.bw_bytes_per_s / 1e6)
    }
}

/// `1 pair`, `3 pairs`.
pub fn pairs(n: u32) -> String {
    format!("{n} pair{}", if n == 1 { "" } else { "s" })
}

/// The one line naming every cell below `--min-ratio` (and every failed one), if any.
pub fn below_line(cal: &Calibration) -> Option<String> {
    let below = cal.below();
    if below.is_empty() {
        return None;
    }
    let named: Vec<String> = below
        .iter()
        .map(|c| match c.ratio {
            Some(r) if c.status == Status::Ok => format!("{} {r:.2}", c.id),
            _ => format!("{} failed", c.id),
        })
        .collect();
    Some(format!(
        "{} of {} cells below --min-ratio {}: {}",
        below.len(),
        cal.cells.len(),
        cal.min_ratio,
        named.join(", ")
    ))
}

/// The machine in one paragraph: CPU, memory, kernel, filesystem, device, fio.
fn machine(cal: &Calibration) -> String {
    let e = &cal.environment;
    let gib = e.memory_bytes as f64 / (1u64 << 30) as f64;
    let device = match &e.block_device {
        Some(d) => format!(
            " (`{}` {}, scheduler {}, {} B logical / {} B physical, read_ahead_kb {})",
            d.name, d.model, d.scheduler, d.logical_block_bytes, d.physical_block_bytes, d.read_ahead_kb
        ),
        None => String::new(),
    };
    let ceilings = match &e.memory_ceilings {
        Some(c) => format!(
            "; one core's memory read {:.1} GB/s, memcpy {:.1} GB/s",
            c.read_bytes_per_s / 1e9,
            c.memcpy_bytes_per_s / 1e9
        ),
        None => String::new(),
    };
    format!(
        "Machine: {} vCPUs ({}), {gib:.1} GiB RAM, Linux {}, {} on `{}`{device}, THP `{}`{ceilings}; {} (`{}`). \
         The full environment is in `calibration.json`.",
        e.cpus,
        e.cpu_model,
        e.kernel,
        e.fs_type,
        e.device,
        e.thp_enabled,
        cal.fio_version,
        cal.fio_path.display()
    )
}

/// `calibration.md`: the machine, the method, the table, and what matched work means.
pub(crate) fn markdown(cal: &Calibration) -> String {
    let mut md = String::new();
    let (y, m, d, ..) = crate::base::units::utc_parts(cal.created_unix_s);
    let _ = writeln!(md, "# iobench vs fio on this machine ({y:04}-{m:02}-{d:02})\n");
    let _ = writeln!(md, "{}\n", machine(cal));
    let _ = writeln!(
        md,
        "Made with `{}` (raw figures of every pair and both sides' settings: `calibration.json`): each cell \
         runs iobench and fio on the same {} file (iobench's own data file; the write cell gives fio a file of its \
         own), alternating iobench, fio, iobench, fio…, {} of {} each; the ratio is the median of the \
         per-pair ratios of iobench's throughput to fio's (IOPS for 4 KiB blocks, bytes/s for 1 MiB). p50 is \
         total latency on both sides (fio with `lat_percentiles=1`).{}\n",
        cal.command,
        format_size(cal.size_bytes),
        pairs(cal.pairs),
        format_ns(cal.runtime_ns as f64),
        if cal.complete { "" } else { " **Interrupted: only the cells below finished.**" }
    );
    let _ = writeln!(md, "| cell | fio job | iobench | fio | ratio | p50 iobench | p50 fio | matched work |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for c in &cal.cells {
        let _ = writeln!(md, "{}", row(c));
    }
    let verdict = match below_line(cal) {
        Some(l) => format!("**{l}.**"),
        None => format!("Every ratio is at least {} (`--min-ratio`).", cal.min_ratio),
    };
    let _ = writeln!(md, "\n{verdict}\n");
    md.push_str(MATCHED_WORK);
    md
}

fn row(c: &CellResult) -> String {
    match (c.status, &c.iobench_median, &c.fio_median, c.ratio) {
        (Status::Ok, Some(a), Some(b), Some(r)) => format!(
            "| {} | {} | {} | {} | **{r:.2}** | {} | {} | {} |",
            c.id,
            c.fio_job,
            figure(c.metric, a),
            figure(c.metric, b),
            format_ns(a.p50_ns),
            format_ns(b.p50_ns),
            c.matched_work
        ),
        (status, ..) => format!(
            "| {} | {} | {}: {} | | | | | {} |",
            c.id,
            c.fio_job,
            status_word(status),
            c.reason.as_deref().unwrap_or("").replace('|', "/"),
            c.matched_work
        ),
    }
}

const MATCHED_WORK: &str = "## Matched work\n\n\
- **consume**: fio never looks at the bytes it reads, so iobench's descriptor backends run with \
`consume = none`; fio's mmap engine memcpy's each block out of the mapping, so iobench's mmap cells run with \
`consume = copy`.\n\
- **advice**: fio's default `fadvise_hint=1` applies `POSIX_FADV_RANDOM` (random jobs) or \
`POSIX_FADV_SEQUENTIAL` to every file it opens, and for its mmap engine `MADV_RANDOM` / `MADV_SEQUENTIAL` \
to the mapping; iobench sets `fadvise` (buffered, uring) or `advice` (mmap) to the same. O_DIRECT cells \
take no hint: the page cache is not involved.\n\
- **buffers**: page-aligned on both sides (fio `--iomem_align=4k`). Without O_DIRECT, fio reads into \
malloc's pointer as it is, 16 bytes past a page boundary, and the kernel's copy into a buffer that is not \
cache-line aligned ran at half speed on an AMD EPYC (8 against 17 GB/s for 1 MiB reads from the page cache).\n\
- **random map**: both sides read each block once per pass (fio's default; iobench's `randommap`).\n\
- **cache**: warm cells read the file first (fio `--invalidate=0` once it is resident), O_DIRECT cells leave \
it as it is, and the write cell starts cold on both sides (fio's default `invalidate=1` on its own file).\n";

/// Writes `calibration.json` and `calibration.md` into the calibration's folder, atomically.
pub fn write(cal: &Calibration) -> Result<(PathBuf, PathBuf)> {
    let json = cal.out_dir.join("calibration.json");
    let md = cal.out_dir.join("calibration.md");
    let text = serde_json::to_string_pretty(cal).expect("a calibration always serializes");
    crate::result::write_atomic(&json, text.as_bytes())?;
    crate::result::write_atomic(&md, markdown(cal).as_bytes())?;
    Ok((json, md))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::calibrate::{Pair, cells};
    use crate::workload::plan::{Plan, PlanContext};

    fn cell(id: &str, status: Status, ratio: Option<f64>) -> CellResult {
        let c = cells::all().into_iter().find(|c| c.id == id).unwrap();
        let raw = c.raw(std::path::Path::new("/tmp/d"), 64 << 20, 200).unwrap();
        let f = Figures { iops: 16_800.0, bw_bytes_per_s: 68.8e6, p50_ns: 56_000.0 };
        CellResult {
            id: id.into(),
            metric: c.metric().key(),
            matched_work: c.matched_work(),
            fio_job: c.fio_label(),
            status,
            reason: (status != Status::Ok).then(|| "fio failed: engine not loadable".into()),
            ratio,
            iobench_median: ratio.map(|_| f),
            fio_median: ratio.map(|_| f),
            pairs: ratio.map(|r| vec![Pair { iobench: f, fio: f, ratio: r }]).unwrap_or_default(),
            iobench_workload: Plan::from_raw(&raw, PlanContext::default()).unwrap().0,
            iobench_notes: Vec::new(),
            fio_args: Vec::new(),
        }
    }

    #[test]
    fn lines_rows_and_the_verdict_name_the_cells() {
        let ok = cell("direct-randread-4k-qd1", Status::Ok, Some(0.5));
        let l = line(&ok);
        assert!(l.starts_with("direct-randread-4k-qd1") && l.contains("16.8 K IOPS") && l.contains("0.50"), "{l}");
        assert!(l.contains("psync direct=1"), "{l}");
        let failed = cell("uring-direct-read-1m-qd8", Status::Failed, None);
        assert!(line(&failed).contains("FAILED: fio failed: engine not loadable"));
        assert_eq!(row(&failed).matches('|').count(), row(&ok).matches('|').count(), "same columns");
        let mut cal = Calibration {
            schema_version: 1,
            iobench_version: String::new(),
            created_unix_s: 0,
            command: "iobench calibrate".into(),
            complete: true,
            pairs: 1,
            runtime_ns: 200_000_000,
            size_bytes: 64 << 20,
            min_ratio: 0.9,
            fio_version: "fio-3.33".into(),
            fio_path: "/usr/bin/fio".into(),
            environment: Default::default(),
            cells: vec![ok, failed, cell("null-4k", Status::Ok, Some(3.0))],
            out_dir: PathBuf::new(),
        };
        let verdict = below_line(&cal).unwrap();
        assert_eq!(
            verdict,
            "2 of 3 cells below --min-ratio 0.9: direct-randread-4k-qd1 0.50, uring-direct-read-1m-qd8 failed"
        );
        let md = markdown(&cal);
        assert!(
            md.contains("| direct-randread-4k-qd1 | psync direct=1 | 16.8 K IOPS | 16.8 K IOPS | **0.50** |"),
            "{md}"
        );
        assert!(md.contains(&format!("**{verdict}.**")), "{md}");
        cal.cells.truncate(0);
        assert!(below_line(&cal).is_none());
    }
}
