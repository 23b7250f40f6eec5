//! report.html: one self-contained page (inline SVG drawn with plotters' SVG backend, no scripts,
//! no external files) with a reliability diagram per model type, RPS by month against the market
//! and base rates, and the per-league table. Every number in the table is taken from the summary
//! and carries its summary.json path in a `data-key` attribute, so a reader (or a test) can check
//! one against the other.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::scores::{Block, Comparison, Forecast, GoalColumns, GoalMarket, Summary};
use super::Row;
use crate::models::model_type::ModelType;

/// Reliability bins: equal width over [0, 1].
const BINS: usize = 10;
const OUTCOME_NAMES: [&str; 3] = ["home", "draw", "away"];
const OUTCOME_COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
];
const SERIES_COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a figure: {e:?}")
}

/// Font sizes in plotters units (the SVG's font-size is the size / 1.24): tick labels and legends
/// 18 (14.5 px at full width, 12.3 px at the narrowest the page lets a chart get).
const LABEL: u32 = 18;
const AXIS: u32 = 20;
const CAPTION: u32 = 24;
/// The narrowest a chart is drawn, as a share of its natural width (a page narrower than that
/// scrolls the chart sideways instead of shrinking its text below 12 px).
const MIN_SCALE: f64 = 0.85;
/// A reliability bin with fewer forecasts, or a month with fewer matches, is marked (hollow
/// marker, no line through it) and does not set the axis range.
const FEW: usize = 30;
/// Month labels on the x axis at most (every k-th month is labelled on longer ranges).
const MAX_MONTH_LABELS: usize = 8;

/// plotters' SVG at the page's width: the viewBox keeps it, the fixed size goes, and the chart
/// never shrinks below `MIN_SCALE` of its width (the page scrolls it instead).
fn responsive(svg: String, (w, h): (u32, u32)) -> String {
    let fixed = format!("<svg width=\"{w}\" height=\"{h}\" ");
    let fluid = format!(
        "<svg width=\"100%\" style=\"min-width:{}px;max-width:{}px;height:auto\" ",
        (w as f64 * MIN_SCALE).round(),
        (w as f64 * 1.5).round()
    );
    svg.replacen(&fixed, &fluid, 1)
}

/// A named line of the monthly chart: one point per month (`None`: no row that month).
pub type MonthlySeries = (String, Vec<Option<MonthPoint>>);

/// One forecaster's mean RPS over one month's matches, with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthPoint {
    pub mean: f64,
    /// Standard error of the mean: the month's sample standard deviation / sqrt(n), or the whole
    /// series' for a month of fewer than `FEW` matches.
    pub se: f64,
    pub n: usize,
}

/// One reliability bin of one outcome: mean forecast, observed frequency, count, and the 95%
/// Wilson interval of the observed frequency.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bin {
    pub mean_forecast: f64,
    pub observed: f64,
    pub count: usize,
    pub low: f64,
    pub high: f64,
}

impl Bin {
    /// A bin from its sums: forecasts `sp`, events `sy`, `c` forecasts; its Wilson interval.
    fn from_sums(sp: f64, sy: f64, c: usize) -> Bin {
        let (low, high) = wilson(sy, c);
        Bin {
            mean_forecast: if c > 0 { sp / c as f64 } else { 0.0 },
            observed: if c > 0 { sy / c as f64 } else { 0.0 },
            count: c,
            low,
            high,
        }
    }
}

