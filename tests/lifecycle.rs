//! A season of nightly runs: stale models reported, `--refresh` publishing new immutable
//! versions beside the old ones, a registry that is an append-only log of publications (each
//! new entry superseding the previous current one), damaged models shown and left alone, and
//! `predict` serving the current version of each type.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

const POISSON: &[&str] = &["--model-type", "poisson_v2"];

/// Days since 1970-01-01 of a football-data date `dd/mm/yyyy`.
fn day_number(date: &str) -> i64 {
    let parts: Vec<i64> = date.split('/').map(|p| p.parse().unwrap()).collect();
    let (d, m, y) = (parts[0], parts[1], parts[2]);
    let (y, m) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
    365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d - 719_469
}

/// A fixture file's header and data rows.
fn rows_of(fixture: &str) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    let mut lines = text.lines().map(String::from);
    let header = lines.next().unwrap();
    (header, lines.filter(|l| !l.trim().is_empty()).collect())
}

fn registry_entries(ws: &Workspace) -> Vec<serde_json::Value> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.registry()).unwrap()).unwrap();
    v["models"].as_array().unwrap().clone()
}

/// A fixture CSV for predict: one match, no results.
fn fixture_file(ws: &Workspace, div: &str, home: &str, away: &str) -> PathBuf {
    let path = ws.path().join(format!("fixtures_{div}.csv"));
    std::fs::write(
        &path,
        format!("Div,Date,HomeTeam,AwayTeam\n{div},01/06/2023,{home},{away}\n"),
    )
    .unwrap();
    path
}

