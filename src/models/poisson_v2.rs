//! Poisson v2: a time-decay Dixon-Coles goals model per league. It predicts a scoreline grid,
//! and every market (1X2, over/under, both teams to score) is read off that grid. The team
//! strengths are fitted to each earlier match's expected goals as its market priced them, where
//! it has odds, else to its goals (`--market-weight`); rho to the goals. The decay `xi`
//! is chosen per league on a replay of refits across the latest season's worth of matches
//! (`stats::selection`; the latest season with `--selection season`) unless `--xi` fixes it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::data::date::Date;
use crate::data::matches::Match;
use crate::features::RawFeatures;
use crate::models::common::{self, Artifact, ArtifactHeader};
use crate::models::model_type::{
    Fixture, ModelFile, ModelSpec, ModelType, Predictor, TrainContext, TrainedModel, WarmStart,
};
use crate::stats::dixon_coles::{self, DixonColesFit, GoalsData};
use crate::stats::metrics::{self, round, OutcomeScores};
use crate::stats::scoreline::{ScorelineGrid, MAX_GOALS};
use crate::stats::selection::{self, Protocol};
use crate::store::pickle;

pub static SPEC: ModelSpec = ModelSpec {
    name: "poisson_v2",
    version: "v2",
    dir_name: "poisson_v2",
    legacy_dir_names: &[],
    required_files: &["poisson_model.pkl", "metrics.json"],
    min_matches: 100,
    columns_read: &MARKET_COLUMNS,
    other_leagues_read: None,
};

const MODEL_FILE: &str = "poisson_model.pkl";
const FORMAT: &str = "auto-train/poisson_v2";
const FORMAT_VERSION: u32 = 1;

/// Decays tried per league (per day); 0.0018 is the usual literature value.
const XI_CANDIDATES: [f64; 9] = [
    0.0, 0.0005, 0.001, 0.0015, 0.002, 0.0025, 0.003, 0.004, 0.006,
];
/// Used when a league has no earlier season to validate on and `--xi` is not given.
const DEFAULT_XI: f64 = 0.0018;
/// Decays tried per league when the strengths are fitted to the market's expected goals: a
/// market's prices of earlier matches are far less noisy than their goals, so recent matches
/// can carry more of the weight.
const MARKET_XI_CANDIDATES: [f64; 8] = [0.002, 0.004, 0.006, 0.008, 0.01, 0.012, 0.016, 0.02];
/// The stated decay of a fit to the market's expected goals (chosen on backtests of 2015-16 to
/// 2018-19, docs/benchmarks.md).
const DEFAULT_MARKET_XI: f64 = 0.008;
/// The share of the market's expected goals in the Poisson scores without `--market-weight`.
const DEFAULT_MARKET_WEIGHT: f64 = 1.0;
/// The ridge on team strengths (`dixon_coles::fit_penalised`) without `--ridge`: a Gaussian prior
/// of sd 0.41 around the league average. Chosen on backtests of 2015-16 to 2018-19 (README,
/// "Poisson v2"), seasons that no criterion of the refresh protocol is measured on.
const DEFAULT_STRENGTH_RIDGE: f64 = 3.0;
/// The ridge on each team's scoring tendency (`dixon_coles::fit_shrunk`) without `--total-ridge`
/// (and without `--ridge 0`): it pulls attack + defence, how many goals a team's matches hold,
/// towards the league's. Chosen on backtests of 2015-16 to 2018-19 (README, "Poisson v2").
const DEFAULT_TOTAL_RIDGE: f64 = 20.0;
/// The validation fit needs at least this many matches before the validation season.
const MIN_VALIDATION_TRAIN: usize = 100;
/// A season with fewer matches than this (one just started) is too small to choose xi on:
/// the season before it is the validation season instead.
pub const MIN_VALIDATION_MATCHES: usize = 100;

/// One team's fitted strengths.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TeamStrength {
    pub attack: f64,
    pub defence: f64,
}

/// Strengths given to a team the model has not seen (a promoted club).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PromotedPrior {
    pub attack: f64,
    pub defence: f64,
    /// How the prior was computed.
    pub method: String,
    /// The teams it was computed from.
    pub from_teams: Vec<String>,
}

/// The contents of `poisson_model.pkl` (plain data: a dict for Python).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PoissonModelFile {
    #[serde(flatten)]
    pub header: ArtifactHeader,
    pub trained_date: String,
    /// `lambda = exp(home_advantage + attack[home] + defence[away])`,
    /// `mu = exp(attack[away] + defence[home])`, Dixon-Coles correction `rho`.
    pub teams: BTreeMap<String, TeamStrength>,
    pub home_advantage: f64,
    pub rho: f64,
    pub xi_per_day: f64,
    /// The ridge on team strengths the fit used (0 in files written before it existed: those
    /// fits had none).
    #[serde(default)]
    pub strength_ridge: f64,
    /// The ridge on each team's scoring tendency the fit used (0 in files written before it
    /// existed: those fits had none).
    #[serde(default)]
    pub total_ridge: f64,
    /// The share of each training match's Poisson score that was its market's expected goals
    /// (0 in files written before it existed: those fits used the goals alone).
    #[serde(default)]
    pub market_weight: f64,
    /// How many training matches had a market to read expected goals from.
    #[serde(default)]
    pub matches_with_market: usize,
    /// Weights are exp(-xi * days before this date) (the latest training match).
    pub reference_date: String,
    pub promoted_prior: PromotedPrior,
    pub max_goals: usize,
    pub training_matches: usize,
}

/// A fitted league: team order, parameters, prior.
#[derive(Clone)]
struct LeagueFit {
    teams: Vec<Arc<str>>,
    fit: DixonColesFit,
    prior: PromotedPrior,
}

impl LeagueFit {
    fn strengths(&self, team: &str) -> (f64, f64) {
        fitted_strengths(&self.teams, &self.fit, team)
            .unwrap_or((self.prior.attack, self.prior.defence))
    }

    fn rates(&self, home: &str, away: &str) -> (f64, f64) {
        rates_of(&self.fit, self.strengths(home), self.strengths(away))
    }

    /// These parameters as a start for a fit of `teams` (sorted): each team's strengths by
    /// name, the prior's for a team this fit did not have.
    fn start_for(&self, teams: &[Arc<str>]) -> DixonColesFit {
        start_by_name(&self.fit, teams, |t| self.strengths(t))
    }
}

/// A fitted team's (attack, defence), `None` for a team the fit does not hold.
fn fitted_strengths(teams: &[Arc<str>], fit: &DixonColesFit, team: &str) -> Option<(f64, f64)> {
    let i = team_slot(teams, team)?;
    Some((fit.attack[i], fit.defence[i]))
}

/// Where `team` is in `teams` (sorted), if a fit of them holds it.
fn team_slot(teams: &[Arc<str>], team: &str) -> Option<usize> {
    teams.binary_search_by(|t| t.as_ref().cmp(team)).ok()
}

/// (lambda, mu) of a match from the two sides' (attack, defence).
fn rates_of(fit: &DixonColesFit, (ah, dh): (f64, f64), (aa, da): (f64, f64)) -> (f64, f64) {
    ((fit.home_advantage + ah + da).exp(), (aa + dh).exp())
}

/// `fit`'s home advantage and rho, and each of `teams` (sorted) at `strengths`: a start for a
/// fit of those teams.
fn start_by_name(
    fit: &DixonColesFit,
    teams: &[Arc<str>],
    strengths: impl Fn(&str) -> (f64, f64),
) -> DixonColesFit {
    let (attack, defence) = teams.iter().map(|t| strengths(t)).unzip();
    DixonColesFit {
        attack,
        defence,
        home_advantage: fit.home_advantage,
        rho: fit.rho,
        weighted_log_likelihood: f64::NAN,
        iterations: 0,
        converged: false,
    }
}

/// Where a refit's Dixon-Coles fits start ([`WarmStart`] of this type): an earlier training's
/// final fit (what its pickle holds) and, from a training in memory, its validation fits by xi.
struct PoissonStart {
    last: LeagueFit,
    validation: Vec<(f64, LeagueFit)>,
}

impl PoissonStart {
    /// The earlier validation fit of decay `xi`, if any.
    fn validation(&self, xi: f64) -> Option<&LeagueFit> {
        self.validation
            .iter()
            .find(|(x, _)| x.to_bits() == xi.to_bits())
            .map(|(_, f)| f)
    }
}

/// The likelihood's inputs as the trainer builds them: teams sorted by name, each match weighted
/// exp(-xi * days before the latest match). Public for the benches and timing example.
pub fn goals_data(matches: &[Match], xi: f64) -> (Vec<Arc<str>>, GoalsData) {
    IndexedMatches::new(matches, (0.0, 0.0), 0.0).goals_data(matches.len(), xi)
}

