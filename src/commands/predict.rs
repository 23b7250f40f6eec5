//! `auto-train predict`: one CSV row per fixture, in input order, with the probabilities of every
//! complete model of the league. Reads models, never writes into the models dir.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::cli::{exit, PredictArgs};
use crate::data;
use crate::data::date::Date;
use crate::store::detect::{self, ModelState};
use crate::data::matches::{Dataset, Extras};
use crate::models::model_type::{Fixture, Predictor};
use crate::models;

/// Result and in-match statistic columns: never passed to models with a fixture.
const RESULT_COLUMNS: &[&str] = &[
    "FTHG", "FTAG", "FTR", "HG", "AG", "Res", "HTHG", "HTAG", "HTR", "HS", "AS", "HST", "AST",
    "HF", "AF", "HC", "AC", "HY", "AY", "HR", "AR", "HHW", "AHW", "HO", "AO", "HFKC", "AFKC",
    "HBP", "ABP",
];

pub fn run_predict(args: &PredictArgs) -> Result<i32> {
    let fixtures = match read_fixtures(&args.fixtures) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: fixtures {}: {e:#}", args.fixtures.display());
            return Ok(exit::USAGE);
        }
    };
    let mut predictors: Vec<Box<dyn Predictor>> = Vec::new();
    for ty in models::model_types().into_iter().filter(|t| t.available()) {
        let spec = ty.spec();
        if detect::detect(&args.models_dir, &args.league, spec, usize::MAX) != ModelState::Existing
        {
            continue;
        }
        let dir = detect::model_dir(&args.models_dir, &args.league, spec.name);
        let predictor = ty
            .load(&dir)
            .with_context(|| format!("loading the {} model in {}", spec.name, dir.display()))?;
        predictors.push(predictor);
    }
    if predictors.is_empty() {
        eprintln!(
            "error: no complete model for league {:?} in {}",
            args.league,
            args.models_dir.display()
        );
        return Ok(exit::FAILED);
    }
    let dataset = if args.data_dir.is_dir() {
        let columns = data::Columns::Wanted(crate::features::COLUMNS_READ);
        let loaded = data::load_data_dir_as_of(&args.data_dir, columns, args.as_of)?;
        for f in &loaded.unreadable {
            tracing::warn!("cannot read {}: {}", f.path.display(), f.reason);
        }
        loaded.dataset
    } else {
        tracing::warn!(
            "data dir {} not found: models that need history see none",
            args.data_dir.display()
        );
        Dataset::default()
    };

    let mut header = vec!["date".to_string(), "home_team".into(), "away_team".into()];
    let mut columns: Vec<Vec<Vec<f64>>> = Vec::new();
    for p in &predictors {
        header.extend(p.columns());
        columns.push(p.predict(&fixtures, &dataset, &args.league)?);
    }
    let mut out: Vec<u8> = Vec::new();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&header)?;
        for (i, f) in fixtures.iter().enumerate() {
            let mut row = vec![f.date.to_string(), f.home.to_string(), f.away.to_string()];
            for c in &columns {
                row.extend(c[i].iter().map(|v| v.to_string()));
            }
            w.write_record(&row)?;
        }
        w.flush()?;
    }
    match &args.out {
        Some(path) => write_new_file(path, &out)?,
        None => crate::write_stdout(&out)?,
    }
    Ok(exit::OK)
}

fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| {
            format!(
                "creating {} (an existing file is never overwritten)",
                path.display()
            )
        })?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

/// Reads fixtures; any row without a valid date or both teams is an error naming the row.
pub fn read_fixtures(path: &Path) -> Result<Vec<Fixture>> {
    let df = data::read_frame(path)?;
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
