//! Pre-match features shared by the `1x2_v2` and `draw_specialist` model types: one pass over
//! every match of the dataset in date order keeps team ratings (goal-difference Elo with a
//! per-league home advantage, online Poisson attack/defence strengths for goals and for shots on
//! target), recent form across leagues, rest days and league draw rates, and answers "queries"
//! (a match to train on or a fixture to predict) from the state left by the matches dated
//! strictly before the query. Training rows and predictions go through the same code, so a
//! feature can never see its own match or anything later.

mod state;

pub use state::FeatureState;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, OnceLock};

use anyhow::{bail, Result};
use rustc_hash::FxHashMap;

use crate::data::date::Date;
use crate::data::matches::{Dataset, Extras, LeagueMatches, Match};
use crate::stats::link::logit;
use crate::stats::scoreline::ScorelineGrid;

/// Every feature this module can compute, in the order of [`RawFeatures::values`]: each name
/// beside the function that reads its value off a query's pre-match state, so names and values
/// cannot drift apart. Model files name the subset they use; names are part of the file format,
/// so never rename one.
pub const FEATURES: &[Feature] = &[
    Feature::new("elo_diff", |p| p.elo_diff),
    Feature::new("elo_abs_diff", |p| p.elo_diff.abs()),
    Feature::new("xg_home_log", |p| p.log_xg_home),
    Feature::new("xg_away_log", |p| p.log_xg_away),
    Feature::new("xg_total", |p| p.log_xg_home.exp() + p.log_xg_away.exp()),
    Feature::new("xg_abs_diff", |p| {
        (p.log_xg_home.exp() - p.log_xg_away.exp()).abs()
    }),
    Feature::new("pois_home_logit", |p| logit(p.poisson_1x2[0])),
    Feature::new("pois_draw_logit", |p| logit(p.poisson_1x2[1])),
    Feature::new("pois_away_logit", |p| logit(p.poisson_1x2[2])),
    Feature::new("sot_home_log", |p| p.log_sot_home),
    Feature::new("sot_away_log", |p| p.log_sot_away),
    Feature::new("form_pts_diff", |p| p.form_home.points - p.form_away.points),
    Feature::new("form_gd_diff", |p| {
        p.form_home.goal_difference - p.form_away.goal_difference
    }),
    Feature::new("form_sot_diff", |p| {
        p.form_home.sot_difference - p.form_away.sot_difference
    }),
    Feature::new("draw_rate_home", |p| p.draw_rate_home),
    Feature::new("draw_rate_away", |p| p.draw_rate_away),
    Feature::new("league_draw_rate", |p| p.league_draw_rate),
    Feature::new("rest_home", |p| p.log_rest_home),
    Feature::new("rest_away", |p| p.log_rest_away),
    Feature::new("new_home", |p| p.new_home as u8 as f64),
    Feature::new("new_away", |p| p.new_away as u8 as f64),
    Feature::new("mkt_home_logit", |p| p.market.map_or(0.0, |m| logit(m[0]))),
    Feature::new("mkt_draw_logit", |p| p.market.map_or(0.0, |m| logit(m[1]))),
    Feature::new("mkt_away_logit", |p| p.market.map_or(0.0, |m| logit(m[2]))),
    Feature::new("mkt_abs_diff", |p| {
        p.market.map_or(0.0, |m| (logit(m[0]) - logit(m[2])).abs())
    }),
    Feature::new("mkt_absent", |p| p.market.is_none() as u8 as f64),
];

/// A named feature and how to compute it.
pub struct Feature {
    pub name: &'static str,
    value: fn(&Pregame) -> f64,
}

impl Feature {
    const fn new(name: &'static str, value: fn(&Pregame) -> f64) -> Feature {
        Feature { name, value }
    }
}

/// What is known about a query before kickoff, from which every feature is read.
struct Pregame {
    /// Elo difference (home advantage included) in natural-log odds units.
    elo_diff: f64,
    log_xg_home: f64,
    log_xg_away: f64,
    /// Independent-Poisson (home, draw, away) from the expected goals.
    poisson_1x2: [f64; 3],
    log_sot_home: f64,
    log_sot_away: f64,
    form_home: Form,
    form_away: Form,
    draw_rate_home: f64,
    draw_rate_away: f64,
    league_draw_rate: f64,
    log_rest_home: f64,
    log_rest_away: f64,
    new_home: bool,
    new_away: bool,
    market: Option<[f64; 3]>,
}