/// A league's matches (sorted by date) with each side as an index into the league's team names
/// (sorted) and each match's season: built once per training, shared by the validation fit, the
/// final fit and the promoted prior, so no fit compares team names.
struct IndexedMatches<'a> {
    matches: &'a [Match],
    /// The ridge on team strengths every fit of these matches uses.
    strength_ridge: f64,
    /// The ridge on each team's scoring tendency every fit of these matches uses.
    total_ridge: f64,
    names: Vec<Arc<str>>,
    home: Vec<u32>,
    away: Vec<u32>,
    season: Vec<i32>,
    /// How much of each match's Poisson scores is its market's expected goals instead of its
    /// goals (0: the goals alone).
    market_weight: f64,
    /// Each match's expected goals by its own market, when it has one (see [`market_goals`]).
    market: Vec<Option<(f64, f64)>>,
    /// Whether the market's expected goals make up at least half of the scores (the market
    /// weight times the share of matches with a market): then the fits have the market's
    /// stated defaults, else the goals'.
    on_market: bool,
    /// The stated decay and the candidates weighed against it.
    default_xi: f64,
    xi_candidates: &'static [f64],
}

/// 1X2 odds a past match's market is read from, best first: the closing prices (the most
/// informed), then the opening ones.
const PAST_1X2: &[[&str; 3]] = &[
    ["PSCH", "PSCD", "PSCA"],
    ["AvgCH", "AvgCD", "AvgCA"],
    ["B365CH", "B365CD", "B365CA"],
    ["PSH", "PSD", "PSA"],
    ["AvgH", "AvgD", "AvgA"],
    ["BbAvH", "BbAvD", "BbAvA"],
    ["B365H", "B365D", "B365A"],
];
/// Over/under 2.5 odds (over, under) of a past match, best first, closing then opening.
const PAST_OVER_UNDER: &[[&str; 2]] = &[
    ["PC>2.5", "PC<2.5"],
    ["AvgC>2.5", "AvgC<2.5"],
    ["P>2.5", "P<2.5"],
    ["Avg>2.5", "Avg<2.5"],
    ["BbAv>2.5", "BbAv<2.5"],
];

/// Every column `PAST_1X2` and `PAST_OVER_UNDER` name, in their order: what a load for
/// training keeps for this model.
pub const MARKET_COLUMNS: [&str; PAST_1X2.len() * 3 + PAST_OVER_UNDER.len() * 2] = {
    let mut out = [""; PAST_1X2.len() * 3 + PAST_OVER_UNDER.len() * 2];
    let mut i = 0;
    while i < PAST_1X2.len() * 3 {
        out[i] = PAST_1X2[i / 3][i % 3];
        i += 1;
    }
    while i < out.len() {
        let k = i - PAST_1X2.len() * 3;
        out[i] = PAST_OVER_UNDER[k / 2][k % 2];
        i += 1;
    }
    out
};

/// Each played match's expected goals (home, away) as its market priced them: the independent
/// Poisson rates that reproduce its 1X2 probabilities and, when it has them, its over/under
/// 2.5 probability (margins removed proportionally); `None` without a sane 1X2 book. Only ever
/// read for matches before the one predicted, so their closing prices are history. The columns
/// are found once a file and each distinct market is solved once a thread (a backtest indexes
/// the same matches for every training).
fn market_goals(matches: &[Match]) -> Vec<Option<(f64, f64)>> {
    /// Solved markets by the bits of (home, draw, away, over or NaN).
    type Solved = FxHashMap<[u64; 4], Option<(f64, f64)>>;
    thread_local! {
        static SOLVED: std::cell::RefCell<Solved> = Default::default();
    }
    let mut reader = crate::data::matches::ColumnReader::new(&MARKET_COLUMNS);
    let mut values = [0.0; MARKET_COLUMNS.len()];
    SOLVED.with(|solved| {
        let mut solved = solved.borrow_mut();
        matches
            .iter()
            .map(|m| {
                reader.read(&m.extras, &mut values);
                let (one_x_two, over_under) = values.split_at(PAST_1X2.len() * 3);
                let p = one_x_two
                    .chunks_exact(3)
                    .find_map(|o| crate::features::margin_free([o[0], o[1], o[2]]))?;
                let over = over_under
                    .chunks_exact(2)
                    .find_map(|o| crate::features::margin_free([o[0], o[1]]))
                    .map(|[over, _]| over);
                let key = [p[0], p[1], p[2], over.unwrap_or(f64::NAN)].map(f64::to_bits);
                *solved
                    .entry(key)
                    .or_insert_with(|| crate::stats::scoreline::expected_goals_of_market(p, over))
            })
            .collect()
    })
}

impl<'a> IndexedMatches<'a> {
    /// Indexes `matches`, whose Poisson scores hold `market_weight` of each match's market
    /// expected goals; every fit uses the ridges `(strength, total)`.
    fn new(
        matches: &'a [Match],
        (strength_ridge, total_ridge): (f64, f64),
        market_weight: f64,
    ) -> IndexedMatches<'a> {
        // Ids in order of first appearance, then renumbered in name order.
        let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
        let mut first_order: Vec<&Arc<str>> = Vec::new();
        let mut id_of = |team: &'a Arc<str>| {
            *ids.entry(team.as_ref()).or_insert_with(|| {
                first_order.push(team);
                first_order.len() as u32 - 1
            })
        };
        let mut home = Vec::with_capacity(matches.len());
        let mut away = Vec::with_capacity(matches.len());
        for m in matches {
            home.push(id_of(&m.home));
            away.push(id_of(&m.away));
        }
        let mut by_name: Vec<u32> = (0..first_order.len() as u32).collect();
        by_name.sort_by(|&a, &b| first_order[a as usize].cmp(first_order[b as usize]));
        let mut rank = vec![0u32; by_name.len()];
        for (r, &id) in by_name.iter().enumerate() {
            rank[id as usize] = r as u32;
        }
        for t in home.iter_mut().chain(away.iter_mut()) {
            *t = rank[*t as usize];
        }
        let market: Vec<Option<(f64, f64)>> = if market_weight > 0.0 {
            market_goals(matches)
        } else {
            vec![None; matches.len()]
        };
        let with_market = market.iter().filter(|m| m.is_some()).count();
        let on_market = market_weight * with_market as f64 >= 0.5 * matches.len() as f64;
        let (default_xi, xi_candidates): (f64, &[f64]) = if on_market {
            (DEFAULT_MARKET_XI, &MARKET_XI_CANDIDATES)
        } else {
            (DEFAULT_XI, &XI_CANDIDATES)
        };
        IndexedMatches {
            matches,
            strength_ridge,
            total_ridge,
            names: by_name
                .iter()
                .map(|&id| first_order[id as usize].clone())
                .collect(),
            home,
            away,
            season: matches.iter().map(|m| m.date.season()).collect(),
            market_weight,
            market,
            on_market,
            default_xi,
            xi_candidates,
        }
    }

    /// A content hash of the first n matches for every n (date, teams, goals: what a fit reads).
    fn prefix_hashes(&self) -> Vec<u64> {
        use std::hash::{Hash, Hasher};
        let mut out = Vec::with_capacity(self.matches.len() + 1);
        let mut h = rustc_hash::FxHasher::default();
        out.push(h.finish());
        self.market_weight.to_bits().hash(&mut h);
        for (m, market) in self.matches.iter().zip(&self.market) {
            (m.date.0, m.home.as_ref(), m.away.as_ref()).hash(&mut h);
            (m.home_goals, m.away_goals).hash(&mut h);
            if self.market_weight != 0.0 {
                market.map(|(l, u)| (l.to_bits(), u.to_bits())).hash(&mut h);
            }
            out.push(h.finish());
        }
        out
    }

    /// The likelihood's inputs for the first `n` matches: the names of the teams they hold
    /// (sorted) and the data, weighted relative to the latest of them.
    fn goals_data(&self, n: usize, xi: f64) -> (Vec<Arc<str>>, GoalsData) {
        let (home, away) = (&self.home[..n], &self.away[..n]);
        let mut local = vec![u32::MAX; self.names.len()];
        for &t in home.iter().chain(away) {
            local[t as usize] = 0;
        }
        let mut teams = Vec::new();
        for (t, slot) in local.iter_mut().enumerate() {
            if *slot == 0 {
                *slot = teams.len() as u32;
                teams.push(self.names[t].clone());
            }
        }
        let matches = &self.matches[..n];
        let data = GoalsData {
            n_teams: teams.len(),
            home: home.iter().map(|&t| local[t as usize]).collect(),
            away: away.iter().map(|&t| local[t as usize]).collect(),
            home_goals: matches.iter().map(|m| m.home_goals as u16).collect(),
            away_goals: matches.iter().map(|m| m.away_goals as u16).collect(),
            weight: self.weights(n, xi),
            scores: self.scores(n),
        };
        (teams, data)
    }

    /// The first `n` matches' Poisson scores: the goals, blended with the market's expected
    /// goals by the market weight where a match has a market (empty: the goals alone).
    fn scores(&self, n: usize) -> Vec<[f64; 2]> {
        let k = self.market_weight;
        if k == 0.0 {
            return Vec::new();
        }
        self.matches[..n]
            .iter()
            .zip(&self.market)
            .map(|(m, market)| {
                let goals = [f64::from(m.home_goals), f64::from(m.away_goals)];
                match market {
                    Some((l, u)) => [(1.0 - k) * goals[0] + k * l, (1.0 - k) * goals[1] + k * u],
                    None => goals,
                }
            })
            .collect()
    }

    /// The first `n` matches' weights with decay `xi`, relative to the latest of them.
    fn weights(&self, n: usize, xi: f64) -> Vec<f64> {
        let matches = &self.matches[..n];
        let reference = matches.last().map(|m| m.date).unwrap_or(Date(0));
        decay_weights(matches.iter().map(|m| m.date), reference, xi)
    }
}

