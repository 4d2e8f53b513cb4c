//! Sweep plots: when cells differ only in block size, queue depth or threads, throughput and
//! p99 against that parameter, one line per backend.

use super::{FONT, PALETTE, Plot, WIDTH, backend_entries, color, keyed_log, log_range, svg, tick, with_legend};
use crate::base::error::Result;
use crate::report::cells::{Cell, Group, Metric, describe, flat_key, format_value, plan_key, short_key};
use crate::report::plots::HouseStyle;
use plotters::prelude::*;
use serde_json::Value;

/// The parameters a sweep can vary: (plan key, axis title).
pub(crate) const PARAMS: [(&str, &str); 3] = [
    ("bs_bytes", "block size (bytes, log scale)"),
    ("iodepth", "queue depth (log scale)"),
    ("threads", "threads (log scale)"),
];

/// Cells that differ in `param` but share the workload's shape, when they hold two or more
/// values of it. Each line is a backend, or a backend with a setting that varies too.
pub(crate) struct Sweep<'g, 'a> {
    pub(crate) param: &'static str,
    pub(crate) axis: &'static str,
    pub(crate) cells: Vec<&'g Cell<'a>>,
}

/// What makes two workloads the same shape; other settings (advice, io_uring options…) split
/// a sweep into lines instead.
const SHAPE: [&str; 13] = [
    "rw",
    "rwmixread_pct",
    "bs_bytes",
    "size_bytes",
    "runtime_ns",
    "io_size_bytes",
    "ramp_ns",
    "iodepth",
    "threads",
    "distribution",
    "durability",
    "cache",
    "verify",
];

fn value_of(c: &Cell<'_>, param: &str) -> f64 {
    match param {
        "bs_bytes" => c.plan.bs_bytes as f64,
        "iodepth" => c.plan.iodepth as f64,
        _ => c.plan.threads as f64,
    }
}

/// Every sweep in the results, in the order the cells first appear. The null backend is left
/// out: its figures would flatten every other line.
pub(crate) fn find<'g, 'a>(groups: &'g [Group<'a>]) -> Vec<Sweep<'g, 'a>> {
    let cells: Vec<&Cell> =
        groups.iter().flat_map(|g| g.cells.iter()).filter(|c| c.is_measured() && !c.is_null()).collect();
    let mut out = Vec::new();
    for (param, axis) in PARAMS {
        let mut buckets: Vec<(String, Vec<&Cell>)> = Vec::new();
        for c in &cells {
            let full = plan_key(c.plan, &[]);
            let shape: serde_json::Map<String, Value> = SHAPE
                .iter()
                .filter(|k| **k != param)
                .filter_map(|k| Some((k.to_string(), full.get(*k)?.clone())))
                .collect();
            let key = Value::Object(shape).to_string();
            match buckets.iter_mut().find(|(k, _)| *k == key) {
                Some((_, v)) => v.push(c),
                None => buckets.push((key, vec![c])),
            }
        }
        for (_, bucket) in buckets {
            let mut values: Vec<f64> = bucket.iter().map(|c| value_of(c, param)).collect();
            values.sort_by(f64::total_cmp);
            values.dedup();
            if values.len() >= 2 {
                out.push(Sweep { param, axis, cells: bucket });
            }
        }
    }
    out
}

/// The line a cell belongs to: its backend plus any setting outside the shape that varies.
fn line_labels(sweep: &Sweep<'_, '_>) -> Vec<String> {
    let keys: Vec<serde_json::Map<String, Value>> = sweep
        .cells
        .iter()
        .map(|c| flat_key(c.plan).into_iter().filter(|(k, _)| !SHAPE.contains(&k.as_str())).collect())
        .collect();
    let mut varying: Vec<&String> = Vec::new();
    for k in keys.iter().flat_map(|m| m.keys()) {
        let values: Vec<&Value> = keys.iter().filter_map(|m| m.get(k)).collect();
        if !varying.contains(&k) && values.iter().any(|v| *v != values[0]) {
            varying.push(k);
        }
    }
    sweep
        .cells
        .iter()
        .zip(&keys)
        .map(|(c, m)| {
            let mut label = c.backend.clone();
            for k in &varying {
                if let Some(v) = m.get(k.as_str()) {
                    label.push_str(&format!(" {}={}", short_key(k), format_value(k, v)));
                }
            }
            label
        })
        .collect()
}