/// Mean points, goal difference and shots-on-target difference of a club's recent matches.
struct Form {
    points: f64,
    goal_difference: f64,
    sot_difference: f64,
}

/// Index of a feature name in [`FEATURES`].
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURES.iter().position(|f| f.name == name)
}

/// Pre-match bookmaker triples (home, draw, away column names) in order of preference: Pinnacle,
/// then market averages, then single bookmakers. Closing-odds columns (`PSCH`, `AvgCH`, ...) are
/// never listed, so they can never become an input.
const PRE_MATCH_ODDS: &[[&str; 3]] = &[
    ["PSH", "PSD", "PSA"],
    ["AvgH", "AvgD", "AvgA"],
    ["BbAvH", "BbAvD", "BbAvA"],
    ["B365H", "B365D", "B365A"],
    ["BWH", "BWD", "BWA"],
    ["IWH", "IWD", "IWA"],
    ["WHH", "WHD", "WHA"],
    ["VCH", "VCD", "VCA"],
    ["LBH", "LBD", "LBA"],
    ["GBH", "GBD", "GBA"],
    ["SJH", "SJD", "SJA"],
    ["BSH", "BSD", "BSA"],
];

/// The extra columns the pass reads from the matches it learns from (shots on target): all a
/// load for `predict` needs, whose fixtures bring their own odds.
pub const HISTORY_COLUMNS: &[&str] = &["HST", "AST"];

/// Every extra column the feature pass reads (the pre-match odds above and shots on target):
/// what a load for the feature models keeps (`data::Columns::Wanted`).
pub const COLUMNS_READ: &[&str] = &[
    "PSH", "PSD", "PSA", "AvgH", "AvgD", "AvgA", "BbAvH", "BbAvD", "BbAvA", "B365H", "B365D",
    "B365A", "BWH", "BWD", "BWA", "IWH", "IWD", "IWA", "WHH", "WHD", "WHA", "VCH", "VCD", "VCA",
    "LBH", "LBD", "LBA", "GBH", "GBD", "GBA", "SJH", "SJD", "SJA", "BSH", "BSD", "BSA", "HST",
    "AST",
];

/// What the pass reads of every match besides its date, teams and goals: shots on target, for
/// the ratings of its league and for the recent form that follows each club across leagues.
/// Through that form (and the count of recent matches that makes a row warm) the matches a
/// club played in other leagues feed a league's rows: `ModelSpec::other_leagues_read`.
pub const MATCH_COLUMNS_READ: &[&str] = &["HST", "AST"];

/// The benchmark market of metrics files: Pinnacle opening, else the market average.
const BENCHMARK_ODDS: &[[&str; 3]] = &[
    ["PSH", "PSD", "PSA"],
    ["AvgH", "AvgD", "AvgA"],
    ["BbAvH", "BbAvD", "BbAvA"],
];

/// Margin-free probabilities from the first of `sources` (home, draw, away odds columns) that the
/// row carries with a sane book; `None` when none does.
pub fn implied(extras: &Extras, sources: &[[&str; 3]]) -> Option<[f64; 3]> {
    sources.iter().find_map(|cols| {
        let [h, d, a] = cols.map(|c| extras.get(c));
        margin_free([h?, d?, a?])
    })
}

/// The probabilities of a book of decimal odds with the margin removed proportionally, or `None`
/// when it is no sane book: a price outside (1, 1000), or an over-round outside 0.9..=1.5 (a
/// data error).
pub fn margin_free<const N: usize>(odds: [f64; N]) -> Option<[f64; N]> {
    if !odds.iter().all(|&o| o.is_finite() && o > 1.0 && o < 1000.0) {
        return None;
    }
    let inv = odds.map(|o| 1.0 / o);
    let s: f64 = inv.iter().sum();
    (0.9..=1.5).contains(&s).then(|| inv.map(|p| p / s))
}

