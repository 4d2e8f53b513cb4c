//! Plots as standalone SVG strings (plotters' SVG backend): every plot has a title, titled
//! axes with units, and a legend beside the plotting area so it never hides data.

pub(crate) mod bars;
pub(crate) mod latency;
pub(crate) mod series;
pub(crate) mod sweep;

use crate::base::error::{Error, Result};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;

/// One finished plot.
#[derive(Debug, Clone)]
pub struct Plot {
    /// File stem, unique within a report: `03-spectrum-randread-4k-warm`.
    pub id: String,
    pub(crate) title: String,
    pub svg: String,
}

pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Width of every plot; tall plots grow downward only.
pub(crate) const WIDTH: u32 = 780;
/// Width of the legend strip at the right of each plot.
pub(crate) const LEGEND_W: u32 = 190;
pub(crate) const FONT: &str = "sans-serif";

/// Draws into an SVG string of `size` pixels.
pub(crate) fn svg(size: (u32, u32), draw: impl FnOnce(&Area<'_>) -> DrawResult) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let drawn = root.fill(&WHITE).map_err(Into::into).and_then(|_| draw(&root)).and_then(|_| {
            root.present()?;
            Ok(())
        });
        drawn.map_err(|e| Error::Bug(format!("cannot draw a plot: {e}")))?;
    }
    Ok(out)
}

/// The same colour for a backend in every plot.
pub(crate) fn color(backend: &str) -> RGBColor {
    match backend {
        "buffered" => RGBColor(31, 119, 180),
        "direct" => RGBColor(255, 127, 14),
        "mmap" => RGBColor(44, 160, 44),
        "uring" => RGBColor(214, 39, 40),
        "uring-direct" => RGBColor(148, 103, 189),
        "tokio" => RGBColor(140, 86, 75),
        "tokio-pread" => RGBColor(227, 119, 194),
        "null" => RGBColor(127, 127, 127),
        other => {
            // Unknown names still get a stable colour.
            let h = other.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32));
            RGBColor((h & 0x7f) as u8 + 60, ((h >> 8) & 0x7f) as u8 + 60, ((h >> 16) & 0x7f) as u8 + 60)
        }
    }
}

/// Splits off a legend strip at the right and draws `entries` (label, colour) into it.
pub(crate) fn with_legend<'a>(
    root: &Area<'a>,
    title: &str,
    entries: &[(String, RGBColor)],
) -> std::result::Result<Area<'a>, Box<dyn std::error::Error>> {
    let (w, _) = root.dim_in_pixel();
    let (plot, legend) = root.split_horizontally(w.saturating_sub(LEGEND_W));
    let style = (FONT, 15).into_font().color(&BLACK);
    legend.draw(&Text::new(title.to_string(), (8, 40), (FONT, 15).into_font().style(FontStyle::Bold)))?;
    for (i, (label, c)) in entries.iter().enumerate() {
        let y = 62 + i as i32 * 22;
        legend.draw(&Rectangle::new([(8, y), (26, y + 13)], c.filled()))?;
        legend.draw(&Text::new(label.clone(), (32, y), style.clone()))?;
    }
    Ok(plot)
}

/// Distinct colours for cells of one backend that differ in a setting (Tableau 10, then more).
pub(crate) const PALETTE: [RGBColor; 12] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
    RGBColor(255, 187, 120),
];

/// (label, colour) of every measured cell of `group`: backend colours when only the backend
/// varies, otherwise one colour per cell so variants of a backend stay apart.
pub(crate) fn cell_colors(group: &crate::report::cells::Group<'_>) -> Vec<(String, RGBColor)> {
    let variants = group.has_variants();
    group
        .cells
        .iter()
        .filter(|c| c.is_measured())
        .enumerate()
        .map(|(i, c)| (c.label(), if variants { PALETTE[i % PALETTE.len()] } else { color(&c.backend) }))
        .collect()
}

/// The colour of `label` in `entries`.
pub(crate) fn color_of(entries: &[(String, RGBColor)], label: &str) -> RGBColor {
    entries.iter().find(|(l, _)| l == label).map(|(_, c)| *c).unwrap_or(BLACK)
}

/// Legend entries for backends, in the order given, without duplicates.
pub(crate) fn backend_entries<'s>(backends: impl IntoIterator<Item = &'s str>) -> Vec<(String, RGBColor)> {
    let mut out: Vec<(String, RGBColor)> = Vec::new();
    for b in backends {
        if !out.iter().any(|(n, _)| n == b) {
            out.push((b.to_string(), color(b)));
        }
    }
    out
}

