//! The backtest's numbers: every forecaster (a model type, the opening market, the closing market,
//! base rates) scored on the same rows, per league and pooled, with the model's paired difference
//! to the market and its standard error. summary.json, the text table and the HTML report all
//! read these numbers, so they cannot disagree.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::Row;
use crate::data::date::Date;
use crate::models::model_type::ModelType;
use crate::stats::link::binary_log_loss;
use crate::stats::metrics::{self, round};

const EPS: f64 = 1e-15;
/// Equal-width bins of the calibration error.
const ECE_BINS: usize = 10;

/// Scores of one forecaster on a set of rows. Three-way forecasts have every score; a draw-only
/// forecaster (the draw specialist) has no RPS or accuracy, and its log loss, Brier score and
/// ECE are those of the binary draw event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scores {
    pub n: usize,
    pub rps: Option<f64>,
    pub log_loss: f64,
    pub brier: f64,
    pub accuracy: Option<f64>,
    /// Mean over the outcomes of each outcome's expected calibration error (10 bins).
    pub ece: f64,
    /// AUC of the draw probability for the draw event; `None` when there was no draw or only
    /// draws.
    pub draw_auc: Option<f64>,
}

/// Mean of model minus comparison over the same rows (negative: the model scored better), with the
/// standard error of that mean.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Paired {
    pub mean: f64,
    pub se: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Differences {
    pub rps: Option<Paired>,
    pub log_loss: Paired,
    pub brier: Paired,
}

/// The model and a market on the rows where that market had odds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Comparison {
    pub n: usize,
    pub model: Scores,
    pub market: Scores,
    /// Model minus market.
    pub difference: Differences,
}

/// One league x model type, or one model type pooled over the leagues.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Block {
    /// Rows the model predicted.
    pub n: usize,
    pub model: Scores,
    /// Base rates (the league's outcome frequencies on the training data in force) on the same
    /// rows.
    pub base_rates: Scores,
    /// On the rows with opening (pre-match) odds: Pinnacle, else the market average.
    pub market_open: Option<Comparison>,
    /// On the rows with closing odds: Pinnacle closing, else the average, else Bet365 (the limit).
    pub market_close: Option<Comparison>,
    /// Over 2.5 goals, for a model type that predicts it (`<type>_over_2_5`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub over_2_5: Option<GoalMarket>,
    /// Both teams to score, for a model type that predicts it (`<type>_btts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub btts: Option<GoalMarket>,
}

/// Model minus comparison on the same rows, for a binary event (negative: the model did better).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BinaryDifferences {
    pub log_loss: Paired,
    pub brier: Paired,
}

/// The model and a market's probability of the same event on the rows where that market had odds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BinaryComparison {
    pub n: usize,
    pub model: metrics::BinaryScores,
    pub market: metrics::BinaryScores,
    /// Model minus market.
    pub difference: BinaryDifferences,
}

/// A binary goal market (over 2.5 goals, both teams to score) scored on the rows the model
/// predicted: the model, the constant base rate of the training data in force (the league's
/// frequency of the event), and for over 2.5 the opening and closing over/under odds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GoalMarket {
    pub n: usize,
    pub model: metrics::BinaryScores,
    pub base_rate: metrics::BinaryScores,
    /// Model minus base rate.
    pub base_rate_difference: BinaryDifferences,
    /// Opening over/under 2.5 odds: Pinnacle (`P>2.5`/`P<2.5`), else the average, margin removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_open: Option<BinaryComparison>,
    /// Closing over/under 2.5 odds: Pinnacle (`PC>2.5`/`PC<2.5`), else the average.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub market_close: Option<BinaryComparison>,
}

/// Which `predict` columns of a model type hold its goal-market probabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GoalColumns {
    pub over_2_5: Option<usize>,
    pub btts: Option<usize>,
}