/// Pre-match market probabilities (margin removed proportionally) from the first usable
/// bookmaker of the row, or `None` when it carries no usable pre-match odds.
pub fn market_probs(extras: &Extras) -> Option<[f64; 3]> {
    implied(extras, PRE_MATCH_ODDS)
}

/// The market forecast metrics files compare against (Pinnacle opening, else the average).
pub fn benchmark_market_probs(extras: &Extras) -> Option<[f64; 3]> {
    implied(extras, BENCHMARK_ODDS)
}

/// Something to compute features for: a match to train on or a fixture to predict.
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    pub date: Date,
    pub league: &'a str,
    pub home: &'a str,
    pub away: &'a str,
    /// The row's own columns: only its pre-match odds are read.
    pub extras: &'a Extras,
}

impl<'a> Query<'a> {
    pub fn of_match(league: &'a str, m: &'a Match) -> Query<'a> {
        Query {
            date: m.date,
            league,
            home: &m.home,
            away: &m.away,
            extras: &m.extras,
        }
    }
}

/// Every feature of one query, indexed like [`FEATURES`].
#[derive(Clone, Debug, PartialEq)]
pub struct RawFeatures {
    pub values: Vec<f64>,
    /// Both clubs and the league have enough history for ratings to mean something.
    pub warm: bool,
    /// Pre-match market probabilities, when the row had odds.
    pub market: Option<[f64; 3]>,
    /// The benchmark market (Pinnacle opening, else the average) for metrics, never an input.
    pub bench: Option<[f64; 3]>,
}

// Rating hyper-parameters: conventional values set by hand, not tuned (a candidate for tuning
// on seasons before the evaluation season).
const ELO_K: f64 = 20.0;
const ELO_HA0: f64 = 60.0;
const ELO_HA_K: f64 = 1.0;
const GOAL_ETA: f64 = 0.07;
const SOT_ETA: f64 = 0.05;
const MU_ETA: f64 = 0.004;
const SEASON_SHRINK: f64 = 0.8;
const NEW_BOOST: f64 = 1.6;
const NEW_MATCHES: u32 = 10;
const FORM_N: usize = 6;
const DRAW_N: usize = 10;
const LEAGUE_WARM: u32 = 150;
const TEAM_WARM: usize = 5;
const PRIOR_AFTER: u32 = 19;
const PRIOR_WEIGHT: f64 = 0.3;
const DRAW_EMA: f64 = 0.004;

#[derive(Clone, Copy, Debug, Default)]
struct Ratings {
    elo: f64,
    att: f64,
    def: f64,
    satt: f64,
    sdef: f64,
}

impl Ratings {
    fn scaled(self, f: f64) -> Ratings {
        Ratings {
            elo: self.elo * f,
            att: self.att * f,
            def: self.def * f,
            satt: self.satt * f,
            sdef: self.sdef * f,
        }
    }
    fn blend(self, other: Ratings, w: f64) -> Ratings {
        Ratings {
            elo: self.elo + w * (other.elo - self.elo),
            att: self.att + w * (other.att - self.att),
            def: self.def + w * (other.def - self.def),
            satt: self.satt + w * (other.satt - self.satt),
            sdef: self.sdef + w * (other.sdef - self.sdef),
        }
    }
    /// One match's lesson from this club's side: `elo` its Elo change, `goals` and `sot` the
    /// (own, opponent's) scaled rate errors, `boost` a newcomer's faster learning.
    fn learn(&mut self, elo: f64, goals: (f64, f64), sot: (f64, f64), boost: f64) {
        self.elo += elo * boost;
        self.att += GOAL_ETA * boost * goals.0;
        self.def -= GOAL_ETA * boost * goals.1;
        self.satt += SOT_ETA * boost * sot.0;
        self.sdef -= SOT_ETA * boost * sot.1;
    }
}

#[derive(Clone, Copy, Debug)]
struct Recent {
    pts: f64,
    gf: f64,
    ga: f64,
    sot: Option<(f64, f64)>,
    draw: bool,
}