/// A tick label for a positive figure: `0.005`, `0.5`, `12`, `1.2K`, `3M`.
pub(crate) fn tick(v: f64) -> String {
    let (v, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e4 => (v / 1e3, "K"),
        _ => (v, ""),
    };
    let a = v.abs();
    let text = if v == 0.0 || (a >= 10.0 || v == v.trunc()) {
        format!("{v:.0}")
    } else {
        // Two significant digits, trailing zeros dropped: 0.25, 0.005, 1.5.
        let decimals = (1.0 - a.log10().floor()).max(0.0) as usize;
        let t = format!("{v:.decimals$}");
        if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.').to_string() } else { t }
    };
    format!("{text}{suffix}")
}

/// Grid lines: bold at labelled ticks, faint in between, so data stays in front.
pub(crate) const BOLD_GRID: RGBColor = RGBColor(205, 205, 205);
pub(crate) const LIGHT_GRID: RGBColor = RGBColor(242, 242, 242);

/// The text sizes and grid colours every plot's mesh shares.
pub(crate) trait HouseStyle {
    fn house_style(&mut self) -> &mut Self;
}

impl<X: Ranged, Y: Ranged, DB: DrawingBackend> HouseStyle for plotters::chart::MeshStyle<'_, '_, X, Y, DB> {
    fn house_style(&mut self) -> &mut Self {
        self.label_style((FONT, 14)).axis_desc_style((FONT, 15)).bold_line_style(BOLD_GRID).light_line_style(LIGHT_GRID)
    }
}

/// Range for a log axis covering `values`, padded a little and never empty.
pub(crate) fn log_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| *v > 0.0 && v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.1, 10.0);
    }
    (lo / 1.5, (hi * 1.5).max(lo * 2.0))
}

/// A file-name-safe version of a label.
pub(crate) fn slug(text: &str) -> String {
    let mut s: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').chars().take(60).collect()
}

/// An f64 axis (linear or log) with ticks exactly at `keys`: plotters' own `with_key_points`
/// loses the value formatter that mesh labels need.
pub(crate) struct Keyed<R: Ranged<ValueType = f64>> {
    inner: R,
    keys: Vec<f64>,
}

impl<R: Ranged<ValueType = f64>> Keyed<R> {
    pub(crate) fn new(inner: impl Into<R>, keys: Vec<f64>) -> Self {
        Keyed { inner: inner.into(), keys }
    }
}

impl<R: Ranged<ValueType = f64>> Ranged for Keyed<R> {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Light grid lines only where the inner axis would draw its own.
        if hint.weight().allow_light_points() { Vec::new() } else { self.keys.clone() }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

/// A linear axis over `range` with ticks at `keys`.
pub(crate) fn keyed_linear(
    range: std::ops::Range<f64>,
    keys: Vec<f64>,
) -> Keyed<plotters::coord::types::RangedCoordf64> {
    Keyed::new(range, keys)
}

/// A log axis over `range` with ticks at `keys`.
pub(crate) fn keyed_log(
    range: std::ops::Range<f64>,
    keys: Vec<f64>,
) -> Keyed<plotters::coord::combinators::LogCoord<f64>> {
    Keyed { inner: range.log_scale().into(), keys }
}

/// An f64 axis that is linear or logarithmic as decided at run time.
pub(crate) enum Switch {
    Linear(plotters::coord::types::RangedCoordf64),
    Log(plotters::coord::combinators::LogCoord<f64>),
}

impl Switch {
    pub(crate) fn new(log: bool, linear: std::ops::Range<f64>, logarithmic: std::ops::Range<f64>) -> Switch {
        if log { Switch::Log(logarithmic.log_scale().into()) } else { Switch::Linear(linear.into()) }
    }
}

impl Ranged for Switch {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        match self {
            Switch::Linear(r) => r.map(value, limit),
            Switch::Log(r) => r.map(value, limit),
        }
    }
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match self {
            Switch::Linear(r) => r.key_points(hint),
            Switch::Log(r) => r.key_points(hint),
        }
    }
    fn range(&self) -> std::ops::Range<f64> {
        match self {
            Switch::Linear(r) => r.range(),
            Switch::Log(r) => r.range(),
        }
    }
}