/// A match weighted less than this is left out of the fit (weight 0): against the fit's own
/// 1e-9 ridge it carries no information, and a club whose every match is that old has no
/// estimate, only a badly conditioned Newton system (a fast decay, 0.02 a day, reaches it in
/// under three years; the stated 0.0018 after thirty).
const NEGLIGIBLE_WEIGHT: f64 = 1e-9;

/// exp(-xi * days before `reference`) of each match date; one exponential per run of equal
/// dates (sorted matches: a match day has several).
fn decay_weights(dates: impl Iterator<Item = Date>, reference: Date, xi: f64) -> Vec<f64> {
    let mut last: Option<(Date, f64)> = None;
    dates
        .map(|date| match last {
            Some((day, w)) if day == date => w,
            _ => {
                let w = (-xi * reference.days_since(date) as f64).exp();
                let w = if w < NEGLIGIBLE_WEIGHT { 0.0 } else { w };
                last = Some((date, w));
                w
            }
        })
        .collect()
}

/// Fits the model on the first `n` matches with decay `xi`.
/// The fit starts from `warm`'s parameters (by team name) when given, else cold.
fn fit_league(
    indexed: &IndexedMatches,
    n: usize,
    xi: f64,
    warm: Option<&LeagueFit>,
) -> Result<LeagueFit> {
    let (teams, data) = indexed.goals_data(n, xi);
    let warm = warm.map(|w| w.start_for(&teams));
    let fit = dixon_coles::fit_shrunk(
        &data,
        indexed.strength_ridge,
        indexed.total_ridge,
        warm.as_ref(),
    )
    .context("Dixon-Coles fit")?;
    if !fit.converged {
        tracing::warn!(
            "Dixon-Coles fit stopped after {} iterations before full convergence",
            fit.iterations
        );
    }
    let prior = promoted_prior(indexed, n, &teams, &data, &fit);
    // A club none of whose matches carries weight has no estimate: it is left out, so that it
    // is predicted (and its refits start) as an unseen club, from the prior.
    let unweighted = unweighted_teams(&data);
    let keep = |i: &usize| !unweighted[*i];
    let kept: Vec<usize> = (0..teams.len()).filter(keep).collect();
    let fit = DixonColesFit {
        attack: kept.iter().map(|&i| fit.attack[i]).collect(),
        defence: kept.iter().map(|&i| fit.defence[i]).collect(),
        ..fit
    };
    let teams = kept.iter().map(|&i| teams[i].clone()).collect();
    Ok(LeagueFit { teams, fit, prior })
}

/// Which teams of `data` have no match of positive weight (the fit holds them at attack 0 and
/// the mean defence, which is no estimate).
fn unweighted_teams(data: &GoalsData) -> Vec<bool> {
    let mut unweighted = vec![true; data.n_teams];
    for ((&h, &a), &w) in data.home.iter().zip(&data.away).zip(&data.weight) {
        if w > 0.0 {
            unweighted[h as usize] = false;
            unweighted[a as usize] = false;
        }
    }
    unweighted
}

/// The prior for unseen teams: the mean strength that clubs entering this league showed in their
/// first season here (each such club's attack and defence fitted on that season's matches with
/// every other parameter held at the fit). Clubs present from the first season of the data are
/// not entrants. Without any entrant, the mean of the weakest quarter of the teams.
fn promoted_prior(
    indexed: &IndexedMatches,
    n: usize,
    teams: &[Arc<str>],
    data: &GoalsData,
    fit: &DixonColesFit,
) -> PromotedPrior {
    let seasons = &indexed.season[..n];
    let first_season = seasons.first().copied().unwrap_or(0);
    // Each team's first season in these matches, then the rows of that season it played in.
    let mut first_seen = vec![None; teams.len()];
    for (i, &season) in seasons.iter().enumerate() {
        for t in [data.home[i], data.away[i]] {
            first_seen[t as usize].get_or_insert(season);
        }
    }
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); teams.len()];
    for (i, &season) in seasons.iter().enumerate() {
        let (h, a) = (data.home[i] as usize, data.away[i] as usize);
        let mut add = |t: usize| {
            if first_seen[t] == Some(season) && season != first_season {
                rows[t].push(i);
            }
        };
        add(h);
        if a != h {
            add(a);
        }
    }
    let mut estimates = Vec::new();
    let mut from_teams = Vec::new();
    // In name order (the order of `teams`).
    for (idx, team) in teams.iter().enumerate() {
        if first_seen[idx] == Some(first_season) {
            continue;
        }
        let rows = &rows[idx];
        let subset = GoalsData {
            n_teams: data.n_teams,
            home: rows.iter().map(|&i| data.home[i]).collect(),
            away: rows.iter().map(|&i| data.away[i]).collect(),
            home_goals: rows.iter().map(|&i| data.home_goals[i]).collect(),
            away_goals: rows.iter().map(|&i| data.away_goals[i]).collect(),
            weight: vec![1.0; rows.len()],
            scores: if data.scores.is_empty() {
                Vec::new()
            } else {
                rows.iter().map(|&i| data.scores[i]).collect()
            },
        };
        if let Ok((a, d)) = dixon_coles::fit_single_team(&subset, idx as u32, fit) {
            if a.is_finite() && d.is_finite() {
                estimates.push((a, d));
                from_teams.push(team.to_string());
            }
        }
    }
    if !estimates.is_empty() {
        let n = estimates.len() as f64;
        return PromotedPrior {
            attack: estimates.iter().map(|e| e.0).sum::<f64>() / n,
            defence: estimates.iter().map(|e| e.1).sum::<f64>() / n,
            method: "mean first-season strength of clubs that entered the league".into(),
            from_teams,
        };
    }
    let mut by_strength: Vec<usize> = (0..teams.len()).collect();
    by_strength.sort_by(|&a, &b| {
        let sa = fit.attack[a] - fit.defence[a];
        let sb = fit.attack[b] - fit.defence[b];
        sa.total_cmp(&sb).then(a.cmp(&b))
    });
    let weakest = &by_strength[..teams.len().div_ceil(4).max(1).min(teams.len())];
    let n = weakest.len().max(1) as f64;
    PromotedPrior {
        attack: weakest.iter().map(|&i| fit.attack[i]).sum::<f64>() / n,
        defence: weakest.iter().map(|&i| fit.defence[i]).sum::<f64>() / n,
        method:
            "mean strength of the weakest quarter of teams (no club entered the league in the data)"
                .into(),
        from_teams: weakest.iter().map(|&i| teams[i].to_string()).collect(),
    }
}

/// Scores of one validation run.
#[derive(Debug, Clone, Serialize)]
struct Validation {
    /// The validation season (season protocol).
    #[serde(skip_serializing_if = "Option::is_none")]
    season: Option<String>,
    /// The validation window and its refits (window protocol).
    #[serde(skip_serializing_if = "Option::is_none")]
    window: Option<serde_json::Value>,
    n_train: usize,
    n_val: usize,
    rps: f64,
    log_loss: f64,
    brier: f64,
    accuracy: f64,
    /// Mean ln P(observed scoreline) per match.
    mean_scoreline_log_likelihood: f64,
    /// Over 2.5 goals: the model's log loss and the constant rate's of the matches before.
    #[serde(skip_serializing_if = "Option::is_none")]
    over_2_5: Option<serde_json::Value>,
    base_rates: OutcomeScores,
}

