//! Warm starts: a refit that starts from an earlier training's fits (in memory, as a backtest
//! passes them, or read from the superseded version's files, as `--refresh` does) converges to
//! the cold fit's optimum: every probability every model type predicts equal within 1e-9, for
//! Dixon-Coles (its xi candidates and final fit), the logistic fits and the calibrators; through
//! the binary for `backtest --refresh daily` against `--cold`, and for `--refresh` against a cold
//! training of the same data.

mod common;
mod model_support;

use std::path::{Path, PathBuf};

use auto_train::data::date::Date;
use auto_train::data::matches::Dataset;
use auto_train::features::FeatureCache;
use auto_train::models::model_type::{Fixture, ModelType, TrainContext, TrainedModel, WarmStart};

use common::Workspace;

const TOLERANCE: f64 = 1e-9;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn data_before(day: Date) -> Dataset {
    model_support::load_dir(&fixtures_dir(), &["E0"], true, Some(day)).expect("fixture data")
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn train(ty: &dyn ModelType, ds: &Dataset, warm: Option<&WarmStart>) -> TrainedModel {
    let ctx = TrainContext {
        league: ds.league("premier_league").expect("league"),
        dataset: ds,
        xi_per_day: None,
        strength_ridge: None,
        total_ridge: None,
        market_weight: None,
        selection: Default::default(),
        trained_date: "2024-01-01 00:00:00",
        features: &FeatureCache::new(),
        warm_start: warm,
    };
    ty.train(&ctx).expect("training succeeds")
}

fn write(dir: &Path, m: &TrainedModel) {
    std::fs::create_dir_all(dir).unwrap();
    for f in &m.files {
        std::fs::write(dir.join(&f.name), &f.bytes).unwrap();
    }
}

/// Every column `ty`'s model in `dir` predicts for the matches dated from `from` to `to`.
fn predictions(ty: &dyn ModelType, dir: &Path, ds: &Dataset, from: Date, to: Date) -> Vec<f64> {
    let all = data_before(Date(to.0 + 1));
    let fixtures: Vec<Fixture> = all
        .league("premier_league")
        .unwrap()
        .matches
        .iter()
        .filter(|m| m.date >= from && m.date <= to)
        .map(|m| Fixture {
            date: m.date,
            home: m.home.clone(),
            away: m.away.clone(),
            extras: m.extras.clone(),
        })
        .collect();
    assert!(fixtures.len() >= 10, "{} fixtures", fixtures.len());
    let model = ty.load(dir).expect("loads");
    let p = model.predict(&fixtures, ds, "premier_league").unwrap();
    p.into_iter().flatten().collect()
}

fn max_difference(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Trains every type on the data before `first`, then on the data before `second` three ways
/// (cold; from the first training's fits in memory; from its files) and compares predictions.
fn warm_equals_cold(first: &str, second: &str) {
    let (first, second) = (day(first), day(second));
    let (before_first, before_second) = (data_before(first), data_before(second));
    let work = tempfile::tempdir().unwrap();
    for ty in auto_train::models::model_types() {
        let name = ty.spec().name;
        let earlier = train(ty, &before_first, None);
        let earlier_dir = work.path().join(name).join("earlier");
        write(&earlier_dir, &earlier);
        let in_memory = earlier
            .warm_start
            .clone()
            .expect("a training returns its fits");
        let from_files = ty.warm_start(&earlier_dir).expect("its files hold a start");
        let cold = train(ty, &before_second, None);
        let cold_dir = work.path().join(name).join("cold");
        write(&cold_dir, &cold);
        let reference = predictions(ty, &cold_dir, &before_second, second, Date(second.0 + 20));
        for (how, start) in [("in memory", &in_memory), ("from files", &from_files)] {
            let warm = train(ty, &before_second, Some(start));
            let dir = work.path().join(name).join(how);
            write(&dir, &warm);
            let got = predictions(ty, &dir, &before_second, second, Date(second.0 + 20));
            let d = max_difference(&got, &reference);
            assert!(
                d <= TOLERANCE,
                "{name}, warm start {how} ({first} -> {second}): differs from cold by {d:e}"
            );
        }
    }
}

#[test]
fn a_refit_two_weeks_later_from_the_earlier_fits_predicts_as_a_cold_fit() {
    warm_equals_cold("2022-10-01", "2022-10-15");
}

#[test]
fn a_refit_across_a_season_boundary_from_the_earlier_fits_predicts_as_a_cold_fit() {
    // The latest season changes: new clubs, new validation and calibration seasons.
    warm_equals_cold("2022-04-15", "2022-08-20");
}

#[test]
fn a_refit_the_next_day_from_the_same_data_reproduces_the_cold_fit() {
    // Nothing new: each fit starts at its own optimum and stays there.
    warm_equals_cold("2023-02-04", "2023-02-04");
}

fn numbers(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Equal text, or numbers within the tolerance.
fn assert_same_within(a: &(Vec<String>, Vec<Vec<String>>), b: &(Vec<String>, Vec<Vec<String>>)) {
    assert_eq!(a.0, b.0, "header");
    assert_eq!(a.1.len(), b.1.len(), "rows");
    let mut compared = 0;
    for (ra, rb) in a.1.iter().zip(&b.1) {
        for ((x, y), col) in ra.iter().zip(rb).zip(&a.0) {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(u), Ok(v)) if x != y => {
                    assert!((u - v).abs() <= TOLERANCE, "{col}: {x} vs {y}");
                    compared += 1;
                }
                _ => assert_eq!(x, y, "{col}"),
            }
        }
    }
    let _ = compared;
}

#[test]
fn backtest_refreshed_daily_from_the_previous_fits_predicts_as_cold_refits() {
    let ws = Workspace::new(&["E0"]);
    let run = |out: &str, extra: &[&str]| -> PathBuf {
        let out = ws.path().join(out);
        let o = ws
            .bin()
            .args([
                "backtest",
                "-q",
                "--from",
                "2022-09-01",
                "--to",
                "2022-10-31",
            ])
            .args(["--refresh", "daily", "--data-dir"])
            .arg(ws.data())
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    let warm = run("warm", &[]);
    let cold = run("cold", &["--cold"]);
    let (w, c) = (
        numbers(&warm.join("predictions.csv")),
        numbers(&cold.join("predictions.csv")),
    );
    assert!(w.1.len() > 60, "{} predictions", w.1.len());
    assert!(w.0.iter().any(|h| h == "draw_specialist_draw"), "{:?}", w.0);
    assert_same_within(&w, &c);
}

#[test]
fn refresh_starts_from_the_superseded_version_and_predicts_as_a_cold_training() {
    // One workspace trained to 2021-22, then refreshed with 2022-23 (warm, from version 1's
    // files); another trained cold on everything.
    let refreshed = Workspace::new(&[]);
    let league_dir = refreshed.data().join("E0");
    std::fs::create_dir_all(&league_dir).unwrap();
    let source = fixtures_dir().join("E0");
    let mut seasons: Vec<_> = std::fs::read_dir(&source)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    seasons.sort();
    let last = seasons.pop().unwrap();
    for s in &seasons {
        std::fs::copy(source.join(s), league_dir.join(s)).unwrap();
    }
    let run = |ws: &Workspace, args: &[&str]| {
        let o = ws.cmd().arg("-q").args(args).output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&refreshed, &[]);
    std::fs::copy(source.join(&last), league_dir.join(&last)).unwrap();
    run(&refreshed, &["--refresh"]);
    for ty in auto_train::models::model_types() {
        let dir = refreshed
            .models()
            .join("leagues/premier_league")
            .join(format!("{}@2", ty.spec().dir_name));
        assert!(dir.is_dir(), "{} refreshed", dir.display());
    }
    let cold = Workspace::new(&["E0"]);
    run(&cold, &[]);
    let fixtures = refreshed.path().join("fixtures.csv");
    std::fs::write(
        &fixtures,
        "Date,HomeTeam,AwayTeam,PSH,PSD,PSA\n\
         2023-08-12,Arsenal,Nott'm Forest,1.25,6.5,12.0\n\
         2023-08-12,Everton,Fulham,2.2,3.3,3.5\n\
         2023-08-13,Brentford,Tottenham,2.9,3.6,2.4\n\
         2023-08-14,Man United,Wolves,1.5,4.6,6.5\n\
         2023-08-12,Burnley,Man City\n",
    )
    .unwrap();
    let to_table = |rows: Vec<csv::StringRecord>| {
        let header: Vec<String> = rows[0].iter().map(String::from).collect();
        let body = rows[1..]
            .iter()
            .map(|r| r.iter().map(String::from).collect())
            .collect();
        (header, body)
    };
    let warm = to_table(refreshed.predict_ok("premier_league", &fixtures));
    let reference = to_table(cold.predict_ok("premier_league", &fixtures));
    assert_eq!(warm.0.len(), 3 + 3 + 7 + 1, "{:?}", warm.0);
    assert_same_within(&warm, &reference);
}