/// The 95% Wilson score interval of `hits` successes in `n` trials.
pub fn wilson(hits: f64, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (n, z) = (n as f64, 1.96f64);
    let p = hits / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Reliability bins per outcome of the forecasts of model type `name` (one series for a
/// draw-only model).
pub fn reliability(rows: &[Row], name: &str) -> Vec<(&'static str, Vec<Bin>)> {
    let mut series: BTreeMap<usize, Vec<(f64, bool)>> = BTreeMap::new();
    for r in rows {
        match r.predictions.get(name).and_then(|v| Forecast::of_values(v)) {
            Some(Forecast::ThreeWay(p)) => {
                for (k, q) in p.iter().enumerate() {
                    series.entry(k).or_default().push((*q, r.outcome == k));
                }
            }
            Some(Forecast::Draw(q)) => series.entry(1).or_default().push((q, r.outcome == 1)),
            None => {}
        }
    }
    series
        .into_iter()
        .map(|(k, points)| {
            let mut sums = vec![(0.0, 0.0, 0usize); BINS];
            for (q, hit) in points {
                let b = ((q.clamp(0.0, 1.0) * BINS as f64) as usize).min(BINS - 1);
                sums[b].0 += q;
                sums[b].1 += hit as u8 as f64;
                sums[b].2 += 1;
            }
            let bins = sums
                .into_iter()
                .map(|(sp, sy, c)| Bin::from_sums(sp, sy, c))
                .collect();
            (OUTCOME_NAMES[k], bins)
        })
        .collect()
}

/// A vertical error bar with caps from `low` to `high` at `x`.
fn error_bar(
    x: f64,
    low: f64,
    high: f64,
    cap: f64,
    style: ShapeStyle,
) -> Vec<PathElement<(f64, f64)>> {
    vec![
        PathElement::new(vec![(x, low), (x, high)], style),
        PathElement::new(vec![(x - cap, low), (x + cap, low)], style),
        PathElement::new(vec![(x - cap, high), (x + cap, high)], style),
    ]
}

fn reliability_svg(name: &str, series: &[(&'static str, Vec<Bin>)]) -> Result<String> {
    const SIZE: (u32, u32) = (620, 640);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let (upper, lower) = root.split_vertically(450);
        let mut chart = ChartBuilder::on(&upper)
            .caption(
                format!("{name}: reliability (pooled)"),
                ("sans-serif", CAPTION),
            )
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", LABEL))
            .axis_desc_style(("sans-serif", AXIS))
            .x_desc("forecast probability")
            .y_desc("observed frequency (95% interval)")
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(LineSeries::new(
                vec![(0.0, 0.0), (1.0, 1.0)],
                BLACK.mix(0.35).stroke_width(1),
            ))
            .map_err(plot_err)?;
        for (label, bins) in series {
            let k = OUTCOME_NAMES.iter().position(|n| n == label).unwrap_or(0);
            let color = OUTCOME_COLORS[k];
            let used: Vec<&Bin> = bins.iter().filter(|b| b.count > 0).collect();
            let solid: Vec<(f64, f64)> = used
                .iter()
                .filter(|b| b.count >= FEW)
                .map(|b| (b.mean_forecast, b.observed))
                .collect();
            chart
                .draw_series(LineSeries::new(solid, color.stroke_width(2)))
                .map_err(plot_err)?
                .label(*label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart
                .draw_series(used.iter().flat_map(|b| {
                    error_bar(b.mean_forecast, b.low, b.high, 0.008, color.stroke_width(1))
                }))
                .map_err(plot_err)?;
            chart
                .draw_series(used.iter().map(|b| {
                    let style = if b.count >= FEW {
                        color.filled()
                    } else {
                        WHITE.filled()
                    };
                    Circle::new((b.mean_forecast, b.observed), 5, style)
                }))
                .map_err(plot_err)?;
            chart
                .draw_series(
                    used.iter().filter(|b| b.count < FEW).map(|b| {
                        Circle::new((b.mean_forecast, b.observed), 5, color.stroke_width(2))
                    }),
                )
                .map_err(plot_err)?;
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", LABEL))
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(plot_err)?;
        counts_panel(&lower, series)?;
        root.present().map_err(plot_err)?;
    }
    Ok(responsive(svg, SIZE))
}

/// The lower panel of a reliability figure: how many forecasts fell in each bin.
fn counts_panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    series: &[(&'static str, Vec<Bin>)],
) -> Result<()> {
    let max_count = series
        .iter()
        .flat_map(|(_, b)| b.iter().map(|b| b.count))
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut counts = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..1f64, 0f64..max_count * 1.1)
        .map_err(plot_err)?;
    counts
        .configure_mesh()
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", AXIS))
        .x_desc("forecast probability (bins of 0.1)")
        .y_desc("forecasts")
        .y_labels(4)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()
        .map_err(plot_err)?;
    let width = 1.0 / BINS as f64;
    let bar = width / (series.len().max(1) as f64 + 1.0);
    for (s, (label, bins)) in series.iter().enumerate() {
        let k = OUTCOME_NAMES.iter().position(|n| n == label).unwrap_or(0);
        let color = OUTCOME_COLORS[k];
        counts
            .draw_series(
                bins.iter()
                    .enumerate()
                    .filter(|(_, b)| b.count > 0)
                    .map(|(i, b)| {
                        let x0 = i as f64 * width + bar * (s as f64 + 0.5);
                        Rectangle::new([(x0, 0.0), (x0 + bar, b.count as f64)], color.filled())
                    }),
            )
            .map_err(plot_err)?;
    }
    Ok(())
}

/// Mean RPS per calendar month ("YYYY-MM") of each three-way model type, the opening and closing
/// market and base rates, on the rows with opening odds (all rows when none has them), each with
/// its standard error and count. Month labels carry the month's match count: "2023-06 (12)".
pub fn rps_by_month(rows: &[Row], names: &[&str]) -> (Vec<String>, Vec<MonthlySeries>) {
    let with_market = rows.iter().any(|r| r.market_open.is_some());
    let used: Vec<&Row> = rows
        .iter()
        .filter(|r| !with_market || r.market_open.is_some())
        .collect();
    let month = |r: &Row| {
        let (y, m, _) = r.date.ymd();
        format!("{y:04}-{m:02}")
    };
    let months: Vec<String> = used
        .iter()
        .map(|r| month(r))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let index: BTreeMap<&str, usize> = months
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let rps = |p: [f64; 3], o: usize| {
        let mut obs = [0.0; 3];
        obs[o] = 1.0;
        let c1 = p[0] - obs[0];
        let c2 = p[0] + p[1] - obs[0] - obs[1];
        0.5 * (c1 * c1 + c2 * c2)
    };
    let series_of = |get: &dyn Fn(&Row) -> Option<[f64; 3]>| -> Vec<Option<MonthPoint>> {
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); months.len()];
        for r in &used {
            if let Some(p) = get(r) {
                values[index[month(r).as_str()]].push(rps(p, r.outcome));
            }
        }
        let all: Vec<f64> = values.iter().flatten().copied().collect();
        let series_sd = sd(&all);
        values.iter().map(|v| month_point(v, series_sd)).collect()
    };
    let mut counts = vec![0usize; months.len()];
    for r in &used {
        counts[index[month(r).as_str()]] += 1;
    }
    let mut series = Vec::new();
    for name in names {
        let s = series_of(&|r: &Row| match r
            .predictions
            .get(*name)
            .and_then(|v| Forecast::of_values(v))
        {
            Some(Forecast::ThreeWay(p)) => Some(p),
            _ => None,
        });
        if s.iter().any(Option::is_some) {
            series.push((name.to_string(), s));
        }
    }
    for (label, get) in [
        (
            "market (opening)",
            &(|r: &Row| r.market_open) as &dyn Fn(&Row) -> Option<[f64; 3]>,
        ),
        ("market (closing)", &|r: &Row| r.market_close),
        ("base rates", &|r: &Row| Some(r.base_rates)),
    ] {
        let s = series_of(get);
        if s.iter().any(Option::is_some) {
            series.push((label.to_string(), s));
        }
    }
    let labels = months
        .iter()
        .zip(&counts)
        .map(|(m, n)| format!("{m} ({n})"))
        .collect();
    (labels, series)
}

/// Sample standard deviation (0 below two values).
fn sd(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
}

/// Mean and standard error of one month's values (`None` for no value). A month of fewer than
/// `FEW` matches takes the spread of the whole series (its own few values say little about it),
/// so a one-match month gets a wide interval, not none.
fn month_point(values: &[f64], series_sd: f64) -> Option<MonthPoint> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let spread = if n >= FEW { sd(values) } else { series_sd };
    Some(MonthPoint {
        mean,
        se: spread / (n as f64).sqrt(),
        n,
    })
}

/// How a series of the monthly chart is drawn: colour, dash (None: solid), marker.
fn monthly_style(label: &str, i: usize) -> (RGBColor, Option<(u32, u32)>, Marker) {
    match label {
        "market (opening)" => (RGBColor(0, 0, 0), Some((10, 6)), Marker::Square),
        "market (closing)" => (RGBColor(110, 110, 110), Some((3, 5)), Marker::Triangle),
        "base rates" => (RGBColor(150, 150, 20), Some((14, 4)), Marker::Cross),
        _ => (SERIES_COLORS[i % SERIES_COLORS.len()], None, Marker::Circle),
    }
}

#[derive(Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Cross,
}

/// The y range: the means and intervals of the months with at least `FEW` matches (of every
/// month when none has that many), with headroom above for the legend.
fn monthly_range(series: &[MonthlySeries]) -> (f64, f64) {
    let points = || series.iter().flat_map(|(_, v)| v.iter().flatten());
    let any_full = points().any(|p| p.n >= FEW);
    let (lo, hi) = points()
        .filter(|p| !any_full || p.n >= FEW)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.mean - 1.96 * p.se), b.max(p.mean + 1.96 * p.se))
        });
    if !lo.is_finite() {
        return (0.0, 0.3);
    }
    let pad = ((hi - lo) * 0.1).max(0.005);
    ((lo - pad).max(0.0), hi + 5.0 * pad)
}

