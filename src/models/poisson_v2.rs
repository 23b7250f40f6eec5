//! Poisson v2: a time-decay Dixon-Coles goals model per league. It predicts a scoreline grid,
//! and every market (1X2, over/under, both teams to score) is read off that grid. The decay `xi`
//! is chosen per league by time-ordered validation on the latest season unless `--xi` fixes it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::data::date::Date;
use crate::data::matches::{Dataset, Match};
use crate::models::common::{self, Artifact, ArtifactHeader};
use crate::models::model_type::{
    Fixture, ModelFile, ModelSpec, ModelType, Predictor, TrainContext, TrainedModel,
};
use crate::stats::dixon_coles::{self, DixonColesFit, GoalsData};
use crate::stats::metrics::{self, round, OutcomeScores};
use crate::stats::scoreline::{ScorelineGrid, MAX_GOALS};
use crate::store::pickle;

pub static SPEC: ModelSpec = ModelSpec {
    name: "poisson_v2",
    version: "v2",
    dir_name: "poisson_v2",
    legacy_dir_names: &[],
    required_files: &["poisson_model.pkl", "metrics.json"],
    min_matches: 100,
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
    /// Weights are exp(-xi * days before this date) (the latest training match).
    pub reference_date: String,
    pub promoted_prior: PromotedPrior,
    pub max_goals: usize,
    pub training_matches: usize,
}

/// A fitted league: team order, parameters, prior.
struct LeagueFit {
    teams: Vec<Arc<str>>,
    fit: DixonColesFit,
    prior: PromotedPrior,
}

impl LeagueFit {
    fn strengths(&self, team: &str) -> (f64, f64) {
        match self.teams.binary_search_by(|t| t.as_ref().cmp(team)) {
            Ok(i) => (self.fit.attack[i], self.fit.defence[i]),
            Err(_) => (self.prior.attack, self.prior.defence),
        }
    }

    fn rates(&self, home: &str, away: &str) -> (f64, f64) {
        let (ah, dh) = self.strengths(home);
        let (aa, da) = self.strengths(away);
        ((self.fit.home_advantage + ah + da).exp(), (aa + dh).exp())
    }
}

/// The likelihood's inputs as the trainer builds them: teams sorted by name, each match weighted
/// exp(-xi * days before the latest match). Public for the benches and timing example.
pub fn goals_data(matches: &[Match], xi: f64) -> (Vec<Arc<str>>, GoalsData) {
    IndexedMatches::new(matches).goals_data(matches.len(), xi)
}

/// A league's matches (sorted by date) with each side as an index into the league's team names
/// (sorted) and each match's season: built once per training, shared by the validation fit, the
/// final fit and the promoted prior, so no fit compares team names.
struct IndexedMatches<'a> {
    matches: &'a [Match],
    names: Vec<Arc<str>>,
    home: Vec<u32>,
    away: Vec<u32>,
    season: Vec<i32>,
}

