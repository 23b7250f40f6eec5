//! The Python reader (`python/auto_train_models.py`) a Python backend serves from: on every model
//! type and league, it picks the version `auto-train predict` uses and gives the same numbers
//! to 1e-12. Fails (never skips) where python3 is missing.

mod common;

use std::path::Path;

use common::*;

/// Checks every row of a `predict --features` CSV against the reader: Poisson markets from
/// `predict_match`, 1X2 and draw probabilities from `predict_proba` of the row's features.
/// Prints `ok <values compared> <keys>`.
const CHECK: &str = r#"
import csv, sys
import auto_train_models as atm
models_dir, registry, league, predictions = sys.argv[1:5]
poisson = atm.load_current(models_dir, registry, league, "poisson_v2")
one = atm.load_current(models_dir, registry, league, "1x2_v2")
draw = atm.load_current(models_dir, registry, league, "draw_specialist")
compared = 0
worst = 0.0
with open(predictions, newline="") as f:
    rows = list(csv.DictReader(f))
assert rows, predictions
for row in rows:
    got = {}
    pm = poisson.predict_match(row["home_team"], row["away_team"])
    for k in ("home", "draw", "away"):
        got["poisson_v2_" + k] = pm["poisson_p_" + k]
    for k in ("lambda_home", "lambda_away", "over_2_5", "btts"):
        got["poisson_v2_" + k] = pm[k]
    for k, p in zip(("home", "draw", "away"), one.predict_proba(row)):
        got["1x2_v2_" + k] = p
    got["draw_specialist_draw"] = draw.predict_proba(row)[1]
    for col, value in got.items():
        diff = abs(value - float(row[col]))
        worst = max(worst, diff)
        assert diff <= 1e-12, (league, row["home_team"], row["away_team"], col, value, row[col])
        compared += 1
if len(sys.argv) > 5:
    # predict_fixture: the features computed from the fixture rows and the history.
    with open(sys.argv[5], newline="") as f:
        fixtures = list(csv.DictReader(f))
    if sys.argv[6].startswith("espn:"):
        history = atm.espn_history(sys.argv[6][len("espn:"):])
    else:
        with open(sys.argv[6], newline="") as f:
            history = list(csv.DictReader(f))
    print("history", len(history))
    assert len(fixtures) == len(rows)
    features = atm.fixture_features(history, league, fixtures)
    for k, (fixture, feats, row) in enumerate(zip(fixtures, features, rows)):
        got = {}
        for name, value in feats.items():
            got[name] = value
        for k3, p in zip(("home", "draw", "away"), one.predict_proba(feats)):
            got["1x2_v2_" + k3] = p
        got["draw_specialist_draw"] = draw.predict_proba(feats)[1]
        for col, value in got.items():
            diff = abs(value - float(row[col]))
            worst = max(worst, diff)
            assert diff <= 1e-12, (league, fixture["HomeTeam"], col, value, row[col])
            compared += 1
        if k >= 1:
            continue
        # predict_fixture itself (one replay of the history a call) on the first row.
        got = dict(zip(("1x2_v2_home", "1x2_v2_draw", "1x2_v2_away"), one.predict_fixture(fixture, history)))
        got["draw_specialist_draw"] = draw.predict_fixture(fixture, history)
        for col, value in got.items():
            diff = abs(value - float(row[col]))
            worst = max(worst, diff)
            assert diff <= 1e-12, (league, fixture["HomeTeam"], col, value, row[col])
            compared += 1
print("ok", compared, worst, poisson.key, one.key, draw.key)
"#;