fn rps_by_month_svg(months: &[String], series: &[MonthlySeries]) -> Result<String> {
    const SIZE: (u32, u32) = (980, 660);
    let (lo, hi) = monthly_range(series);
    let step = months.len().div_ceil(MAX_MONTH_LABELS).max(1);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let (upper, lower) = root.split_vertically(480);
        let last = months.len().saturating_sub(1).max(1) as f64;
        let x_range = -0.5f64..last + 0.5;
        let label_of = |x: &f64| {
            let i = x.round();
            let on_tick = (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize).is_multiple_of(step);
            if on_tick {
                months.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        let mut chart = ChartBuilder::on(&upper)
            .caption("RPS by month (lower is better)", ("sans-serif", CAPTION))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(10)
            .y_label_area_size(75)
            .build_cartesian_2d(x_range.clone(), lo..hi)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .label_style(("sans-serif", LABEL))
            .axis_desc_style(("sans-serif", AXIS))
            .x_labels(0)
            .y_desc("mean RPS (95% interval)")
            .draw()
            .map_err(plot_err)?;
        let k = series.len().max(1) as f64;
        let dodge = (0.5 / k).min(0.08);
        // The markets and base rates first, the models on top of them.
        let mut order: Vec<usize> = (0..series.len()).collect();
        order.sort_by_key(|&i| monthly_style(&series[i].0, i).1.is_none());
        for i in order {
            let dx = (i as f64 - (k - 1.0) / 2.0) * dodge;
            draw_monthly_series(&mut chart, &series[i], i, dx, dodge, (lo, hi))?;
        }
        chart
            .configure_series_labels()
            .label_font(("sans-serif", LABEL))
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(plot_err)?;
        month_counts_panel(&lower, months, x_range, &label_of)?;
        root.present().map_err(plot_err)?;
    }
    Ok(responsive(svg, SIZE))
}

/// One series of the monthly chart: its line through the months with enough matches, an
/// interval on every month, and its markers (hollow for sparse months), shifted by `dx`.
fn draw_monthly_series<'a>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    series: &MonthlySeries,
    i: usize,
    dx: f64,
    dodge: f64,
    range: (f64, f64),
) -> Result<()> {
    let (label, values) = series;
    let (color, dash, kind) = monthly_style(label, i);
    let clamp = |v: f64| v.clamp(range.0, range.1);
    let points: Vec<(f64, MonthPoint)> = values
        .iter()
        .enumerate()
        .filter_map(|(m, v)| v.map(|p| (m as f64 + dx, p)))
        .collect();
    let line: Vec<(f64, f64)> = points
        .iter()
        .filter(|(_, p)| p.n >= FEW)
        .map(|(x, p)| (*x, clamp(p.mean)))
        .collect();
    let style = color.stroke_width(if dash.is_some() { 2 } else { 3 });
    let anno = match dash {
        Some((size, gap)) => chart
            .draw_series(DashedLineSeries::new(line, size, gap, style))
            .map_err(plot_err)?,
        None => chart
            .draw_series(LineSeries::new(line, style))
            .map_err(plot_err)?,
    };
    anno.label(label.as_str()).legend(move |(x, y)| match dash {
        Some((size, gap)) => {
            DashedPathElement::new(vec![(x, y), (x + 28, y)], size, gap, style).into_dyn()
        }
        None => PathElement::new(vec![(x, y), (x + 28, y)], style).into_dyn(),
    });
    chart
        .draw_series(points.iter().flat_map(|(x, p)| {
            error_bar(
                *x,
                clamp(p.mean - 1.96 * p.se),
                clamp(p.mean + 1.96 * p.se),
                dodge * 0.4,
                color.mix(0.8).stroke_width(1),
            )
        }))
        .map_err(plot_err)?;
    let marks = points.iter().map(|(x, p)| {
        let style = if p.n >= FEW {
            color.filled()
        } else {
            color.stroke_width(2)
        };
        ((*x, clamp(p.mean)), style)
    });
    match kind {
        Marker::Circle => chart.draw_series(marks.map(|(at, s)| Circle::new(at, 5, s))),
        Marker::Square => chart.draw_series(
            marks.map(|(at, s)| EmptyElement::at(at) + Rectangle::new([(-5, -5), (5, 5)], s)),
        ),
        Marker::Triangle => chart.draw_series(marks.map(|(at, s)| TriangleMarker::new(at, 6, s))),
        Marker::Cross => {
            chart.draw_series(marks.map(|(at, s)| Cross::new(at, 5, s.stroke_width(2))))
        }
    }
    .map_err(plot_err)?;
    Ok(())
}