#[derive(Debug, Default)]
struct Team {
    /// The league whose rating pool the ratings belong to.
    league: Option<usize>,
    pool_matches: u32,
    newcomer: bool,
    season: i32,
    r: Ratings,
    last_date: Option<Date>,
    recent: VecDeque<Recent>,
}

#[derive(Debug)]
struct League {
    n: u32,
    home_adv: f64,
    mu_h: f64,
    mu_a: f64,
    smu_h: f64,
    smu_a: f64,
    draw_rate: f64,
    /// Where a club new to the league starts: learnt from earlier newcomers.
    prior: Ratings,
}

impl League {
    fn new() -> League {
        League {
            n: 0,
            home_adv: ELO_HA0,
            mu_h: 1.5f64.ln(),
            mu_a: 1.15f64.ln(),
            smu_h: 4.8f64.ln(),
            smu_a: 3.9f64.ln(),
            draw_rate: 0.26,
            prior: Ratings {
                elo: -40.0,
                att: -0.1,
                def: -0.1,
                satt: -0.1,
                sdef: -0.1,
            },
        }
    }
}

/// The pass's state: every league's and club's ratings after the matches applied so far. Owns
/// its keys, so it can outlive the data it learnt from and be advanced by later matches.
#[derive(Default)]
struct Engine {
    league_ids: FxHashMap<Arc<str>, usize>,
    leagues: Vec<League>,
    team_ids: FxHashMap<Arc<str>, usize>,
    teams: Vec<Team>,
}

/// A club's ratings as seen from league `l`: its own when it plays there, else the league's
/// newcomer prior.
struct View {
    r: Ratings,
    new: bool,
}

impl Engine {
    fn league_id(&mut self, slug: &str) -> usize {
        if let Some(&id) = self.league_ids.get(slug) {
            return id;
        }
        let id = self.leagues.len();
        self.league_ids.insert(Arc::from(slug), id);
        self.leagues.push(League::new());
        id
    }

    fn team_id(&mut self, name: &Arc<str>) -> usize {
        if let Some(&id) = self.team_ids.get(name.as_ref()) {
            return id;
        }
        let id = self.teams.len();
        self.team_ids.insert(name.clone(), id);
        self.teams.push(Team::default());
        id
    }

    fn view(&self, team: Option<usize>, l: usize, season: i32) -> View {
        let league = &self.leagues[l];
        let fresh = if league.n >= LEAGUE_WARM * 2 {
            league.prior
        } else {
            Ratings::default()
        };
        match team.map(|t| &self.teams[t]) {
            Some(t) if t.league == Some(l) => {
                let r = if t.season != season && t.pool_matches > 0 {
                    t.r.scaled(SEASON_SHRINK)
                } else {
                    t.r
                };
                View {
                    r,
                    new: t.pool_matches < NEW_MATCHES,
                }
            }
            _ => View {
                r: fresh,
                new: true,
            },
        }
    }