#[test]
fn a_new_season_makes_the_model_stale_and_is_reported_everywhere() {
    let ws = Workspace::new(&[]);
    let data = ws.data().join("E0");
    std::fs::create_dir_all(&data).unwrap();
    for season in 2010..2022 {
        let name = format!("{season}-{:02}.csv", (season + 1) % 100);
        std::fs::copy(fixtures().join("E0").join(&name), data.join(&name)).unwrap();
    }
    let (code, first, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    // Consistent about what it checked; the other types are missing (issue #22.1).
    assert_eq!(first["selection_consistent"], true);
    assert_eq!(first["consistent"], false);
    let last_date = {
        let e = &registry_entries(&ws)[0];
        e["training_data"]["last_date"]
            .as_str()
            .unwrap()
            .to_string()
    };
    std::fs::copy(fixtures().join("E0/2022-23.csv"), data.join("2022-23.csv")).unwrap();
    let before = snapshot(ws.path());

    // status: stale, with the count and the date.
    let s = ws.status_json();
    let row = status_row(&s, "premier_league", "poisson_v2");
    assert_eq!(row["stale"], true);
    assert_eq!(row["new_matches"], 380);
    assert_eq!(
        row["staleness"],
        format!("380 new matches since {last_date}")
    );
    // A dry run lists it and changes nothing.
    let (code, dry, _) = ws.run_json(&["--model-type", "poisson_v2", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(dry["stale"][0]["league"], "premier_league");
    assert_eq!(dry["stale"][0]["new_matches"], 380);
    // The default run trains only what is missing: it reports the stale model, is not
    // "consistent", and changes nothing.
    let out = ws.cmd().args(POISSON).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!("380 new matches since {last_date}")),
        "{text}"
    );
    assert!(!text.contains("now consistent"), "{text}");
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(summary["consistent"], false);
    assert_eq!(summary["complete"], true);
    let r = result_row(&summary, "premier_league", "poisson_v2");
    assert_eq!(r["stale"], true);
    assert_eq!(r["status"], "existing");
    assert_eq!(snapshot(ws.path()), before);

    // A corrected score in the training rows is stale too, without new matches.
    std::fs::remove_file(data.join("2022-23.csv")).unwrap();
    let file = data.join("2015-16.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(String::from).collect();
    let goals = cells[4].parse::<u32>().unwrap() + 1; // FTHG
    cells[4] = goals.to_string();
    lines[1] = cells.join(",");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let s = ws.status_json();
    let row = status_row(&s, "premier_league", "poisson_v2");
    assert_eq!(row["stale"], true);
    assert_eq!(row["new_matches"], 0);
    assert!(
        row["staleness"].as_str().unwrap().contains("changed"),
        "{row}"
    );
}

#[test]
fn a_model_moved_away_and_retrained_gets_its_own_entry_superseding_the_old() {
    let ws = Workspace::new(&[]);
    let d1 = ws.data().join("D1");
    std::fs::create_dir_all(&d1).unwrap();
    for name in ["2020-21.csv", "2021-22.csv"] {
        std::fs::copy(fixtures().join("D1").join(name), d1.join(name)).unwrap();
    }
    ws.cmd().args(POISSON).assert().code(0);
    let old = registry_entries(&ws)[0].clone();
    assert_eq!(old["key"], "poisson_v2_bundesliga_v2");
    assert_eq!(old["training_data"]["matches"], 612);
    // The README's advice: move it away, the next run trains a new one.
    let dir = ws.model_dir("bundesliga", "poisson_v2");
    std::fs::rename(&dir, ws.path().join("moved_away")).unwrap();
    std::fs::copy(fixtures().join("D1/2022-23.csv"), d1.join("2022-23.csv")).unwrap();
    let old_text = std::fs::read_to_string(ws.registry()).unwrap();

    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        result_row(&summary, "bundesliga", "poisson_v2")["status"],
        "trained"
    );
    let entries = registry_entries(&ws);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0], old, "the old entry stays as it was");
    let new = &entries[1];
    assert_eq!(new["key"], "poisson_v2_bundesliga_v2@2");
    assert_eq!(new["path"], "leagues/bundesliga/poisson_v2");
    assert_eq!(new["supersedes"], "poisson_v2_bundesliga_v2");
    assert_eq!(new["training_data"]["matches"], 918);
    // The registry text is the old one plus the new entry.
    let new_text = std::fs::read_to_string(ws.registry()).unwrap();
    for e in registry_entries_of(&old_text) {
        assert!(new_text.contains(&e), "the old entry's text is kept");
    }
    // Every published file is hashed.
    let files = new["files"].as_object().unwrap();
    for name in [
        "poisson_model.pkl",
        "metrics.json",
        "auto_train_manifest.json",
    ] {
        assert!(
            files[name].as_str().unwrap().starts_with("sha256:"),
            "{name}"
        );
    }

    let s = ws.status_json();
    let row = status_row(&s, "bundesliga", "poisson_v2");
    assert_eq!(row["registered"], true);
    assert_eq!(row["key"], "poisson_v2_bundesliga_v2@2");
    assert_eq!(row["stale"], false);
    let roles: BTreeMap<String, String> = row["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["key"].as_str().unwrap().to_string(),
                v["role"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(roles["poisson_v2_bundesliga_v2"], "gone");
    assert_eq!(roles["poisson_v2_bundesliga_v2@2"], "current");
}

/// bundesliga with all three model types trained.
fn trained_bundesliga() -> Workspace {
    let ws = Workspace::new(&["D1", "N1"]);
    let (code, _, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    ws
}

#[test]
fn an_empty_pickle_is_damaged_and_predict_serves_the_other_types() {
    let ws = trained_bundesliga();
    let pkl = ws
        .model_dir("bundesliga", "poisson_v2")
        .join("poisson_model.pkl");
    std::fs::write(&pkl, b"").unwrap();
    let before = snapshot(ws.path());

    let s = ws.status_json();
    let row = status_row(&s, "bundesliga", "poisson_v2");
    assert_eq!(row["state"], "damaged");
    assert_eq!(row["loads"], false);
    assert_eq!(row["load_error"], "poisson_model.pkl is empty");
    let text = String::from_utf8(ws.status().output().unwrap().stdout).unwrap();
    assert!(
        text.contains("loads NO: poisson_model.pkl is empty"),
        "{text}"
    );

    let (code, summary, stderr) = ws.run_json(&[]);
    assert_eq!(code, 1, "a damaged model fails the run: {stderr}");
    assert_eq!(summary["consistent"], false);
    assert_eq!(summary["damaged"][0]["league"], "bundesliga");
    assert_eq!(summary["damaged"][0]["model_type"], "poisson_v2");
    assert!(stderr.contains("poisson_model.pkl is empty"), "{stderr}");
    let out = ws.cmd().output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("consistent!"), "{text}");
    assert_eq!(
        snapshot(ws.path()),
        before,
        "never repaired, moved or registered"
    );

    let fixtures = fixture_file(&ws, "D1", "Bayern Munich", "Dortmund");
    let out = ws.predict("bundesliga", &fixtures).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("poisson_model.pkl is empty"), "{stderr}");
    let header = String::from_utf8(out.stdout).unwrap();
    let header = header.lines().next().unwrap();
    assert!(header.contains("1x2_v2_home"), "{header}");
    assert!(header.contains("draw_specialist_draw"), "{header}");
    assert!(!header.contains("poisson_v2"), "{header}");

    // The way out: move it away; the next run trains a new one and supersedes the old entry.
    std::fs::rename(
        ws.model_dir("bundesliga", "poisson_v2"),
        ws.path().join("damaged_away"),
    )
    .unwrap();
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(
        result_row(&summary, "bundesliga", "poisson_v2")["key"],
        "poisson_v2_bundesliga_v2@2"
    );
}

