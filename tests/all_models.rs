//! Every model type through the binary: train, rerun, predict, pickles, a league without odds.

mod common;

use common::*;

/// Keeps only the columns a league without any odds would have.
fn strip_odds(text: &str) -> String {
    let keep = [
        "Div", "Date", "Time", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR", "HTHG", "HTAG",
        "HTR", "HS", "AS", "HST", "AST",
    ];
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx: Vec<usize> = (0..header.len())
        .filter(|&i| keep.contains(&header[i]))
        .collect();
    let pick = |l: &str| {
        let cells: Vec<&str> = l.split(',').collect();
        idx.iter()
            .map(|&i| cells.get(i).copied().unwrap_or(""))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = pick(&header.join(",")) + "\n";
    for l in lines {
        out.push_str(&pick(l));
        out.push('\n');
    }
    out
}

fn check_probabilities(rows: &[csv::StringRecord]) {
    let header = &rows[0];
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name} in {header:?}"))
    };
    for group in [
        ["1x2_v2_home", "1x2_v2_draw", "1x2_v2_away"],
        ["poisson_v2_home", "poisson_v2_draw", "poisson_v2_away"],
    ] {
        let idx: Vec<usize> = group.iter().map(|g| col(g)).collect();
        for r in &rows[1..] {
            let p: Vec<f64> = idx.iter().map(|&i| r[i].parse().unwrap()).collect();
            assert!(p.iter().all(|&x| x > 0.0 && x < 1.0), "{r:?}");
            assert!(
                (p.iter().sum::<f64>() - 1.0).abs() < 1e-9,
                "{group:?} {r:?}"
            );
        }
    }
    let d = col("draw_specialist_draw");
    for r in &rows[1..] {
        let p: f64 = r[d].parse().unwrap();
        assert!(p > 0.0 && p < 1.0);
    }
}