    fn features(&self, q: &Query) -> RawFeatures {
        let l = self.league_ids.get(q.league).copied();
        let h = self.team_ids.get(q.home).copied();
        let a = self.team_ids.get(q.away).copied();
        let season = q.date.season();
        let default_league = League::new();
        let (league, vh, va) = match l {
            Some(l) => (
                &self.leagues[l],
                self.view(h, l, season),
                self.view(a, l, season),
            ),
            None => {
                let v = || View {
                    r: Ratings::default(),
                    new: true,
                };
                (&default_league, v(), v())
            }
        };
        let elo_diff = (vh.r.elo + league.home_adv - va.r.elo) / 400.0 * std::f64::consts::LN_10;
        let lh = league.mu_h + vh.r.att - va.r.def;
        let la = league.mu_a + va.r.att - vh.r.def;
        let poisson_1x2 =
            ScorelineGrid::independent(lh.exp().clamp(0.05, 8.0), la.exp().clamp(0.05, 8.0))
                .one_x_two();

        let team = |t: Option<usize>| t.map(|t| &self.teams[t]);
        let (th, ta) = (team(h), team(a));
        let form = |t: Option<&Team>| -> Form {
            let recent: Vec<&Recent> = t
                .map(|t| t.recent.iter().rev().take(FORM_N).collect())
                .unwrap_or_default();
            if recent.is_empty() {
                return Form {
                    points: 1.35,
                    goal_difference: 0.0,
                    sot_difference: 0.0,
                };
            }
            let n = recent.len() as f64;
            let sots: Vec<f64> = recent
                .iter()
                .filter_map(|r| r.sot.map(|(f, a)| f - a))
                .collect();
            Form {
                points: recent.iter().map(|r| r.pts).sum::<f64>() / n,
                goal_difference: recent.iter().map(|r| r.gf - r.ga).sum::<f64>() / n,
                sot_difference: if sots.is_empty() {
                    0.0
                } else {
                    sots.iter().sum::<f64>() / sots.len() as f64
                },
            }
        };
        let draw_rate = |t: Option<&Team>| -> f64 {
            let (d, n) = t
                .map(|t| {
                    let r: Vec<&Recent> = t.recent.iter().rev().take(DRAW_N).collect();
                    (r.iter().filter(|r| r.draw).count() as f64, r.len() as f64)
                })
                .unwrap_or((0.0, 0.0));
            (d + 3.0 * league.draw_rate) / (n + 3.0)
        };
        let rest = |t: Option<&Team>| -> f64 {
            let days = t
                .and_then(|t| t.last_date)
                .map(|d| q.date.days_since(d).clamp(1, 21))
                .unwrap_or(21);
            (days as f64).ln()
        };
        let market = market_probs(q.extras);
        let pregame = Pregame {
            elo_diff,
            log_xg_home: lh,
            log_xg_away: la,
            poisson_1x2,
            log_sot_home: league.smu_h + vh.r.satt - va.r.sdef,
            log_sot_away: league.smu_a + va.r.satt - vh.r.sdef,
            form_home: form(th),
            form_away: form(ta),
            draw_rate_home: draw_rate(th),
            draw_rate_away: draw_rate(ta),
            league_draw_rate: league.draw_rate,
            log_rest_home: rest(th),
            log_rest_away: rest(ta),
            new_home: vh.new,
            new_away: va.new,
            market,
        };
        let values = FEATURES.iter().map(|f| (f.value)(&pregame)).collect();
        let warm = l.is_some_and(|l| self.leagues[l].n >= LEAGUE_WARM)
            && th.is_some_and(|t| t.recent.len() >= TEAM_WARM)
            && ta.is_some_and(|t| t.recent.len() >= TEAM_WARM);
        RawFeatures {
            values,
            warm,
            market,
            bench: benchmark_market_probs(q.extras),
        }
    }

    /// Moves `team` into league `l`'s rating pool (at the league's newcomer prior) if it is not
    /// there yet, and applies the between-season shrinkage.
    fn enter(&mut self, t: usize, l: usize, season: i32) {
        let league_n = self.leagues[l].n;
        let prior = self.leagues[l].prior;
        let team = &mut self.teams[t];
        if team.league != Some(l) {
            team.league = Some(l);
            team.pool_matches = 0;
            team.newcomer = league_n >= LEAGUE_WARM * 2;
            team.r = if team.newcomer {
                prior
            } else {
                Ratings::default()
            };
            team.season = season;
        } else if team.season != season {
            if team.pool_matches > 0 {
                team.r = team.r.scaled(SEASON_SHRINK);
            }
            team.season = season;
        }
    }

