//! Poisson v2 through the binary: the oracle fit of the Premier League, the pickle, `predict`.

mod common;

use common::*;

fn oracle() -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixtures().join("poisson_E0.json")).unwrap()).unwrap()
}

fn write_fixtures(ws: &Workspace, rows: &[(String, String)]) -> std::path::PathBuf {
    let path = ws.path().join("fixtures.csv");
    let mut text = String::from("Date,HomeTeam,AwayTeam\n");
    for (h, a) in rows {
        text.push_str(&format!("2023-08-12,{h},{a}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn predict(ws: &Workspace, fixtures: &std::path::Path, league: &str) -> Vec<csv::StringRecord> {
    let mut rows = ws.predict_ok(league, fixtures);
    assert_eq!(
        rows[0].iter().collect::<Vec<_>>(),
        [
            "date",
            "home_team",
            "away_team",
            "poisson_v2_home",
            "poisson_v2_draw",
            "poisson_v2_away",
            "poisson_v2_lambda_home",
            "poisson_v2_lambda_away",
            "poisson_v2_over_2_5",
            "poisson_v2_btts"
        ]
    );
    rows.remove(0);
    rows
}

#[test]
fn premier_league_fit_reaches_the_oracle_and_predicts_its_fixtures() {
    let ws = Workspace::new(&["E0"]);
    let out = ws
        .cmd()
        .args([
            "--model-type",
            "poisson_v2",
            "--xi",
            "0.0018",
            "--ridge",
            "0",
            "--market-weight",
            "0",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = ws.model_dir("premier_league", "poisson_v2");
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    let oracle = oracle();
    assert_eq!(metrics["strength_ridge"], 0.0);
    assert_eq!(metrics["total_matches"], oracle["matches"]);
    assert_eq!(metrics["n_teams"], oracle["teams"]);
    assert_eq!(metrics["reference_date"], oracle["reference_date"]);
    assert_eq!(metrics["xi_per_day"], 0.0018);
    let wll = metrics["weighted_log_likelihood"].as_f64().unwrap();
    assert!(wll >= -1825.915, "weighted log-likelihood {wll}");
    assert!(
        wll <= oracle["weighted_loglik"].as_f64().unwrap() + 1e-6,
        "{wll} above the optimum"
    );
    let decay = metrics["decay_factor"].as_f64().unwrap();
    assert!((decay - (-0.0018f64 * 365.0).exp()).abs() < 1e-9);
    for key in ["rps", "log_loss", "brier", "accuracy"] {
        assert!(metrics["validation"][key].is_number(), "{key}");
        assert!(
            metrics["validation"]["base_rates"][key].is_number(),
            "{key}"
        );
    }
    assert!(
        metrics["validation"]["rps"].as_f64().unwrap()
            < metrics["validation"]["base_rates"]["rps"].as_f64().unwrap()
    );

    let fx = oracle["fixtures"].as_array().unwrap();
    let pairs: Vec<(String, String)> = fx
        .iter()
        .map(|f| {
            (
                f["home"].as_str().unwrap().into(),
                f["away"].as_str().unwrap().into(),
            )
        })
        .collect();
    let rows = predict(&ws, &write_fixtures(&ws, &pairs), "premier_league");
    assert_eq!(rows.len(), fx.len());
    for (f, row) in fx.iter().zip(&rows) {
        assert_eq!(&row[1], f["home"].as_str().unwrap());
        assert_eq!(&row[0], "2023-08-12");
        let p: Vec<f64> = (3..10).map(|i| row[i].parse().unwrap()).collect();
        for (k, key) in ["p_home", "p_draw", "p_away"].iter().enumerate() {
            let want = f[key].as_f64().unwrap();
            assert!(
                (p[k] - want).abs() < 0.002,
                "{} v {}: {key} {} vs {want}",
                &row[1],
                &row[2],
                p[k]
            );
        }
        assert!((p[0] + p[1] + p[2] - 1.0).abs() < 1e-9);
        assert!((p[3] / f["lambda_home"].as_f64().unwrap() - 1.0).abs() < 1e-3);
        assert!((p[4] / f["lambda_away"].as_f64().unwrap() - 1.0).abs() < 1e-3);
        assert!(p[5] > 0.0 && p[5] < 1.0 && p[6] > 0.0 && p[6] < 1.0);
    }
}

/// A Poisson fit to the goals (not the market's expected goals) with the literature's decay.
const GOALS_FIT: [&str; 7] = [
    "--model-type",
    "poisson_v2",
    "--xi",
    "0.0018",
    "--market-weight",
    "0",
    "-q",
];

/// Without `--ridge` a fit to the goals (`--market-weight 0`) has the default ridge on team strengths: metrics.json says so, and
/// predictions of a strong side against a weak one are less extreme than the plain maximum
/// likelihood's (`--ridge 0`), while the league's scoring level stays where the data put it.
#[test]
fn the_default_fit_shrinks_strengths_towards_the_league_average() {
    let lambdas = |ridge: Option<&str>| -> (serde_json::Value, Vec<f64>) {
        let ws = Workspace::new(&["E0"]);
        let mut args = GOALS_FIT.to_vec();
        if let Some(r) = ridge {
            args.extend(["--ridge", r]);
        }
        ws.cmd().args(&args).assert().code(0);
        let dir = ws.model_dir("premier_league", "poisson_v2");
        let metrics: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
        let pairs = [
            ("Man City".to_string(), "Southampton".to_string()),
            ("Southampton".to_string(), "Man City".to_string()),
        ];
        let rows = predict(&ws, &write_fixtures(&ws, &pairs), "premier_league");
        let l: Vec<f64> = rows
            .iter()
            .flat_map(|r| [r[6].parse().unwrap(), r[7].parse().unwrap()])
            .collect();
        (metrics, l)
    };
    let (plain_metrics, plain) = lambdas(Some("0"));
    let (metrics, shrunk) = lambdas(None);
    assert_eq!(plain_metrics["strength_ridge"], 0.0);
    assert_eq!(metrics["strength_ridge"], 3.0);
    let sd = metrics["strength_prior_sd"].as_f64().unwrap();
    assert!((sd - 1.0 / 6f64.sqrt()).abs() < 1e-9, "{sd}");
    // Man City's goals at home and away are fewer, Southampton's more, with the ridge.
    assert!(
        shrunk[0] < plain[0] && shrunk[3] < plain[3],
        "{shrunk:?} vs {plain:?}"
    );
    assert!(
        shrunk[1] > plain[1] && shrunk[2] > plain[2],
        "{shrunk:?} vs {plain:?}"
    );
    let total = |l: &[f64]| l.iter().sum::<f64>();
    assert!((total(&shrunk) / total(&plain) - 1.0).abs() < 0.1);
}

/// The default fit to the goals also shrinks each club's scoring tendency (how many goals its matches hold)
/// towards the league's (`--total-ridge`, default 20): across every pairing of eight clubs of
/// 2022-23 the expected goal totals are less spread than with `--total-ridge 0`, while who is
/// stronger (the log ratio of the two rates) barely moves and the league's mean total stays.
/// metrics.json and the pickle record the ridge; `--ridge 0` alone is still the plain fit.
#[test]
fn the_default_fit_shrinks_goal_totals_towards_the_league_average() {
    let clubs = [
        "Man City",
        "Arsenal",
        "Liverpool",
        "Brentford",
        "Everton",
        "Wolves",
        "Southampton",
        "Nott'm Forest",
    ];
    let pairs: Vec<(String, String)> = clubs
        .iter()
        .flat_map(|h| {
            clubs
                .iter()
                .filter(move |a| *a != h)
                .map(move |a| (h.to_string(), a.to_string()))
        })
        .collect();
    let fitted = |extra: &[&str]| -> (serde_json::Value, Vec<(f64, f64)>) {
        let ws = Workspace::new(&["E0"]);
        let mut args = GOALS_FIT.to_vec();
        args.extend(extra);
        ws.cmd().args(&args).assert().code(0);
        let dir = ws.model_dir("premier_league", "poisson_v2");
        let metrics: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
        let rows = predict(&ws, &write_fixtures(&ws, &pairs), "premier_league");
        let rates = rows
            .iter()
            .map(|r| (r[6].parse().unwrap(), r[7].parse().unwrap()))
            .collect();
        (metrics, rates)
    };
    let (m_default, shrunk) = fitted(&[]);
    let (m_none, plain) = fitted(&["--total-ridge", "0"]);
    let (m_plain, _) = fitted(&["--ridge", "0"]);
    assert_eq!(m_default["total_ridge"], 20.0);
    assert_eq!(m_default["strength_ridge"], 3.0);
    assert_eq!(m_none["total_ridge"], 0.0);
    assert_eq!(m_none["strength_ridge"], 3.0);
    assert_eq!(m_plain["total_ridge"], 0.0);
    assert_eq!(m_plain["strength_ridge"], 0.0);
    let spread = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt()
    };
    let totals = |r: &[(f64, f64)]| r.iter().map(|(l, m)| l + m).collect::<Vec<f64>>();
    let ratios = |r: &[(f64, f64)]| r.iter().map(|(l, m)| (l / m).ln()).collect::<Vec<f64>>();
    let (t1, t0) = (spread(&totals(&shrunk)), spread(&totals(&plain)));
    assert!(t1 < 0.8 * t0, "spread of totals {t1} vs {t0}");
    let (r1, r0) = (spread(&ratios(&shrunk)), spread(&ratios(&plain)));
    assert!(
        (r1 / r0 - 1.0).abs() < 0.1,
        "spread of log ratios {r1} vs {r0}"
    );
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;
    let (mt1, mt0) = (mean(totals(&shrunk)), mean(totals(&plain)));
    assert!((mt1 / mt0 - 1.0).abs() < 0.03, "mean total {mt1} vs {mt0}");
}

#[test]
fn pickle_loads_in_python_with_no_imports() {
    let ws = Workspace::new(&["N1"]);
    ws.cmd()
        .args(["--model-type", "poisson_v2"])
        .assert()
        .code(0);
    let pkl = ws
        .model_dir("eredivisie", "poisson_v2")
        .join("poisson_model.pkl");
    let script = r#"
d = load(sys.argv[1])
assert pickle.load(open(sys.argv[1], "rb")) == d
assert d["model_type"] == "poisson_v2" and d["league"] == "eredivisie"
assert len(d["teams"]) == 18, len(d["teams"])
for t in d["teams"].values():
    assert isinstance(t["attack"], float) and isinstance(t["defence"], float)
for k in ["home_advantage", "rho", "xi_per_day", "reference_date", "promoted_prior"]:
    assert k in d, k
# Every match of the fixture has odds: the strengths are fitted to their market's expected
# goals, so the ridges against the goals' noise are off.
assert d["market_weight"] == 1.0, d["market_weight"]
assert d["matches_with_market"] == d["training_matches"] > 0, d["matches_with_market"]
assert d["strength_ridge"] == 0.0, d["strength_ridge"]
assert d["total_ridge"] == 0.0, d["total_ridge"]
print("ok")
"#;
    assert_eq!(python::run_on_files(script, &[&pkl]), "ok");
}

#[test]
fn predict_handles_unseen_teams_order_and_refuses_to_overwrite() {
    let ws = Workspace::new(&["N1"]);
    ws.cmd()
        .args(["--model-type", "poisson_v2"])
        .assert()
        .code(0);
    let fixtures = write_fixtures(
        &ws,
        &[
            ("Promoted FC".into(), "Ajax".into()),
            ("Ajax".into(), "Promoted FC".into()),
            ("Ajax".into(), "PSV Eindhoven".into()),
        ],
    );
    let rows = predict(&ws, &fixtures, "eredivisie");
    assert_eq!(rows.len(), 3);
    assert_eq!((&rows[0][1], &rows[0][2]), ("Promoted FC", "Ajax"));
    let home_win = |r: &csv::StringRecord| r[3].parse::<f64>().unwrap();
    assert!(
        home_win(&rows[1]) > home_win(&rows[0]),
        "Ajax at home beats a promoted side more often"
    );

    // --out writes a new file and never replaces one.
    let out_path = ws.path().join("out.csv");
    let run_out = || {
        ws.predict("eredivisie", &fixtures)
            .arg("--out")
            .arg(&out_path)
            .output()
            .unwrap()
    };
    assert_eq!(run_out().status.code(), Some(0));
    let first = std::fs::read(&out_path).unwrap();
    assert_eq!(first.iter().filter(|&&b| b == b'\n').count(), 4);
    let again = run_out();
    assert_ne!(again.status.code(), Some(0));
    assert_eq!(std::fs::read(&out_path).unwrap(), first);

    // A fixture row without a valid date is an error naming the row.
    std::fs::write(
        &fixtures,
        "Date,HomeTeam,AwayTeam\n2023-08-12,Ajax,PSV\n2023-02-30,Ajax,PSV\n",
    )
    .unwrap();
    let out = ws.predict("eredivisie", &fixtures).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("row 2: invalid date \"2023-02-30\"") && err.contains("fixtures.csv"),
        "{err}"
    );

    // A league neither the models nor the data know is refused (exit 2) with the known ones.
    std::fs::write(&fixtures, "Date,HomeTeam,AwayTeam\n2023-08-12,Ajax,PSV\n").unwrap();
    let out = ws.predict("serie_a", &fixtures).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown league \"serie_a\"")
            && String::from_utf8_lossy(&out.stderr).contains("known leagues: eredivisie")
    );
}

/// The season protocol (`--selection season`, 0.1's): ten matches of a new season are too few to
/// choose xi on, so the choice stays the one the complete seasons make (validation on the season
/// before), instead of flipping.
#[test]
fn a_new_season_of_a_few_matches_does_not_choose_xi() {
    let xi_with_new_matches = |new_matches: usize| {
        let ws = Workspace::new(&[]);
        let d1 = fixtures().join("D1");
        std::fs::create_dir_all(ws.data().join("D1")).unwrap();
        for season in ["2020-21", "2021-22"] {
            let name = format!("{season}.csv");
            std::fs::copy(d1.join(&name), ws.data().join("D1").join(&name)).unwrap();
        }
        if new_matches > 0 {
            let text = std::fs::read_to_string(d1.join("2022-23.csv")).unwrap();
            let lines: Vec<&str> = text.lines().take(1 + new_matches).collect();
            write_csv(&ws.data().join("D1/2022-23.csv"), &lines);
        }
        ws.cmd()
            .args(["--model-type", "poisson_v2", "--selection", "season"])
            .assert()
            .code(0);
        let m: serde_json::Value = serde_json::from_slice(
            &std::fs::read(
                ws.model_dir("bundesliga", "poisson_v2")
                    .join("metrics.json"),
            )
            .unwrap(),
        )
        .unwrap();
        (
            m["xi_per_day"].as_f64().unwrap(),
            m["validation"]["season"].as_str().unwrap().to_string(),
        )
    };
    let complete = xi_with_new_matches(0);
    let started = xi_with_new_matches(10);
    assert_eq!(complete.1, "2021-22");
    assert_eq!(started, complete);
}

/// Without odds in the data, or with `--market-weight 0`, the strengths are fitted to the goals
/// with the goals' defaults (ridges 3 and 20, stated decay 0.0018): the same model either way,
/// and metrics.json says no match had a market.
#[test]
fn without_odds_or_with_market_weight_zero_the_fit_is_the_goals_fit() {
    let metrics = |ws: &Workspace, extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["--model-type", "poisson_v2", "-q"];
        args.extend(extra);
        ws.cmd().args(&args).assert().code(0);
        let dir = ws.model_dir("premier_league", "poisson_v2");
        let mut m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
        m["trained_date"] = serde_json::Value::Null;
        m
    };
    let with_odds = Workspace::new(&["E0"]);
    let mut weight_zero = metrics(&with_odds, &["--market-weight", "0"]);
    // The same seasons with the result columns only.
    let no_odds = Workspace::new(&[]);
    std::fs::create_dir_all(no_odds.data().join("E0")).unwrap();
    for entry in std::fs::read_dir(fixtures().join("E0")).unwrap() {
        let path = entry.unwrap().path();
        let (header, rows) = read_csv_table(&path);
        let keep: Vec<usize> = ["Div", "Date", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR"]
            .iter()
            .map(|c| header.iter().position(|h| h == c).unwrap())
            .collect();
        let pick = |r: &Vec<String>| keep.iter().map(|&i| r[i].clone()).collect::<Vec<_>>();
        write_csv_rows(
            &no_odds.data().join("E0").join(path.file_name().unwrap()),
            &pick(&header),
            &rows.iter().map(pick).collect::<Vec<_>>(),
        );
    }
    let mut without = metrics(&no_odds, &[]);
    for m in [&weight_zero, &without] {
        assert_eq!(m["scores"]["matches_with_market"], 0);
        assert_eq!(m["strength_ridge"], 3.0);
        assert_eq!(m["total_ridge"], 20.0);
        assert_eq!(m["xi_selection"]["against_default"]["default"], 0.0018);
    }
    assert_eq!(weight_zero["scores"]["market_weight"], 0.0);
    assert_eq!(without["scores"]["market_weight"], 1.0);
    weight_zero["scores"]["market_weight"] = serde_json::Value::Null;
    without["scores"]["market_weight"] = serde_json::Value::Null;
    assert_eq!(weight_zero, without);
}

/// A club none of whose matches carries weight has no estimate: with a decay of 0.02 a day,
/// Blackpool's only Premier League season (2010-11) weighs below 1e-9 by 2023, so the model
/// leaves it out and predicts it as it predicts a club it never saw (the promoted prior); with
/// 0.0018 its matches still count and it has strengths of its own.
#[test]
fn a_club_whose_matches_carry_no_weight_is_predicted_from_the_prior() {
    let pairs = [
        ("Man City".to_string(), "Blackpool".to_string()),
        ("Man City".to_string(), "Nowhere Town".to_string()),
    ];
    for (xi, held) in [("0.02", false), ("0.0018", true)] {
        let ws = Workspace::new(&["E0"]);
        ws.cmd()
            .args(["--model-type", "poisson_v2", "--xi", xi, "-q"])
            .assert()
            .code(0);
        let pkl = ws
            .model_dir("premier_league", "poisson_v2")
            .join("poisson_model.pkl");
        let script = r#"
d = load(sys.argv[1])
print("Blackpool" in d["teams"])
"#;
        let holds = python::run_on_files(script, &[&pkl]);
        assert_eq!(holds, if held { "True" } else { "False" }, "xi {xi}");
        let rows = predict(&ws, &write_fixtures(&ws, &pairs), "premier_league");
        let probs = |r: &csv::StringRecord| (3..8).map(|i| r[i].to_string()).collect::<Vec<_>>();
        assert_eq!(
            probs(&rows[0]) == probs(&rows[1]),
            !held,
            "xi {xi}: {rows:?}"
        );
    }
}