#[test]
fn every_model_type_trains_predicts_and_a_rerun_trains_nothing() {
    let ws = Workspace::new(&["D1"]);
    let (code, summary, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["totals"]["trained"], 3, "{summary:#}");
    for ty in ["1x2_v2", "poisson_v2", "draw_specialist"] {
        assert_eq!(
            statuses(&summary)[&("bundesliga".into(), ty.into())],
            "trained"
        );
    }
    for f in [
        "home_model.pkl",
        "draw_model.pkl",
        "away_model.pkl",
        "calibrator.pkl",
        "feature_list.json",
        "metrics.json",
    ] {
        assert!(
            ws.model_dir("bundesliga", "1x2_v2").join(f).is_file(),
            "{f}"
        );
    }
    let m: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.model_dir("bundesliga", "1x2_v2").join("metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["model_type"], "1x2_v2_binary");
    for k in ["accuracy", "log_loss"] {
        assert!(m["train"][k].is_number() && m["val"][k].is_number(), "{k}");
    }
    let d: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            ws.model_dir("bundesliga", "draw_specialist_v1")
                .join("metrics.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(d["model_type"], "draw_specialist");
    assert_eq!(
        registry_keys(&ws.registry()),
        [
            "1x2_v2_bundesliga_v2",
            "poisson_v2_bundesliga_v2",
            "draw_specialist_bundesliga_v1"
        ]
    );

    let snap = snapshot(ws.path());
    let (code, again, _) = ws.run_json(&[]);
    assert_eq!(code, 0);
    assert_eq!(again["totals"]["trained"], 0);
    assert_eq!(again["consistent"], true);
    assert_eq!(snapshot(ws.path()), snap);

    // The last 30 matches of 2022-23 as fixtures, with their pre-match odds.
    let fixtures_file = ws.path().join("fixtures.csv");
    let text = std::fs::read_to_string(fixtures().join("D1/2022-23.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let body = [&lines[..1], &lines[lines.len() - 30..]]
        .concat()
        .join("\n")
        + "\n";
    std::fs::write(&fixtures_file, body).unwrap();
    let rows = ws.predict_ok("bundesliga", &fixtures_file);
    assert_eq!(rows.len(), 31);
    check_probabilities(&rows);

    // Every pickle loads in python3 with no imports.
    let script = r#"
for p in sys.argv[1:]:
    d = load(p)
    assert isinstance(d, dict) and d, p
print("ok")
"#;
    let mut pkls = Vec::new();
    for ty in ["1x2_v2", "poisson_v2", "draw_specialist_v1"] {
        for e in std::fs::read_dir(ws.model_dir("bundesliga", ty)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "pkl") {
                pkls.push(p);
            }
        }
    }
    assert_eq!(pkls.len(), 4 + 1 + 1);
    let paths: Vec<&std::path::Path> = pkls.iter().map(|p| p.as_path()).collect();
    assert_eq!(python::run_on_files(script, &paths), "ok");
}

#[test]
fn a_league_without_odds_columns_trains_and_predicts() {
    let ws = Workspace::new(&[]);
    for season in ["2020-21", "2021-22", "2022-23"] {
        let text = std::fs::read_to_string(fixtures().join(format!("D1/{season}.csv"))).unwrap();
        write_csv(
            &ws.data().join(format!("D1/{season}.csv")),
            &[strip_odds(&text).trim_end()],
        );
    }
    let (code, summary, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["totals"]["trained"], 3, "{summary:#}");
    let fixtures_file = ws.path().join("fixtures.csv");
    std::fs::write(&fixtures_file, "Date,HomeTeam,AwayTeam\n2023-08-18,Bayern Munich,Dortmund\n2023-08-18,Dortmund,Newcomer FC\n").unwrap();
    let rows = ws.predict_ok("bundesliga", &fixtures_file);
    assert_eq!(rows.len(), 3);
    check_probabilities(&rows);
}

/// Model directories written by the first release (0.1.0, tests/fixtures/legacy_models, made by
/// that release's binary from tests/fixtures/D1) still load, and predict exactly what that
/// release predicted from them.
#[test]
fn first_release_model_files_still_load_and_predict_the_same() {
    let ws = Workspace::new(&["D1"]);
    let legacy = fixtures().join("legacy_models");
    copy_dir(&legacy.join("leagues"), &ws.path().join("models/leagues"));
    let rows = ws.predict_ok("bundesliga", &legacy.join("fixtures.csv"));
    let text = std::fs::read_to_string(legacy.join("predictions_0.1.0.csv")).unwrap();
    let expected: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), expected.len());
    for (got, want) in rows.iter().zip(&expected) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            match (g.parse::<f64>(), w.parse::<f64>()) {
                (Ok(a), Ok(b)) => assert!((a - b).abs() <= 1e-12, "{g} vs {w}"),
                _ => assert_eq!(g, *w),
            }
        }
    }
}

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Trained on data with odds, the draw specialist still tells odds-less fixtures apart (its
/// odds-free fallback), instead of giving every one the same number.
#[test]
fn draw_specialist_gives_fixtures_without_odds_their_own_probability() {
    let ws = Workspace::new(&["D1"]);
    let (code, summary, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["totals"]["trained"], 3, "{summary:#}");
    let fixtures_file = ws.path().join("fixtures.csv");
    write_csv(
        &fixtures_file,
        &[
            "Date,HomeTeam,AwayTeam",
            "2023-08-18,Bayern Munich,Dortmund",
            "2023-08-18,Dortmund,Bochum",
            "2023-08-19,Leverkusen,Mainz",
            "2023-08-19,Union Berlin,Freiburg",
        ],
    );
    let rows = ws.predict_ok("bundesliga", &fixtures_file);
    let col = rows[0]
        .iter()
        .position(|c| c == "draw_specialist_draw")
        .expect("draw column");
    let draws: Vec<f64> = rows[1..]
        .iter()
        .map(|r| r[col].parse::<f64>().unwrap())
        .collect();
    assert_eq!(draws.len(), 4);
    assert!(draws.iter().all(|&p| p > 0.05 && p < 0.6), "{draws:?}");
    let (lo, hi) = draws
        .iter()
        .fold((1.0f64, 0.0f64), |(lo, hi), &p| (lo.min(p), hi.max(p)));
    // A lopsided fixture and an even one differ by far more than rounding.
    assert!(
        hi - lo > 0.01,
        "one draw probability for every fixture: {draws:?}"
    );
    let metrics = read_json(
        &ws.model_dir("bundesliga", "draw_specialist_v1")
            .join("metrics.json"),
    );
    assert_eq!(metrics["uses_market_features"], true, "{metrics:#}");
    assert!(metrics["fallback_features"].is_array(), "{metrics:#}");
}

/// metrics.json generated for a directory that lacks it reports the calibration, regularisation
/// and features of the files that are there, not those of a retraining.
#[test]
fn generated_metrics_describe_the_files_that_are_there() {
    use auto_train::models::draw_specialist::DrawFile;
    use auto_train::models::one_x_two_v2::CalibratorFile;
    use auto_train::store::pickle;
    let ws = Workspace::new(&["D1"]);
    let (code, _, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    let one = ws.model_dir("bundesliga", "1x2_v2");
    let draw = ws.model_dir("bundesliga", "draw_specialist_v1");
    let trained_1x2 = read_json(&one.join("metrics.json"));
    let trained_draw = read_json(&draw.join("metrics.json"));
    // Files that differ from what a retraining would produce (as shipped files may).
    let mut cal: CalibratorFile =
        pickle::from_bytes(&std::fs::read(one.join("calibrator.pkl")).unwrap()).unwrap();
    cal.temperature = 1.5;
    std::fs::write(one.join("calibrator.pkl"), pickle::to_bytes(&cal).unwrap()).unwrap();
    let mut df: DrawFile =
        pickle::from_bytes(&std::fs::read(draw.join("draw_model.pkl")).unwrap()).unwrap();
    df.model.platt_a = 0.75;
    df.model.l2_alpha = 1000.0;
    std::fs::write(draw.join("draw_model.pkl"), pickle::to_bytes(&df).unwrap()).unwrap();
    std::fs::remove_file(one.join("metrics.json")).unwrap();
    std::fs::remove_file(draw.join("metrics.json")).unwrap();
    // Without their manifests these are model files placed by hand, not published versions
    // (a published version that lost a file is damaged and never completed: tests/lifecycle.rs).
    std::fs::remove_file(one.join("auto_train_manifest.json")).unwrap();
    std::fs::remove_file(draw.join("auto_train_manifest.json")).unwrap();

    let (code, _, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    let m = read_json(&one.join("metrics.json"));
    assert_eq!(m["calibration"]["temperature"], 1.5, "{m:#}");
    assert_eq!(m["features"], trained_1x2["features"]);
    assert_eq!(
        m["regularisation"]["model"],
        trained_1x2["regularisation"]["model"]
    );
    let d = read_json(&draw.join("metrics.json"));
    assert_eq!(d["calibration"]["a"], 0.75, "{d:#}");
    assert_eq!(d["regularisation"]["alpha"], 1000.0, "{d:#}");
    assert_eq!(d["features"], trained_draw["features"]);
    assert!(d["existing_files_on_latest_season"]["scores"]["log_loss"].is_number());
}