#[test]
fn a_model_copied_from_another_league_is_damaged_never_served() {
    let ws = trained_bundesliga();
    // eredivisie has no poisson_v2 of its own: someone copies bundesliga's there.
    let theirs = ws.model_dir("eredivisie", "poisson_v2");
    std::fs::rename(&theirs, ws.path().join("eredivisie_poisson_away")).unwrap();
    copy_dir(&ws.model_dir("bundesliga", "poisson_v2"), &theirs);
    let before = snapshot(ws.path());

    let s = ws.status_json();
    let row = status_row(&s, "eredivisie", "poisson_v2");
    assert_eq!(row["state"], "damaged");
    assert_eq!(row["loads"], false);
    assert!(
        row["load_error"]
            .as_str()
            .unwrap()
            .starts_with("belongs to bundesliga"),
        "{row}"
    );
    let (code, summary, _) = ws.run_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(summary["consistent"], false);
    assert_eq!(
        result_row(&summary, "eredivisie", "poisson_v2")["status"],
        "damaged"
    );
    assert_eq!(snapshot(ws.path()), before);

    let fixtures = fixture_file(&ws, "N1", "Ajax", "PSV Eindhoven");
    let out = ws.predict("eredivisie", &fixtures).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("poisson_v2"), "{text}");
    assert!(text.contains("1x2_v2_home"), "{text}");
    // Only damaged types: exit 1.
    let only = Workspace::new(&["N1"]);
    copy_dir(&theirs, &only.model_dir("eredivisie", "poisson_v2"));
    let out = only.predict("eredivisie", &fixtures).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// Team strengths of a poisson_model.pkl, read as plain pickle data.
#[derive(serde::Deserialize)]
struct PoissonParams {
    teams: BTreeMap<String, Strength>,
    home_advantage: f64,
}
#[derive(serde::Deserialize)]
struct Strength {
    attack: f64,
    defence: f64,
}

fn expected_goals(dir: &Path, home: &str, away: &str) -> (f64, f64) {
    let bytes = std::fs::read(dir.join("poisson_model.pkl")).unwrap();
    let p: PoissonParams = serde_pickle::from_slice(&bytes, Default::default()).unwrap();
    let (h, a) = (&p.teams[home], &p.teams[away]);
    (
        (p.home_advantage + h.attack + a.defence).exp(),
        (a.attack + h.defence).exp(),
    )
}