/// Every match of the data dir as `auto-train` loads it (all leagues, with shots on target), as
/// the history CSV `predict_fixture` takes.
fn write_history(ws: &Workspace, to: &Path) {
    let columns = auto_train::data::Columns::Wanted(auto_train::features::COLUMNS_READ);
    let loaded = auto_train::data::load_data_dir_with(&ws.data(), columns).unwrap();
    let mut w = csv::Writer::from_path(to).unwrap();
    w.write_record([
        "date",
        "league",
        "home",
        "away",
        "home_goals",
        "away_goals",
        "HST",
        "AST",
    ])
    .unwrap();
    for (slug, league) in &loaded.dataset.leagues {
        for m in &league.matches {
            let shots = |c: &str| m.extra(c).map(|v| v.to_string()).unwrap_or_default();
            w.write_record([
                m.date.to_string(),
                slug.clone(),
                m.home.to_string(),
                m.away.to_string(),
                m.home_goals.to_string(),
                m.away_goals.to_string(),
                shots("HST"),
                shots("AST"),
            ])
            .unwrap();
        }
    }
    w.flush().unwrap();
}

/// `predict --features` for `fixtures` into `out`.
fn predict_with_features(ws: &Workspace, league: &str, fixtures: &Path, out: &Path) {
    ws.predict(league, fixtures)
        .arg("--registry")
        .arg(ws.registry())
        .arg("--features")
        .arg("--out")
        .arg(out)
        .assert()
        .code(0);
}

/// Runs the check; returns (values compared, the three keys used). With `fixture_rows`
/// (fixtures file, history file) `predict_fixture` is checked too.
fn check(
    ws: &Workspace,
    league: &str,
    predictions: &Path,
    fixture_rows: Option<(&Path, &Path)>,
) -> (usize, Vec<String>) {
    let (models, registry) = (ws.models(), ws.registry());
    let mut args = vec![
        models.to_str().unwrap(),
        registry.to_str().unwrap(),
        league,
        predictions.to_str().unwrap(),
    ];
    if let Some((fixtures, history)) = fixture_rows {
        args.extend([fixtures.to_str().unwrap(), history.to_str().unwrap()]);
    }
    let out = python::run_with_reader(CHECK, &args);
    if fixture_rows.is_some() {
        assert!(out.starts_with("history "), "{out}");
    }
    let parts: Vec<&str> = out.lines().last().unwrap().split_whitespace().collect();
    assert_eq!(parts[0], "ok", "{out}");
    let worst: f64 = parts[2].parse().unwrap();
    assert!(worst <= 1e-12, "{out}");
    (
        parts[1].parse().unwrap(),
        parts[3..].iter().map(|s| s.to_string()).collect(),
    )
}

/// Fixtures of the next season: the pairings of a league's last `n` matches, without odds.
fn next_fixtures(ws: &Workspace, league: &str, n: usize, to: &Path) {
    let dataset = auto_train::data::load_data_dir(&ws.data()).unwrap().dataset;
    let l = dataset.league(league).unwrap();
    let mut lines = vec!["Date,HomeTeam,AwayTeam".to_string()];
    for m in l.matches.iter().rev().take(n) {
        lines.push(format!("2023-08-20,{},{}", m.home, m.away));
    }
    lines.push("2023-08-20,A Club Never Seen,".to_string() + &l.matches[0].home);
    std::fs::write(to, lines.join("\n") + "\n").unwrap();
}