/// The lower panel of the monthly chart: matches per month, and the month labels.
fn month_counts_panel(
    area: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    months: &[String],
    x_range: std::ops::Range<f64>,
    label_of: &dyn Fn(&f64) -> String,
) -> Result<()> {
    let counts: Vec<usize> = months
        .iter()
        .map(|m| {
            m.rsplit_once('(')
                .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
                .unwrap_or(0)
        })
        .collect();
    let max = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .margin(12)
        .margin_right(40)
        .x_label_area_size(60)
        .y_label_area_size(75)
        .build_cartesian_2d(x_range, 0f64..max * 1.1)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .label_style(("sans-serif", LABEL))
        .axis_desc_style(("sans-serif", AXIS))
        .x_labels(months.len().max(2) * 2 + 1)
        .x_label_formatter(label_of)
        .y_labels(3)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("matches")
        .draw()
        .map_err(plot_err)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, &n)| {
            let color = if n >= FEW {
                RGBColor(120, 120, 120).filled()
            } else {
                RGBColor(200, 120, 40).filled()
            };
            Rectangle::new([(i as f64 - 0.3, 0.0), (i as f64 + 0.3, n as f64)], color)
        }))
        .map_err(plot_err)?;
    Ok(())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A table cell showing `value` to 4 decimals, tagged with its summary.json path.