#[test]
fn a_season_of_nightly_refreshes_publishes_immutable_versions() {
    let ws = Workspace::new(&[]);
    let mut current: BTreeMap<(String, String), String> = BTreeMap::new();
    // Seasons to 2021-22 of bundesliga and the premier league (from 2018-19), then 2022-23.
    let mut season_rows: Vec<(String, String, Vec<String>)> = Vec::new();
    for (div, seasons) in [
        ("D1", vec!["2020-21", "2021-22"]),
        ("E0", vec!["2018-19", "2019-20", "2020-21", "2021-22"]),
    ] {
        let dir = ws.data().join(div);
        std::fs::create_dir_all(&dir).unwrap();
        for s in seasons {
            let name = format!("{s}.csv");
            std::fs::copy(fixtures().join(div).join(&name), dir.join(&name)).unwrap();
        }
        let (header, rows) = rows_of(&format!("{div}/2022-23.csv"));
        season_rows.push((div.to_string(), header, rows));
    }
    let (code, summary, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    for r in summary["results"].as_array().unwrap() {
        current.insert(
            (
                r["league"].as_str().unwrap().into(),
                r["model_type"].as_str().unwrap().into(),
            ),
            r["key"].as_str().unwrap().into(),
        );
    }
    assert_eq!(current.len(), 6);

    let start = season_rows
        .iter()
        .flat_map(|(_, _, rows)| {
            rows.iter()
                .map(|r| day_number(r.split(',').nth(1).unwrap()))
        })
        .min()
        .unwrap();
    let week_of = |row: &str| (day_number(row.split(',').nth(1).unwrap()) - start) / 7;
    let weeks = season_rows
        .iter()
        .flat_map(|(_, _, rows)| rows.iter().map(|r| week_of(r)))
        .max()
        .unwrap();
    let mut refreshed_total = 0;
    for week in 0..=weeks {
        // The data as it stands after this week: one growing file a league.
        for (div, header, rows) in &season_rows {
            let so_far: Vec<&str> = rows
                .iter()
                .filter(|r| week_of(r) <= week)
                .map(String::as_str)
                .collect();
            let mut text = header.clone();
            for r in so_far {
                text.push('\n');
                text.push_str(r);
            }
            text.push('\n');
            std::fs::write(ws.data().join(div).join("2022-23.csv"), text).unwrap();
        }
        let models_before = snapshot(&ws.models());
        let registry_before = std::fs::read_to_string(ws.registry()).unwrap();
        let keys_before = registry_keys(&ws.registry());

        let night = format!("week {week}");
        let (code, summary, stderr) = ws.run_json(&["--refresh", "--min-new-matches", "1"]);
        assert_eq!(code, 0, "{night}: {stderr}");
        assert_eq!(summary["consistent"], true, "{night}");

        // Every earlier version is byte-identical.
        let models_after = snapshot(&ws.models());
        for (path, bytes) in &models_before {
            if path.ends_with(".auto-train.lock") {
                continue;
            }
            assert_eq!(
                models_after.get(path),
                Some(bytes),
                "{night}: {path:?} changed"
            );
        }
        // The registry is the previous one plus the new entries, each superseding the
        // previous current version of its league and type.
        let keys_after = registry_keys(&ws.registry());
        assert_eq!(keys_after[..keys_before.len()], keys_before[..], "{night}");
        let registry_after = std::fs::read_to_string(ws.registry()).unwrap();
        for e in registry_entries_of(&registry_before) {
            assert!(
                registry_after.contains(&e),
                "{night}: an entry's text changed"
            );
        }
        let entries = registry_entries(&ws);
        for e in &entries[keys_before.len()..] {
            let id = (
                e["league"].as_str().unwrap().to_string(),
                e["model_type"].as_str().unwrap().to_string(),
            );
            assert_eq!(e["supersedes"], current[&id].as_str(), "{night}: {e}");
            assert!(
                e["path"].as_str().unwrap().contains('@'),
                "{night}: refreshed versions live beside the first: {e}"
            );
            current.insert(id, e["key"].as_str().unwrap().to_string());
            refreshed_total += 1;
        }
        // Nothing stale; status agrees on the current versions.
        let s = ws.status_json();
        for row in s["models"].as_array().unwrap() {
            assert_eq!(row["stale"], false, "{night}: {row}");
            let id = (
                row["league"].as_str().unwrap().to_string(),
                row["model_type"].as_str().unwrap().to_string(),
            );
            assert_eq!(row["key"], current[&id].as_str(), "{night}");
        }
    }
    assert!(refreshed_total >= 6 * 20, "{refreshed_total} refreshes");

    // predict uses the newest version: its Poisson rates are the newest pickle's.
    let newest = current[&("premier_league".to_string(), "poisson_v2".to_string())].clone();
    let entry = registry_entries(&ws)
        .into_iter()
        .find(|e| e["key"] == newest.as_str())
        .unwrap();
    let dir = ws.models().join(entry["path"].as_str().unwrap());
    let fixtures = fixture_file(&ws, "E0", "Arsenal", "Chelsea");
    let rows = ws.predict_ok("premier_league", &fixtures);
    let col = |name: &str| rows[0].iter().position(|h| h == name).unwrap();
    let got_home: f64 = rows[1][col("poisson_v2_lambda_home")].parse().unwrap();
    let got_away: f64 = rows[1][col("poisson_v2_lambda_away")].parse().unwrap();
    let (home, away) = expected_goals(&dir, "Arsenal", "Chelsea");
    assert!((got_home - home).abs() < 1e-9, "{got_home} vs {home}");
    assert!((got_away - away).abs() < 1e-9, "{got_away} vs {away}");
    // ... and not the first version's.
    let (first_home, _) = expected_goals(
        &ws.model_dir("premier_league", "poisson_v2"),
        "Arsenal",
        "Chelsea",
    );
    assert!((first_home - home).abs() > 1e-6);
}

/// The raw text of each registry entry (as written: entries are kept verbatim).
fn registry_entries_of(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_string())
        .map(|k| {
            let start = text.find(&format!("\"key\": \"{k}\"")).unwrap();
            let open = text[..start].rfind('{').unwrap();
            let close = open + text[open..].find("\n    }").unwrap();
            text[open..close].to_string()
        })
        .collect()
}

