//! Horizontal bar plots: throughput by backend for one workload (with the spread of repeats),
//! and cost per GB (CPU seconds, major faults) by backend for every workload.

use super::{
    BOLD_GRID, FONT, LIGHT_GRID, Plot, WIDTH, backend_entries, cell_colors, color, color_of, keyed_linear, svg, tick,
    with_legend,
};
use crate::base::error::Result;
use crate::report::cells::{Cell, Group, Metric};
use crate::report::plots::HouseStyle;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Throughput of every measured backend in `group`, best on top; whiskers span min–max of repeats.
pub(crate) fn throughput(group: &Group<'_>, id: String) -> Result<Option<Plot>> {
    let ranked = group.ranked();
    if ranked.is_empty() {
        return Ok(None);
    }
    let metric = group.metric;
    let n = ranked.len();
    let title = format!("Throughput: {}", group.label);
    let repeats = ranked.iter().any(|c| c.ok.len() > 1);
    let x_desc = if repeats {
        format!("{}; bar = median, whiskers = min..max of repeats", metric.axis())
    } else {
        format!("{} (one run each)", metric.axis())
    };
    let x_desc = if metric == Metric::Scan { format!("{x_desc}; labels: GB/s · lines/s") } else { x_desc };
    let names: Vec<String> = ranked.iter().map(|c| c.label()).collect();
    // Only what is drawn goes in the legend (the null backend is the floor, not a bar).
    let entries: Vec<_> = cell_colors(group).into_iter().filter(|(l, _)| names.contains(l)).collect();
    let label_width = names.iter().map(|n| n.chars().count() as u32 * 8 + 16).max().unwrap_or(60).clamp(80, 260);
    let height = 130 + 34 * n as u32;
    let text = svg((WIDTH + label_width.saturating_sub(100), height), |root| {
        let area = with_legend(root, "backend", &entries)?;
        // Scans label each bar with lines/s too: more room at the right.
        let headroom = if metric == Metric::Scan { 1.7 } else { 1.2 };
        let xmax = ranked.iter().map(|c| metric.scale(c.throughput(metric).max)).fold(0.0, f64::max) * headroom;
        let keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let mut chart = ChartBuilder::on(&area)
            .caption(&title, (FONT, 19))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(label_width)
            .build_cartesian_2d(0.0..xmax.max(1e-6), keyed_linear(-0.5..n as f64 - 0.5, keys))?;
        let label = |y: &f64| names.get(n - 1 - (y.round().max(0.0) as usize).min(n - 1)).cloned().unwrap_or_default();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(x_desc.as_str())
            .y_desc("backend")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&label)
            .house_style()
            .draw()?;
        let value_style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        for (i, c) in ranked.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let t = c.throughput(metric);
            let (med, min, max) = (metric.scale(t.median), metric.scale(t.min), metric.scale(t.max));
            chart.draw_series([Rectangle::new(
                [(0.0, y - 0.32), (med, y + 0.32)],
                color_of(&entries, &c.label()).filled(),
            )])?;
            if t.n > 1 {
                // Whiskers min..max with end caps; no marker, so the value label stays legible.
                let whisker = BLACK.stroke_width(1);
                chart.draw_series([PathElement::new(vec![(min, y), (max, y)], whisker)])?;
                for x in [min, max] {
                    chart.draw_series([PathElement::new(vec![(x, y - 0.15), (x, y + 0.15)], whisker)])?;
                }
            }
            // Scans: the lines counted per second beside the GB/s.
            let value = match c.lines_per_s().filter(|_| metric == Metric::Scan) {
                Some(l) => format!("{} · {} M lines/s", tick(med), tick(l / 1e6)),
                None => tick(med),
            };
            let label = EmptyElement::at((max.max(med), y)) + Text::new(value, (6, 0), value_style.clone());
            chart.draw_series([label])?;
        }
        Ok(())
    })?;
    Ok(Some(Plot { id, title, svg: text }))
}

/// Which cost a cost plot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cost {
    CpuPerGb,
    MajorFaultsPerGb,
}

/// One bar per measured cell, grouped by workload: what moving a GB cost each backend.
pub(crate) fn cost(groups: &[Group<'_>], which: Cost, id: String) -> Result<Option<Plot>> {
    let value = |c: &Cell<'_>| match which {
        Cost::CpuPerGb => c.cpu_s_per_gb.median,
        Cost::MajorFaultsPerGb => c.majflt_per_gb.median,
    };
    // (label, cells) per workload with measurements; bars laid out top to bottom.
    let rows: Vec<(&str, Vec<&Cell<'_>>)> = groups
        .iter()
        .map(|g| (g.label.as_str(), g.cells.iter().filter(|c| c.is_measured() && !c.is_null()).collect::<Vec<_>>()))
        .filter(|(_, cells)| !cells.is_empty())
        .collect();
    if rows.is_empty() {
        return Ok(None);
    }
    let (title, x_desc) = match which {
        Cost::CpuPerGb => ("CPU time per GB moved", "CPU seconds (user + system) per GB"),
        Cost::MajorFaultsPerGb => {
            ("Major page faults per GB moved", "major faults per GB (faults that waited for the disk)")
        }
    };
    // y positions: each workload is a band of bars with a gap of one bar between bands.
    let mut bars: Vec<(f64, &Cell<'_>)> = Vec::new();
    let mut centers: Vec<(f64, String)> = Vec::new();
    let mut y = 0.0;
    for (label, cells) in rows.iter().rev() {
        let start = y;
        for c in cells.iter().rev() {
            bars.push((y, c));
            y += 1.0;
        }
        let short: String = if label.chars().count() > 26 {
            label.chars().take(25).collect::<String>() + "…"
        } else {
            label.to_string()
        };
        centers.push(((start + y - 1.0) / 2.0, short));
        y += 1.0;
    }
    let top = y - 1.0;
    let entries = backend_entries(rows.iter().flat_map(|(_, cells)| cells.iter().map(|c| c.backend.as_str())));
    let height = 120 + 14 * bars.len() as u32 + 12 * rows.len() as u32;
    let text = svg((WIDTH, height.max(260)), |root| {
        let area = with_legend(root, "backend", &entries)?;
        let xmax = bars.iter().map(|(_, c)| value(c)).fold(0.0, f64::max).max(1e-3) * 1.2;
        let keys: Vec<f64> = centers.iter().map(|(c, _)| *c).collect();
        let mut chart = ChartBuilder::on(&area)
            .caption(title, (FONT, 19))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(180)
            .build_cartesian_2d(0.0..xmax, keyed_linear(-0.7..top + 0.7, keys))?;
        let label = |v: &f64| {
            centers
                .iter()
                .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
                .map(|c| c.1.clone())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(x_desc)
            .y_desc("workload")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&label)
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 15))
            .bold_line_style(BOLD_GRID)
            .light_line_style(LIGHT_GRID)
            .draw()?;
        let value_style = (FONT, 12).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
        for (y, c) in &bars {
            let v = value(c);
            chart.draw_series([Rectangle::new([(0.0, y - 0.4), (v, y + 0.4)], color(&c.backend).filled())])?;
            chart.draw_series([EmptyElement::at((v, *y)) + Text::new(tick(v), (4, 0), value_style.clone())])?;
        }
        Ok(())
    })?;
    Ok(Some(Plot { id, title: title.to_string(), svg: text }))
}