fn num(key: &str, value: Option<f64>) -> String {
    match value {
        Some(v) => format!("<td data-key=\"{}\">{v:.4}</td>", escape(key)),
        None => "<td>-</td>".to_string(),
    }
}

fn diff_cell(key: &str, c: Option<&Comparison>, metric: &str) -> String {
    let p = c.and_then(|c| match metric {
        "rps" => c.difference.rps.as_ref(),
        _ => Some(&c.difference.log_loss),
    });
    match p {
        Some(p) => format!(
            "<td><span data-key=\"{k}.difference.{metric}.mean\">{:+.4}</span> (<span data-key=\"{k}.difference.{metric}.se\">{:.4}</span>)</td>",
            p.mean,
            p.se,
            k = escape(key),
        ),
        None => "<td>-</td>".to_string(),
    }
}

/// Whether a block is of a three-way model (RPS) or a draw-only one (the draw event's log loss).
fn three_way(b: &Block) -> bool {
    b.model.rps.is_some()
}

/// One row of a per-league table: every column in one unit, the table's (RPS for three-way
/// models, the draw event's log loss for draw models).
fn table_row(label: &str, key: &str, ty: &str, b: &Block) -> String {
    let metric = if three_way(b) { "rps" } else { "log_loss" };
    let pick = |s: &super::scores::Scores| match metric {
        "rps" => s.rps,
        _ => Some(s.log_loss),
    };
    let open_key = format!("{key}.market_open");
    let close_key = format!("{key}.market_close");
    let mut row = format!(
        "<tr><td>{}</td><td>{}</td><td data-key=\"{}.n\">{}</td>",
        escape(label),
        escape(ty),
        escape(key),
        b.n
    );
    if three_way(b) {
        row.push_str(&num(&format!("{key}.model.rps"), b.model.rps));
    }
    row.push_str(&num(
        &format!("{key}.model.log_loss"),
        Some(b.model.log_loss),
    ));
    row.push_str(&num(&format!("{key}.model.brier"), Some(b.model.brier)));
    if three_way(b) {
        row.push_str(&num(&format!("{key}.model.accuracy"), b.model.accuracy));
    }
    row.push_str(&num(&format!("{key}.model.ece"), Some(b.model.ece)));
    row.push_str(&num(&format!("{key}.model.draw_auc"), b.model.draw_auc));
    let open = b.market_open.as_ref();
    let close = b.market_close.as_ref();
    row.push_str(&num(
        &format!("{open_key}.market.{metric}"),
        open.and_then(|c| pick(&c.market)),
    ));
    row.push_str(&diff_cell(&open_key, open, metric));
    row.push_str(&num(
        &format!("{close_key}.market.{metric}"),
        close.and_then(|c| pick(&c.market)),
    ));
    row.push_str(&diff_cell(&close_key, close, metric));
    row.push_str(&num(
        &format!("{key}.base_rates.{metric}"),
        pick(&b.base_rates),
    ));
    row.push_str("</tr>\n");
    row
}

const THREE_WAY_HEAD: &str = "<thead><tr><th>league</th><th>model</th><th>n</th>\
     <th>RPS</th><th>log loss (3-way)</th><th>Brier (3-class)</th><th>accuracy</th>\
     <th>ECE</th><th>draw AUC</th><th>opening market RPS</th><th>model &minus; opening, RPS (SE)</th>\
     <th>closing market RPS</th><th>model &minus; closing, RPS (SE)</th><th>base rates RPS</th></tr></thead>\n";
const DRAW_HEAD: &str = "<thead><tr><th>league</th><th>model</th><th>n</th>\
     <th>draw log loss</th><th>draw Brier</th><th>draw ECE</th><th>draw AUC</th>\
     <th>opening market draw log loss</th><th>model &minus; opening, draw log loss (SE)</th>\
     <th>closing market draw log loss</th><th>model &minus; closing, draw log loss (SE)</th>\
     <th>constant draw rate log loss</th></tr></thead>\n";

