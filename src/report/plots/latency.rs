//! Latency plots from the stored HdrHistograms (repeats merged exactly): the percentile
//! spectrum, with the x axis in "nines" as HdrHistogram plots draw it, and the CDF.

use super::{FONT, Plot, WIDTH, cell_colors, color_of, keyed_linear, log_range, svg, tick, with_legend};
use crate::base::error::Result;
use crate::base::stats::Hist;
use crate::report::cells::{Cell, Group};
use crate::report::plots::HouseStyle;
use plotters::prelude::*;

/// x positions of the labelled percentiles: −log10(1 − q).
const NINES: [(f64, &str); 5] =
    [(std::f64::consts::LOG10_2, "50%"), (1.0, "90%"), (2.0, "99%"), (3.0, "99.9%"), (4.0, "99.99%")];

fn measured<'g, 'a>(group: &'g Group<'a>) -> Vec<&'g Cell<'a>> {
    group.cells.iter().filter(|c| c.is_measured() && !c.hist.is_empty()).collect()
}

/// Points (nines, latency in µs) from 50% up to the last percentile the op count resolves.
pub(crate) fn spectrum_points(h: &Hist) -> Vec<(f64, f64)> {
    let (start, end) = (NINES[0].0, NINES[4].0);
    // Beyond −log10(1/count) the percentile is just the maximum.
    let limit = (h.len().max(2) as f64).log10().min(end);
    let steps = 160;
    (0..=steps)
        .map(|i| start + (end - start) * i as f64 / steps as f64)
        .filter(|x| *x <= limit + 1e-9)
        .map(|x| (x, h.value_at_quantile(1.0 - 10f64.powf(-x)) as f64 / 1e3))
        .collect()
}

/// Points (latency in µs, cumulative %) of the CDF.
pub(crate) fn cdf_points(h: &Hist) -> Vec<(f64, f64)> {
    let mut qs: Vec<f64> = (0..=200).map(|i| i as f64 / 200.0).collect();
    qs.extend([0.999, 0.9999, 1.0]);
    qs.sort_by(f64::total_cmp);
    qs.into_iter().map(|q| (h.value_at_quantile(q).max(1) as f64 / 1e3, q * 100.0)).collect()
}

/// Latency against percentile, one line per backend.
pub(crate) fn spectrum(group: &Group<'_>, id: String) -> Result<Option<Plot>> {
    let cells = measured(group);
    if cells.is_empty() {
        return Ok(None);
    }
    let title = format!("Latency percentiles: {}{}", group.label, group.metric.per_op());
    let lines: Vec<(String, Vec<(f64, f64)>)> = cells.iter().map(|c| (c.label(), spectrum_points(&c.hist))).collect();
    let (lo, hi) = log_range(lines.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y)));
    let entries = cell_colors(group);
    let text = svg((WIDTH, 400), |root| {
        let area = with_legend(root, "backend", &entries)?;
        let keys: Vec<f64> = NINES.iter().map(|(x, _)| *x).collect();
        let mut chart = ChartBuilder::on(&area)
            .caption(&title, (FONT, 19))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(keyed_linear(NINES[0].0..NINES[4].0, keys), (lo..hi).log_scale())?;
        let nines = |x: &f64| {
            NINES
                .iter()
                .min_by(|a, b| (a.0 - x).abs().total_cmp(&(b.0 - x).abs()))
                .map(|n| n.1.to_string())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .x_desc("percentile (log scale of 1/(1 − p): \"nines\")")
            .y_desc("latency (µs, log scale)")
            .x_label_formatter(&nines)
            .y_label_formatter(&|v| tick(*v))
            .house_style()
            .draw()?;
        for (label, points) in &lines {
            chart.draw_series(LineSeries::new(points.iter().copied(), color_of(&entries, label).stroke_width(2)))?;
        }
        Ok(())
    })?;
    Ok(Some(Plot { id, title, svg: text }))
}

/// Share of operations at or below each latency, one line per backend.
pub(crate) fn cdf(group: &Group<'_>, id: String) -> Result<Option<Plot>> {
    let cells = measured(group);
    if cells.is_empty() {
        return Ok(None);
    }
    let title = format!("Latency CDF: {}{}", group.label, group.metric.per_op());
    let lines: Vec<(String, Vec<(f64, f64)>)> = cells.iter().map(|c| (c.label(), cdf_points(&c.hist))).collect();
    let (lo, hi) = log_range(lines.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| *x)));
    let entries = cell_colors(group);
    let text = svg((WIDTH, 400), |root| {
        let area = with_legend(root, "backend", &entries)?;
        let mut chart = ChartBuilder::on(&area)
            .caption(&title, (FONT, 19))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d((lo..hi).log_scale(), 0.0..100.0)?;
        chart
            .configure_mesh()
            .x_desc("latency (µs, log scale)")
            .y_desc("operations at or below (%)")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .house_style()
            .draw()?;
        for (label, points) in &lines {
            chart.draw_series(LineSeries::new(points.iter().copied(), color_of(&entries, label).stroke_width(2)))?;
        }
        Ok(())
    })?;
    Ok(Some(Plot { id, title, svg: text }))
}