    fn apply(&mut self, slug: &str, m: &Match) {
        let l = self.league_id(slug);
        let h = self.team_id(&m.home);
        let a = self.team_id(&m.away);
        if h == a {
            return;
        }
        let season = m.date.season();
        self.enter(h, l, season);
        self.enter(a, l, season);
        let (gh, ga) = (m.home_goals as f64, m.away_goals as f64);
        let sot = match (m.extra("HST"), m.extra("AST")) {
            (Some(x), Some(y)) if x >= 0.0 && y >= 0.0 && x < 100.0 && y < 100.0 => Some((x, y)),
            _ => None,
        };
        let score = match m.outcome() {
            0 => 1.0,
            1 => 0.5,
            _ => 0.0,
        };
        let (rh, ra) = (self.teams[h].r, self.teams[a].r);
        let boost = |t: &Team| {
            if t.pool_matches < NEW_MATCHES && t.newcomer {
                NEW_BOOST
            } else {
                1.0
            }
        };
        let (bh, ba) = (boost(&self.teams[h]), boost(&self.teams[a]));
        let step = self.leagues[l].learn(rh, ra, score, (gh, ga), sot, m.outcome() == 1);
        self.teams[h].r.learn(step.elo, step.goals, step.sot, bh);
        self.teams[a].r.learn(
            -step.elo,
            (step.goals.1, step.goals.0),
            (step.sot.1, step.sot.0),
            ba,
        );
        let draw = m.outcome() == 1;
        self.record(h, l, m.date, Recent::new(score, gh, ga, sot, draw));
        let sot_away = sot.map(|(x, y)| (y, x));
        self.record(
            a,
            l,
            m.date,
            Recent::new(1.0 - score, ga, gh, sot_away, draw),
        );
    }

    /// Adds a played match to `t`'s recent form, and feeds a newcomer's ratings after
    /// [`PRIOR_AFTER`] matches into league `l`'s newcomer prior.
    fn record(&mut self, t: usize, l: usize, date: Date, rec: Recent) {
        let team = &mut self.teams[t];
        team.recent.push_back(rec);
        if team.recent.len() > DRAW_N.max(FORM_N) {
            team.recent.pop_front();
        }
        team.last_date = Some(date);
        team.pool_matches += 1;
        if team.newcomer && team.pool_matches == PRIOR_AFTER {
            let r = team.r;
            let league = &mut self.leagues[l];
            league.prior = league.prior.blend(r, PRIOR_WEIGHT);
        }
    }
}

/// What one match teaches its two clubs' ratings (from the home side; the away side's is the
/// mirror image): the Elo change and the scaled errors of the goal and shots-on-target rates.
struct Step {
    elo: f64,
    /// (home goals error, away goals error), each over its league mean.
    goals: (f64, f64),
    /// The same for shots on target; zeros when the match has none.
    sot: (f64, f64),
}

impl League {
    /// Updates the league's own state (home advantage, mean rates, draw rate, count) with one
    /// match of ratings `rh` against `ra`, and returns what the clubs learn from it.
    fn learn(
        &mut self,
        rh: Ratings,
        ra: Ratings,
        score: f64,
        (gh, ga): (f64, f64),
        sot: Option<(f64, f64)>,
        draw: bool,
    ) -> Step {
        // Elo with goal-difference multiplier (World Football Elo style).
        let d = rh.elo + self.home_adv - ra.elo;
        let expected = 1.0 / (1.0 + 10f64.powf(-d / 400.0));
        let margin = (gh - ga).abs();
        let g = if margin <= 1.0 {
            1.0
        } else if margin == 2.0 {
            1.5
        } else {
            (11.0 + margin) / 8.0
        };
        let elo = ELO_K * g * (score - expected);
        self.home_adv += ELO_HA_K * (score - expected);

        // Online Poisson strengths (gradient step on the log-likelihood).
        let lh = (self.mu_h + rh.att - ra.def).exp();
        let la = (self.mu_a + ra.att - rh.def).exp();
        let goals = ((gh - lh) / self.mu_h.exp(), (ga - la) / self.mu_a.exp());
        self.mu_h += MU_ETA * (gh - lh);
        self.mu_a += MU_ETA * (ga - la);
        let mut sot_errors = (0.0, 0.0);
        if let Some((sh, sa)) = sot {
            let slh = (self.smu_h + rh.satt - ra.sdef).exp();
            let sla = (self.smu_a + ra.satt - rh.sdef).exp();
            sot_errors = ((sh - slh) / self.smu_h.exp(), (sa - sla) / self.smu_a.exp());
            self.smu_h += MU_ETA * (sh - slh) / self.smu_h.exp();
            self.smu_a += MU_ETA * (sa - sla) / self.smu_a.exp();
        }
        self.draw_rate += DRAW_EMA * (draw as u8 as f64 - self.draw_rate);
        self.n += 1;
        Step {
            elo,
            goals,
            sot: sot_errors,
        }
    }
}