#[test]
fn corrected_odds_of_a_training_row_make_the_model_stale_and_a_refresh_retrains_it() {
    let ws = Workspace::new(&[]);
    let data = ws.data().join("E0");
    for season in ["2019-20", "2020-21", "2021-22"] {
        let name = format!("{season}.csv");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::copy(fixtures().join("E0").join(&name), data.join(&name)).unwrap();
    }
    let (code, _, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = ws.run_json(&["--model-type", "1x2_v2"]);
    assert_eq!(code, 0, "{stderr}");
    let first = registry_entries(&ws)[0].clone();
    assert_eq!(first["model_type"], "poisson_v2");
    let last_date = first["training_data"]["last_date"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(first["training_data"]["inputs_fingerprint"]
        .as_str()
        .is_some_and(|f| f.starts_with("sha256:")));
    let file = data.join("2020-21.csv");
    let (header, rows) = read_csv_table(&file);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let edited = |name: &str, value: &str| {
        let mut rows = rows.clone();
        rows[10][column(name)] = value.to_string();
        write_csv_rows(&file, &header, &rows);
    };
    let staleness_of = |ty: &str| {
        let s = ws.status_json();
        status_row(&s, "premier_league", ty)["staleness"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let staleness = || staleness_of("poisson_v2");

    // Fouls are read by no training: still fresh.
    assert_ne!(rows[10][column("HF")], "99");
    edited("HF", "99");
    assert_eq!(staleness(), "fresh");
    // A corrected closing price of a training row: stale, said so, and a dry run changes
    // nothing.
    assert_ne!(rows[10][column("PSCH")], "9.5");
    edited("PSCH", "9.5");
    let reason =
        format!("the odds or shots on target of rows up to {last_date} changed since training");
    assert_eq!(staleness(), reason);
    let before = snapshot(ws.path());
    let (code, dry, _) = ws.run_json(&["--model-type", "poisson_v2", "--dry-run", "--refresh"]);
    assert_eq!(code, 0);
    assert_eq!(dry["stale"][0]["league"], "premier_league");
    assert_eq!(dry["stale"][0]["new_matches"], 0);
    assert_eq!(snapshot(ws.path()), before);

    // A refresh retrains it, whatever --min-new-matches says: a new version superseding the
    // first, whose directory is left as it was.
    let old_dir = ws.model_dir("premier_league", "poisson_v2");
    let old_files = snapshot(&old_dir);
    let args = [
        "--model-type",
        "poisson_v2",
        "--refresh",
        "--min-new-matches",
        "100",
    ];
    let (code, _, stderr) = ws.run_json(&args);
    assert_eq!(code, 0, "{stderr}");
    let entries = registry_entries(&ws);
    assert_eq!(entries.len(), 3);
    let new = &entries[2];
    assert_eq!(new["supersedes"], first["key"]);
    assert_eq!(
        new["training_data"]["fingerprint"],
        first["training_data"]["fingerprint"]
    );
    assert_ne!(
        new["training_data"]["inputs_fingerprint"],
        first["training_data"]["inputs_fingerprint"]
    );
    let columns = &first["training_data"]["inputs_columns"];
    assert!(columns.as_str().is_some_and(|c| c.starts_with("sha256:")));
    assert_eq!(&new["training_data"]["inputs_columns"], columns);
    // Each type fingerprints the columns it reads.
    assert_ne!(&entries[1]["training_data"]["inputs_columns"], columns);
    assert_eq!(snapshot(&old_dir), old_files);
    assert_eq!(staleness(), "fresh");

    // Shots on target are read by 1x2_v2's features, not by poisson_v2.
    let (header, mut rows) = read_csv_table(&file);
    let hst = header.iter().position(|h| h == "HST").unwrap();
    rows[10][hst] = (rows[10][hst].parse::<u32>().unwrap() + 1).to_string();
    write_csv_rows(&file, &header, &rows);
    assert_eq!(staleness_of("1x2_v2"), reason);
    assert_eq!(staleness(), "fresh");
}

/// The feature models follow a club's recent form across leagues: a corrected match that a
/// promoted club played in the league below, before its matches in this one, makes this
/// league's 1x2_v2 stale (not its poisson_v2, which reads this league alone); a match of clubs
/// that never played here does not. Real files: the Premier League 2019-20 to 2021-22 and the
/// Championship 2019-20.
#[test]
fn a_corrected_match_of_a_promoted_club_in_the_league_below_makes_the_feature_models_stale() {
    let ws = Workspace::new(&["E1"]);
    let data = ws.data().join("E0");
    std::fs::create_dir_all(&data).unwrap();
    for season in ["2019-20", "2020-21", "2021-22"] {
        let name = format!("{season}.csv");
        std::fs::copy(fixtures().join("E0").join(&name), data.join(&name)).unwrap();
    }
    let only_premier = ["--league", "premier_league"];
    let (code, _, stderr) = ws.run_json(&[&only_premier[..], POISSON].concat());
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = ws.run_json(&[&only_premier[..], &["--model-type", "1x2_v2"]].concat());
    assert_eq!(code, 0, "{stderr}");
    let first = registry_entries(&ws)[1].clone();
    assert_eq!(first["model_type"], "1x2_v2");
    let last_date = first["training_data"]["last_date"]
        .as_str()
        .unwrap()
        .to_string();

    let file = ws.data().join("E1").join("2019-20.csv");
    let (header, rows) = read_csv_table(&file);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (home, away) = (column("HomeTeam"), column("AwayTeam"));
    // The clubs that played in the Premier League after this season: Leeds, West Brom, Fulham
    // (2020-21) and Brentford (2021-22).
    let mut promoted = std::collections::BTreeSet::new();
    for season in ["2020-21", "2021-22"] {
        let (h, later) = read_csv_table(&data.join(format!("{season}.csv")));
        let at = h.iter().position(|c| c == "HomeTeam").unwrap();
        promoted.extend(later.into_iter().map(|r| r[at].clone()));
    }
    promoted.retain(|c| rows.iter().any(|r| &r[home] == c));
    assert_eq!(
        promoted.iter().map(String::as_str).collect::<Vec<_>>(),
        ["Brentford", "Fulham", "Leeds", "West Brom"]
    );
    let of_promoted = |r: &Vec<String>| promoted.contains(&r[home]) || promoted.contains(&r[away]);
    // The record counts every Championship match of the four (they played on in the Premier
    // League after it).
    let played_below = rows.iter().filter(|r| of_promoted(r)).count();
    assert_eq!(played_below, 4 * 46 - 12);
    assert_eq!(
        first["training_data"]["other_leagues"]["matches"],
        played_below
    );
    assert!(registry_entries(&ws)[0]["training_data"]
        .get("other_leagues")
        .is_none());

    let staleness_of = |ty: &str| {
        let s = ws.status_json();
        status_row(&s, "premier_league", ty)["staleness"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // A draw between two clubs that stayed below: nothing of the Premier League's changes.
    let (ftr, fthg) = (column("FTR"), column("FTHG"));
    let draw_of = |wanted: bool| {
        rows.iter()
            .position(|r| r[ftr] == "D" && of_promoted(r) == wanted)
            .unwrap()
    };
    let plus_one = |r: usize, c: usize| (rows[r][c].parse::<u32>().unwrap() + 1).to_string();
    // A draw corrected to a home win (the half-time columns left as they were).
    let home_win = |r: usize| {
        let mut rows = rows.clone();
        rows[r][fthg] = plus_one(r, fthg);
        rows[r][ftr] = "H".to_string();
        rows
    };
    let below = draw_of(false);
    write_csv_rows(&file, &header, &home_win(below));
    assert_eq!(staleness_of("1x2_v2"), "fresh");
    assert_eq!(staleness_of("poisson_v2"), "fresh");
    // A draw of a promoted club, a home win after all (its form and draw rate change): 1x2_v2
    // stale, said so; poisson_v2 fresh; a dry run changes nothing.
    let corrected = home_win(draw_of(true));
    write_csv_rows(&file, &header, &corrected);
    let reason = format!(
        "the matches its clubs played in other leagues before {last_date} changed since \
         training ({played_below} then, {played_below} now)"
    );
    assert_eq!(staleness_of("1x2_v2"), reason);
    assert_eq!(staleness_of("poisson_v2"), "fresh");
    let before = snapshot(ws.path());
    let (code, dry, _) = ws.run_json(&["--dry-run", "--refresh"]);
    assert_eq!(code, 0);
    let stale: Vec<(&str, &str)> = dry["stale"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["league"].as_str().unwrap(),
                s["model_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(stale, [("premier_league", "1x2_v2")]);
    assert_eq!(snapshot(ws.path()), before);

    // A refresh retrains it whatever --min-new-matches says; the first version is untouched.
    let old_dir = ws.model_dir("premier_league", "1x2_v2");
    let old_files = snapshot(&old_dir);
    let args = [
        "--league",
        "premier_league",
        "--model-type",
        "1x2_v2",
        "--refresh",
        "--min-new-matches",
        "100",
    ];
    let (code, _, stderr) = ws.run_json(&args);
    assert_eq!(code, 0, "{stderr}");
    let entries = registry_entries(&ws);
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2]["supersedes"], first["key"]);
    assert_eq!(
        entries[2]["training_data"]["fingerprint"],
        first["training_data"]["fingerprint"]
    );
    assert_ne!(
        entries[2]["training_data"]["other_leagues"]["fingerprint"],
        first["training_data"]["other_leagues"]["fingerprint"]
    );
    assert_eq!(snapshot(&old_dir), old_files);
    assert_eq!(staleness_of("1x2_v2"), "fresh");

    // Shots on target of a match of West Brom below: read by the form that follows it.
    let west_brom = rows.iter().position(|r| r[home] == "West Brom").unwrap();
    let hst = column("HST");
    let mut shots = corrected.clone();
    shots[west_brom][hst] = plus_one(west_brom, hst);
    write_csv_rows(&file, &header, &shots);
    assert!(staleness_of("1x2_v2").starts_with("the matches its clubs played in other leagues"));
}