/// The decay used and how it was chosen.
#[derive(Debug, Clone, Serialize)]
struct XiChoice {
    xi_per_day: f64,
    /// `--selection`: `window` or `season`.
    protocol: &'static str,
    source: String,
    /// True when no choice could be made and the default decay is used.
    fallback: bool,
    /// (xi, mean validation scoreline log-likelihood) for each candidate tried.
    candidates: Vec<(f64, f64)>,
    /// The window protocol: the best candidate against the default decay (per-match mean
    /// difference of the scoreline log-likelihood and its standard error); the best replaces
    /// the default only beyond `selection::MIN_STANDARD_ERRORS` of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    against_default: Option<serde_json::Value>,
}

/// Time-ordered validation: fits on every match before the validation season with each decay in
/// `candidates`, scores the validation season with the frozen fit, and returns the best decay
/// with its scores. The validation season is the latest one, or the one before it when the
/// latest has fewer than [`MIN_VALIDATION_MATCHES`] matches (its matches are then unused here).
/// `None` (the default decay) when the validation season also has fewer than that many matches
/// or fewer than [`MIN_VALIDATION_TRAIN`] matches precede it.
/// Each candidate's fit starts from `start`'s fit of the same decay, else from the previous
/// candidate's, else (the first) from `start`'s final fit, else cold. Also returns every
/// candidate's fit (for the next refit to start from).
fn validate(
    indexed: &IndexedMatches,
    candidates: &[f64],
    start: Option<&PoissonStart>,
) -> Result<Option<Validated>> {
    let matches = indexed.matches;
    let Some(last) = matches.last() else {
        return Ok(None);
    };
    let mut season = last.date.season();
    let mut end = matches.len();
    let mut split = matches.partition_point(|m| m.date < Date::season_start(season));
    if end - split < MIN_VALIDATION_MATCHES && split > 0 {
        end = split;
        season = matches[split - 1].date.season();
        split = matches.partition_point(|m| m.date < Date::season_start(season));
    }
    let (train, val) = (&matches[..split], &matches[split..end]);
    if train.len() < MIN_VALIDATION_TRAIN || val.len() < MIN_VALIDATION_MATCHES {
        return Ok(None);
    }
    let outcomes: Vec<usize> = val.iter().map(Match::outcome).collect();
    let mut tried = Vec::new();
    let mut best: Option<(f64, f64, usize)> = None;
    let mut fits: Vec<(f64, LeagueFit)> = Vec::new();
    for &xi in candidates {
        let warm = start
            .and_then(|s| s.validation(xi))
            .or(fits.last().map(|(_, f)| f))
            .or(start.map(|s| &s.last));
        let fitted = fit_league(indexed, split, xi, warm)?;
        let mean_ll = val
            .iter()
            .map(|m| {
                let (l, mu) = fitted.rates(&m.home, &m.away);
                dixon_coles::log_prob(
                    l,
                    mu,
                    fitted.fit.rho,
                    m.home_goals as u16,
                    m.away_goals as u16,
                )
            })
            .sum::<f64>()
            / val.len() as f64;
        tried.push((xi, round(mean_ll)));
        if best.as_ref().is_none_or(|b| mean_ll > b.1) {
            best = Some((xi, mean_ll, fits.len()));
        }
        fits.push((xi, fitted));
    }
    let Some((xi, mean_ll, best_index)) = best else {
        return Ok(None);
    };
    let fitted = &fits[best_index].1;
    let probs: Vec<[f64; 3]> = val
        .iter()
        .map(|m| {
            let (l, mu) = fitted.rates(&m.home, &m.away);
            ScorelineGrid::dixon_coles(l, mu, fitted.fit.rho).one_x_two()
        })
        .collect();
    let model = metrics::score_1x2(&probs, &outcomes);
    let rates = metrics::base_rates(&train.iter().map(Match::outcome).collect::<Vec<_>>());
    let base = metrics::score_1x2(&vec![rates; val.len()], &outcomes);
    let validation = Validation {
        season: Some(Date::season_label(season)),
        window: None,
        n_train: train.len(),
        n_val: val.len(),
        rps: round(model.rps),
        log_loss: round(model.log_loss),
        brier: round(model.brier),
        accuracy: round(model.accuracy),
        mean_scoreline_log_likelihood: round(mean_ll),
        over_2_5: None,
        base_rates: base.rounded(),
    };
    let source = if candidates.len() == 1 {
        "fixed by --xi"
    } else if end < matches.len() {
        "chosen by validation on the season before the latest (the latest has fewer than 100 matches)"
    } else {
        "chosen by validation on the latest season"
    };
    Ok(Some((
        XiChoice {
            xi_per_day: xi,
            protocol: Protocol::Season.name(),
            source: source.to_string(),
            fallback: false,
            candidates: tried,
            against_default: None,
        },
        validation,
        fits,
    )))
}

/// Each candidate decay's fit.
type XiFits = Vec<(f64, LeagueFit)>;

/// The decay chosen, its validation scores and every candidate's fit.
type Validated = (XiChoice, Validation, XiFits);

fn metrics_json(
    model: &PoissonModelFile,
    weighted_log_likelihood: f64,
    xi: &XiChoice,
    validation: Option<&Validation>,
) -> Result<Vec<u8>> {
    let value = serde_json::json!({
        "league": model.header.league,
        "model_type": SPEC.name,
        "trained_date": model.trained_date,
        "total_matches": model.training_matches,
        "decay_factor": round((-365.0 * model.xi_per_day).exp()),
        "note": "Time-decay Poisson model for scoreline prediction",
        "xi_per_day": model.xi_per_day,
        "xi_selection": xi,
        "strength_ridge": model.strength_ridge,
        "strength_prior_sd": if model.strength_ridge > 0.0 {
            serde_json::json!(round(1.0 / (2.0 * model.strength_ridge).sqrt()))
        } else {
            serde_json::Value::Null
        },
        "total_ridge": model.total_ridge,
        "scores": {
            "market_weight": model.market_weight,
            "matches_with_market": model.matches_with_market,
            "note": "the team strengths are fitted to each training match's goals blended with its market's expected goals (the independent Poisson rates that reproduce its closing 1X2 and over/under 2.5 odds, else its opening ones) by market_weight; matches without odds contribute their goals; rho is fitted to the goals",
        },
        "reference_date": model.reference_date,
        "weighted_log_likelihood": weighted_log_likelihood,
        "n_teams": model.teams.len(),
        "home_advantage": round(model.home_advantage),
        "rho": round(model.rho),
        "validation": match validation {
            Some(v) => serde_json::to_value(v)?,
            None => serde_json::json!({"note": "too short a history to validate on"}),
        },
    });
    common::metrics_bytes(&value)
}

/// The decay to fit with, the validation that chose or checked it (by `protocol`), and the
/// season protocol's candidate fits (each starting from `start`'s fit of its decay, if any).
fn choose_xi(
    indexed: &IndexedMatches,
    fixed: Option<f64>,
    protocol: Protocol,
    start: Option<&PoissonStart>,
) -> Result<(XiChoice, Option<Validation>, XiFits)> {
    let candidates: Vec<f64> = match (fixed, protocol) {
        (Some(xi), _) => vec![xi],
        (None, Protocol::Season) => indexed.xi_candidates.to_vec(),
        // The window protocol weighs every candidate against the default, so it is one of them.
        (None, Protocol::Window) => {
            let mut c = indexed.xi_candidates.to_vec();
            c.push(indexed.default_xi);
            c.sort_by(f64::total_cmp);
            c.dedup();
            c
        }
    };
    let (found, why_not) = match protocol {
        Protocol::Season => (
            validate(indexed, &candidates, start)?,
            "no season of at least 100 matches with 100 before it to validate on".to_string(),
        ),
        Protocol::Window => match validate_window(indexed, &candidates)? {
            Ok((choice, v)) => (Some((choice, v, Vec::new())), String::new()),
            Err(reason) => (None, reason),
        },
    };
    Ok(match found {
        Some((choice, v, fits)) => (choice, Some(v), fits),
        None => (
            XiChoice {
                xi_per_day: fixed.unwrap_or(indexed.default_xi),
                protocol: protocol.name(),
                source: if fixed.is_some() {
                    "fixed by --xi".to_string()
                } else {
                    format!("default {} ({why_not})", indexed.default_xi)
                },
                fallback: fixed.is_none(),
                candidates: Vec::new(),
                against_default: None,
            },
            None,
            Vec::new(),
        ),
    })
}