/// The per-league tables: three-way models (every column in RPS or a stated 3-way score) and
/// draw models (every column a score of the draw event), each league then pooled.
fn per_league_tables(summary: &Summary) -> String {
    let mut html = String::from("<h2>Per league</h2>\n");
    for (id, head, want_three_way, title) in [
        ("per-league", THREE_WAY_HEAD, true, "Three-way models"),
        ("per-league-draw", DRAW_HEAD, false, "Draw models"),
    ] {
        let mut rows = String::new();
        for (league, blocks) in &summary.by_league {
            for (ty, b) in blocks
                .iter()
                .filter(|(_, b)| three_way(b) == want_three_way)
            {
                rows.push_str(&table_row(
                    league,
                    &format!("by_league.{league}.{ty}"),
                    ty,
                    b,
                ));
            }
        }
        for (ty, b) in summary
            .pooled
            .iter()
            .filter(|(_, b)| three_way(b) == want_three_way)
        {
            rows.push_str(
                &table_row("pooled", &format!("pooled.{ty}"), ty, b).replacen(
                    "<tr>",
                    "<tr class=\"pooled\">",
                    1,
                ),
            );
        }
        if rows.is_empty() {
            continue;
        }
        html.push_str(&format!(
            "<h3>{title}</h3>\n<div class=\"scroll\"><table id=\"{id}\">\n{head}<tbody>\n{rows}</tbody>\n</table></div>\n"
        ));
    }
    html.push_str(
        "<p>Market, base-rate and difference columns compare on the same rows. A negative difference means the \
         model scored better; SE is the standard error of the mean paired difference. Every number is in \
         summary.json.</p>\n",
    );
    html
}

/// The run's metadata: what made this report, to tell two reports apart and to run it again.
fn metadata_block(summary: &Summary) -> String {
    let m = &summary.metadata;
    format!(
        "<section id=\"metadata\">\n<h2>Run</h2>\n<dl>\
         <dt>tool version</dt><dd data-meta=\"tool_version\">{}</dd>\
         <dt>command line</dt><dd><code data-meta=\"command_line\">{}</code></dd>\
         <dt>working directory</dt><dd><code>{}</code></dd>\
         <dt>data</dt><dd><code>{}</code>, fingerprint <code data-meta=\"data_fingerprint\">{}</code></dd>\
         <dt>created</dt><dd data-meta=\"created_utc\">{} UTC</dd>\
         <dt>summary.json schema</dt><dd>version {}</dd></dl>\n</section>\n",
        escape(&m.tool_version),
        escape(&m.command_line.join(" ")),
        escape(&m.working_directory),
        escape(&summary.data_dir),
        escape(&m.data_fingerprint),
        escape(&m.created_utc),
        summary.schema_version
    )
}