impl Recent {
    /// A club's record of one match: its score (1, 0.5 or 0), goals for and against, shots on
    /// target (own, opponent's).
    fn new(score: f64, gf: f64, ga: f64, sot: Option<(f64, f64)>, draw: bool) -> Recent {
        let pts = if score == 1.0 {
            3.0
        } else if score == 0.5 {
            1.0
        } else {
            0.0
        };
        Recent {
            pts,
            gf,
            ga,
            sot,
            draw,
        }
    }
}

/// Computes the features of every query from the matches of `dataset` (plus `league`, when the
/// dataset does not already hold it) dated strictly before the query. Results are in query order.
pub fn compute(
    dataset: &Dataset,
    league: Option<&LeagueMatches>,
    queries: &[Query],
) -> Result<Vec<RawFeatures>> {
    let mut all = dataset.all_matches_by_date();
    if let Some(l) = league {
        if !dataset.leagues.contains_key(&l.league) {
            all.extend(l.matches.iter().map(|m| (l.league.as_str(), m)));
            all.sort_by(|a, b| {
                (a.1.date, a.0, &a.1.home, &a.1.away).cmp(&(b.1.date, b.0, &b.1.home, &b.1.away))
            });
        }
    }
    let mut order: Vec<usize> = (0..queries.len()).collect();
    order.sort_by_key(|&i| queries[i].date);
    let mut engine = Engine::default();
    let mut out: Vec<Option<RawFeatures>> = vec![None; queries.len()];
    let mut next = 0;
    for (slug, m) in all {
        while next < order.len() && queries[order[next]].date <= m.date {
            out[order[next]] = Some(engine.features(&queries[order[next]]));
            next += 1;
        }
        engine.apply(slug, m);
    }
    for &i in &order[next..] {
        out[i] = Some(engine.features(&queries[i]));
    }
    out.into_iter()
        .map(|f| match f {
            Some(f) => finite(f),
            None => bail!("a query was not answered"),
        })
        .collect()
}

/// `f`, or an error when a feature came out non-finite.
fn finite(f: RawFeatures) -> Result<RawFeatures> {
    if f.values.iter().all(|v| v.is_finite()) {
        Ok(f)
    } else {
        bail!("a feature came out non-finite")
    }
}

/// The warm rows of one league, in date order, ready for training.
#[derive(Clone, Debug, PartialEq)]
pub struct LeagueRows {
    pub raw: Vec<RawFeatures>,
    /// 0 home win, 1 draw, 2 away win.
    pub outcomes: Vec<usize>,
    /// Full-time goals of each row's match (for goal-based targets such as over/under).
    pub home_goals: Vec<u8>,
    pub away_goals: Vec<u8>,
    pub seasons: Vec<i32>,
    pub dates: Vec<Date>,
}

impl LeagueRows {
    /// Computes the features of every match of `league` and keeps those with enough history.
    pub fn build(dataset: &Dataset, league: &LeagueMatches) -> Result<LeagueRows> {
        let queries: Vec<Query> = league
            .matches
            .iter()
            .map(|m| Query::of_match(&league.league, m))
            .collect();
        let raw = compute(dataset, Some(league), &queries)?;
        let mut out = LeagueRows::empty();
        for (m, f) in league.matches.iter().zip(raw) {
            out.push(m, f);
        }
        Ok(out)
    }

    /// Share of rows whose match had usable pre-match odds.
    pub fn market_share(&self) -> f64 {
        let n = self.raw.iter().filter(|r| r.market.is_some()).count();
        n as f64 / self.raw.len().max(1) as f64
    }
}

/// Feature rows of every league of a dataset, computed in one pass over all matches the first time
/// any model of a run asks, then shared: the 1x2_v2 and draw_specialist trainers of every league
/// read their rows from it instead of each replaying the whole dataset.
#[derive(Default)]
pub struct FeatureCache {
    all: OnceLock<std::result::Result<BTreeMap<String, Arc<LeagueRows>>, String>>,
}