/// The replayed predictions of one candidate decay across the validation window: the rates and
/// rho of each window match, from the fit of the block it fell in.
type Replayed = Vec<(f64, f64, f64)>;

/// The window protocol's validation: the latest season's worth of matches (across season
/// boundaries; see `stats::selection`) predicted as a refreshed model would have predicted them,
/// each block of [`selection::REFIT_DAYS`] days from a fit on every match before it, with each
/// candidate decay; the decay with the highest mean scoreline log-likelihood wins. `Ok(Err(why))`
/// when the history is too short to choose on (the default decay is used).
fn validate_window(
    indexed: &IndexedMatches,
    candidates: &[f64],
) -> Result<std::result::Result<(XiChoice, Validation), String>> {
    let matches = indexed.matches;
    let dates: Vec<Date> = matches.iter().map(|m| m.date).collect();
    let windows = match selection::latest_windows(&dates, &indexed.season, 1, MIN_VALIDATION_TRAIN)
    {
        Ok(w) => w,
        Err(why) => return Ok(Err(why)),
    };
    let window = windows.windows[0].clone();
    let blocks = selection::refit_blocks(&dates, window.clone(), selection::REFIT_DAYS);
    let replay = Replay::new(indexed, &dates, candidates);
    let mut replayed: Vec<Replayed> = vec![Vec::with_capacity(window.len()); candidates.len()];
    for (refit, block) in &blocks {
        // Every match before the refit date; never fewer than the window's own start allows.
        let end = dates.partition_point(|d| d < refit);
        let fits = if end < MIN_VALIDATION_TRAIN {
            replay.fits(block.start, *refit, None)?
        } else {
            replay.chained(*refit)?
        };
        // The block's clubs looked up once for every candidate holding the same clubs.
        let slots: Vec<(Option<usize>, Option<usize>)> = match fits.first() {
            Some(first) => matches[block.clone()]
                .iter()
                .map(|m| {
                    (
                        team_slot(&first.teams, &m.home),
                        team_slot(&first.teams, &m.away),
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        for (c, fitted) in fits.iter().enumerate() {
            let shared = fits.first().is_some_and(|first| first.same_teams(fitted));
            for (m, &(home, away)) in matches[block.clone()].iter().zip(&slots) {
                let (l, mu) = if shared {
                    fitted.rates_at(indexed, home, away)
                } else {
                    fitted.rates(indexed, &m.home, &m.away)
                };
                replayed[c].push((l, mu, fitted.fit.rho));
            }
        }
    }
    let val = &matches[window.clone()];
    let tried: Vec<selection::Candidate> = candidates
        .iter()
        .zip(&replayed)
        .map(|(&xi, r)| selection::Candidate {
            value: xi,
            score: mean_scoreline_log_likelihood(val, r),
        })
        .collect();
    let Some(best) = selection::best(&tried, false) else {
        return Ok(Err("no candidate decay scored".to_string()));
    };
    let default_xi = indexed.default_xi;
    let (c, against_default) =
        weigh_against_default(val, (candidates, default_xi), &tried, best, &replayed);
    let chosen = tried[c];
    let mut described = selection::describe(&dates, &window);
    if let Some(obj) = described.as_object_mut() {
        obj.insert("refits".into(), blocks.len().into());
        obj.insert("refit_every_days".into(), selection::REFIT_DAYS.into());
        obj.insert("season_size".into(), windows.season_size.into());
    }
    let validation = window_scores(&matches[..window.start], val, &replayed[c], described);
    let source = if candidates.len() == 1 {
        "fixed by --xi (scored on the validation window)".to_string()
    } else {
        format!(
            "{} on the latest {} matches ({} refits every {} days)",
            if chosen.value == default_xi {
                format!(
                    "default {default_xi} kept unless beaten by {} standard errors",
                    selection::MIN_STANDARD_ERRORS
                )
            } else {
                format!(
                    "beat the default {default_xi} by more than {} standard errors",
                    selection::MIN_STANDARD_ERRORS
                )
            },
            val.len(),
            blocks.len(),
            selection::REFIT_DAYS
        )
    };
    Ok(Ok((
        XiChoice {
            xi_per_day: chosen.value,
            protocol: Protocol::Window.name(),
            source,
            fallback: false,
            candidates: tried.iter().map(|t| (t.value, round(t.score))).collect(),
            against_default,
        },
        validation,
    )))
}

/// The candidate the window protocol uses (its index in `tried`): the best one when it beats the
/// default decay by more than `selection::MIN_STANDARD_ERRORS` standard errors of the per-match
/// differences of their scoreline log-likelihoods on the window, else the default; and what
/// metrics.json says about that comparison. Without the default among the candidates (a fixed
/// `--xi`), the best.
fn weigh_against_default(
    val: &[Match],
    (candidates, default_xi): (&[f64], f64),
    tried: &[selection::Candidate],
    best: selection::Candidate,
    replayed: &[Replayed],
) -> (usize, Option<serde_json::Value>) {
    let b = tried.iter().position(|t| *t == best).unwrap_or(0);
    let Some(d) = candidates.iter().position(|&x| x == default_xi) else {
        return (b, None);
    };
    if candidates.len() < 2 {
        return (b, None);
    }
    let differences: Vec<f64> = scoreline_log_likelihoods(val, &replayed[b])
        .zip(scoreline_log_likelihoods(val, &replayed[d]))
        .map(|(x, y)| x - y)
        .collect();
    let (beats, mean, se) = selection::beats_default(&differences);
    let described = serde_json::json!({
        "default": default_xi,
        "best": best.value,
        "mean_difference": round(mean),
        "standard_error": round(se),
        "min_standard_errors": selection::MIN_STANDARD_ERRORS,
        "best_replaces_default": beats,
    });
    (if beats { b } else { d }, Some(described))
}

/// The refits of a validation replay are chained through the refit calendar: the fit at a
/// refit date starts from the fit of the same decay at the refit date before it (four weeks
/// less data, usually two or three Newton steps away), except at every `CHAIN_REFITS`-th date of
/// the grid (an anchor), where the first candidate starts cold and each next one from the
/// previous candidate's fit. A fit's start, and so its last bits, is then a function of the
/// matches before its date and of the date alone, whichever training or process computes it:
/// the replay cache stays deterministic, and a training whose window starts between two
/// anchors first fits the dates since the anchor before it (at most `CHAIN_REFITS - 1`).
const CHAIN_REFITS: i32 = 4;

/// One candidate's refit of a validation replay: the parameters, and the promoted prior only
/// once a block meets a club the fit does not hold (a block after a season boundary).
struct ReplayFit {
    teams: Vec<Arc<str>>,
    fit: DixonColesFit,
    /// The teams of `teams` none of whose matches carried weight: predicted from the prior.
    unweighted: Vec<bool>,
    n: usize,
    xi: f64,
    prior: std::sync::OnceLock<PromotedPrior>,
}

impl ReplayFit {
    /// (lambda, mu) of a match; the prior (computed here on first use) for an unseen club.
    /// `indexed` holds the fit's matches (a cache entry is keyed by their content).
    fn rates(&self, indexed: &IndexedMatches, home: &str, away: &str) -> (f64, f64) {
        self.rates_at(
            indexed,
            team_slot(&self.teams, home),
            team_slot(&self.teams, away),
        )
    }

    /// [`ReplayFit::rates`] of the clubs at these places in `teams` (`None`: not held).
    fn rates_at(
        &self,
        indexed: &IndexedMatches,
        home: Option<usize>,
        away: Option<usize>,
    ) -> (f64, f64) {
        let strengths = |slot: Option<usize>| match slot.filter(|&i| !self.unweighted[i]) {
            Some(i) => (self.fit.attack[i], self.fit.defence[i]),
            None => {
                let prior = self.prior.get_or_init(|| {
                    let (teams, data) = indexed.goals_data(self.n, self.xi);
                    promoted_prior(indexed, self.n, &teams, &data, &self.fit)
                });
                (prior.attack, prior.defence)
            }
        };
        rates_of(&self.fit, strengths(home), strengths(away))
    }

    /// Whether `other` holds the same clubs (the candidates of one refit share their list).
    fn same_teams(&self, other: &ReplayFit) -> bool {
        self.teams.len() == other.teams.len()
            && self
                .teams
                .iter()
                .zip(&other.teams)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
    }

    /// These parameters as a start for a fit of `teams` (sorted): a club this fit does not
    /// hold starts at attack 0 and the mean defence (not at the prior, which is computed only
    /// when needed: the start must not depend on whether it was).
    fn start_for(&self, teams: &[Arc<str>]) -> DixonColesFit {
        let defence = &self.fit.defence;
        let mean_defence = defence.iter().sum::<f64>() / defence.len().max(1) as f64;
        start_by_name(&self.fit, teams, |t| {
            fitted_strengths(&self.teams, &self.fit, t).unwrap_or((0.0, mean_defence))
        })
    }
}

/// A training's view of the process-wide replay cache: its matches, their dates and content
/// hashes, and the candidate decays.
struct Replay<'a> {
    indexed: &'a IndexedMatches<'a>,
    dates: &'a [Date],
    hashes: Vec<u64>,
    candidates: &'a [f64],
}

impl<'a> Replay<'a> {
    fn new(indexed: &'a IndexedMatches<'a>, dates: &'a [Date], candidates: &'a [f64]) -> Self {
        Replay {
            indexed,
            dates,
            hashes: indexed.prefix_hashes(),
            candidates,
        }
    }

    /// The candidates' fits on every match before `refit`, each started from the fit at the
    /// refit date before it unless `refit` is an anchor or fewer than the validation's
    /// minimum of matches precede that date (then the chain starts here).
    fn chained(&self, refit: Date) -> Result<Arc<Vec<ReplayFit>>> {
        let end = |g: Date| self.dates.partition_point(|d| *d < g);
        let days = selection::REFIT_DAYS;
        // Back to the chain's start, then forward through the cache.
        let mut chain = vec![refit];
        let mut g = refit;
        while selection::refit_index(g, days).rem_euclid(CHAIN_REFITS) != 0
            && end(Date(g.0 - days)) >= MIN_VALIDATION_TRAIN
        {
            g = Date(g.0 - days);
            chain.push(g);
        }
        let mut previous: Option<Arc<Vec<ReplayFit>>> = None;
        for &g in chain.iter().rev() {
            previous = Some(self.fits(end(g), g, previous.as_deref().map(Vec::as_slice))?);
        }
        previous.context("an empty refit chain")
    }

    /// Each candidate's fit on the first `n` matches for the refit at `refit`, started from
    /// `from` (the same candidates' fits at the refit date before) or, without it, the first
    /// cold and each next from the previous candidate's. Computed once per process for the
    /// same matches, date and candidates: consecutive trainings of a nightly refresh or a
    /// daily backtest share their refit dates, and a fit depends on nothing but the matches
    /// before its date and its place in the chain (which the date and those matches decide).
    fn fits(
        &self,
        n: usize,
        refit: Date,
        from: Option<&[ReplayFit]>,
    ) -> Result<Arc<Vec<ReplayFit>>> {
        let key = (
            self.hashes[n],
            n,
            refit.0,
            from.is_some(),
            self.indexed.strength_ridge.to_bits(),
            self.indexed.total_ridge.to_bits(),
            self.candidates
                .iter()
                .map(|c| c.to_bits())
                .collect::<Vec<u64>>(),
        );
        let cache = REPLAY_FITS.get_or_init(Default::default);
        if let Some(fits) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(fits);
        }
        let mut fits: Vec<ReplayFit> = Vec::with_capacity(self.candidates.len());
        // The candidates differ only in the weights.
        let (teams, mut data) = self.indexed.goals_data(n, 0.0);
        for (c, &xi) in self.candidates.iter().enumerate() {
            data.weight = self.indexed.weights(n, xi);
            // A club the refit before did not hold (a promoted club's first matches) is weakly
            // determined: where its fit stops depends on the start by more than rounding, so
            // such a refit starts as an anchor does.
            let start = match from.and_then(|previous| previous.get(c)) {
                Some(previous) if previous.teams == teams => Some(previous),
                _ => fits.last(),
            }
            .map(|f| f.start_for(&teams));
            let fit = dixon_coles::fit_parameters(
                &data,
                self.indexed.strength_ridge,
                self.indexed.total_ridge,
                start.as_ref(),
            )
            .context("Dixon-Coles fit")?;
            fits.push(ReplayFit {
                teams: teams.clone(),
                fit,
                unweighted: unweighted_teams(&data),
                n,
                xi,
                prior: Default::default(),
            });
        }
        let fits = Arc::new(fits);
        if let Ok(mut c) = cache.lock() {
            if c.len() >= REPLAY_CACHE_ENTRIES {
                c.clear();
            }
            c.insert(key, fits.clone());
        }
        Ok(fits)
    }
}

/// (content hash of the first n matches, n, refit date, chained from the refit before, the
/// strength and total ridges' bits, the candidate decays' bits) -> their fits.
type ReplayKey = (u64, usize, i32, bool, u64, u64, Vec<u64>);
static REPLAY_FITS: std::sync::OnceLock<
    std::sync::Mutex<FxHashMap<ReplayKey, Arc<Vec<ReplayFit>>>>,
> = std::sync::OnceLock::new();
/// Bound of the replay cache (about 10 KB an entry); emptied when full.
const REPLAY_CACHE_ENTRIES: usize = 2048;

#[cfg(test)]
fn clear_replay_cache() {
    if let Some(cache) = REPLAY_FITS.get() {
        cache.lock().unwrap().clear();
    }
    if let Some(memo) = WINDOW_MARKETS.get() {
        memo.lock().unwrap().clear();
    }
}

/// Each window match's scoreline log-likelihood under its replayed prediction.
fn scoreline_log_likelihoods<'a>(
    val: &'a [Match],
    replayed: &'a Replayed,
) -> impl Iterator<Item = f64> + 'a {
    val.iter().zip(replayed).map(|(m, &(l, mu, rho))| {
        dixon_coles::log_prob(l, mu, rho, m.home_goals as u16, m.away_goals as u16)
    })
}

