//! Behaviour of the `1x2_v2` and `draw_specialist` model types on real football-data.co.uk
//! files copied into tests/fixtures: no look-ahead in features, files Python can read, valid
//! probabilities, training without odds, and loading that round-trips and refuses foreign files.

mod common;
mod model_support;

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use auto_train::data::matches::{Dataset, LeagueMatches};
use auto_train::features::{compute, Query};
use auto_train::models::model_type::{Fixture, ModelType, TrainContext, TrainedModel};
use auto_train::models::{draw_specialist::DrawSpecialist, one_x_two_v2::OneXTwoV2};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn dataset(keep_odds: bool) -> Dataset {
    model_support::load_dir(&fixtures_dir(), &["E0"], keep_odds, None).expect("fixture data loads")
}

/// A temp dir removed when the returned guard drops.
fn temp_dir(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("auto_train_model_test_{name}"))
        .tempdir()
        .expect("temp dir")
}

fn write(dir: &Path, m: &TrainedModel) {
    for f in &m.files {
        std::fs::write(dir.join(&f.name), &f.bytes).expect("write model file");
    }
}

fn train(t: &dyn ModelType, ds: &Dataset) -> TrainedModel {
    let league = ds.league("premier_league").expect("league");
    let ctx = TrainContext {
        league,
        dataset: ds,
        xi_per_day: None,
        strength_ridge: None,
        total_ridge: None,
        market_weight: None,
        selection: Default::default(),
        trained_date: "2024-01-01 00:00:00",
        features: &auto_train::features::FeatureCache::new(),
        warm_start: None,
    };
    t.train(&ctx).expect("training succeeds")
}

fn fixtures_of(ds: &Dataset, n: usize) -> Vec<Fixture> {
    let l = ds.league("premier_league").expect("league");
    l.matches[l.matches.len() - n..]
        .iter()
        .map(|m| Fixture {
            date: m.date,
            home: m.home.clone(),
            away: m.away.clone(),
            extras: m.extras.clone(),
        })
        .collect()
}

#[test]
fn features_do_not_see_the_match_or_anything_later() {
    let ds = dataset(true);
    let league = ds.league("premier_league").expect("league");
    let queries: Vec<Query> = league
        .matches
        .iter()
        .map(|m| Query::of_match(&league.league, m))
        .collect();
    let full = compute(&ds, None, &queries).expect("features");
    for &i in &[40usize, 200, 380, 381, 700, 1000, league.matches.len() - 1] {
        let mut cut = Dataset::default();
        cut.leagues.insert(
            league.league.clone(),
            LeagueMatches {
                league: league.league.clone(),
                matches: league.matches[..i].to_vec(),
            },
        );
        let q = [Query::of_match(&league.league, &league.matches[i])];
        let alone = compute(&cut, None, &q).expect("features");
        assert_eq!(alone[0], full[i], "match {i}");
    }
}

