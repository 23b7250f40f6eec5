//! `auto-train predict`: one CSV row per fixture, in input order, with the probabilities of every
//! complete model of the league. Reads models, never writes into the models dir.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::cli::PredictArgs;
use crate::data;
use crate::data::date::Date;
use crate::data::leagues;
use crate::data::matches::{Dataset, Extras};
use crate::exit::{CommandError, CommandResult, ExitCode};
use crate::features;
use crate::models;
use crate::models::common;
use crate::models::model_type::{Fixture, Predictor};
use crate::store::registry::Registry;
use crate::store::safe_writer;
use crate::store::versions;

mod checks;

/// Result and in-match statistic columns: never passed to models with a fixture.
pub const RESULT_COLUMNS: &[&str] = &[
    "FTHG", "FTAG", "FTR", "HG", "AG", "Res", "HTHG", "HTAG", "HTR", "HS", "AS", "HST", "AST",
    "HF", "AF", "HC", "AC", "HY", "AY", "HR", "AR", "HHW", "AHW", "HO", "AO", "HFKC", "AFKC",
    "HBP", "ABP",
];

pub fn run_predict(args: &PredictArgs) -> CommandResult {
    if !leagues::is_valid_slug(&args.league) {
        return Err(CommandError::usage(anyhow::anyhow!(
            "--league {:?} is not a league slug (e.g. premier_league; no paths)",
            args.league
        )));
    }
    checks::league_known(&args.models_dir, &args.data_dir, args.as_of, &args.league)?;
    let fixtures = if args.fixtures == Path::new("-") {
        read_fixtures_from_stdin()
    } else {
        read_fixtures(&args.fixtures)
    }
    .with_context(|| format!("fixtures {}", args.fixtures.display()))
    .map_err(CommandError::usage)?;
    let registry = match Registry::load(&args.registry) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!("{e}; choosing each model type's newest intact directory instead");
            None
        }
    };
    let CurrentModels {
        predictors,
        needs_history,
        trained_to,
    } = current_predictors(args, registry.as_ref());
    if predictors.is_empty() {
        return Err(CommandError::failed(anyhow::anyhow!(
            "no complete model for league {:?} in {} (no usable version of any model type)",
            args.league,
            args.models_dir.display()
        )));
    }
    // Only the models that read features need history, and of it only what the feature pass
    // learns from (goals and shots on target): each fixture brings its own odds. Without them,
    // the required columns alone: the fixtures' club names are checked against them (#22.1).
    let dataset = if args.data_dir.is_dir() {
        let columns = if needs_history || args.features {
            data::Columns::Wanted(features::HISTORY_COLUMNS)
        } else {
            data::Columns::Required
        };
        let loaded = data::load_data_dir_as_of(&args.data_dir, columns, args.as_of)?;
        for f in &loaded.unreadable {
            tracing::warn!("cannot read {}: {}", f.path.display(), f.reason);
        }
        loaded.dataset
    } else {
        tracing::warn!(
            "data dir {} not found: models that need history see none, and the fixtures' club \
             names cannot be checked",
            args.data_dir.display()
        );
        Dataset::default()
    };
    check_history(args, &fixtures, &dataset, needs_history)?;
    checks::warn_past_fixtures(&args.league, &fixtures, &trained_to);

    // One feature pass for every model that reads features.
    let raw = if args.features || predictors.iter().any(|p| p.uses_features()) {
        common::fixture_features(&dataset, &args.league, &fixtures)?
    } else {
        Vec::new()
    };
    let mut header = vec!["date".to_string(), "home_team".into(), "away_team".into()];
    let mut columns: Vec<Vec<Vec<f64>>> = Vec::new();
    for p in &predictors {
        header.extend(p.columns());
        columns.push(p.predict_with(&fixtures, &raw)?);
    }
    if args.features {
        header.push("feature_market".into());
        header.extend(
            crate::features::FEATURES
                .iter()
                .map(|f| format!("feature_{}", f.name)),
        );
        columns.push(
            raw.iter()
                .map(|r| {
                    let market = if r.market.is_some() { 1.0 } else { 0.0 };
                    std::iter::once(market)
                        .chain(r.values.iter().copied())
                        .collect()
                })
                .collect(),
        );
    }
    let out = predictions_csv(&header, &fixtures, &columns)?;
    match &args.out {
        Some(path) if path != Path::new("-") => safe_writer::write_new_file(path, &out)?,
        _ => crate::write_stdout(&out)?,
    }
    Ok(ExitCode::Ok)
}

/// The output CSV: the header, then each fixture's date and clubs and every model's columns.
fn predictions_csv(
    header: &[String],
    fixtures: &[Fixture],
    columns: &[Vec<Vec<f64>>],
) -> anyhow::Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(header)?;
        for (i, f) in fixtures.iter().enumerate() {
            let mut row = vec![f.date.to_string(), f.home.to_string(), f.away.to_string()];
            for c in columns {
                row.extend(c[i].iter().map(|v| v.to_string()));
            }
            w.write_record(&row)?;
        }
        w.flush()?;
    }
    Ok(out)
}