fn mean_scoreline_log_likelihood(val: &[Match], replayed: &Replayed) -> f64 {
    scoreline_log_likelihoods(val, replayed).sum::<f64>() / val.len().max(1) as f64
}

/// The scores of the chosen decay's replayed predictions on the window, beside the base rates
/// (1X2 and over 2.5) of the matches before it.
fn window_scores(
    before: &[Match],
    val: &[Match],
    replayed: &Replayed,
    window: serde_json::Value,
) -> Validation {
    let outcomes: Vec<usize> = val.iter().map(Match::outcome).collect();
    let (probs, p_over): (Vec<[f64; 3]>, Vec<f64>) = window_markets(replayed).into_iter().unzip();
    let model = metrics::score_1x2(&probs, &outcomes);
    let rates = metrics::base_rates(&before.iter().map(Match::outcome).collect::<Vec<_>>());
    let base = metrics::score_1x2(&vec![rates; val.len()], &outcomes);
    let over = |m: &Match| u32::from(m.home_goals) + u32::from(m.away_goals) > 2;
    let y_over: Vec<bool> = val.iter().map(over).collect();
    let rate = before.iter().filter(|m| over(m)).count() as f64 / before.len().max(1) as f64;
    Validation {
        season: None,
        window: Some(window),
        n_train: before.len(),
        n_val: val.len(),
        rps: round(model.rps),
        log_loss: round(model.log_loss),
        brier: round(model.brier),
        accuracy: round(model.accuracy),
        mean_scoreline_log_likelihood: round(mean_scoreline_log_likelihood(val, replayed)),
        over_2_5: Some(serde_json::json!({
            "log_loss": round(crate::stats::link::mean_binary_log_loss(&p_over, &y_over)),
            "base_rate": round(rate),
            "base_rate_log_loss": round(crate::stats::link::mean_binary_log_loss(&vec![rate; val.len()], &y_over)),
        })),
        base_rates: base.rounded(),
    }
}

/// The 1X2 probabilities and P(over 2.5) of each replayed prediction (its scoreline grid's),
/// memoised per process by the prediction's bits: the same numbers, computed once. Consecutive
/// trainings of a backtest or of a nightly refresh score nearly the same window with the same
/// cached refits, so nearly every grid was built by the training before.
fn window_markets(replayed: &Replayed) -> Vec<([f64; 3], f64)> {
    let grid = |&(l, mu, rho): &(f64, f64, f64)| {
        let g = ScorelineGrid::dixon_coles(l, mu, rho);
        (g.one_x_two(), g.over(2.5))
    };
    let Ok(mut memo) = WINDOW_MARKETS.get_or_init(Default::default).lock() else {
        return replayed.iter().map(grid).collect();
    };
    if memo.len() + replayed.len() > WINDOW_MARKETS_ENTRIES {
        memo.clear();
    }
    replayed
        .iter()
        .map(|r| {
            *memo
                .entry([r.0.to_bits(), r.1.to_bits(), r.2.to_bits()])
                .or_insert_with(|| grid(r))
        })
        .collect()
}