#[test]
fn pickles_load_in_python_without_imports() {
    let ds = dataset(true);
    let tmp = temp_dir("python");
    let dir = tmp.path();
    write(dir, &train(&OneXTwoV2, &ds));
    write(dir, &train(&DrawSpecialist, &ds));
    let files: Vec<PathBuf> = [
        "home_model.pkl",
        "draw_model.pkl",
        "away_model.pkl",
        "calibrator.pkl",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let paths: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let script = r#"
for p in sys.argv[1:]:
    d = load(p)
    assert d['producer'].startswith('auto-train '), d
    assert d['league'] == 'premier_league' and d['model_type'] in ('1x2_v2', 'draw_specialist'), d
    print(sorted(d))
"#;
    common::python::run_on_files(script, &paths);
}

#[test]
fn probabilities_sum_to_one_and_training_is_deterministic() {
    let ds = dataset(true);
    let a = train(&OneXTwoV2, &ds);
    let b = train(&OneXTwoV2, &ds);
    for (x, y) in a.files.iter().zip(&b.files) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.bytes, y.bytes, "{} differs between runs", x.name);
    }
    let tmp = temp_dir("sum");
    let dir = tmp.path();
    write(dir, &a);
    let model = OneXTwoV2.load(dir).expect("load");
    assert_eq!(
        model.columns(),
        ["1x2_v2_home", "1x2_v2_draw", "1x2_v2_away"]
    );
    let fx = fixtures_of(&ds, 50);
    let p = model.predict(&fx, &ds, "premier_league").expect("predict");
    assert_eq!(p.len(), 50);
    for row in &p {
        let s: f64 = row.iter().sum();
        assert!((s - 1.0).abs() < 1e-9, "sum {s}");
        assert!(row.iter().all(|&v| v > 0.0 && v < 1.0));
    }
    // A fixture without odds goes to the odds-free fallback and still sums to 1.
    let mut bare = fx[0].clone();
    bare.extras = Default::default();
    let q = model
        .predict(&[bare], &ds, "premier_league")
        .expect("predict");
    assert!((q[0].iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let m: serde_json::Value = serde_json::from_slice(
        &a.files
            .iter()
            .find(|f| f.name == "metrics.json")
            .expect("metrics")
            .bytes,
    )
    .expect("json");
    for key in [
        "train",
        "val",
        "league",
        "model_type",
        "trained_date",
        "n_train",
        "n_val",
        "base_rates",
        "market",
    ] {
        assert!(m.get(key).is_some(), "metrics.json lacks {key}");
    }
    assert_eq!(m["model_type"], "1x2_v2_binary");
}

#[test]
fn a_league_without_odds_trains_and_predicts() {
    let ds = dataset(false);
    for t in [&OneXTwoV2 as &dyn ModelType, &DrawSpecialist] {
        let m = train(t, &ds);
        let tmp = temp_dir(&format!("noodds_{}", t.spec().name));
        let dir = tmp.path();
        write(dir, &m);
        for f in t.spec().required_files {
            assert!(dir.join(f).exists(), "{f} missing");
        }
        let p = t
            .load(dir)
            .expect("load")
            .predict(&fixtures_of(&ds, 10), &ds, "premier_league")
            .expect("predict");
        assert_eq!(p.len(), 10);
        assert!(p
            .iter()
            .flatten()
            .all(|v| v.is_finite() && *v > 0.0 && *v < 1.0));
    }
}

#[test]
fn load_round_trips_and_rejects_foreign_files() {
    let ds = dataset(true);
    let league = ds.league("premier_league").expect("league");
    let ctx = TrainContext {
        league,
        dataset: &ds,
        xi_per_day: None,
        strength_ridge: None,
        total_ridge: None,
        market_weight: None,
        selection: Default::default(),
        trained_date: "2024-01-01 00:00:00",
        features: &auto_train::features::FeatureCache::new(),
        warm_start: None,
    };
    for t in [&OneXTwoV2 as &dyn ModelType, &DrawSpecialist] {
        let m = t.train(&ctx).expect("train");
        let tmp = temp_dir(&format!("load_{}", t.spec().name));
        let dir = tmp.path();
        write(dir, &m);
        let fx = fixtures_of(&ds, 20);
        let p1 = t
            .load(dir)
            .expect("load")
            .predict(&fx, &ds, "premier_league")
            .expect("predict");
        let p2 = t
            .load(dir)
            .expect("load")
            .predict(&fx, &ds, "premier_league")
            .expect("predict");
        assert_eq!(p1, p2);
        let metrics = t
            .metrics_for_existing(dir, &ctx)
            .expect("metrics_for_existing");
        let v: serde_json::Value = serde_json::from_slice(&metrics).expect("json");
        assert_eq!(v["league"], "premier_league");

        let pkl = t
            .spec()
            .required_files
            .iter()
            .find(|f| f.ends_with(".pkl"))
            .expect("a pickle");
        // A foreign pickle of plain data.
        let mut foreign = std::collections::BTreeMap::new();
        foreign.insert("coef".to_string(), vec![1.0f64, 2.0]);
        std::fs::write(
            dir.join(pkl),
            auto_train::store::pickle::to_bytes(&foreign).expect("pickle"),
        )
        .expect("write");
        assert!(t.load(dir).is_err(), "foreign pickle accepted");
        // Garbage.
        std::fs::write(dir.join(pkl), b"not a pickle").expect("write");
        assert!(t.load(dir).is_err(), "garbage accepted");
        // Missing.
        std::fs::remove_file(dir.join(pkl)).expect("remove");
        assert!(t.load(dir).is_err(), "missing file accepted");
    }
}

#[test]
fn too_little_history_is_an_error_not_a_panic() {
    let ds = dataset(true);
    let league = ds.league("premier_league").expect("league");
    let small = LeagueMatches {
        league: league.league.clone(),
        matches: league.matches[..60].to_vec(),
    };
    let mut d = Dataset::default();
    d.leagues.insert(small.league.clone(), small.clone());
    let ctx = TrainContext {
        league: &small,
        dataset: &d,
        xi_per_day: None,
        strength_ridge: None,
        total_ridge: None,
        market_weight: None,
        selection: Default::default(),
        trained_date: "x",
        features: &auto_train::features::FeatureCache::new(),
        warm_start: None,
    };
    assert!(OneXTwoV2.train(&ctx).is_err());
    assert!(DrawSpecialist.train(&ctx).is_err());
}

#[test]
fn loaded_models_record_their_league_and_model_type() {
    use auto_train::models::one_x_two_v2::CalibratorFile;
    let ds = dataset(true);
    for t in [&OneXTwoV2 as &dyn ModelType, &DrawSpecialist] {
        let tmp = temp_dir(&format!("recorded_{}", t.spec().name));
        let dir = tmp.path();
        write(dir, &train(t, &ds));
        let model = t.load(dir).expect("load");
        assert_eq!(model.recorded_league(), Some("premier_league"));
        assert_eq!(model.recorded_model_type(), t.spec().name);
    }
    // Files of one model that record different leagues are refused.
    let tmp = temp_dir("mixed_leagues");
    let dir = tmp.path();
    write(dir, &train(&OneXTwoV2, &ds));
    let path = dir.join("calibrator.pkl");
    let mut cal: CalibratorFile =
        auto_train::store::pickle::from_bytes(&std::fs::read(&path).expect("read")).expect("cal");
    cal.header.league = Some("la_liga".to_string());
    std::fs::write(
        &path,
        auto_train::store::pickle::to_bytes(&cal).expect("pickle"),
    )
    .expect("w");
    let err = OneXTwoV2.load(dir).err().expect("mixed leagues refused");
    assert!(format!("{err:#}").contains("different leagues"), "{err:#}");
    // A file recording another model type is refused.
    cal.header.league = Some("premier_league".to_string());
    cal.header.model_type = "draw_specialist".to_string();
    std::fs::write(
        &path,
        auto_train::store::pickle::to_bytes(&cal).expect("pickle"),
    )
    .expect("w");
    let err = OneXTwoV2.load(dir).err().expect("wrong model type refused");
    assert!(format!("{err:#}").contains("records model type"), "{err:#}");
}

#[test]
fn first_release_files_load_and_say_what_they_record() {
    let legacy = fixtures_dir().join("legacy_models/leagues/bundesliga");
    for t in auto_train::models::model_types() {
        let model = t
            .load(&legacy.join(t.spec().name))
            .unwrap_or_else(|e| panic!("{}: {e:#}", t.spec().name));
        assert_eq!(model.recorded_model_type(), t.spec().name);
        // Only poisson_model.pkl recorded its league in the first release.
        let expected = (t.spec().name == "poisson_v2").then_some("bundesliga");
        assert_eq!(model.recorded_league(), expected, "{}", t.spec().name);
    }
}