#[test]
fn the_reader_equals_predict_on_every_model_type_and_league() {
    // The eight seed leagues from ESPN files (no odds: the odds-free models).
    let ws = Workspace::new(&["espn"]);
    let (code, summary, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["totals"]["trained"], 24);
    let leagues: Vec<String> = summary["data"]["leagues"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(leagues.len(), 8);
    // The history read from the ESPN files by the reader itself (`espn_history`): the matches
    // auto-train reads.
    let espn_dir = ws.data().join("espn");
    let count = python::run_with_reader(
        "import sys, auto_train_models as atm\nprint(len(atm.espn_history(sys.argv[1])))",
        &[espn_dir.to_str().unwrap()],
    );
    let loaded: u64 = summary["data"]["leagues"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(count, loaded.to_string());
    assert_eq!(loaded, 5674);
    let history = std::path::PathBuf::from(format!("espn:{}", espn_dir.display()));
    for league in &leagues {
        let fixtures = ws.path().join(format!("{league}-fixtures.csv"));
        let predictions = ws.path().join(format!("{league}-predictions.csv"));
        next_fixtures(&ws, league, 20, &fixtures);
        predict_with_features(&ws, league, &fixtures, &predictions);
        let (compared, keys) = check(&ws, league, &predictions, Some((&fixtures, &history)));
        assert_eq!(compared, 21 * (11 + 27 + 4) + 4, "{league}");
        assert_eq!(
            keys,
            [
                format!("poisson_v2_{league}_v2"),
                format!("1x2_v2_{league}_v2"),
                format!("draw_specialist_{league}_v1"),
            ]
        );
    }
}

#[test]
fn the_reader_follows_refreshed_versions_and_skips_a_damaged_one() {
    // bundesliga with odds (the market models and their odds-free fallback), first trained on
    // two seasons, then refreshed with the third.
    let ws = Workspace::new(&[]);
    for season in ["2020-21", "2021-22"] {
        std::fs::create_dir_all(ws.data().join("D1")).unwrap();
        std::fs::copy(
            fixtures().join(format!("D1/{season}.csv")),
            ws.data().join(format!("D1/{season}.csv")),
        )
        .unwrap();
    }
    let (code, _, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::copy(
        fixtures().join("D1/2022-23.csv"),
        ws.data().join("D1/2022-23.csv"),
    )
    .unwrap();
    let (code, summary, stderr) = ws.run_json(&["--refresh"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["totals"]["refreshed"], 3, "{summary:#}");

    // Fixtures with odds (the legacy fixture file) and without.
    let with_odds = fixtures().join("legacy_models/fixtures.csv");
    let without = ws.path().join("no-odds.csv");
    next_fixtures(&ws, "bundesliga", 10, &without);
    let history = ws.path().join("history.csv");
    write_history(&ws, &history);
    for (name, fixtures) in [("odds", with_odds.as_path()), ("plain", without.as_path())] {
        let predictions = ws.path().join(format!("{name}.csv"));
        predict_with_features(&ws, "bundesliga", fixtures, &predictions);
        let (compared, keys) = check(&ws, "bundesliga", &predictions, Some((fixtures, &history)));
        assert!(compared >= (11 + 27 + 4) * 3 + 4, "{name}");
        assert_eq!(
            keys,
            [
                "poisson_v2_bundesliga_v2@2",
                "1x2_v2_bundesliga_v2@2",
                "draw_specialist_bundesliga_v1@2"
            ],
            "{name}"
        );
    }
    let text = std::fs::read_to_string(ws.path().join("odds.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let market = header.iter().position(|c| *c == "feature_market").unwrap();
    assert!(
        text.lines()
            .skip(1)
            .all(|l| l.split(',').nth(market) == Some("1")),
        "the legacy fixtures carry odds"
    );

    // A changed file in the newest version: both fall back to the first version.
    let damaged = ws
        .models()
        .join("leagues/bundesliga/poisson_v2@2/poisson_model.pkl");
    let mut bytes = std::fs::read(&damaged).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 1;
    std::fs::write(&damaged, bytes).unwrap();
    let predictions = ws.path().join("after-damage.csv");
    predict_with_features(&ws, "bundesliga", &with_odds, &predictions);
    let (_, keys) = check(&ws, "bundesliga", &predictions, None);
    assert_eq!(keys[0], "poisson_v2_bundesliga_v2");
    assert_eq!(keys[1], "1x2_v2_bundesliga_v2@2");
}

#[test]
fn the_reader_refuses_what_is_not_an_intact_auto_train_model() {
    let ws = Workspace::new(&["N1"]);
    let script = r#"
import sys
import auto_train_models as atm
models_dir, registry = sys.argv[1:3]
try:
    atm.load_current(models_dir, registry, "eredivisie", "poisson_v2")
except atm.ModelNotFound as e:
    print("refused:", e)
"#;
    // No registry entry at all.
    std::fs::write(ws.registry(), "{\"models\": []}").unwrap();
    let (models, registry) = (ws.models(), ws.registry());
    let args = [models.to_str().unwrap(), registry.to_str().unwrap()];
    let out = python::run_with_reader(script, &args);
    assert!(
        out.starts_with("refused:") && out.contains("no registry entry"),
        "{out}"
    );
    // Trained, then its file replaced by a joblib pickle of another tool.
    let (code, _, stderr) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0, "{stderr}");
    let out = python::run_with_reader(
        script.replace("print(\"refused:\", e)", "raise").as_str(),
        &args,
    );
    assert!(out.is_empty(), "{out}");
    let pkl = ws
        .model_dir("eredivisie", "poisson_v2")
        .join("poisson_model.pkl");
    std::fs::write(&pkl, b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x0elightgbm.basic\x94\x8c\x07Booster\x94\x93\x94)\x81\x94.").unwrap();
    let out = python::run_with_reader(script, &args);
    assert!(out.contains("changed since it was published"), "{out}");
    // A registry entry outside the lineage's numbering: auto-train reports the lineage as
    // inconsistent and serves nothing; the reader refuses it the same way (never guesses).
    let text = std::fs::read_to_string(ws.registry()).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut stray = doc["models"][0].clone();
    stray["key"] = serde_json::json!("poisson_v2_eredivisie_copy");
    doc["models"].as_array_mut().unwrap().push(stray);
    std::fs::write(ws.registry(), serde_json::to_string(&doc).unwrap()).unwrap();
    let out = python::run_with_reader(script, &args);
    assert!(
        out.starts_with("refused:") && out.contains("do not form one lineage"),
        "{out}"
    );
    let (code, doc, stderr) = ws.run_json(&["--dry-run", "--model-type", "poisson_v2"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(doc["inconsistent"][0]["league"], "eredivisie", "{doc}");
}

#[test]
fn the_reader_names_a_league_outside_its_id_table_as_auto_train_does() {
    // The Premier League's rows under ESPN league id 630, which leagues.csv calls BRA.1
    // "Brazilian Serie A" (no slug of the id table: brazil_serie_a), and no status.csv (the
    // dataset's own status table, built into both).
    let ws = Workspace::new(&["espn"]);
    let espn_dir = ws.data().join("espn");
    std::fs::remove_file(espn_dir.join("status.csv")).unwrap();
    let fixtures_csv = espn_dir.join("fixtures.csv");
    let (header, mut rows) = read_csv_table(&fixtures_csv);
    let column = header.iter().position(|h| h == "leagueId").unwrap();
    for r in rows.iter_mut().filter(|r| r[column] == "700") {
        r[column] = "630".into();
    }
    write_csv_rows(&fixtures_csv, &header, &rows);
    let league = "brazil_serie_a";
    let (code, summary, stderr) = ws.run_json(&["--league", league]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["totals"]["trained"], 3);
    let loaded = summary["data"]["leagues"][league].as_u64().unwrap();
    assert!(loaded > 700, "{summary}");
    // The reader's history holds the same matches under the same slug.
    let count = python::run_with_reader(
        "import sys, auto_train_models as atm\n\
         h = atm.espn_history(sys.argv[1])\n\
         print(sum(1 for m in h if m['league'] == sys.argv[2]))",
        &[espn_dir.to_str().unwrap(), league],
    );
    assert_eq!(count, loaded.to_string());
    // And predict_fixture from it gives what predict prints.
    let history = std::path::PathBuf::from(format!("espn:{}", espn_dir.display()));
    let fixtures = ws.path().join("fixtures.csv");
    let predictions = ws.path().join("predictions.csv");
    next_fixtures(&ws, league, 20, &fixtures);
    predict_with_features(&ws, league, &fixtures, &predictions);
    let (compared, _) = check(&ws, league, &predictions, Some((&fixtures, &history)));
    assert_eq!(compared, 21 * (11 + 27 + 4) + 4);
}