/// (lambda, mu, rho) bits of a replayed prediction -> its 1X2 probabilities and P(over 2.5).
type MarketsMemo = FxHashMap<[u64; 3], ([f64; 3], f64)>;
static WINDOW_MARKETS: std::sync::OnceLock<std::sync::Mutex<MarketsMemo>> =
    std::sync::OnceLock::new();
/// Bound of the markets memo (about 100 bytes an entry; a backtest of the shipped leagues
/// holds about 10,000); emptied when full.
const WINDOW_MARKETS_ENTRIES: usize = 1 << 16;

pub struct PoissonV2;

impl ModelType for PoissonV2 {
    fn spec(&self) -> &'static ModelSpec {
        &SPEC
    }

    fn train(&self, ctx: &TrainContext) -> Result<TrainedModel> {
        let matches = &ctx.league.matches;
        if matches.len() < SPEC.min_matches {
            bail!("{} matches, fewer than {}", matches.len(), SPEC.min_matches);
        }
        if let Some(xi) = ctx.xi_per_day {
            if !(xi.is_finite() && xi >= 0.0) {
                bail!("--xi must be a non-negative number, got {xi}");
            }
        }
        let start = ctx
            .warm_start
            .and_then(|w| w.downcast_ref::<PoissonStart>());
        let market_weight = ctx.market_weight.unwrap_or(DEFAULT_MARKET_WEIGHT);
        if !(0.0..=1.0).contains(&market_weight) {
            bail!("--market-weight must be a number in 0..=1, got {market_weight}");
        }
        let mut indexed = IndexedMatches::new(matches, (0.0, 0.0), market_weight);
        // The ridges are priors against the goals' noise: a fit to the market's expected goals
        // has none unless asked.
        let strength_ridge = ctx.strength_ridge.unwrap_or(if indexed.on_market {
            0.0
        } else {
            DEFAULT_STRENGTH_RIDGE
        });
        if !(strength_ridge.is_finite() && strength_ridge >= 0.0) {
            bail!("--ridge must be a non-negative number, got {strength_ridge}");
        }
        let total_ridge = ctx.total_ridge.unwrap_or(if strength_ridge == 0.0 {
            0.0
        } else {
            DEFAULT_TOTAL_RIDGE
        });
        if !(total_ridge.is_finite() && total_ridge >= 0.0) {
            bail!("--total-ridge must be a non-negative number, got {total_ridge}");
        }
        indexed.strength_ridge = strength_ridge;
        indexed.total_ridge = total_ridge;
        let (xi, validation, validation_fits) =
            choose_xi(&indexed, ctx.xi_per_day, ctx.selection, start)?;
        let fitted = fit_league(
            &indexed,
            matches.len(),
            xi.xi_per_day,
            start.map(|s| &s.last),
        )?;
        let reference = matches.last().map(|m| m.date).unwrap_or(Date(0));
        let model = PoissonModelFile {
            header: ArtifactHeader::new(FORMAT, FORMAT_VERSION, SPEC.name, &ctx.league.league),
            trained_date: ctx.trained_date.into(),
            teams: fitted
                .teams
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    (
                        t.to_string(),
                        TeamStrength {
                            attack: fitted.fit.attack[i],
                            defence: fitted.fit.defence[i],
                        },
                    )
                })
                .collect(),
            home_advantage: fitted.fit.home_advantage,
            rho: fitted.fit.rho,
            xi_per_day: xi.xi_per_day,
            strength_ridge,
            total_ridge,
            market_weight,
            matches_with_market: indexed.market.iter().filter(|m| m.is_some()).count(),
            reference_date: reference.to_string(),
            promoted_prior: fitted.prior.clone(),
            max_goals: MAX_GOALS,
            training_matches: matches.len(),
        };
        let metrics = metrics_json(
            &model,
            fitted.fit.weighted_log_likelihood,
            &xi,
            validation.as_ref(),
        )?;
        let summary = match &validation {
            Some(v) => format!(
                "xi={}/day, validation {} RPS {:.4} (base rates {:.4})",
                xi.xi_per_day,
                v.season
                    .clone()
                    .unwrap_or_else(|| format!("{} latest matches", v.n_val)),
                v.rps,
                v.base_rates.rps
            ),
            None => format!("xi={}/day, no validation season", xi.xi_per_day),
        };
        Ok(TrainedModel {
            files: vec![
                ModelFile {
                    name: MODEL_FILE.into(),
                    bytes: pickle::to_bytes(&model)?,
                },
                ModelFile {
                    name: "metrics.json".into(),
                    bytes: metrics,
                },
            ],
            summary,
            warnings: Vec::new(),
            warm_start: Some(Arc::new(PoissonStart {
                last: fitted,
                validation: validation_fits,
            })),
        })
    }

    fn load(&self, dir: &Path) -> Result<Box<dyn Predictor>> {
        Ok(Box::new(load_model(dir)?))
    }

    fn warm_start(&self, dir: &Path) -> Option<WarmStart> {
        let model = load_model(dir).ok()?;
        Some(Arc::new(PoissonStart {
            last: model.as_league_fit(),
            validation: Vec::new(),
        }))
    }

    fn metrics_for_existing(&self, dir: &Path, ctx: &TrainContext) -> Result<Vec<u8>> {
        let model = load_model(dir)?;
        let reference = Date::parse(&model.reference_date)
            .with_context(|| format!("bad reference_date {:?}", model.reference_date))?;
        let end = ctx.league.matches.partition_point(|m| m.date <= reference);
        let matches = &ctx.league.matches[..end];
        let fitted = model.as_league_fit();
        let data = goals_data_for(matches, &fitted.teams, model.xi_per_day);
        let wll = dixon_coles::weighted_log_likelihood(
            &data,
            &fitted.fit.attack,
            &fitted.fit.defence,
            model.home_advantage,
            model.rho,
        );
        let (xi, validation, _) = choose_xi(
            &IndexedMatches::new(
                matches,
                (model.strength_ridge, model.total_ridge),
                model.market_weight,
            ),
            Some(model.xi_per_day),
            ctx.selection,
            None,
        )?;
        let xi = XiChoice {
            source: "read from poisson_model.pkl".to_string(),
            ..xi
        };
        metrics_json(&model, wll, &xi, validation.as_ref())
    }
}

/// Like `goals_data` but over a given (sorted) team list; matches with a team outside it are
/// dropped. Weights are relative to the latest of `matches`.
fn goals_data_for(matches: &[Match], teams: &[Arc<str>], xi: f64) -> GoalsData {
    let reference = matches.last().map(|m| m.date).unwrap_or(Date(0));
    let idx = |t: &Arc<str>| teams.binary_search(t).ok().map(|i| i as u32);
    let rows: Vec<(&Match, u32, u32)> = matches
        .iter()
        .filter_map(|m| Some((m, idx(&m.home)?, idx(&m.away)?)))
        .collect();
    GoalsData {
        n_teams: teams.len(),
        home: rows.iter().map(|r| r.1).collect(),
        away: rows.iter().map(|r| r.2).collect(),
        home_goals: rows.iter().map(|r| r.0.home_goals as u16).collect(),
        away_goals: rows.iter().map(|r| r.0.away_goals as u16).collect(),
        weight: decay_weights(rows.iter().map(|r| r.0.date), reference, xi),
        scores: Vec::new(),
    }
}

fn load_model(dir: &Path) -> Result<PoissonModelFile> {
    let model: PoissonModelFile =
        common::read_artifact(dir, MODEL_FILE, FORMAT, &[FORMAT_VERSION], SPEC.name)?;
    if model.header.league.is_none() {
        bail!("{} records no league", dir.join(MODEL_FILE).display());
    }
    let finite = model
        .teams
        .values()
        .all(|t| t.attack.is_finite() && t.defence.is_finite())
        && model.home_advantage.is_finite()
        && model.rho.is_finite();
    if !finite {
        bail!(
            "{} holds non-finite parameters",
            dir.join(MODEL_FILE).display()
        );
    }
    Ok(model)
}

impl PoissonModelFile {
    fn as_league_fit(&self) -> LeagueFit {
        // BTreeMap iterates in name order, the order `goals_data` uses.
        LeagueFit {
            teams: self.teams.keys().map(|t| Arc::from(t.as_str())).collect(),
            fit: DixonColesFit {
                attack: self.teams.values().map(|t| t.attack).collect(),
                defence: self.teams.values().map(|t| t.defence).collect(),
                home_advantage: self.home_advantage,
                rho: self.rho,
                weighted_log_likelihood: f64::NAN,
                iterations: 0,
                converged: true,
            },
            prior: self.promoted_prior.clone(),
        }
    }
}

impl Artifact for PoissonModelFile {
    fn header(&self) -> &ArtifactHeader {
        &self.header
    }
}

