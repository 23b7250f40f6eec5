//! Loads football-data.co.uk folders through the tool's real loader for the model tests and the
//! evaluation example, optionally dropping every odds column (to measure models without odds).
#![allow(dead_code)]

use std::path::Path;

use anyhow::{Context, Result};
use auto_train::data::date::Date;
use auto_train::data::matches::{Dataset, Extras, LeagueMatches};

/// Match statistics kept when odds are dropped.
const STATS: &[&str] = &[
    "HTHG", "HTAG", "HS", "AS", "HST", "AST", "HF", "AF", "HC", "AC", "HY", "AY", "HR", "AR",
];

/// The slug of a division code (unknown codes lowercased), as the tool names leagues.
pub fn slug(div: &str) -> String {
    auto_train::data::leagues::slug_for_division(div)
        .map(String::from)
        .unwrap_or_else(|| div.to_lowercase())
}

/// Loads `root/<DIV>/*.csv` for the given divisions with the tool's loader, keeping matches
/// dated before `until`; `keep_odds = false` keeps only match statistics as extras.
pub fn load_dir(
    root: &Path,
    divs: &[&str],
    keep_odds: bool,
    until: Option<Date>,
) -> Result<Dataset> {
    let mut ds = Dataset::default();
    for div in divs {
        let loaded = auto_train::data::load_data_dir(&root.join(div))
            .with_context(|| format!("loading {}", root.join(div).display()))?;
        for (slug, league) in loaded.dataset.leagues {
            let matches = league
                .matches
                .into_iter()
                .filter(|m| until.is_none_or(|u| m.date < u))
                .map(|mut m| {
                    if !keep_odds {
                        m.extras = Extras::from_pairs(
                            m.extras
                                .iter()
                                .filter(|(n, _)| STATS.contains(n))
                                .map(|(n, v)| (std::sync::Arc::from(n), v as f32))
                                .collect(),
                        );
                    }
                    m
                })
                .collect();
            ds.leagues.insert(
                slug.clone(),
                LeagueMatches {
                    league: slug,
                    matches,
                },
            );
        }
    }
    Ok(ds)
}