impl<'a> IndexedMatches<'a> {
    fn new(matches: &'a [Match]) -> IndexedMatches<'a> {
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
        IndexedMatches {
            matches,
            names: by_name
                .iter()
                .map(|&id| first_order[id as usize].clone())
                .collect(),
            home,
            away,
            season: matches.iter().map(|m| m.date.season()).collect(),
        }
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
        let reference = matches.last().map(|m| m.date).unwrap_or(Date(0));
        let data = GoalsData {
            n_teams: teams.len(),
            home: home.iter().map(|&t| local[t as usize]).collect(),
            away: away.iter().map(|&t| local[t as usize]).collect(),
            home_goals: matches.iter().map(|m| m.home_goals as u16).collect(),
            away_goals: matches.iter().map(|m| m.away_goals as u16).collect(),
            weight: decay_weights(matches.iter().map(|m| m.date), reference, xi),
        };
        (teams, data)
    }
}

/// exp(-xi * days before `reference`) of each match date; one exponential per run of equal
/// dates (sorted matches: a match day has several).
fn decay_weights(dates: impl Iterator<Item = Date>, reference: Date, xi: f64) -> Vec<f64> {
    let mut last: Option<(Date, f64)> = None;
    dates
        .map(|date| match last {
            Some((day, w)) if day == date => w,
            _ => {
                let w = (-xi * reference.days_since(date) as f64).exp();
                last = Some((date, w));
                w
            }
        })
        .collect()
}

/// Fits the model on the first `n` matches with decay `xi`.
fn fit_league(
    indexed: &IndexedMatches,
    n: usize,
    xi: f64,
    warm: Option<&DixonColesFit>,
) -> Result<LeagueFit> {
    let (teams, data) = indexed.goals_data(n, xi);
    let warm = warm.filter(|w| w.attack.len() == teams.len());
    let fit = dixon_coles::fit(&data, warm).context("Dixon-Coles fit")?;
    if !fit.converged {
        tracing::warn!(
            "Dixon-Coles fit stopped after {} iterations before full convergence",
            fit.iterations
        );
    }
    let prior = promoted_prior(indexed, n, &teams, &data, &fit);
    Ok(LeagueFit { teams, fit, prior })
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
    season: String,
    n_train: usize,
    n_val: usize,
    rps: f64,
    log_loss: f64,
    brier: f64,
    accuracy: f64,
    /// Mean ln P(observed scoreline) per match.
    mean_scoreline_log_likelihood: f64,
    base_rates: OutcomeScores,
}

/// The decay used and how it was chosen.
#[derive(Debug, Clone, Serialize)]
struct XiChoice {
    xi_per_day: f64,
    source: &'static str,
    /// (xi, mean validation scoreline log-likelihood) for each candidate tried.
    candidates: Vec<(f64, f64)>,
}

/// Time-ordered validation: fits on every match before the validation season with each decay in
/// `candidates`, scores the validation season with the frozen fit, and returns the best decay
/// with its scores. The validation season is the latest one, or the one before it when the
/// latest has fewer than [`MIN_VALIDATION_MATCHES`] matches (its matches are then unused here).
/// `None` (the default decay) when the validation season also has fewer than that many matches
/// or fewer than [`MIN_VALIDATION_TRAIN`] matches precede it.
fn validate(
    indexed: &IndexedMatches,
    candidates: &[f64],
) -> Result<Option<(XiChoice, Validation)>> {
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
    let mut best: Option<(f64, f64, LeagueFit)> = None;
    let mut warm: Option<DixonColesFit> = None;
    for &xi in candidates {
        let fitted = fit_league(indexed, split, xi, warm.as_ref())?;
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
        warm = Some(fitted.fit.clone());
        if best.as_ref().is_none_or(|b| mean_ll > b.1) {
            best = Some((xi, mean_ll, fitted));
        }
    }
    let Some((xi, mean_ll, fitted)) = best else {
        return Ok(None);
    };
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
        season: Date::season_label(season),
        n_train: train.len(),
        n_val: val.len(),
        rps: round(model.rps),
        log_loss: round(model.log_loss),
        brier: round(model.brier),
        accuracy: round(model.accuracy),
        mean_scoreline_log_likelihood: round(mean_ll),
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
            source,
            candidates: tried,
        },
        validation,
    )))
}

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
        "reference_date": model.reference_date,
        "weighted_log_likelihood": weighted_log_likelihood,
        "n_teams": model.teams.len(),
        "home_advantage": round(model.home_advantage),
        "rho": round(model.rho),
        "validation": match validation {
            Some(v) => serde_json::to_value(v)?,
            None => serde_json::json!({"note": "no earlier season to validate on"}),
        },
    });
    common::metrics_bytes(&value)
}

/// The decay to fit with, and the validation that chose or checked it.
fn choose_xi(
    indexed: &IndexedMatches,
    fixed: Option<f64>,
) -> Result<(XiChoice, Option<Validation>)> {
    let candidates: Vec<f64> = match fixed {
        Some(xi) => vec![xi],
        None => XI_CANDIDATES.to_vec(),
    };
    Ok(match validate(indexed, &candidates)? {
        Some((choice, v)) => (choice, Some(v)),
        None => (
            XiChoice {
                xi_per_day: fixed.unwrap_or(DEFAULT_XI),
                source: if fixed.is_some() {
                    "fixed by --xi"
                } else {
                    "default (no season of at least 100 matches with 100 before it to validate on)"
                },
                candidates: Vec::new(),
            },
            None,
        ),
    })
}

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
        let indexed = IndexedMatches::new(matches);
        let (xi, validation) = choose_xi(&indexed, ctx.xi_per_day)?;
        let fitted = fit_league(&indexed, matches.len(), xi.xi_per_day, None)?;
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
                xi.xi_per_day, v.season, v.rps, v.base_rates.rps
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
        })
    }

    fn load(&self, dir: &Path) -> Result<Box<dyn Predictor>> {
        Ok(Box::new(load_model(dir)?))
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
        let (xi, validation) = choose_xi(&IndexedMatches::new(matches), Some(model.xi_per_day))?;
        let xi = XiChoice {
            source: "read from poisson_model.pkl",
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

    fn predict(&self, fixtures: &[Fixture], _: &Dataset, _: &str) -> Result<Vec<Vec<f64>>> {
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