impl Predictor for PoissonModelFile {
    fn recorded_model_type(&self) -> &str {
        &self.header.model_type
    }

    fn recorded_league(&self) -> Option<&str> {
        self.header.league.as_deref()
    }

    fn columns(&self) -> Vec<String> {
        [
            "home",
            "draw",
            "away",
            "lambda_home",
            "lambda_away",
            "over_2_5",
            "btts",
        ]
        .iter()
        .map(|c| format!("{}_{c}", SPEC.name))
        .collect()
    }

    fn predict_with(&self, fixtures: &[Fixture], _: &[RawFeatures]) -> Result<Vec<Vec<f64>>> {
        let fitted = self.as_league_fit();
        Ok(fixtures
            .iter()
            .map(|f| {
                let (l, mu) = fitted.rates(&f.home, &f.away);
                let grid = ScorelineGrid::dixon_coles(l, mu, self.rho);
                let [h, d, a] = grid.one_x_two();
                vec![h, d, a, l, mu, grid.over(2.5), grid.btts()]
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped Premier League, 2010-11 to 2022-23.
    fn premier_league() -> Vec<Match> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/E0");
        let loaded = crate::data::load_data_dir(&dir).unwrap();
        let league = loaded.dataset.leagues.into_values().next().unwrap();
        assert!(league.matches.len() > 4000, "{}", league.matches.len());
        league.matches
    }

    fn before(matches: &[Match], date: &str) -> usize {
        let d = Date::parse(date).unwrap();
        matches.partition_point(|m| m.date < d)
    }

    /// metrics.json's selection and validation of a window validation, as bytes.
    fn validated(matches: &[Match], candidates: &[f64]) -> String {
        let (choice, validation) = validate_window(
            &IndexedMatches::new(matches, (DEFAULT_STRENGTH_RIDGE, DEFAULT_TOTAL_RIDGE), 0.0),
            candidates,
        )
        .unwrap()
        .unwrap();
        serde_json::to_string(&(choice, validation)).unwrap()
    }

    /// The Bundesliga before 2021-09-06 with decay 0.002: the maximum lies on the edge of the
    /// valid region (one pairing, only ever won 2-0 at home, has lambda * rho at -1), where no
    /// step makes progress; the fit used to take all 200 Newton steps (about 0.2 s, most of a
    /// Poisson backtest's time) and now stops when a step moves nothing, at the same point.
    #[test]
    fn the_market_columns_are_every_column_the_market_is_read_from() {
        let named: Vec<&str> = PAST_1X2
            .iter()
            .flatten()
            .chain(PAST_OVER_UNDER.iter().flatten())
            .copied()
            .collect();
        assert_eq!(named, MARKET_COLUMNS);
        for c in MARKET_COLUMNS {
            assert!(crate::models::TRAINING_COLUMNS.contains(&c), "{c}");
        }
    }

    #[test]
    fn a_fit_whose_maximum_is_on_the_edge_stops_when_no_step_moves() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/processed/D1");
        let loaded = crate::data::load_data_dir(&dir).unwrap();
        let all = loaded.dataset.leagues.into_values().next().unwrap().matches;
        let n = before(&all, "2021-09-06");
        let (_, data) = goals_data(&all[..n], 0.002);
        let fitted = dixon_coles::fit(&data, None).unwrap();
        assert!(!fitted.converged);
        assert!(fitted.iterations < 60, "{} iterations", fitted.iterations);
        // Nothing left to gain: a fit started there stops at once, where it started.
        let again = dixon_coles::fit(&data, Some(&fitted)).unwrap();
        assert!(
            again.iterations <= 2,
            "{} more iterations",
            again.iterations
        );
        let moved = fitted
            .attack
            .iter()
            .zip(&again.attack)
            .chain(fitted.defence.iter().zip(&again.defence))
            .map(|(a, b)| (a - b).abs())
            .fold((fitted.rho - again.rho).abs(), f64::max);
        assert!(moved < 1e-12, "{moved:e}");
        assert!((fitted.weighted_log_likelihood - again.weighted_log_likelihood).abs() < 1e-9);
    }

    #[test]
    fn a_replay_does_not_depend_on_what_the_cache_already_holds() {
        let all = premier_league();
        // Two trainings three weeks apart, mid-season, then one a season later: each also with
        // the cache emptied first. Trainings earlier in the process fill the cache with fits
        // whose chains started elsewhere (their windows start on other dates).
        let ends = [
            before(&all, "2021-11-01"),
            before(&all, "2021-11-22"),
            before(&all, "2022-10-10"),
        ];
        for candidates in [&XI_CANDIDATES[..], &[0.0018][..]] {
            let warm: Vec<String> = ends
                .iter()
                .map(|&n| validated(&all[..n], candidates))
                .collect();
            for (k, &n) in ends.iter().enumerate().rev() {
                clear_replay_cache();
                assert_eq!(validated(&all[..n], candidates), warm[k], "training {k}");
            }
        }
    }

    #[test]
    fn memoised_window_markets_are_the_grids_own_numbers() {
        let replayed: Replayed = (0..50)
            .map(|i| {
                let i = f64::from(i);
                (0.6 + 0.05 * i, 2.4 - 0.03 * i, -0.1 + 0.004 * i)
            })
            .collect();
        let fresh: Vec<([f64; 3], f64)> = replayed
            .iter()
            .map(|&(l, mu, rho)| {
                let g = ScorelineGrid::dixon_coles(l, mu, rho);
                (g.one_x_two(), g.over(2.5))
            })
            .collect();
        let bits = |v: &[([f64; 3], f64)]| -> Vec<u64> {
            v.iter()
                .flat_map(|(p, o)| p.iter().chain([o]).map(|x| x.to_bits()))
                .collect()
        };
        // Computed, then read back from the memo (a later training's window), then half of
        // them beside new ones.
        assert_eq!(bits(&window_markets(&replayed)), bits(&fresh));
        assert_eq!(bits(&window_markets(&replayed)), bits(&fresh));
        let mixed: Replayed = replayed[25..]
            .iter()
            .copied()
            .chain([(1.3, 1.1, 0.02)])
            .collect();
        let g = ScorelineGrid::dixon_coles(1.3, 1.1, 0.02);
        let mut expected = fresh[25..].to_vec();
        expected.push((g.one_x_two(), g.over(2.5)));
        assert_eq!(bits(&window_markets(&mixed)), bits(&expected));
    }

    /// Chaining changes where a refit starts, not what it predicts: each block's chained fits
    /// against the same refit unchained (each candidate's fit started as at an anchor, as
    /// before the chain: the first cold, each next from the one before). Not against a cold
    /// fit of every candidate: without the strength ridge (`--ridge 0`) a club that has not
    /// scored yet (Nottingham Forest after its first match of 2022-23) is held only by the
    /// robustness ridge, and its rate (about 4e-8) differs between any two starts by up to 3e-4
    /// relative; the chain starts such a refit unchained.
    #[test]
    fn chained_refits_predict_as_unchained_refits_do() {
        let all = premier_league();
        let matches = &all[..before(&all, "2022-11-14")];
        let indexed =
            IndexedMatches::new(matches, (DEFAULT_STRENGTH_RIDGE, DEFAULT_TOTAL_RIDGE), 0.0);
        let dates: Vec<Date> = matches.iter().map(|m| m.date).collect();
        let window = selection::latest_windows(&dates, &indexed.season, 1, MIN_VALIDATION_TRAIN)
            .unwrap()
            .windows[0]
            .clone();
        let candidates = [0.0, 0.0018, 0.006];
        let replay = Replay::new(&indexed, &dates, &candidates);
        let (mut chained, mut worst) = (0, 0.0f64);
        for (refit, block) in selection::refit_blocks(&dates, window, selection::REFIT_DAYS) {
            let end = dates.partition_point(|d| *d < refit);
            let fits = replay.chained(refit).unwrap();
            let unchained = replay.fits(end, refit, None).unwrap();
            chained += usize::from(!Arc::ptr_eq(&fits, &unchained));
            for (fit, other) in fits.iter().zip(unchained.iter()) {
                for m in &matches[block.clone()] {
                    let (l, mu) = fit.rates(&indexed, &m.home, &m.away);
                    let (lu, muu) = other.rates(&indexed, &m.home, &m.away);
                    // Relative: the goals' log-likelihood reads the rates' logarithms.
                    worst = worst.max((l / lu - 1.0).abs()).max((mu / muu - 1.0).abs());
                    worst = worst.max((fit.fit.rho - other.fit.rho).abs());
                }
            }
        }
        assert!(chained >= 5, "{chained} chained refits");
        assert!(worst < 1e-9, "largest relative difference {worst:e}");
    }
}
