//! The article's own plots (SVG), beside the general report's: throughput over time under the
//! memory limit, and sequential throughput by block size.

use super::figures::Cell;
use super::suite::{MEMORY_LIMIT, SEQ_COLD, SEQ_WARM};
use crate::base::error::Result;
use crate::base::units::format_size;
use crate::report::plots::{FONT, PALETTE, Plot, WIDTH, color, log_range, svg, tick, with_legend};
use crate::result::{Measured, Results};
use crate::workload::backends::BackendKind as B;
use plotters::prelude::*;

/// (label, colour, points) of one line.
type Line<L, P> = (L, RGBColor, Vec<P>);

/// Every plot the results allow.
pub(crate) fn all(r: &Results) -> Result<Vec<Plot>> {
    let mut out = Vec::new();
    out.extend(memory_series(r)?);
    out.extend(sequential(r)?);
    Ok(out)
}

/// (seconds, ops per second, major faults per second) per full interval of one run.
fn series(m: &Measured) -> Vec<(f64, f64, f64)> {
    let step = m.series.interval_ns.max(1) as f64 / 1e9;
    m.series
        .points
        .iter()
        .filter(|p| p.t_ns <= m.runtime_ns && p.ops > 0)
        .map(|p| (p.t_ns as f64 / 1e9, p.ops as f64 / step, p.major_faults as f64 / step))
        .collect()
}

/// The completed run whose throughput is closest to the cell's median (repeats differ over time).
fn median_run<'a>(c: &Cell<'a>) -> Option<&'a Measured> {
    let median = c.median(|m| m.iops)?;
    c.ok().min_by(|a, b| (a.iops - median).abs().total_cmp(&(b.iops - median).abs()))
}

/// Random reads under the memory limit: IOPS and major faults per second over time, one line
/// per backend (its median run).
pub(crate) fn memory_series(r: &Results) -> Result<Option<Plot>> {
    let variants = [
        ("mmap", Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Mmap && p.tuning.advice.is_none()), color("mmap")),
        (
            "mmap, MADV_RANDOM",
            Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Mmap && p.tuning.advice.is_some()),
            PALETTE[8],
        ),
        ("pread", Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Buffered), color("buffered")),
        ("O_DIRECT", Cell::select(r, MEMORY_LIMIT, |p| p.backend == B::Direct), color("direct")),
    ];
    let lines: Vec<Line<&str, (f64, f64, f64)>> = variants
        .iter()
        .filter_map(|(l, c, col)| Some((*l, *col, series(median_run(c)?))))
        .filter(|x| !x.2.is_empty())
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let plan = r.runs.iter().find(|x| x.workload.name == MEMORY_LIMIT).map(|x| &x.workload);
    let title = match plan {
        Some(p) => format!(
            "Random 4 KiB reads, {} file in a {} memory cgroup",
            format_size(p.size_bytes),
            p.limits.memory_limit_bytes.map_or("—".into(), format_size)
        ),
        None => "Random reads under a memory limit".into(),
    };
    let tmax = lines.iter().flat_map(|l| l.2.iter().map(|q| q.0)).fold(0.0, f64::max).max(1e-3);
    let (lo, hi) = log_range(lines.iter().flat_map(|l| l.2.iter().map(|q| q.1)));
    let (flo, fhi) = log_range(lines.iter().flat_map(|l| l.2.iter().map(|q| q.2)));
    let entries: Vec<(String, RGBColor)> = lines.iter().map(|l| (l.0.to_string(), l.1)).collect();
    let text = svg((WIDTH, 560), |root| {
        let area = with_legend(root, "read path", &entries)?;
        let area = area.titled(&title, (FONT, 15))?;
        let (upper, lower) = area.split_vertically(270);
        let mut top = ChartBuilder::on(&upper)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..tmax, (lo..hi).log_scale())?;
        top.configure_mesh()
            .x_desc("time since measurement start (s)")
            .y_desc("reads per second (log)")
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()?;
        let mut bottom = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..tmax, (flo..fhi).log_scale())?;
        bottom
            .configure_mesh()
            .x_desc("time since measurement start (s)")
            .y_desc("major faults per second (log)")
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()?;
        for (_, col, p) in &lines {
            top.draw_series(LineSeries::new(p.iter().map(|q| (q.0, q.1)), col.stroke_width(2)))?;
            top.draw_series(p.iter().map(|q| Circle::new((q.0, q.1), 3, col.filled())))?;
            let faults: Vec<(f64, f64)> = p.iter().filter(|q| q.2 > 0.0).map(|q| (q.0, q.2)).collect();
            bottom.draw_series(LineSeries::new(faults.iter().copied(), col.stroke_width(2)))?;
            bottom.draw_series(faults.iter().map(|q| Circle::new(*q, 3, col.filled())))?;
        }
        Ok(())
    })?;
    Ok(Some(Plot { id: "article-memory-limit-over-time".into(), title, svg: text }))
}

/// Sequential throughput by block size, one line per backend and cache state.
pub(crate) fn sequential(r: &Results) -> Result<Option<Plot>> {
    let mut lines: Vec<Line<String, (f64, f64)>> = Vec::new();
    for (name, state, dashed) in [(SEQ_WARM, "warm", false), (SEQ_COLD, "cold", true)] {
        for b in [B::Mmap, B::Buffered, B::Uring, B::UringDirect] {
            let mut pts: Vec<(f64, f64)> = Vec::new();
            let mut sizes: Vec<u64> =
                r.runs.iter().filter(|x| x.workload.name == name).map(|x| x.workload.bs_bytes).collect();
            sizes.sort_unstable();
            sizes.dedup();
            for bs in sizes {
                if let Some(v) = Cell::select(r, name, move |p| p.backend == b && p.bs_bytes == bs)
                    .median(|m| m.bw_bytes_per_s / 1e9)
                {
                    pts.push(((bs / 1024) as f64, v));
                }
            }
            if !pts.is_empty() {
                let mut c = color(b.name());
                if dashed {
                    c = RGBColor(c.0 / 2 + 64, c.1 / 2 + 64, c.2 / 2 + 64);
                }
                lines.push((format!("{} {state}", b.name()), c, pts));
            }
        }
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let title = "Sequential reads: throughput by block size".to_string();
    let (xlo, xhi) = log_range(lines.iter().flat_map(|l| l.2.iter().map(|q| q.0)));
    let ymax = lines.iter().flat_map(|l| l.2.iter().map(|q| q.1)).fold(0.0, f64::max).max(1e-3) * 1.1;
    let entries: Vec<(String, RGBColor)> = lines.iter().map(|l| (l.0.clone(), l.1)).collect();
    let text = svg((WIDTH, 380), |root| {
        let area = with_legend(root, "backend, cache", &entries)?;
        let area = area.titled(&title, (FONT, 15))?;
        let mut chart = ChartBuilder::on(&area)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((xlo..xhi).log_scale(), 0.0..ymax)?;
        chart
            .configure_mesh()
            .x_desc("block size (KiB, log)")
            .y_desc("GB/s")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 13))
            .draw()?;
        for (_, col, p) in &lines {
            chart.draw_series(LineSeries::new(p.iter().copied(), col.stroke_width(2)))?;
            chart.draw_series(p.iter().map(|q| Circle::new(*q, 3, col.filled())))?;
        }
        Ok(())
    })?;
    Ok(Some(Plot { id: "article-sequential-by-block-size".into(), title, svg: text }))
}
