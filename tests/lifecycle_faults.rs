//! Issue #21's lifecycle and integrity faults, each driven through the binary: the current
//! version follows the lineage (not the registry's file order), a refresh never publishes a
//! model trained on less or older data, an impossible date cannot move a model, one integrity
//! rule for every model directory, and the data faults that used to be settled silently.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

const POISSON: &[&str] = &["--model-type", "poisson_v2"];
const PL: &str = "premier_league";

/// A workspace whose data dir holds these E0 seasons (`2021-22`, ...) under `data/E0`.
fn e0_workspace(seasons: &[&str]) -> Workspace {
    let ws = Workspace::new(&[]);
    let dir = ws.data().join("E0");
    std::fs::create_dir_all(&dir).unwrap();
    for s in seasons {
        let name = format!("{s}.csv");
        std::fs::copy(fixtures().join("E0").join(&name), dir.join(&name)).unwrap();
    }
    ws
}

/// A fixture file's header and data rows.
fn rows_of(fixture: &str) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    let mut lines = text.lines().map(String::from);
    let header = lines.next().unwrap();
    (header, lines.filter(|l| !l.trim().is_empty()).collect())
}

fn write_rows(path: &Path, header: &str, rows: &[String]) {
    let mut text = header.to_string();
    for r in rows {
        text.push('\n');
        text.push_str(r);
    }
    text.push('\n');
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The distinct dates (`dd/mm/yyyy`) of rows, in order of appearance.
fn match_days(rows: &[String]) -> Vec<String> {
    let mut days: Vec<String> = Vec::new();
    for r in rows {
        let d = r.split(',').nth(1).unwrap().to_string();
        if !days.contains(&d) {
            days.push(d);
        }
    }
    days
}

fn registry_json(ws: &Workspace) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(ws.registry()).unwrap()).unwrap()
}

fn write_registry_json(ws: &Workspace, v: &serde_json::Value) {
    std::fs::write(ws.registry(), serde_json::to_vec_pretty(v).unwrap()).unwrap();
}

fn entry<'a>(registry: &'a mut serde_json::Value, key: &str) -> &'a mut serde_json::Value {
    registry["models"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no entry {key}"))
}

/// A fixture CSV for predict: one match, no results.
fn fixture_file(ws: &Workspace, home: &str, away: &str) -> PathBuf {
    let path = ws.path().join("fixtures.csv");
    std::fs::write(
        &path,
        format!("Div,Date,HomeTeam,AwayTeam\nE0,01/06/2023,{home},{away}\n"),
    )
    .unwrap();
    path
}

/// Team strengths of a poisson_model.pkl, read as plain pickle data.
#[derive(serde::Deserialize)]
struct PoissonParams {
    teams: BTreeMap<String, Strength>,
    home_advantage: f64,
    reference_date: String,
}
#[derive(serde::Deserialize)]
struct Strength {
    attack: f64,
    defence: f64,
}

fn poisson_params(dir: &Path) -> PoissonParams {
    let bytes = std::fs::read(dir.join("poisson_model.pkl")).unwrap();
    serde_pickle::from_slice(&bytes, Default::default()).unwrap()
}

fn expected_home_goals(dir: &Path, home: &str, away: &str) -> f64 {
    let p = poisson_params(dir);
    (p.home_advantage + p.teams[home].attack + p.teams[away].defence).exp()
}

/// `predict`'s poisson_v2 home rate for one fixture.
fn predicted_home_goals(ws: &Workspace, home: &str, away: &str) -> f64 {
    let rows = ws.predict_ok(PL, &fixture_file(ws, home, away));
    let col = rows[0]
        .iter()
        .position(|h| h == "poisson_v2_lambda_home")
        .unwrap();
    rows[1][col].parse().unwrap()
}

/// Everything but the run lock file.
fn models_snapshot(ws: &Workspace) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut s = snapshot(&ws.models());
    s.retain(|p, _| !p.ends_with(".auto-train.lock"));
    s
}