/// The numbers behind a reliability figure, as a table under it: each bin's forecasts, mean
/// forecast, observed frequency and 95% interval (`few`: fewer than `FEW` forecasts).
fn reliability_table(name: &str, series: &[(&'static str, Vec<Bin>)]) -> String {
    let mut rows = String::new();
    for (label, bins) in series {
        for (i, b) in bins.iter().enumerate().filter(|(_, b)| b.count > 0) {
            rows.push_str(&format!(
                "<tr class=\"{}\"><td>{label}</td><td>{:.1}-{:.1}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>\n",
                if b.count < FEW { "few" } else { "bin" },
                i as f64 / BINS as f64,
                (i + 1) as f64 / BINS as f64,
                b.count,
                b.mean_forecast,
                b.observed,
                b.low,
                b.high
            ));
        }
    }
    format!(
        "<details><summary>{} reliability numbers</summary><div class=\"scroll\"><table class=\"figure-data\" \
         id=\"reliability-data-{}\"><thead><tr><th>outcome</th><th>bin</th><th>forecasts</th><th>mean forecast</th>\
         <th>observed</th><th>95% low</th><th>95% high</th></tr></thead><tbody>\n{rows}</tbody></table></div></details>\n",
        escape(name),
        escape(name)
    )
}

/// The numbers behind the monthly chart: each series' mean RPS, standard error and matches per
/// month (`few`: fewer than `FEW` matches).
fn monthly_table(months: &[String], series: &[MonthlySeries]) -> String {
    let mut rows = String::new();
    for (label, values) in series {
        for (m, p) in months.iter().zip(values) {
            if let Some(p) = p {
                let month = m.split(' ').next().unwrap_or_default();
                rows.push_str(&format!(
                    "<tr class=\"{}\"><td>{}</td><td>{month}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>\n",
                    if p.n < FEW { "few" } else { "month" },
                    escape(label),
                    p.n,
                    p.mean,
                    p.se,
                    p.mean - 1.96 * p.se,
                    p.mean + 1.96 * p.se
                ));
            }
        }
    }
    format!(
        "<details><summary>RPS by month, numbers</summary><div class=\"scroll\"><table class=\"figure-data\" \
         id=\"rps-by-month-data\"><thead><tr><th>series</th><th>month</th><th>matches</th><th>mean RPS</th><th>SE</th>\
         <th>95% low</th><th>95% high</th></tr></thead><tbody>\n{rows}</tbody></table></div></details>\n"
    )
}

/// Reliability bins of model type `name`'s over 2.5 goals probability (column `column` of its
/// predictions), pooled over the leagues.
pub fn over_reliability(rows: &[Row], name: &str, column: usize) -> Vec<Bin> {
    let mut sums = vec![(0.0, 0.0, 0usize); BINS];
    for r in rows {
        let Some(&q) = r.predictions.get(name).and_then(|v| v.get(column)) else {
            continue;
        };
        let b = ((q.clamp(0.0, 1.0) * BINS as f64) as usize).min(BINS - 1);
        sums[b].0 += q;
        sums[b].1 += super::goal_events(r.home_goals, r.away_goals)[0] as u8 as f64;
        sums[b].2 += 1;
    }
    sums.into_iter()
        .map(|(sp, sy, c)| Bin::from_sums(sp, sy, c))
        .collect()
}

/// One row of the goal markets' table, every number tagged with its summary.json path.
fn goal_market_row(label: &str, key: &str, ty: &str, market: &str, g: &GoalMarket) -> String {
    let k = format!("{key}.{market}");
    let mut row = format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td data-key=\"{}.n\">{}</td>",
        escape(label),
        escape(ty),
        if market == "over_2_5" {
            "over 2.5"
        } else {
            "both teams score"
        },
        escape(&k),
        g.n
    );
    row.push_str(&num(&format!("{k}.model.log_loss"), Some(g.model.log_loss)));
    row.push_str(&num(&format!("{k}.model.brier"), Some(g.model.brier)));
    row.push_str(&num(
        &format!("{k}.base_rate.log_loss"),
        Some(g.base_rate.log_loss),
    ));
    row.push_str(&format!(
        "<td><span data-key=\"{k}.base_rate_difference.log_loss.mean\">{:+.4}</span> (<span data-key=\"{k}.base_rate_difference.log_loss.se\">{:.4}</span>)</td>",
        g.base_rate_difference.log_loss.mean,
        g.base_rate_difference.log_loss.se,
        k = escape(&k),
    ));
    for (side, c) in [
        ("market_open", g.market_open.as_ref()),
        ("market_close", g.market_close.as_ref()),
    ] {
        row.push_str(&num(
            &format!("{k}.{side}.market.log_loss"),
            c.map(|c| c.market.log_loss),
        ));
        row.push_str(&match c {
            Some(c) => format!(
                "<td><span data-key=\"{k}.{side}.difference.log_loss.mean\">{:+.4}</span> (<span data-key=\"{k}.{side}.difference.log_loss.se\">{:.4}</span>)</td>",
                c.difference.log_loss.mean,
                c.difference.log_loss.se,
                k = escape(&k),
            ),
            None => "<td>-</td>".to_string(),
        });
    }
    row.push_str("</tr>\n");
    row
}

/// The goal markets' section: a reliability diagram of over 2.5 goals per model type that
/// predicts it, and the table of both goal markets per league and pooled.
fn goal_markets_section(
    summary: &Summary,
    rows: &[Row],
    names: &[&str],
    goals: &BTreeMap<String, GoalColumns>,
) -> Result<String> {
    let mut html = String::new();
    let with_goals: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| goals.get(*n).is_some_and(|g| g.over_2_5.is_some()))
        .collect();
    if with_goals.is_empty() {
        return Ok(html);
    }
    html.push_str("<h2>Goal markets</h2>\n");
    for name in &with_goals {
        let Some(column) = goals.get(*name).and_then(|g| g.over_2_5) else {
            continue;
        };
        let series = [("over 2.5", over_reliability(rows, name, column))];
        let total: usize = series[0].1.iter().map(|b| b.count).sum();
        html.push_str(&format!(
            "<figure id=\"reliability-over-2-5-{}\" style=\"width:min(100%,620px)\">\n<div class=\"scroll\">{}</div>\n\
             <figcaption>{}: observed frequency of over 2.5 goals against its forecast probability, pooled over every \
             league ({} forecasts), bins of 0.1, each with its 95% Wilson interval; a hollow marker (and no line \
             through it) is a bin of fewer than {FEW} forecasts. Below, how many forecasts fell in each bin.</figcaption>\n{}</figure>\n",
            escape(name),
            reliability_svg(&format!("{name} over 2.5 goals"), &series)?,
            escape(name),
            total,
            reliability_table(&format!("over-2-5-{name}"), &series)
        ));
    }
    html.push_str(
        "<div class=\"scroll\"><table id=\"goal-markets\">\n<thead><tr><th>league</th><th>model</th><th>market</th><th>n</th>\
         <th>log loss</th><th>Brier</th><th>base rate</th><th>model &minus; base rate (SE)</th>\
         <th>opening odds</th><th>model &minus; opening (SE)</th><th>closing odds</th>\
         <th>model &minus; closing (SE)</th></tr></thead>\n<tbody>\n",
    );
    let blocks = summary
        .by_league
        .iter()
        .flat_map(|(l, m)| {
            m.iter()
                .map(move |(ty, b)| (l.clone(), format!("by_league.{l}.{ty}"), ty, b))
        })
        .chain(
            summary
                .pooled
                .iter()
                .map(|(ty, b)| ("pooled".to_string(), format!("pooled.{ty}"), ty, b)),
        );
    for (label, key, ty, b) in blocks {
        for (market, g) in [("over_2_5", &b.over_2_5), ("btts", &b.btts)] {
            if let Some(g) = g {
                let row = goal_market_row(&label, &key, ty, market, g);
                html.push_str(&if label == "pooled" {
                    row.replacen("<tr>", "<tr class=\"pooled\">", 1)
                } else {
                    row
                });
            }
        }
    }
    html.push_str(
        "</tbody>\n</table></div>\n<p>Log loss of the binary event. Base rate: the league's frequency of the event on the \
         training data in force. Over/under odds: Pinnacle (<code>P&gt;2.5</code>/<code>P&lt;2.5</code>, closing \
         <code>PC&gt;2.5</code>/<code>PC&lt;2.5</code>), else the market average, margin removed proportionally.</p>\n",
    );
    Ok(html)
}

