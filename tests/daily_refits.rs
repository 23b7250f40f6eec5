//! A daily refresh's Poisson refit is what a nightly run on that morning's data would train: the
//! backtest's `--refresh daily` predictions for a day, against a whole run in a separate process
//! on a data dir cut to the matches dated before that day, then `predict`. Checked on both sides
//! of the Bundesliga's World Cup break (no match from 2022-11-14 to 2023-01-19), where a refit
//! follows 68 days without data: the refit must see exactly the matches before the morning.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use auto_train::data::date::Date;
use common::{read_csv_table, write_csv_rows, Workspace};

/// Warm refits stop by a rule that does not depend on their start: equal within this.
const TOLERANCE: f64 = 1e-9;

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

/// (home, away) -> the `poisson_v2_*` columns of `rows` dated `day` (`date` column as written by
/// `backtest` and `predict`).
fn poisson_columns(
    header: &[String],
    rows: &[Vec<String>],
    day: &str,
) -> BTreeMap<(String, String), BTreeMap<String, f64>> {
    let (d, h, a) = (
        column(header, "date"),
        column(header, "home_team"),
        column(header, "away_team"),
    );
    rows.iter()
        .filter(|r| r[d] == day)
        .map(|r| {
            let values = header
                .iter()
                .zip(r)
                .filter(|(name, _)| name.starts_with("poisson_v2_"))
                .map(|(name, v)| (name.clone(), v.parse::<f64>().unwrap()))
                .collect();
            ((r[h].clone(), r[a].clone()), values)
        })
        .collect()
}

fn metrics(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
}

#[test]
fn a_daily_refit_predicts_as_a_whole_run_on_that_mornings_data_across_the_winter_break() {
    let ws = Workspace::new(&["D1"]);
    let bt = ws.path().join("bt");
    let out = ws
        .bin()
        .arg("backtest")
        .arg("--data-dir")
        .arg(ws.data())
        .arg("--out")
        .arg(&bt)
        .args(["--from", "2022-11-01", "--to", "2023-01-22"])
        .args(["--refresh", "daily", "--model-type", "poisson_v2", "-q"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (bt_header, bt_rows) = read_csv_table(&bt.join("predictions.csv"));
    let season = ws.data().join("D1/2022-23.csv");
    let (header, rows) = read_csv_table(&season);
    let date = column(&header, "Date");
    let day_of = |r: &Vec<String>| Date::parse(&r[date]).unwrap();

    let mut compared = 0;
    // The last match day before the break, and the second after it (its morning holds the
    // first match after the break).
    for day in ["2022-11-13", "2023-01-21"] {
        let d = Date::parse(day).unwrap();
        let morning = ws.path().join(format!("morning-{day}"));
        for earlier in ["2020-21.csv", "2021-22.csv"] {
            std::fs::create_dir_all(morning.join("D1")).unwrap();
            std::fs::copy(
                ws.data().join("D1").join(earlier),
                morning.join("D1").join(earlier),
            )
            .unwrap();
        }
        let before: Vec<Vec<String>> = rows.iter().filter(|r| day_of(r) < d).cloned().collect();
        write_csv_rows(&morning.join("D1/2022-23.csv"), &header, &before);
        let fixtures: Vec<Vec<String>> = rows
            .iter()
            .filter(|r| day_of(r) == d)
            .map(|r| {
                ["Date", "HomeTeam", "AwayTeam"]
                    .iter()
                    .map(|c| r[column(&header, c)].clone())
                    .collect()
            })
            .collect();
        assert!(!fixtures.is_empty(), "no match on {day}");
        let fixtures_csv = ws.path().join(format!("fixtures-{day}.csv"));
        let fixture_header = ["Date", "HomeTeam", "AwayTeam"].map(String::from);
        write_csv_rows(&fixtures_csv, &fixture_header, &fixtures);

        // The nightly run on that morning's data, in its own models dir.
        let models = ws.path().join(format!("models-{day}"));
        let registry = ws.path().join(format!("registry-{day}.json"));
        // `auto-train ARGS` on that morning's data, models dir and registry; its stdout.
        let on_morning = |args: &[&str]| {
            let out = ws
                .bin()
                .args(args)
                .arg("--data-dir")
                .arg(&morning)
                .arg("--models-dir")
                .arg(&models)
                .arg("--registry")
                .arg(&registry)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{args:?}: {stderr}");
            out.stdout
        };
        on_morning(&["--model-type", "poisson_v2", "-q"]);
        let fixtures_arg = fixtures_csv.to_str().unwrap();
        let predicted = on_morning(&[
            "predict",
            "--league",
            "bundesliga",
            "--fixtures",
            fixtures_arg,
        ]);
        let predicted_csv = ws.path().join(format!("predicted-{day}.csv"));
        std::fs::write(&predicted_csv, &predicted).unwrap();
        let (p_header, p_rows) = read_csv_table(&predicted_csv);

        // Both trained on exactly the matches dated before the day: 612 of the two seasons
        // before and those of 2022-23 before it, the latest of them the reference date.
        let run_dir = models.join("leagues/bundesliga/poisson_v2");
        let bt_dir = bt.join("models/bundesliga/poisson_v2").join(day);
        let latest = before.iter().map(day_of).max().unwrap().to_string();
        for dir in [&run_dir, &bt_dir] {
            let m = metrics(dir);
            assert_eq!(m["total_matches"], 612 + before.len(), "{}", dir.display());
            assert_eq!(m["reference_date"], latest.as_str(), "{}", dir.display());
        }

        let ours = poisson_columns(&bt_header, &bt_rows, day);
        let theirs = poisson_columns(&p_header, &p_rows, day);
        assert_eq!(ours.len(), fixtures.len(), "{day}: backtest rows");
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        );
        for (key, values) in &ours {
            assert_eq!(values.len(), 7, "{key:?}: {values:?}");
            for (name, v) in values {
                let w = theirs[key][name];
                assert!(
                    (v - w).abs() <= TOLERANCE,
                    "{day} {key:?} {name}: backtest {v} vs run + predict {w}"
                );
                compared += 1;
            }
        }
    }
    // 2 + 6 fixtures, 7 columns each.
    assert_eq!(compared, 8 * 7);
}