/// Premier league 2020-22 trained, then `days` nightly refreshes each adding one match day of
/// 2022-23 (`--refresh --min-new-matches 1`): versions 1 to days + 1. Returns the workspace and
/// the 2022-23 header and rows.
fn nightly_refreshes(days: usize) -> (Workspace, String, Vec<String>) {
    let ws = e0_workspace(&["2020-21", "2021-22"]);
    let (code, _, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let (header, rows) = rows_of("E0/2022-23.csv");
    let all_days = match_days(&rows);
    for (night, day) in all_days.iter().take(days).enumerate() {
        let upto = all_days.iter().position(|d| d == day).unwrap();
        let so_far: Vec<String> = rows
            .iter()
            .filter(|r| all_days[..=upto].contains(&r.split(',').nth(1).unwrap().to_string()))
            .cloned()
            .collect();
        write_rows(&ws.data().join("E0/2022-23.csv"), &header, &so_far);
        let (code, summary, stderr) = ws.run_json(&[
            "--model-type",
            "poisson_v2",
            "--refresh",
            "--min-new-matches",
            "1",
        ]);
        assert_eq!(code, 0, "night {night}: {stderr}");
        assert_eq!(summary["totals"]["refreshed"], 1, "night {night}");
    }
    (ws, header, rows)
}

/// Item 1: the order of the registry's entries does not decide the current version.
#[test]
fn sorting_the_registry_by_key_changes_no_current_version() {
    let (ws, header, rows) = nightly_refreshes(12);
    let newest = "poisson_v2_premier_league_v2@13";
    let newest_dir = ws.models().join("leagues/premier_league/poisson_v2@13");
    assert_eq!(
        status_row(&ws.status_json(), PL, "poisson_v2")["key"],
        newest
    );
    let before = predicted_home_goals(&ws, "Arsenal", "Chelsea");

    // Any tool that rewrites the file may sort it: `@10` .. `@13` now come before `@2` .. `@9`.
    let mut registry = registry_json(&ws);
    registry["models"]
        .as_array_mut()
        .unwrap()
        .sort_by(|a, b| a["key"].as_str().cmp(&b["key"].as_str()));
    assert_ne!(
        registry["models"].as_array().unwrap().last().unwrap()["key"],
        newest
    );
    write_registry_json(&ws, &registry);

    let row_status = ws.status_json();
    let row = status_row(&row_status, PL, "poisson_v2");
    assert_eq!(row["key"], newest, "{row}");
    assert_eq!(row["path"], "leagues/premier_league/poisson_v2@13");
    assert_eq!(row["stale"], false);
    let after = predicted_home_goals(&ws, "Arsenal", "Chelsea");
    assert_eq!(after, before);
    let expected = expected_home_goals(&newest_dir, "Arsenal", "Chelsea");
    assert!((after - expected).abs() < 1e-9, "{after} vs {expected}");

    // The next refresh supersedes the newest version, with the next number.
    let days = match_days(&rows);
    let so_far: Vec<String> = rows
        .iter()
        .filter(|r| days[..13].contains(&r.split(',').nth(1).unwrap().to_string()))
        .cloned()
        .collect();
    write_rows(&ws.data().join("E0/2022-23.csv"), &header, &so_far);
    let (code, summary, stderr) = ws.run_json(&[
        "--model-type",
        "poisson_v2",
        "--refresh",
        "--min-new-matches",
        "1",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let r = result_row(&summary, PL, "poisson_v2");
    assert_eq!(r["status"], "refreshed");
    assert_eq!(r["key"], "poisson_v2_premier_league_v2@14");
    assert_eq!(r["supersedes"], newest);
}

/// Item 1: a registry whose entries do not form one lineage is reported, not guessed.
#[test]
fn an_inconsistent_lineage_is_reported_not_guessed() {
    let (ws, _, _) = nightly_refreshes(2);
    let mut registry = registry_json(&ws);
    // @2 claims to supersede @3, a later version.
    entry(&mut registry, "poisson_v2_premier_league_v2@2")["supersedes"] =
        serde_json::json!("poisson_v2_premier_league_v2@3");
    write_registry_json(&ws, &registry);
    let registry_before = std::fs::read(ws.registry()).unwrap();
    let models_before = models_snapshot(&ws);

    let s = ws.status_json();
    let row = status_row(&s, PL, "poisson_v2");
    assert_eq!(row["state"], "inconsistent", "{row}");
    assert_eq!(row["loads"], false);
    assert!(
        row["load_error"]
            .as_str()
            .unwrap()
            .contains("poisson_v2_premier_league_v2@2 supersedes poisson_v2_premier_league_v2@3"),
        "{row}"
    );
    let (code, summary, stderr) = ws.run_json(&[
        "--model-type",
        "poisson_v2",
        "--refresh",
        "--min-new-matches",
        "1",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        result_row(&summary, PL, "poisson_v2")["status"],
        "inconsistent"
    );
    assert_eq!(summary["inconsistent"][0]["league"], PL);
    assert_eq!(summary["selection_consistent"], false);
    assert!(stderr.contains("do not form one lineage"), "{stderr}");
    assert_eq!(std::fs::read(ws.registry()).unwrap(), registry_before);
    assert_eq!(models_snapshot(&ws), models_before);
    // predict uses no version of that type.
    let out = ws
        .predict(PL, &fixture_file(&ws, "Arsenal", "Chelsea"))
        .arg("--registry")
        .arg(ws.registry())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("do not form one lineage"), "{stderr}");

    // An entry of the league and type whose key is outside the numbering: not guessed either.
    let mut registry = registry_json(&ws);
    entry(&mut registry, "poisson_v2_premier_league_v2@2")["supersedes"] =
        serde_json::json!("poisson_v2_premier_league_v2");
    let mut odd = entry(&mut registry, "poisson_v2_premier_league_v2@3").clone();
    odd["key"] = serde_json::json!("poisson_v2_premier_league_latest");
    registry["models"].as_array_mut().unwrap().push(odd);
    write_registry_json(&ws, &registry);
    let s = ws.status_json();
    let row = status_row(&s, PL, "poisson_v2");
    assert_eq!(row["state"], "inconsistent", "{row}");
    assert!(
        row["load_error"]
            .as_str()
            .unwrap()
            .contains("\"poisson_v2_premier_league_latest\" is not numbered"),
        "{row}"
    );
    let (code, _, _) = ws.run_json(POISSON);
    assert_eq!(code, 1);
}

/// What a refresh that must not publish leaves behind: exit 1, the job `data_behind` with the
/// reason, nothing written, the old version still current and served.
fn assert_refresh_refused(ws: &Workspace, args: &[&str], reason: &str) {
    let registry_before = std::fs::read(ws.registry()).unwrap();
    let models_before = models_snapshot(ws);
    let mut all = vec![
        "--model-type",
        "poisson_v2",
        "--refresh",
        "--min-new-matches",
        "1",
    ];
    all.extend_from_slice(args);
    let (code, summary, stderr) = ws.run_json(&all);
    assert_eq!(code, 1, "{stderr}");
    let r = result_row(&summary, PL, "poisson_v2");
    assert_eq!(r["status"], "data_behind", "{r}");
    assert_eq!(r["key"], "poisson_v2_premier_league_v2");
    assert!(r["reason"].as_str().unwrap().contains(reason), "{r}");
    assert_eq!(summary["data_behind"][0]["league"], PL);
    assert_eq!(summary["totals"]["refreshed"], 0);
    assert_eq!(summary["selection_consistent"], false);
    assert!(stderr.contains(reason), "{stderr}");
    assert_eq!(std::fs::read(ws.registry()).unwrap(), registry_before);
    assert_eq!(models_snapshot(ws), models_before);
    // The text report says so too, and status.
    let out = ws.cmd().args(&all).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("DATA BEHIND poisson_v2 for premier_league"),
        "{text}"
    );
    assert!(text.contains("Data behind the current model: 1"), "{text}");
    assert!(!text.contains("consistent!"), "{text}");
}

/// Item 2: a clock behind the model's last match (or a wrong --as-of) publishes nothing.
#[test]
fn a_clock_behind_the_model_never_publishes_an_older_model() {
    let ws = e0_workspace(&["2020-21", "2021-22", "2022-23"]);
    ws.cmd().args(POISSON).assert().code(0);
    let served = predicted_home_goals(&ws, "Arsenal", "Chelsea");
    assert_refresh_refused(
        &ws,
        &["--as-of", "2022-12-01"],
        "the data ends on 2022-11-13, before the last match this version was trained on (2023-05-28)",
    );
    let out = ws
        .status()
        .args(["--json", "--as-of", "2022-12-01"])
        .output()
        .unwrap();
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = status_row(&s, PL, "poisson_v2");
    assert_eq!(row["data_behind"], true, "{row}");
    assert_eq!(row["stale"], false);
    assert_eq!(row["key"], "poisson_v2_premier_league_v2");
    assert_eq!(predicted_home_goals(&ws, "Arsenal", "Chelsea"), served);
}

/// Item 3: a season file gone publishes nothing.
#[test]
fn a_missing_season_file_never_publishes_a_smaller_model() {
    let ws = e0_workspace(&["2020-21", "2021-22", "2022-23"]);
    ws.cmd().args(POISSON).assert().code(0);
    std::fs::rename(
        ws.data().join("E0/2021-22.csv"),
        ws.path().join("2021-22.csv.away"),
    )
    .unwrap();
    assert_refresh_refused(
        &ws,
        &[],
        "the data holds 760 matches up to 2023-05-28, fewer than the 1140 this version was trained on",
    );
    // Without --refresh too: an operator must look.
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 1);
    assert_eq!(
        result_row(&summary, PL, "poisson_v2")["status"],
        "data_behind"
    );
    // The file back: fresh again, exit 0.
    std::fs::rename(
        ws.path().join("2021-22.csv.away"),
        ws.data().join("E0/2021-22.csv"),
    )
    .unwrap();
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(summary["selection_consistent"], true);
}

/// Item 4: a typo'd date two years past the data moves neither the Poisson reference date nor
/// the model, whatever --as-of says.
#[test]
fn an_impossible_date_is_set_aside_whatever_as_of_says() {
    let ws = e0_workspace(&["2021-22", "2022-23"]);
    let (header, mut rows) = rows_of("E0/2022-23.csv");
    let last = rows.last().unwrap().clone();
    assert!(last.contains("28/05/2023"), "{last}");
    // A copy of the last row, dated two years later, 9-0.
    let mut cells: Vec<String> = last.split(',').map(String::from).collect();
    let cols: Vec<&str> = header.split(',').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name).unwrap();
    cells[at("Date")] = "28/05/2025".into();
    cells[at("FTHG")] = "9".into();
    cells[at("FTAG")] = "0".into();
    rows.push(cells.join(","));
    write_rows(&ws.data().join("E0/2022-23.csv"), &header, &rows);

    let (code, summary, stderr) = ws.run_json(&[
        "--model-type",
        "poisson_v2",
        "--as-of",
        "2026-01-01",
        "--xi",
        "0.004",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("2022-23.csv row 381: dated 2025-05-28, 731 days after the league's previous match (2023-05-28)"),
        "{stderr}"
    );
    let dir = ws.model_dir(PL, "poisson_v2");
    assert_eq!(poisson_params(&dir).reference_date, "2023-05-28");
    let e = &registry_json(&ws)["models"][0];
    assert_eq!(e["training_data"]["last_date"], "2023-05-28");
    assert_eq!(e["training_data"]["matches"], 760);
    let file = summary["data"]["files_with_skipped_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("2022-23.csv"))
        .unwrap();
    assert_eq!(file["skipped"], 1);
    assert_eq!(file["used"], 380);
    assert_eq!(file["skipped_examples"][0]["row"], 381);
    // The model is the one the same data without the row gives: same predictions.
    let clean = e0_workspace(&["2021-22", "2022-23"]);
    clean
        .cmd()
        .args([
            "--model-type",
            "poisson_v2",
            "--as-of",
            "2026-01-01",
            "--xi",
            "0.004",
        ])
        .assert()
        .code(0);
    // The typo'd row's own teams (the Sheffield Utd v Burnley: here 2022-23's last row).
    let (home, away) = (cells[at("HomeTeam")].clone(), cells[at("AwayTeam")].clone());
    let fixture = |ws: &Workspace| {
        let path = ws.path().join("fixtures.csv");
        std::fs::write(
            &path,
            format!("Div,Date,HomeTeam,AwayTeam\nE0,01/06/2023,{home},{away}\n"),
        )
        .unwrap();
        ws.predict_ok(PL, &path)
    };
    assert_eq!(fixture(&ws), fixture(&clean));
}

/// Item 5: a first-release 1x2_v2 directory of another league, without its manifest, is
/// damaged (its metrics.json names the league), never served.
#[test]
fn a_copied_first_release_model_of_another_league_is_damaged() {
    let ws = e0_workspace(&["2021-22", "2022-23"]);
    let dir = ws.model_dir(PL, "1x2_v2");
    copy_dir(
        &fixtures().join("legacy_models/leagues/bundesliga/1x2_v2"),
        &dir,
    );
    std::fs::remove_file(dir.join("auto_train_manifest.json")).unwrap();
    let before = snapshot(&ws.models().join("leagues"));

    let s = ws.status_json();
    let row = status_row(&s, PL, "1x2_v2");
    assert_eq!(row["state"], "damaged", "{row}");
    assert_eq!(row["loads"], false);
    assert_eq!(
        row["load_error"],
        "belongs to bundesliga (its metrics.json says so)"
    );
    let (code, summary, stderr) = ws.run_json(&["--model-type", "1x2_v2"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(result_row(&summary, PL, "1x2_v2")["status"], "damaged");
    assert_eq!(summary["selection_consistent"], false);
    assert_eq!(
        snapshot(&ws.models().join("leagues")),
        before,
        "left as it was"
    );
    let out = ws
        .predict(PL, &fixture_file(&ws, "Arsenal", "Chelsea"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "never served");
}

/// Item 6: the league in the pickle is checked when a manifest is present.
#[test]
fn a_copied_model_with_an_edited_manifest_is_damaged() {
    let ws = e0_workspace(&["2021-22", "2022-23"]);
    copy_dir(&fixtures().join("D1"), &ws.data().join("D1"));
    ws.cmd().args(POISSON).assert().code(0);
    // bundesliga's model copied as premier_league's version 2, its manifest edited to match.
    let copy = ws.models().join("leagues/premier_league/poisson_v2@2");
    copy_dir(&ws.model_dir("bundesliga", "poisson_v2"), &copy);
    let manifest_path = copy.join("auto_train_manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    m["registry_entry"]["league"] = serde_json::json!(PL);
    m["registry_entry"]["key"] = serde_json::json!("poisson_v2_premier_league_v2@2");
    m["registry_entry"]["path"] = serde_json::json!("leagues/premier_league/poisson_v2@2");
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let served = predicted_home_goals(&ws, "Arsenal", "Chelsea");
    let registry_before = std::fs::read(ws.registry()).unwrap();

    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 1, "{stderr}");
    let r = result_row(&summary, PL, "poisson_v2");
    assert_eq!(r["status"], "damaged");
    assert_eq!(r["key"], "poisson_v2_premier_league_v2");
    assert_eq!(
        summary["damaged"][0]["reason"],
        "belongs to bundesliga (its model files say so)"
    );
    assert_eq!(
        std::fs::read(ws.registry()).unwrap(),
        registry_before,
        "never registered"
    );
    let s = ws.status_json();
    assert_eq!(
        status_row(&s, PL, "poisson_v2")["key"],
        "poisson_v2_premier_league_v2"
    );
    assert_eq!(predicted_home_goals(&ws, "Arsenal", "Chelsea"), served);
}

/// Item 7: a manifest-less model whose pickle does not load is damaged (exit 1, never
/// consistent); a well-formed pickle of another tool's classes is that tool's, left alone.
#[test]
fn an_unloadable_pickle_is_damaged_another_tools_is_left_alone() {
    let ours = std::fs::read(
        fixtures().join("legacy_models/leagues/bundesliga/poisson_v2/poisson_model.pkl"),
    )
    .unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("truncated", &ours[..ours.len() / 2]),
        ("a lone STOP", b"."),
        ("pickle.dumps({})", b"\x80\x04}\x94."),
        ("not a pickle", b"junk"),
    ];
    for (what, bytes) in cases {
        let ws = e0_workspace(&["2022-23"]);
        let dir = ws.model_dir(PL, "poisson_v2");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("poisson_model.pkl"), bytes).unwrap();
        std::fs::write(dir.join("metrics.json"), b"{}").unwrap();
        let s = ws.status_json();
        let row = status_row(&s, PL, "poisson_v2");
        assert_eq!(row["state"], "damaged", "{what}: {row}");
        assert!(
            row["load_error"]
                .as_str()
                .unwrap()
                .starts_with("loads NO: "),
            "{what}: {row}"
        );
        let (code, summary, stderr) = ws.run_json(POISSON);
        assert_eq!(code, 1, "{what}: {stderr}");
        assert_eq!(summary["selection_consistent"], false, "{what}");
        assert_eq!(
            result_row(&summary, PL, "poisson_v2")["status"],
            "damaged",
            "{what}"
        );
        assert_eq!(std::fs::read(dir.join("poisson_model.pkl")).unwrap(), bytes);
    }
    // Another tool's model: existing, reported as not loadable, never used or replaced.
    let ws = e0_workspace(&["2022-23"]);
    let dir = ws.model_dir(PL, "poisson_v2");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("poisson_model.pkl"), OTHER_TOOL_PICKLE).unwrap();
    std::fs::write(dir.join("metrics.json"), b"{}").unwrap();
    let s = ws.status_json();
    let row = status_row(&s, PL, "poisson_v2");
    assert_eq!(row["state"], "existing", "{row}");
    assert_eq!(row["loads"], false);
    assert!(
        row["load_error"]
            .as_str()
            .unwrap()
            .contains("sklearn.linear_model._logistic.LogisticRegression"),
        "{row}"
    );
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result_row(&summary, PL, "poisson_v2")["status"], "existing");
    assert_eq!(
        std::fs::read(dir.join("poisson_model.pkl")).unwrap(),
        OTHER_TOOL_PICKLE
    );
}

/// Item 10: the run's JSON and its warning name the damaged version, not the one still served.
#[test]
fn damaged_paths_name_the_damaged_version() {
    let (ws, _, _) = nightly_refreshes(2);
    let mut registry = registry_json(&ws);
    entry(&mut registry, "poisson_v2_premier_league_v2@3")["files"]["poisson_model.pkl"] =
        serde_json::json!(format!("sha256:{}", "0".repeat(64)));
    write_registry_json(&ws, &registry);

    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 1, "{stderr}");
    let damaged = summary["damaged"].as_array().unwrap();
    assert_eq!(damaged.len(), 1, "{summary:#}");
    let path = damaged[0]["path"].as_str().unwrap();
    assert!(
        path.ends_with("leagues/premier_league/poisson_v2@3"),
        "{path}"
    );
    assert_eq!(
        damaged[0]["reason"],
        "poisson_model.pkl changed since it was published"
    );
    let warn = stderr
        .lines()
        .find(|l| l.contains("changed since it was published"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(warn.contains("poisson_v2@3: damaged"), "{warn}");
    assert!(!warn.contains("poisson_v2@2"), "{warn}");
    // The version served meanwhile is @2.
    let s = ws.status_json();
    assert_eq!(
        status_row(&s, PL, "poisson_v2")["key"],
        "poisson_v2_premier_league_v2@2"
    );
}

/// Items 12 and 18: results of the model's last day that arrive after training are new matches
/// (subject to --min-new-matches), and the refreshed entry's count is the reason's.
#[test]
fn late_results_of_the_last_day_are_new_matches() {
    let ws = e0_workspace(&["2021-22"]);
    let (header, rows) = rows_of("E0/2022-23.csv");
    let day = "12/11/2022";
    let upto = rows.iter().rposition(|r| r.contains(day)).unwrap();
    let of_day: Vec<usize> = (0..=upto).filter(|&i| rows[i].contains(day)).collect();
    assert_eq!(of_day.len(), 8);
    // Training sees five of the day's eight results.
    let late: Vec<usize> = of_day[5..].to_vec();
    let early: Vec<String> = (0..=upto)
        .filter(|i| !late.contains(i))
        .map(|i| rows[i].clone())
        .collect();
    let file = ws.data().join("E0/2022-23.csv");
    write_rows(&file, &header, &early);
    ws.cmd().args(POISSON).assert().code(0);
    assert_eq!(
        registry_json(&ws)["models"][0]["training_data"]["last_date"],
        "2022-11-12"
    );
    // The other three arrive.
    write_rows(&file, &header, &rows[..=upto]);
    let reason =
        "3 new matches since 2022-11-12 (3 of them dated 2022-11-12, added after training)";
    let s = ws.status_json();
    let row = status_row(&s, PL, "poisson_v2");
    assert_eq!(row["new_matches"], 3);
    assert_eq!(row["staleness"], reason);
    let registry_before = std::fs::read(ws.registry()).unwrap();
    let (code, summary, stderr) = ws.run_json(&["--model-type", "poisson_v2", "--refresh"]);
    assert_eq!(code, 0, "{stderr}");
    let r = result_row(&summary, PL, "poisson_v2");
    assert_eq!(r["status"], "existing", "below --min-new-matches 10: {r}");
    assert!(r["reason"].as_str().unwrap().contains(reason), "{r}");
    assert_eq!(std::fs::read(ws.registry()).unwrap(), registry_before);

    let (code, summary, stderr) = ws.run_json(&[
        "--model-type",
        "poisson_v2",
        "--refresh",
        "--min-new-matches",
        "3",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let refreshed = &summary["refreshed"][0];
    assert_eq!(refreshed["league"], PL);
    assert_eq!(refreshed["new_matches"], 3, "{refreshed}");
    assert!(
        refreshed["reason"].as_str().unwrap().contains(reason),
        "{refreshed}"
    );
    assert_eq!(
        registry_json(&ws)["models"][1]["training_data"]["matches"],
        380 + upto + 1
    );
}

/// Item 18: `refreshed[].new_matches` is the count its reason gives.
#[test]
fn refreshed_new_matches_is_the_count_of_its_reason() {
    let ws = e0_workspace(&["2021-22"]);
    ws.cmd().args(POISSON).assert().code(0);
    std::fs::copy(
        fixtures().join("E0/2022-23.csv"),
        ws.data().join("E0/2022-23.csv"),
    )
    .unwrap();
    for dry in [true, false] {
        let mut args = vec!["--model-type", "poisson_v2", "--refresh"];
        if dry {
            args.push("--dry-run");
        }
        let (code, summary, stderr) = ws.run_json(&args);
        assert_eq!(code, 0, "{stderr}");
        let refreshed = &summary["refreshed"][0];
        assert_eq!(refreshed["new_matches"], 380, "dry run {dry}: {refreshed}");
        assert!(
            refreshed["reason"]
                .as_str()
                .unwrap()
                .starts_with("stale: 380 new matches since 2022-05-22"),
            "{refreshed}"
        );
    }
}

/// Item 13: a backtest never writes into the models dir or the data dir.
#[test]
fn backtest_out_inside_the_models_or_data_dir_is_refused() {
    let ws = e0_workspace(&["2021-22", "2022-23"]);
    ws.cmd().args(POISSON).assert().code(0);
    let before = snapshot(ws.path());
    for (out, extra, said) in [
        (
            "models/leagues/premier_league/poisson_v2@5",
            vec![],
            "is inside the models dir models",
        ),
        (
            "m2/../models/x",
            vec!["--models-dir", "models"],
            "is inside the models dir",
        ),
        ("data/E0/bt", vec![], "is inside the data dir"),
        // Another models dir, known by its run lock file.
        (
            "models/leagues/bt",
            vec!["--models-dir", "elsewhere"],
            ".auto-train.lock",
        ),
    ] {
        let out_cmd = ws
            .bin()
            .args([
                "backtest",
                "--from",
                "2023-05-01",
                "--model-type",
                "poisson_v2",
                "--data-dir",
                "data",
                "--out",
                out,
            ])
            .args(&extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out_cmd.stderr);
        assert_eq!(out_cmd.status.code(), Some(2), "{out}: {stderr}");
        assert!(stderr.contains(said), "{out}: {stderr}");
        assert_eq!(snapshot(ws.path()), before, "{out}: nothing written");
    }
}

/// Item 14: a team name over the limit skips its row, named by file and row; a huge cell (2 MB
/// team name, 1 MB date) costs its row and a short warning, nothing more.
#[test]
fn an_overlong_team_name_skips_its_row() {
    let ws = e0_workspace(&["2021-22"]);
    let (header, mut rows) = rows_of("E0/2022-23.csv");
    let cols: Vec<&str> = header.split(',').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name).unwrap();
    let long = "X".repeat(300);
    for (row, col, value) in [
        (9, "HomeTeam", long.clone()),
        (19, "AwayTeam", "Y".repeat(2_000_000)),
        (29, "Date", "7".repeat(1_000_000)),
    ] {
        let mut cells: Vec<String> = rows[row].split(',').map(String::from).collect();
        cells[at(col)] = value;
        rows[row] = cells.join(",");
    }
    write_rows(&ws.data().join("E0/2022-23.csv"), &header, &rows);
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let file = summary["data"]["files_with_skipped_rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("2022-23.csv"))
        .unwrap_or_else(|| panic!("{summary:#}"));
    assert_eq!(file["skipped"], 3);
    let examples = file["skipped_examples"].as_array().unwrap();
    assert_eq!(examples[0]["row"], 10);
    assert_eq!(
        examples[0]["reason"],
        "home team name is 300 bytes long, more than 255"
    );
    assert_eq!(examples[1]["row"], 20);
    assert_eq!(
        examples[1]["reason"],
        "away team name is 2000000 bytes long, more than 255"
    );
    assert_eq!(examples[2]["row"], 30);
    assert!(
        examples[2]["reason"]
            .as_str()
            .unwrap()
            .ends_with("... (1000000 bytes)"),
        "{}",
        examples[2]
    );
    assert!(stderr.contains("row 10: "), "{stderr}");
    assert!(stderr.len() < 20_000, "{} bytes of warnings", stderr.len());
    assert!(summary.to_string().len() < 100_000);
    let pkl = std::fs::read(ws.model_dir(PL, "poisson_v2").join("poisson_model.pkl")).unwrap();
    assert!(!pkl.windows(30).any(|w| w == &long.as_bytes()[..30]));
    assert!(pkl.len() < 100_000, "{} bytes", pkl.len());
    assert_eq!(
        registry_json(&ws)["models"][0]["training_data"]["matches"],
        757
    );
}

/// Item 15: two copies of a match with different scores: a warning naming both files and rows,
/// and neither copy used; identical copies still count once.
#[test]
fn conflicting_copies_of_a_match_are_used_in_neither() {
    let ws = e0_workspace(&["2014-15", "2015-16"]);
    let (header, mut rows) = rows_of("E0/2015-16.csv");
    let cols: Vec<&str> = header.split(',').collect();
    let fthg = cols.iter().position(|c| *c == "FTHG").unwrap();
    let mut cells: Vec<String> = rows[0].split(',').map(String::from).collect();
    let team = |name: &str| cells[cols.iter().position(|c| *c == name).unwrap()].clone();
    let (home, away) = (team("HomeTeam"), team("AwayTeam"));
    let goals: u32 = cells[fthg].parse().unwrap();
    cells[fthg] = (goals + 1).to_string();
    rows[0] = cells.join(",");
    write_rows(&ws.data().join("E0/2015-16_corrected.csv"), &header, &rows);

    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("2015-16.csv row 1:") && l.contains("conflicting"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(line.contains("2015-16_corrected.csv row 1"), "{line}");
    assert!(line.contains(&format!("{home} v {away}")), "{line}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("2015-16_corrected.csv row 1:") && l.contains("2015-16.csv row 1")),
        "{stderr}"
    );
    assert_eq!(
        registry_json(&ws)["models"][0]["training_data"]["matches"],
        759
    );
    assert_eq!(summary["data"]["duplicates"], 379);
}

/// Item 16: a model without a training record is never shown as fresh.
#[test]
fn a_model_without_training_record_is_never_fresh() {
    let ws = e0_workspace(&["2021-22", "2022-23"]);
    ws.cmd().args(POISSON).assert().code(0);
    // The same files as another tool would leave them: no manifest, no registry entry.
    let dir = ws.model_dir(PL, "poisson_v2");
    std::fs::remove_file(dir.join("auto_train_manifest.json")).unwrap();
    std::fs::remove_file(ws.registry()).unwrap();
    let s = ws.status_json();
    let row = status_row(&s, PL, "poisson_v2");
    assert_eq!(row["state"], "existing");
    assert_eq!(row["loads"], true);
    assert_eq!(row["stale"], serde_json::Value::Null, "{row}");
    assert_eq!(row["new_matches"], serde_json::Value::Null, "{row}");
    assert!(row["staleness"].as_str().unwrap().starts_with("unknown"));
    let text = String::from_utf8(ws.status().output().unwrap().stdout).unwrap();
    assert!(text.contains("staleness: unknown"), "{text}");
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    let r = result_row(&summary, PL, "poisson_v2");
    assert_eq!(r["stale"], serde_json::Value::Null, "{r}");
    assert_eq!(r["new_matches"], serde_json::Value::Null, "{r}");
}