impl FeatureCache {
    pub fn new() -> FeatureCache {
        FeatureCache::default()
    }

    /// A cache holding rows already computed for every league of the dataset it will be asked
    /// about (e.g. by a [`FeatureState`] advanced to that dataset's last morning).
    pub fn from_rows(rows: BTreeMap<String, Arc<LeagueRows>>) -> FeatureCache {
        FeatureCache {
            all: OnceLock::from(Ok(rows)),
        }
    }

    /// Runs the shared pass now (no-op if it already ran), so that later callers only read it.
    pub fn warm(&self, dataset: &Dataset) {
        self.all
            .get_or_init(|| LeagueRows::build_all(dataset).map_err(|e| format!("{e:#}")));
    }

    /// The rows of `league`: from the shared pass when `league` is the dataset's own league, else
    /// computed for it alone (features depend only on matches dated before each row, so both
    /// ways give identical rows).
    pub fn league_rows(
        &self,
        dataset: &Dataset,
        league: &LeagueMatches,
    ) -> Result<Arc<LeagueRows>> {
        let is_dataset_league = dataset
            .league(&league.league)
            .is_some_and(|l| std::ptr::eq(l, league));
        if !is_dataset_league {
            return LeagueRows::build(dataset, league).map(Arc::new);
        }
        self.warm(dataset);
        match self.all.get() {
            Some(Ok(map)) => map
                .get(&league.league)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no feature rows for {}", league.league)),
            Some(Err(e)) => bail!("{e}"),
            None => bail!("the feature pass did not run"),
        }
    }
}

impl LeagueRows {
    /// The rows of every league of `dataset`, from one pass.
    pub fn build_all(dataset: &Dataset) -> Result<BTreeMap<String, Arc<LeagueRows>>> {
        let queries: Vec<Query> = dataset
            .leagues
            .iter()
            .flat_map(|(slug, l)| l.matches.iter().map(move |m| Query::of_match(slug, m)))
            .collect();
        let mut raw = compute(dataset, None, &queries)?.into_iter();
        let mut out = BTreeMap::new();
        for (slug, league) in &dataset.leagues {
            let mut rows = LeagueRows::empty();
            for (m, f) in league.matches.iter().zip(raw.by_ref()) {
                rows.push(m, f);
            }
            out.insert(slug.clone(), Arc::new(rows));
        }
        Ok(out)
    }

    pub(crate) fn empty() -> LeagueRows {
        LeagueRows {
            raw: Vec::new(),
            outcomes: Vec::new(),
            home_goals: Vec::new(),
            away_goals: Vec::new(),
            seasons: Vec::new(),
            dates: Vec::new(),
        }
    }

    /// Keeps a match's row when it has enough history.
    pub(crate) fn push(&mut self, m: &Match, f: RawFeatures) {
        if f.warm {
            self.outcomes.push(m.outcome());
            self.home_goals.push(m.home_goals);
            self.away_goals.push(m.away_goals);
            self.seasons.push(m.date.season());
            self.dates.push(m.date);
            self.raw.push(f);
        }
    }
}

/// The named features of every row in one row-major buffer (`names.len()` values a row),
/// failing on a name this version does not know.
pub fn select_rows(raw: &[RawFeatures], names: &[String]) -> Result<Vec<f64>> {
    let idx = indices(names)?;
    let mut flat = Vec::with_capacity(raw.len() * idx.len());
    for r in raw {
        flat.extend(idx.iter().map(|&i| r.values[i]));
    }
    Ok(flat)
}

pub fn indices(names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|n| feature_index(n).ok_or_else(|| anyhow::anyhow!("unknown feature {n:?}")))
        .collect()
}

#[cfg(test)]
mod columns_read_tests {
    use super::*;

    #[test]
    fn columns_read_lists_every_column_the_pass_reads() {
        for name in PRE_MATCH_ODDS.iter().chain(BENCHMARK_ODDS).flatten() {
            assert!(COLUMNS_READ.contains(name), "{name}");
        }
        for name in MATCH_COLUMNS_READ {
            assert!(COLUMNS_READ.contains(name), "{name}");
        }
    }
}