/// The league's models that predict can use.
struct CurrentModels {
    /// The current version of each model type that loads (warnings name the rest).
    predictors: Vec<Box<dyn Predictor>>,
    /// Whether any of them reads features (and so the data dir's history).
    needs_history: bool,
    /// Each one's last training date, by model type.
    trained_to: Vec<(&'static str, Date)>,
}

fn current_predictors(args: &PredictArgs, registry: Option<&Registry>) -> CurrentModels {
    let mut predictors: Vec<Box<dyn Predictor>> = Vec::new();
    let mut needs_history = false;
    let mut trained_to: Vec<(&str, Date)> = Vec::new();
    for ty in models::model_types() {
        let spec = ty.spec();
        let lineage = versions::lineage(&args.models_dir, registry, &args.league, ty);
        for (v, reason) in lineage.damaged() {
            tracing::warn!(
                "{} {} at {}: damaged, not used: {reason}",
                args.league,
                spec.name,
                v.path
            );
        }
        let Some(current) = lineage.current() else {
            if let Some(why) = &lineage.inconsistent {
                tracing::warn!(
                    "{} {}: {why}; left out of the predictions",
                    args.league,
                    spec.name
                );
            } else if lineage.any_present() {
                tracing::warn!(
                    "{} {}: no usable version; left out of the predictions",
                    args.league,
                    spec.name
                );
            }
            continue;
        };
        let dir = args.models_dir.join(&current.path);
        match ty.load(&dir) {
            Ok(p) => {
                needs_history |= ty.uses_features();
                predictors.push(p);
                checks::warn_weak_model(&args.league, spec.name, &dir);
                let last = current
                    .record
                    .as_ref()
                    .and_then(|r| Date::parse(&r.last_date));
                trained_to.extend(last.map(|d| (spec.name, d)));
            }
            Err(e) => tracing::warn!(
                "{} {} at {}: does not load, left out: {e:#}",
                args.league,
                spec.name,
                current.path
            ),
        }
    }
    CurrentModels {
        predictors,
        needs_history,
        trained_to,
    }
}

/// Refuses outright when the league has no history at all and a model needs it (every fixture
/// would get the same answer); then checks each fixture's clubs against the history, whatever
/// the model types (`checks::check_clubs`).
fn check_history(
    args: &PredictArgs,
    fixtures: &[Fixture],
    dataset: &Dataset,
    needs_history: bool,
) -> Result<(), CommandError> {
    if dataset.league(&args.league).is_none_or(|l| l.is_empty()) {
        if needs_history {
            return Err(CommandError::usage(anyhow::anyhow!(
                "the data dir {} holds no match of league {} (wrong --data-dir or working \
                 directory?): models that need history cannot predict",
                args.data_dir.display(),
                args.league
            )));
        }
        tracing::warn!(
            "the data dir {} holds no match of league {}: the fixtures' club names cannot be \
             checked",
            args.data_dir.display(),
            args.league
        );
        return Ok(());
    }
    checks::check_clubs(&args.league, fixtures, dataset)
}

/// Fixtures from standard input (`--fixtures -`), read whole.
fn read_fixtures_from_stdin() -> Result<Vec<Fixture>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("reading standard input")?;
    fixtures_of(data::read_frame_bytes(bytes, false)?)
}

/// Reads fixtures; any row without a valid date or both teams is an error naming the row. The
/// file is opened and read once, so a FIFO, `/dev/stdin` or `<(...)` works.
pub fn read_fixtures(path: &Path) -> Result<Vec<Fixture>> {
    fixtures_of(data::read_frame(path)?)
}

fn fixtures_of(df: DataFrame) -> Result<Vec<Fixture>> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let find = |aliases: &[&str]| -> Result<&StringChunked> {
        let i = aliases
            .iter()
            .find_map(|a| names.iter().position(|n| n == a))
            .with_context(|| format!("missing required column {}", aliases.join(" or ")))?;
        Ok(df.columns()[i].str()?)
    };
    let date = find(&["Date"])?;
    let home = find(&["HomeTeam", "Home"])?;
    let away = find(&["AwayTeam", "Away"])?;
    let fixed = [
        "Date", "HomeTeam", "Home", "AwayTeam", "Away", "Div", "league",
    ];
    let extras: Vec<(Arc<str>, &StringChunked)> = names
        .iter()
        .enumerate()
        .filter(|(_, n)| !fixed.contains(&n.as_str()) && !RESULT_COLUMNS.contains(&n.as_str()))
        .map(|(i, n)| Ok((Arc::from(n.as_str()), df.columns()[i].str()?)))
        .collect::<PolarsResult<_>>()?;
    fn cell(c: &StringChunked, row: usize) -> Option<&str> {
        c.get(row).map(str::trim).filter(|s| !s.is_empty())
    }
    let mut fixtures = Vec::with_capacity(df.height());
    for row in 0..df.height() {
        let line = row + 1;
        let date_text = cell(date, row).with_context(|| format!("row {line}: no date"))?;
        let Some(d) = Date::parse(date_text) else {
            bail!("row {line}: invalid date {date_text:?}");
        };
        let h = cell(home, row).with_context(|| format!("row {line}: no home team"))?;
        let a = cell(away, row).with_context(|| format!("row {line}: no away team"))?;
        if h == a {
            bail!("row {line}: {h:?} cannot play itself (home team = away team)");
        }
        fixtures.push(Fixture {
            date: d,
            home: Arc::from(h),
            away: Arc::from(a),
            extras: Extras::from_pairs(
                extras
                    .iter()
                    .filter_map(|(n, c)| {
                        let v: f64 = c.get(row)?.trim().parse().ok()?;
                        v.is_finite().then_some((n.clone(), v as f32))
                    })
                    .collect(),
            ),
        });
    }
    Ok(fixtures)
}