/// The goal-market columns of each model type's `predict` columns (`<type>_over_2_5`,
/// `<type>_btts`).
pub fn goal_columns(columns: &[(&'static str, Vec<String>)]) -> BTreeMap<String, GoalColumns> {
    columns
        .iter()
        .map(|(name, cols)| {
            let find = |suffix: &str| cols.iter().position(|c| *c == format!("{name}_{suffix}"));
            (
                name.to_string(),
                GoalColumns {
                    over_2_5: find("over_2_5"),
                    btts: find("btts"),
                },
            )
        })
        .collect()
}

/// What run made a summary: enough to tell two reports apart and to run it again.
#[derive(Debug, Clone, Serialize)]
pub struct RunMetadata {
    pub tool_version: String,
    /// The arguments as given (lossy where not UTF-8).
    pub command_line: Vec<String>,
    pub working_directory: String,
    /// SHA-256 over each selected league's slug and training-data fingerprint (date, teams and
    /// goals of every match), in slug order: equal data, equal fingerprint.
    pub data_fingerprint: String,
    /// When the run wrote the report, `YYYY-MM-DD HH:MM:SS` UTC.
    pub created_utc: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The layout version of this document (`crate::json::SCHEMA_VERSION`).
    pub schema_version: u32,
    pub tool_version: String,
    pub metadata: RunMetadata,
    pub from: String,
    pub to: String,
    pub refresh: String,
    /// `day` or `segment` (how history reached the models; the same numbers either way).
    pub replay: String,
    /// `--selection`: how the models chose their hyperparameters (`window` or `season`).
    pub selection: String,
    /// `--xi`: the fixed Poisson decay, `null` when chosen per league.
    pub xi_per_day: Option<f64>,
    /// `--ridge`: the Poisson team-strength ridge, `null` for the default.
    pub strength_ridge: Option<f64>,
    /// `--total-ridge`: the Poisson scoring-tendency ridge, `null` for the default.
    pub total_ridge: Option<f64>,
    /// `--market-weight`: the Poisson scores' share of market expected goals, `null` for the
    /// default.
    pub market_weight: Option<f64>,
    pub data_dir: String,
    pub leagues: Vec<String>,
    pub model_types: Vec<String>,
    pub match_days: usize,
    pub matches: usize,
    /// Models trained (one league x model type at one training date each).
    pub trainings: usize,
    /// League -> model type -> scores.
    pub by_league: BTreeMap<String, BTreeMap<String, Block>>,
    /// Model type -> scores over every row of every league.
    pub pooled: BTreeMap<String, Block>,
}

/// What the run was, for the summary's header.
pub struct Setup {
    pub from: Date,
    pub to: Date,
    pub refresh: &'static str,
    pub replay: &'static str,
    pub selection: &'static str,
    pub xi_per_day: Option<f64>,
    pub strength_ridge: Option<f64>,
    pub total_ridge: Option<f64>,
    pub market_weight: Option<f64>,
    pub data_dir: String,
    pub leagues: Vec<String>,
    pub match_days: usize,
    pub trainings: usize,
    pub metadata: RunMetadata,
}

/// A forecast: three-way probabilities, or the probability of a draw alone.
#[derive(Clone, Copy, Debug)]
pub enum Forecast {
    ThreeWay([f64; 3]),
    Draw(f64),
}

impl Forecast {
    /// A model type's `predict` values: its first three are home/draw/away, or a single draw
    /// probability.
    pub fn of_values(v: &[f64]) -> Option<Forecast> {
        match v {
            [p] => Some(Forecast::Draw(*p)),
            [h, d, a, ..] => Some(Forecast::ThreeWay([*h, *d, *a])),
            _ => None,
        }
    }

    /// The same kind of forecast as `self`, from three-way probabilities `p`.
    fn like(self, p: [f64; 3]) -> Forecast {
        match self {
            Forecast::ThreeWay(_) => Forecast::ThreeWay(p),
            Forecast::Draw(_) => Forecast::Draw(p[1]),
        }
    }
}

/// Per-row losses of one forecaster.
struct Losses {
    rps: Option<Vec<f64>>,
    log_loss: Vec<f64>,
    brier: Vec<f64>,
}

fn losses(forecasts: &[Forecast], outcomes: &[usize]) -> Losses {
    let three_way = matches!(forecasts.first(), Some(Forecast::ThreeWay(_)));
    let mut rps = Vec::new();
    let mut log_loss = Vec::new();
    let mut brier = Vec::new();
    for (f, &o) in forecasts.iter().zip(outcomes) {
        match *f {
            Forecast::ThreeWay(p) => {
                let mut obs = [0.0; 3];
                obs[o] = 1.0;
                let c1 = p[0] - obs[0];
                let c2 = p[0] + p[1] - obs[0] - obs[1];
                rps.push(0.5 * (c1 * c1 + c2 * c2));
                log_loss.push(-p[o].clamp(EPS, 1.0 - EPS).ln());
                brier.push((0..3).map(|k| (p[k] - obs[k]).powi(2)).sum());
            }
            Forecast::Draw(q) => {
                let draw = o == 1;
                let qc = q.clamp(EPS, 1.0 - EPS);
                log_loss.push(-(if draw { qc } else { 1.0 - qc }).ln());
                let t = if draw { 1.0 } else { 0.0 };
                brier.push((q - t) * (q - t));
            }
        }
    }
    Losses {
        rps: three_way.then_some(rps),
        log_loss,
        brier,
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Scores `forecasts` (all of one kind) against `outcomes`.
pub fn score(forecasts: &[Forecast], outcomes: &[usize]) -> Scores {
    let n = forecasts.len().min(outcomes.len());
    let l = losses(&forecasts[..n], &outcomes[..n]);
    let draws: Vec<bool> = outcomes[..n].iter().map(|&o| o == 1).collect();
    let draw_p: Vec<f64> = forecasts[..n]
        .iter()
        .map(|f| match *f {
            Forecast::ThreeWay(p) => p[1],
            Forecast::Draw(q) => q,
        })
        .collect();
    let three: Vec<[f64; 3]> = forecasts[..n]
        .iter()
        .filter_map(|f| match *f {
            Forecast::ThreeWay(p) => Some(p),
            Forecast::Draw(_) => None,
        })
        .collect();
    let (accuracy, ece) = if l.rps.is_some() {
        let hits = three
            .iter()
            .zip(&outcomes[..n])
            .filter(|(p, &o)| metrics::argmax3(p) == o)
            .count();
        let ece = (0..3)
            .map(|k| {
                let p: Vec<f64> = three.iter().map(|p| p[k]).collect();
                let y: Vec<bool> = outcomes[..n].iter().map(|&o| o == k).collect();
                metrics::ece(&p, &y, ECE_BINS)
            })
            .sum::<f64>()
            / 3.0;
        (Some(round(hits as f64 / n.max(1) as f64)), ece)
    } else {
        (None, metrics::ece(&draw_p, &draws, ECE_BINS))
    };
    Scores {
        n,
        rps: l.rps.as_deref().map(mean).map(round),
        log_loss: round(mean(&l.log_loss)),
        brier: round(mean(&l.brier)),
        accuracy,
        ece: round(ece),
        draw_auc: metrics::auc(&draw_p, &draws).map(round),
    }
}

fn paired(a: &[f64], b: &[f64]) -> Paired {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len();
    let m = mean(&d);
    let se = if n > 1 {
        let var = d.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
        (var / n as f64).sqrt()
    } else {
        0.0
    };
    Paired {
        mean: round(m),
        se: round(se),
    }
}

fn compare(model: &[Forecast], market: &[Forecast], outcomes: &[usize]) -> Option<Comparison> {
    if outcomes.is_empty() {
        return None;
    }
    let (lm, lk) = (losses(model, outcomes), losses(market, outcomes));
    Some(Comparison {
        n: outcomes.len(),
        model: score(model, outcomes),
        market: score(market, outcomes),
        difference: Differences {
            rps: match (&lm.rps, &lk.rps) {
                (Some(a), Some(b)) => Some(paired(a, b)),
                _ => None,
            },
            log_loss: paired(&lm.log_loss, &lk.log_loss),
            brier: paired(&lm.brier, &lk.brier),
        },
    })
}

/// Per-row log loss and Brier score of binary forecasts.
fn binary_losses(p: &[f64], y: &[bool]) -> (Vec<f64>, Vec<f64>) {
    p.iter()
        .zip(y)
        .map(|(&q, &e)| {
            let t = if e { 1.0 } else { 0.0 };
            (binary_log_loss(q, e), (q - t) * (q - t))
        })
        .unzip()
}

fn binary_differences(a: &[f64], b: &[f64], y: &[bool]) -> BinaryDifferences {
    let (la, ba) = binary_losses(a, y);
    let (lb, bb) = binary_losses(b, y);
    BinaryDifferences {
        log_loss: paired(&la, &lb),
        brier: paired(&ba, &bb),
    }
}

fn binary_compare(model: &[f64], market: &[f64], y: &[bool]) -> Option<BinaryComparison> {
    (!y.is_empty()).then(|| BinaryComparison {
        n: y.len(),
        model: metrics::score_binary(model, y).rounded(),
        market: metrics::score_binary(market, y).rounded(),
        difference: binary_differences(model, market, y),
    })
}

/// Scores of the goal market in column `column` of model type `name` (event `event` of
/// [`super::goal_events`]: 0 over 2.5 goals, 1 both teams score) on the rows it predicted.
fn goal_market(rows: &[&Row], name: &str, column: usize, event: usize) -> Option<GoalMarket> {
    let (mut p, mut base, mut y) = (Vec::new(), Vec::new(), Vec::new());
    let mut open = (Vec::new(), Vec::new(), Vec::new());
    let mut close = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        let Some(&q) = r.predictions.get(name).and_then(|v| v.get(column)) else {
            continue;
        };
        let e = super::goal_events(r.home_goals, r.away_goals)[event];
        p.push(q);
        base.push(r.goal_base_rates[event]);
        y.push(e);
        if event == 0 {
            for (market, side) in [(r.over_open, &mut open), (r.over_close, &mut close)] {
                if let Some(m) = market {
                    side.0.push(q);
                    side.1.push(m);
                    side.2.push(e);
                }
            }
        }
    }
    if p.is_empty() {
        return None;
    }
    Some(GoalMarket {
        n: p.len(),
        model: metrics::score_binary(&p, &y).rounded(),
        base_rate: metrics::score_binary(&base, &y).rounded(),
        base_rate_difference: binary_differences(&p, &base, &y),
        market_open: binary_compare(&open.0, &open.1, &open.2),
        market_close: binary_compare(&close.0, &close.1, &close.2),
    })
}

/// Scores of model type `name` on `rows` (those it predicted).
pub fn block(rows: &[&Row], name: &str, goals: GoalColumns) -> Option<Block> {
    let mut model = Vec::new();
    let mut outcomes = Vec::new();
    let mut base = Vec::new();
    let (mut open_m, mut open_k, mut open_y) = (Vec::new(), Vec::new(), Vec::new());
    let (mut close_m, mut close_k, mut close_y) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        let Some(f) = r.predictions.get(name).and_then(|v| Forecast::of_values(v)) else {
            continue;
        };
        model.push(f);
        outcomes.push(r.outcome);
        base.push(f.like(r.base_rates));
        if let Some(p) = r.market_open {
            open_m.push(f);
            open_k.push(f.like(p));
            open_y.push(r.outcome);
        }
        if let Some(p) = r.market_close {
            close_m.push(f);
            close_k.push(f.like(p));
            close_y.push(r.outcome);
        }
    }
    if model.is_empty() {
        return None;
    }
    Some(Block {
        n: model.len(),
        model: score(&model, &outcomes),
        base_rates: score(&base, &outcomes),
        market_open: compare(&open_m, &open_k, &open_y),
        market_close: compare(&close_m, &close_k, &close_y),
        over_2_5: goals.over_2_5.and_then(|c| goal_market(rows, name, c, 0)),
        btts: goals.btts.and_then(|c| goal_market(rows, name, c, 1)),
    })
}

pub fn summarise(
    rows: &[Row],
    types: &[&'static dyn ModelType],
    goals: &BTreeMap<String, GoalColumns>,
    setup: Setup,
) -> Summary {
    let names: Vec<&str> = types.iter().map(|t| t.spec().name).collect();
    let goals_of = |n: &str| goals.get(n).copied().unwrap_or_default();
    let mut by_league: BTreeMap<String, BTreeMap<String, Block>> = BTreeMap::new();
    for league in &setup.leagues {
        let league_rows: Vec<&Row> = rows.iter().filter(|r| &r.league == league).collect();
        let blocks: BTreeMap<String, Block> = names
            .iter()
            .filter_map(|n| block(&league_rows, n, goals_of(n)).map(|b| (n.to_string(), b)))
            .collect();
        if !blocks.is_empty() {
            by_league.insert(league.clone(), blocks);
        }
    }
    let all: Vec<&Row> = rows.iter().collect();
    let pooled = names
        .iter()
        .filter_map(|n| block(&all, n, goals_of(n)).map(|b| (n.to_string(), b)))
        .collect();
    Summary {
        schema_version: crate::json::SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        metadata: setup.metadata,
        from: setup.from.to_string(),
        to: setup.to.to_string(),
        refresh: setup.refresh.to_string(),
        replay: setup.replay.to_string(),
        selection: setup.selection.to_string(),
        xi_per_day: setup.xi_per_day,
        strength_ridge: setup.strength_ridge,
        total_ridge: setup.total_ridge,
        market_weight: setup.market_weight,
        data_dir: setup.data_dir,
        leagues: setup.leagues,
        model_types: names.iter().map(|n| n.to_string()).collect(),
        match_days: setup.match_days,
        matches: rows.len(),
        trainings: setup.trainings,
        by_league,
        pooled,
    }
}

fn cell(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{v:.4}"))
}

fn diff_cell(p: Option<&Paired>) -> String {
    p.map_or_else(
        || "-".to_string(),
        |p| format!("{:+.4} ({:.4})", p.mean, p.se),
    )
}

/// The per-league table printed after a run (the full numbers are in summary.json).
pub fn text_table(s: &Summary, out: &Path) -> String {
    let mut t = format!(
        "backtest {} .. {} (refresh {}, selection {}{}{}{}{}): {} matches on {} match days, {} models trained\n\n",
        s.from,
        s.to,
        s.refresh,
        s.selection,
        s.xi_per_day.map_or_else(String::new, |xi| format!(", xi {xi}")),
        s.strength_ridge.map_or_else(String::new, |r| format!(", ridge {r}")),
        s.total_ridge.map_or_else(String::new, |r| format!(", total ridge {r}")),
        s.market_weight.map_or_else(String::new, |k| format!(", market weight {k}")),
        s.matches,
        s.match_days,
        s.trainings
    );
    t.push_str(&format!(
        "{:<22} {:<16} {:>5} {:>7} {:>7} {:>6} {:>7} {:>8} {:>18} {:>8} {:>7}\n",
        "league",
        "model",
        "n",
        "RPS",
        "logloss",
        "acc",
        "drawAUC",
        "open RPS",
        "model-open (se)",
        "closeRPS",
        "baseRPS"
    ));
    let pooled = s.pooled.iter().map(|(ty, b)| ("pooled".to_string(), ty, b));
    let leagues = s
        .by_league
        .iter()
        .flat_map(|(l, m)| m.iter().map(move |(ty, b)| (l.clone(), ty, b)));
    for (league, ty, b) in leagues.chain(pooled) {
        let open = b.market_open.as_ref();
        let close = b.market_close.as_ref();
        let (open_rps, diff) = match open {
            Some(c) if b.model.rps.is_some() => (c.market.rps, c.difference.rps.as_ref()),
            Some(c) => (None, Some(&c.difference.log_loss)),
            None => (None, None),
        };
        t.push_str(&format!(
            "{:<22} {:<16} {:>5} {:>7} {:>7} {:>6} {:>7} {:>8} {:>18} {:>8} {:>7}\n",
            league,
            ty,
            b.n,
            cell(b.model.rps),
            cell(Some(b.model.log_loss)),
            b.model
                .accuracy
                .map_or_else(|| "-".to_string(), |a| format!("{a:.3}")),
            cell(b.model.draw_auc),
            cell(open_rps),
            diff_cell(diff),
            cell(close.and_then(|c| c.market.rps)),
            cell(b.base_rates.rps),
        ));
    }
    t.push_str(&goal_market_table(s));
    t.push_str(&format!(
        "\n(draw_specialist: model-open is the log loss difference.) Files: {}\n",
        out.display()
    ));
    t
}

/// The goal markets' table (log loss of over 2.5 goals against its base rate and the opening and
/// closing over/under odds, and of both teams to score against its base rate); empty when no
/// model type predicts a goal market.
fn goal_market_table(s: &Summary) -> String {
    let pooled = s.pooled.iter().map(|(ty, b)| ("pooled".to_string(), ty, b));
    let leagues = s
        .by_league
        .iter()
        .flat_map(|(l, m)| m.iter().map(move |(ty, b)| (l.clone(), ty, b)));
    let mut lines = String::new();
    for (league, ty, b) in leagues.chain(pooled) {
        let (Some(o), btts) = (b.over_2_5.as_ref(), b.btts.as_ref()) else {
            continue;
        };
        let open = o.market_open.as_ref();
        lines.push_str(&format!(
            "{:<22} {:<12} {:>5} {:>7} {:>7} {:>18} {:>7} {:>18} {:>7} {:>7} {:>7}\n",
            league,
            ty,
            o.n,
            cell(Some(o.model.log_loss)),
            cell(Some(o.base_rate.log_loss)),
            diff_cell(Some(&o.base_rate_difference.log_loss)),
            cell(open.map(|c| c.market.log_loss)),
            diff_cell(open.map(|c| &c.difference.log_loss)),
            cell(o.market_close.as_ref().map(|c| c.market.log_loss)),
            cell(btts.map(|g| g.model.log_loss)),
            cell(btts.map(|g| g.base_rate.log_loss)),
        ));
    }
    if lines.is_empty() {
        return lines;
    }
    format!(
        "\ngoal markets (log loss; over 2.5 goals against its base rate and the opening/closing over/under odds):\n\
         {:<22} {:<12} {:>5} {:>7} {:>7} {:>18} {:>7} {:>18} {:>7} {:>7} {:>7}\n{lines}",
        "league",
        "model",
        "n",
        "O2.5",
        "base",
        "model-base (se)",
        "open",
        "model-open (se)",
        "close",
        "BTTS",
        "base"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_difference_and_its_standard_error() {
        let p = paired(&[0.3, 0.2, 0.4, 0.1], &[0.2, 0.2, 0.2, 0.2]);
        // Differences 0.1, 0, 0.2, -0.1: mean 0.05, sd 0.129099, se 0.0645497.
        assert!((p.mean - 0.05).abs() < 1e-12);
        assert!((p.se - 0.0645497224368).abs() < 1e-9);
    }

    #[test]
    fn three_way_and_draw_scores() {
        let f = [
            Forecast::ThreeWay([0.5, 0.3, 0.2]),
            Forecast::ThreeWay([0.2, 0.3, 0.5]),
        ];
        let s = score(&f, &[0, 1]);
        // RPS: (0.5^2 + 0.2^2)/2 = 0.145; (0.2^2 + 0.5^2)/2 = 0.145.
        assert!((s.rps.unwrap() - 0.145).abs() < 1e-12);
        assert_eq!(s.accuracy, Some(0.5));
        assert_eq!(s.draw_auc, Some(0.5));
        let d = score(&[Forecast::Draw(0.25), Forecast::Draw(0.5)], &[0, 1]);
        assert_eq!(d.rps, None);
        assert!((d.log_loss - (-(0.75f64.ln()) - 0.5f64.ln()) / 2.0).abs() < 1e-12);
        assert_eq!(d.draw_auc, Some(1.0));
    }
}