/// The whole report page.
pub fn report_html(
    summary: &Summary,
    rows: &[Row],
    types: &[&'static dyn ModelType],
    goals: &BTreeMap<String, GoalColumns>,
) -> Result<String> {
    let names: Vec<&str> = types
        .iter()
        .map(|t| t.spec().name)
        .filter(|n| summary.pooled.contains_key(*n))
        .collect();
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!(
        "<title>auto-train backtest {} .. {}</title>\n",
        escape(&summary.from),
        escape(&summary.to)
    ));
    html.push_str(
        "<style>body{font-family:sans-serif;font-size:1rem;line-height:1.4;margin:1.5rem;color:#222}\
         .scroll{overflow-x:auto;max-width:100%}\
         table{border-collapse:collapse;font-size:0.875rem}\
         td,th{border:1px solid #ccc;padding:0.2em 0.45em;text-align:right}\
         td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}\
         tr.pooled{font-weight:bold;background:#f3f3f3}\
         figure{margin:0.5rem 1rem 0.5rem 0;display:inline-block;vertical-align:top;max-width:100%}\
         figure svg{display:block}\
         figcaption{font-size:0.875rem;color:#555;max-width:40rem}\
         dl{display:grid;grid-template-columns:max-content 1fr;gap:0.2em 1em;font-size:0.875rem}\
         dt{font-weight:bold}dd{margin:0;overflow-wrap:anywhere}</style>\n</head>\n<body>\n",
    );
    html.push_str(&format!(
        "<h1>Backtest {} .. {}</h1>\n<p>Refresh: {}. {} matches on {} match days, {} leagues, {} models trained. \
         Each day predicted from the data as it stood that morning (matches dated before it); \
         fixtures without results, statistics or closing odds. Data: <code>{}</code>.</p>\n",
        escape(&summary.from),
        escape(&summary.to),
        escape(&summary.refresh),
        summary.matches,
        summary.match_days,
        summary.leagues.len(),
        summary.trainings,
        escape(&summary.data_dir)
    ));
    html.push_str(&metadata_block(summary));

    html.push_str("<h2>Reliability</h2>\n");
    for name in &names {
        let series = reliability(rows, name);
        let total: usize = series
            .first()
            .map(|(_, b)| b.iter().map(|b| b.count).sum())
            .unwrap_or(0);
        html.push_str(&format!(
            "<figure id=\"reliability-{}\" style=\"width:min(100%,620px)\">\n<div class=\"scroll\">{}</div>\n<figcaption>{}: observed frequency against \
             forecast probability, pooled over every league ({} forecasts per outcome), bins of 0.1, each with its 95% \
             Wilson interval; a hollow marker (and no line through it) is a bin of fewer than {FEW} forecasts. Below, \
             how many forecasts fell in each bin.</figcaption>\n{}</figure>\n",
            escape(name),
            reliability_svg(name, &series)?,
            escape(name),
            total,
            reliability_table(name, &series)
        ));
    }

    html.push_str("<h2>RPS by month</h2>\n");
    let (months, series) = rps_by_month(rows, &names);
    html.push_str(&format!(
        "<figure id=\"rps-by-month\" style=\"width:min(100%,980px)\">\n<div class=\"scroll\">{}</div>\n<figcaption>Mean RPS per month of each three-way \
         model type (solid lines, circles) against the opening market (black dashes, squares), the closing market \
         (grey dots, triangles) and base rates (olive dashes, crosses), pooled over the leagues, on the matches with \
         opening odds; each mean with &plusmn;1.96 standard errors. A month of fewer than {FEW} matches has hollow \
         markers, no line through it and does not set the axis range (a point beyond the axis is drawn at its edge). \
         Below, the matches of each month.</figcaption>\n{}</figure>\n",
        rps_by_month_svg(&months, &series)?,
        monthly_table(&months, &series)
    ));

    html.push_str(&goal_markets_section(summary, rows, &names, goals)?);
    html.push_str(&per_league_tables(summary));
    html.push_str("</body>\n</html>\n");
    Ok(html)
}
