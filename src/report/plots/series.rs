//! Time series of one workload: throughput and p99 per interval, one line per backend, from
//! the run closest to each cell's median. A collapse mid-run (cache filling, writeback) shows here.

use super::{FONT, Plot, Switch, WIDTH, cell_colors, color_of, log_range, svg, tick, with_legend};
use crate::base::error::Result;
use crate::report::cells::{Group, Metric};
use crate::report::plots::HouseStyle;
use crate::result::Measured;
use plotters::prelude::*;

/// (seconds since measurement start, throughput in the metric's unit, p99 in µs).
pub(crate) type Point = (f64, f64, f64);

/// One point per interval of the run's series.
pub(crate) fn points(m: &Measured, metric: Metric) -> Vec<Point> {
    let step = m.series.interval_ns.max(1);
    m.series
        .points
        .iter()
        .filter_map(|p| {
            // The last interval ends with the run, usually before its boundary.
            let end = p.t_ns.min(m.runtime_ns.max(p.t_ns.saturating_sub(step) + 1));
            let len = end - p.t_ns.saturating_sub(step);
            // A sliver of an interval at the end holds too few operations to mean anything.
            if len < step / 2 || p.ops == 0 {
                return None;
            }
            let secs = len as f64 / 1e9;
            let raw = if metric.counts_ops() { p.ops as f64 / secs } else { p.bytes as f64 / secs };
            Some((end as f64 / 1e9, metric.scale(raw), p.p99_ns as f64 / 1e3))
        })
        .collect()
}

pub(crate) fn plot(group: &Group<'_>, id: String) -> Result<Option<Plot>> {
    let lines: Vec<(String, Vec<Point>)> = group
        .cells
        .iter()
        .filter(|c| !c.is_null())
        .filter_map(|c| Some((c.label(), points(c.median_run()?.measured.as_ref()?, group.metric))))
        .filter(|(_, p)| !p.is_empty())
        .collect();
    if lines.is_empty() {
        return Ok(None);
    }
    let title = format!("Over time: {}", group.label);
    let tmax = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).fold(0.0, f64::max).max(1e-3);
    let ymax = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).fold(0.0, f64::max).max(1e-6) * 1.1;
    let ymin = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).fold(f64::INFINITY, f64::min);
    // Backends far apart share the panel only on a log scale; close ones read better linear.
    let log_throughput = ymin > 0.0 && ymax / ymin > 20.0;
    let (tlo, thi) = log_range(lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)));
    let (lo, hi) = log_range(lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.2)));
    let entries: Vec<_> = cell_colors(group).into_iter().filter(|(l, _)| lines.iter().any(|(n, _)| n == l)).collect();
    let text = svg((WIDTH, 560), |root| {
        let area = with_legend(root, "backend", &entries)?;
        let area = area.titled(&title, (FONT, 19))?;
        let (upper, lower) = area.split_vertically(260);
        let mut top = ChartBuilder::on(&upper)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..tmax, Switch::new(log_throughput, 0.0..ymax, tlo..thi))?;
        let y_desc = format!("{}{}", group.metric.axis(), if log_throughput { ", log scale" } else { "" });
        top.configure_mesh()
            .x_desc("time since measurement start (s)")
            .y_desc(y_desc.as_str())
            .y_label_formatter(&|v| tick(*v))
            .house_style()
            .draw()?;
        let mut bottom = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..tmax, (lo..hi).log_scale())?;
        bottom
            .configure_mesh()
            .x_desc("time since measurement start (s)")
            .y_desc("p99 latency (µs, log scale)")
            .y_label_formatter(&|v| tick(*v))
            .house_style()
            .draw()?;
        for (label, p) in &lines {
            let c = color_of(&entries, label);
            let style = c.stroke_width(2);
            top.draw_series(LineSeries::new(p.iter().map(|q| (q.0, q.1)), style))?;
            top.draw_series(p.iter().map(|q| Circle::new((q.0, q.1), 3, c.filled())))?;
            bottom.draw_series(LineSeries::new(p.iter().map(|q| (q.0, q.2)), style))?;
            bottom.draw_series(p.iter().map(|q| Circle::new((q.0, q.2), 3, c.filled())))?;
        }
        Ok(())
    })?;
    Ok(Some(Plot { id, title, svg: text }))
}
