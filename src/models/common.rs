//! Pieces both logistic model types need around their files: the producer tag that lets `load`
//! reject foreign pickles, reading a model file from a directory, metrics.json and its small
//! score blocks, and the features of fixtures to predict, so the two types write, check and
//! predict from their artifacts the same way.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;

use crate::features::{self, Query, RawFeatures};
use crate::data::matches::Dataset;
use crate::stats::metrics::{self, BinaryScores, OutcomeScores};
use crate::models::model_type::{Fixture, ModelFile};

/// Written into every pickle; `load` refuses files without it.
pub const PRODUCER: &str = "auto-train";

/// Reads `dir/name` as a pickle of `T` and checks its producer and format tags.
pub fn read_model<T: DeserializeOwned + Tagged>(dir: &Path, name: &str, format: &str) -> Result<T> {
    let path = dir.join(name);
    let value: T = crate::store::pickle::read_file(&path)?;
    let (producer, found) = value.tags();
    if producer != PRODUCER || found != format {
        bail!(
            "{} is not a {format} file written by {PRODUCER} (producer {producer:?}, format {found:?})",
            path.display()
        );
    }
    Ok(value)
}

/// Artifacts carry `producer` and `format` fields.
pub trait Tagged {
    fn tags(&self) -> (&str, &str);
}

/// Reads `dir/feature_list.json`-like JSON files.
pub fn read_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T> {
    let path = dir.join(name);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// `metrics.json` as one of a model's files.
pub fn metrics_file(metrics: &serde_json::Value) -> Result<ModelFile> {
    Ok(ModelFile {
        name: "metrics.json".to_string(),
        bytes: serde_json::to_vec_pretty(metrics)?,
    })
}

/// `metrics.json` for a directory that lacks one: the training protocol's `metrics` (validation
/// needs models that did not see the latest season, which shipped files did) plus how the files
/// already in the directory score on the latest season.
pub fn metrics_with_existing_scores(
    mut metrics: serde_json::Value,
    season: &str,
    scores: impl serde::Serialize,
    note: &str,
) -> Result<Vec<u8>> {
    if let Some(obj) = metrics.as_object_mut() {
        obj.insert(
            "existing_files_on_latest_season".to_string(),
            serde_json::json!({ "season": season, "scores": scores, "note": note }),
        );
    }
    Ok(serde_json::to_vec_pretty(&metrics)?)
}

/// The pre-match features of `fixtures` of `league`: each from the state the dataset's matches
/// dated before it leave (what both logistic model types predict from).
pub fn fixture_features(
    dataset: &Dataset,
    league: &str,
    fixtures: &[Fixture],
) -> Result<Vec<RawFeatures>> {
    let queries: Vec<Query> = fixtures
        .iter()
        .map(|f| Query {
            date: f.date,
            league,
            home: &f.home,
            away: &f.away,
            extras: &f.extras,
        })
        .collect();
    features::compute(dataset, None, &queries)
}

/// 1X2 scores rounded for metrics.json.
pub fn scores_1x2(p: &[[f64; 3]], y: &[usize]) -> OutcomeScores {
    metrics::score_1x2(p, y).rounded()
}

/// Binary scores rounded for metrics.json.
pub fn scores_binary(p: &[f64], y: &[bool]) -> BinaryScores {
    metrics::score_binary(p, y).rounded()
}

/// First and last date of a range of rows, for the split description.
pub fn span(dates: &[crate::data::date::Date], r: &std::ops::Range<usize>) -> String {
    match (
        dates.get(r.start),
        r.end.checked_sub(1).and_then(|e| dates.get(e)),
    ) {
        (Some(a), Some(b)) if r.start < r.end => format!("{a}..{b} ({} matches)", r.len()),
        _ => "empty".to_string(),
    }
}

/// The latest season of a league as fixtures and outcomes: ("YYYY-YY", fixtures, outcomes).
pub fn latest_season(
    league: &crate::data::matches::LeagueMatches,
) -> Result<(String, Vec<crate::models::model_type::Fixture>, Vec<usize>)> {
    let Some(season) = league.last_date().map(|d| d.season()) else {
        bail!("{} has no matches", league.league);
    };
    let latest: Vec<_> = league
        .matches
        .iter()
        .filter(|m| m.date.season() == season)
        .collect();
    let fixtures = latest
        .iter()
        .map(|m| crate::models::model_type::Fixture {
            date: m.date,
            home: m.home.clone(),
            away: m.away.clone(),
            extras: m.extras.clone(),
        })
        .collect();
    let y = latest.iter().map(|m| m.outcome()).collect();
    Ok((crate::data::date::Date::season_label(season), fixtures, y))
}
