//! report.html: one self-contained page (inline SVG drawn with plotters' SVG backend, no scripts,
//! no external files) with a reliability diagram per model type, RPS by month against the market
//! and base rates, and the per-league table. Every number in the table is taken from the summary
//! and carries its summary.json path in a `data-key` attribute, so a reader (or a test) can check
//! one against the other.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
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

/// A named line of the monthly chart: one mean RPS per month (`None`: no row that month).
pub type MonthlySeries = (String, Vec<Option<f64>>);

/// One reliability bin of one outcome: mean forecast, observed frequency, count.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bin {
    pub mean_forecast: f64,
    pub observed: f64,
    pub count: usize,
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
                .map(|(sp, sy, c)| Bin {
                    mean_forecast: if c > 0 { sp / c as f64 } else { 0.0 },
                    observed: if c > 0 { sy / c as f64 } else { 0.0 },
                    count: c,
                })
                .collect();
            (OUTCOME_NAMES[k], bins)
        })
        .collect()
}

fn reliability_svg(name: &str, series: &[(&'static str, Vec<Bin>)]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let (upper, lower) = root.split_vertically(400);
        let mut chart = ChartBuilder::on(&upper)
            .caption(format!("{name}: reliability (pooled)"), ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc("forecast probability")
            .y_desc("observed frequency")
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
            let points: Vec<(f64, f64)> = bins
                .iter()
                .filter(|b| b.count > 0)
                .map(|b| (b.mean_forecast, b.observed))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(plot_err)?
                .label(*label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(plot_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(plot_err)?;

        let max_count = series
            .iter()
            .flat_map(|(_, b)| b.iter().map(|b| b.count))
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        let mut counts = ChartBuilder::on(&lower)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0f64..1f64, 0f64..max_count * 1.1)
            .map_err(plot_err)?;
        counts
            .configure_mesh()
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
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
}

/// Mean RPS per calendar month ("YYYY-MM") of each three-way model type, the opening and closing
/// market and base rates, on the rows with opening odds (all rows when none has them).
/// Month labels carry the month's match count: "2023-06 (12)".
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
    let series_of = |get: &dyn Fn(&Row) -> Option<[f64; 3]>| -> Vec<Option<f64>> {
        let mut sums = vec![(0.0, 0usize); months.len()];
        for r in &used {
            if let Some(p) = get(r) {
                let i = index[month(r).as_str()];
                sums[i].0 += rps(p, r.outcome);
                sums[i].1 += 1;
            }
        }
        sums.into_iter()
            .map(|(s, n)| (n > 0).then(|| s / n as f64))
            .collect()
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

fn rps_by_month_svg(months: &[String], series: &[MonthlySeries]) -> Result<String> {
    let values = series.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    // Headroom above the lines for the legend.
    let (lo, hi) = if lo.is_finite() {
        let pad = ((hi - lo) * 0.1).max(0.005);
        ((lo - pad).max(0.0), hi + 4.0 * pad)
    } else {
        (0.0, 0.3)
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, 460)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let last = months.len().saturating_sub(1).max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption("RPS by month (lower is better)", ("sans-serif", 20))
            .margin(12)
            .margin_right(40)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.3f64..last + 0.3, lo..hi)
            .map_err(plot_err)?;
        let label_of = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                months.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(months.len().max(2) * 2 + 1)
            .x_label_formatter(&label_of)
            .y_desc("mean RPS")
            .draw()
            .map_err(plot_err)?;
        for (i, (label, values)) in series.iter().enumerate() {
            let color = match label.as_str() {
                "market (opening)" => RGBColor(0, 0, 0),
                "market (closing)" => RGBColor(127, 127, 127),
                "base rates" => RGBColor(188, 189, 34),
                _ => SERIES_COLORS[i % SERIES_COLORS.len()],
            };
            let points: Vec<(f64, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(m, v)| v.map(|v| (m as f64, v)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(plot_err)?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(plot_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.4))
            .draw()
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(svg)
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

fn table_row(label: &str, key: &str, ty: &str, b: &Block) -> String {
    let metric = if b.model.rps.is_some() {
        "rps"
    } else {
        "log_loss"
    };
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
    row.push_str(&num(&format!("{key}.model.rps"), b.model.rps));
    row.push_str(&num(
        &format!("{key}.model.log_loss"),
        Some(b.model.log_loss),
    ));
    row.push_str(&num(&format!("{key}.model.brier"), Some(b.model.brier)));
    row.push_str(&num(&format!("{key}.model.accuracy"), b.model.accuracy));
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
        .map(|(sp, sy, c)| Bin {
            mean_forecast: if c > 0 { sp / c as f64 } else { 0.0 },
            observed: if c > 0 { sy / c as f64 } else { 0.0 },
            count: c,
        })
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
        let bins = over_reliability(rows, name, column);
        let total: usize = bins.iter().map(|b| b.count).sum();
        html.push_str(&format!(
            "<figure id=\"reliability-over-2-5-{}\">\n{}\n<figcaption>{}: observed frequency of over 2.5 goals against its forecast probability, \
             pooled over every league ({} forecasts), bins of 0.1; below, how many forecasts fell in each bin.</figcaption>\n</figure>\n",
            escape(name),
            reliability_svg(&format!("{name} over 2.5 goals"), &[("over 2.5", bins)])?,
            escape(name),
            total
        ));
    }
    html.push_str(
        "<table id=\"goal-markets\">\n<thead><tr><th>league</th><th>model</th><th>market</th><th>n</th>\
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
        "</tbody>\n</table>\n<p>Log loss of the binary event. Base rate: the league's frequency of the event on the \
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
    html.push_str(&format!(
        "<title>auto-train backtest {} .. {}</title>\n",
        escape(&summary.from),
        escape(&summary.to)
    ));
    html.push_str(
        "<style>body{font-family:sans-serif;margin:24px;color:#222}\
         table{border-collapse:collapse;font-size:13px}\
         td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}\
         td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}\
         tr.pooled{font-weight:bold;background:#f3f3f3}\
         figure{margin:8px 16px 8px 0;display:inline-block;vertical-align:top}\
         figcaption{font-size:13px;color:#555;max-width:560px}</style>\n</head>\n<body>\n",
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

    html.push_str("<h2>Reliability</h2>\n");
    for name in &names {
        let series = reliability(rows, name);
        let total: usize = series
            .first()
            .map(|(_, b)| b.iter().map(|b| b.count).sum())
            .unwrap_or(0);
        html.push_str(&format!(
            "<figure id=\"reliability-{}\">\n{}\n<figcaption>{}: observed frequency against forecast probability, \
             pooled over every league ({} forecasts per outcome), bins of 0.1; below, how many forecasts fell in each bin.</figcaption>\n</figure>\n",
            escape(name),
            reliability_svg(name, &series)?,
            escape(name),
            total
        ));
    }

    html.push_str("<h2>RPS by month</h2>\n");
    let (months, series) = rps_by_month(rows, &names);
    html.push_str(&format!(
        "<figure id=\"rps-by-month\">\n{}\n<figcaption>Mean RPS per month of each three-way model type against the opening \
         and closing market and base rates, pooled over the leagues, on the matches with opening odds (each month's count beside it).</figcaption>\n</figure>\n",
        rps_by_month_svg(&months, &series)?
    ));

    html.push_str(&goal_markets_section(summary, rows, &names, goals)?);

    html.push_str(
        "<h2>Per league</h2>\n<table id=\"per-league\">\n<thead><tr><th>league</th><th>model</th><th>n</th>\
         <th>RPS</th><th>log loss</th><th>Brier</th><th>accuracy</th><th>ECE</th><th>draw AUC</th>\
         <th>opening market</th><th>model &minus; opening (SE)</th><th>closing market</th>\
         <th>model &minus; closing (SE)</th><th>base rates</th></tr></thead>\n<tbody>\n",
    );
    for (league, blocks) in &summary.by_league {
        for (ty, b) in blocks {
            html.push_str(&table_row(
                league,
                &format!("by_league.{league}.{ty}"),
                ty,
                b,
            ));
        }
    }
    for (ty, b) in &summary.pooled {
        html.push_str(
            &table_row("pooled", &format!("pooled.{ty}"), ty, b).replacen(
                "<tr>",
                "<tr class=\"pooled\">",
                1,
            ),
        );
    }
    html.push_str(
        "</tbody>\n</table>\n<p>Market, base-rate and difference columns compare on the same rows: RPS for three-way \
         models, log loss of the draw event for the draw specialist. A negative difference means the model scored \
         better; SE is the standard error of the mean paired difference. Every number is in summary.json.</p>\n\
         </body>\n</html>\n",
    );
    Ok(html)
}