/// (x, median throughput, min, max, p99 µs) of one cell.
type Point = (f64, f64, f64, f64, f64);
/// A labelled line of points.
type Line = (String, Vec<Point>);

/// The sweep's lines, one per backend (or variant), with their colours: each line's points
/// sorted by the swept parameter.
fn sweep_lines(sweep: &Sweep<'_, '_>, metric: Metric) -> (Vec<(String, RGBColor)>, Vec<Line>) {
    let param = sweep.param;
    let labels = line_labels(sweep);
    let mut names: Vec<String> = Vec::new();
    for l in &labels {
        if !names.contains(l) {
            names.push(l.clone());
        }
    }
    let variants = names.len() > backend_entries(sweep.cells.iter().map(|c| c.backend.as_str())).len();
    let backends: Vec<(String, RGBColor)> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let backend = n.split(' ').next().unwrap_or("");
            (n.clone(), if variants { PALETTE[i % PALETTE.len()] } else { color(backend) })
        })
        .collect();
    let lines = backends
        .iter()
        .map(|(b, _)| {
            let mut pts: Vec<_> = sweep
                .cells
                .iter()
                .zip(&labels)
                .filter(|(_, l)| *l == b)
                .map(|(c, _)| {
                    let t = c.throughput(metric);
                    let s = |v| metric.scale(v);
                    (value_of(c, param), s(t.median), s(t.min), s(t.max), c.p99.median / 1e3)
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            (b.clone(), pts)
        })
        .collect();
    (backends, lines)
}

pub(crate) fn plot(sweep: &Sweep<'_, '_>, id: String) -> Result<Plot> {
    let param = sweep.param;
    let first = sweep.cells[0].plan;
    let metric = match Metric::for_plan(first) {
        m @ (Metric::Records | Metric::Scan) => m,
        _ if param == "bs_bytes" => Metric::Bandwidth,
        m => m,
    };
    let what = match param {
        "bs_bytes" => "block size",
        "iodepth" => "queue depth",
        _ => "threads",
    };
    let title = format!("Sweep over {what}: {}", describe(first, &[param]));
    let (backends, lines) = sweep_lines(sweep, metric);
    let mut xs: Vec<f64> = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let (xlo, xhi) = (xs[0] / 1.25, xs[xs.len() - 1] * 1.25);
    let ymax = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.3)).fold(0.0, f64::max).max(1e-6) * 1.1;
    let (lo, hi) = log_range(lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.4)));
    let xfmt = |v: &f64| {
        if param == "bs_bytes" { crate::base::units::format_size(v.round() as u64) } else { format!("{}", v.round()) }
    };
    let text = svg((WIDTH, 560), |root| {
        let area = with_legend(root, "backend", &backends)?;
        let area = area.titled(&title, (FONT, 19))?;
        let (upper, lower) = area.split_vertically(260);
        let mut top = ChartBuilder::on(&upper)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(keyed_log(xlo..xhi, xs.clone()), 0.0..ymax)?;
        top.configure_mesh()
            .x_desc(sweep.axis)
            .y_desc(metric.axis())
            .x_label_formatter(&xfmt)
            .y_label_formatter(&|v| tick(*v))
            .house_style()
            .draw()?;
        let mut bottom = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(keyed_log(xlo..xhi, xs.clone()), (lo..hi).log_scale())?;
        bottom
            .configure_mesh()
            .x_desc(sweep.axis)
            .y_desc("p99 latency (µs, log scale)")
            .x_label_formatter(&xfmt)
            .y_label_formatter(&|v| tick(*v))
            .house_style()
            .draw()?;
        for (label, p) in &lines {
            let c = super::color_of(&backends, label);
            top.draw_series(LineSeries::new(p.iter().map(|q| (q.0, q.1)), c.stroke_width(2)))?;
            top.draw_series(
                p.iter()
                    .filter(|q| q.3 > q.2)
                    .map(|q| ErrorBar::new_vertical(q.0, q.2, q.1, q.3, c.stroke_width(1), 8)),
            )?;
            top.draw_series(p.iter().map(|q| Circle::new((q.0, q.1), 3, c.filled())))?;
            bottom.draw_series(LineSeries::new(p.iter().map(|q| (q.0, q.4)), c.stroke_width(2)))?;
            bottom.draw_series(p.iter().map(|q| Circle::new((q.0, q.4), 3, c.filled())))?;
        }
        Ok(())
    })?;
    Ok(Plot { id, title, svg: text })
}
