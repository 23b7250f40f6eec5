//! The training run end to end: detection, dry run, SAFE MODE, registry, exit codes, bad data.

mod common;

use std::fs::File;

use common::*;

const POISSON: &[&str] = &["--model-type", "poisson_v2"];

#[test]
fn dry_run_changes_no_byte_anywhere() {
    let ws = Workspace::new(&["N1", "D1"]);
    // A pre-existing models dir and registry too.
    std::fs::create_dir_all(ws.models().join("leagues/eredivisie/ou25_v1")).unwrap();
    std::fs::write(ws.registry(), "{\"models\": []}").unwrap();
    let before = snapshot(ws.path());
    let (code, summary, _) = ws.run_json(&["--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(snapshot(ws.path()), before);
    let st = statuses(&summary);
    assert_eq!(
        st[&("eredivisie".into(), "poisson_v2".into())],
        "would_train"
    );
    assert_eq!(
        st[&("bundesliga".into(), "poisson_v2".into())],
        "would_train"
    );

    // With no models dir and no registry at all, none is created.
    let ws = Workspace::new(&["N1"]);
    let before = snapshot(ws.path());
    ws.cmd().arg("--dry-run").assert().code(0);
    assert_eq!(snapshot(ws.path()), before);
    assert!(!ws.models().exists() && !ws.registry().exists());
}

#[test]
fn run_trains_exactly_the_missing_then_nothing() {
    let ws = Workspace::new(&["N1", "D1"]);
    // bundesliga already has a complete poisson_v2 model made by something else.
    let existing = ws.model_dir("bundesliga", "poisson_v2");
    std::fs::create_dir_all(&existing).unwrap();
    std::fs::write(existing.join("poisson_model.pkl"), OTHER_TOOL_PICKLE).unwrap();
    std::fs::write(existing.join("metrics.json"), b"{}").unwrap();
    std::fs::create_dir_all(ws.model_dir("eredivisie", "ou25_v1")).unwrap();
    std::fs::write(ws.model_dir("eredivisie", "ou25_v1").join("m.pkl"), b"ou").unwrap();
    let foreign = r#"{"models": [{"key": "ou25_v1_eredivisie_v1", "model_type": "ou25_v1", "league": "eredivisie", "version": "v1", "trained_date": "2025-11-16 14:00:00", "status": "active"}]}"#;
    std::fs::write(ws.registry(), foreign).unwrap();
    let untouched = |ws: &Workspace| {
        let mut s = snapshot(&ws.model_dir("bundesliga", "poisson_v2"));
        s.extend(snapshot(&ws.model_dir("eredivisie", "ou25_v1")));
        s
    };
    let before = untouched(&ws);

    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{summary:#}");
    let st = statuses(&summary);
    assert_eq!(st.len(), 2);
    assert_eq!(st[&("eredivisie".into(), "poisson_v2".into())], "trained");
    assert_eq!(st[&("bundesliga".into(), "poisson_v2".into())], "existing");
    assert_eq!(summary["totals"]["trained"], 1);
    // Consistent about the poisson_v2 it checked, not overall: 1x2_v2 and draw_specialist are
    // missing (issue #22.1).
    assert_eq!(summary["selection_consistent"], true);
    assert_eq!(summary["consistent"], false);
    assert_eq!(untouched(&ws), before);
    for f in [
        "poisson_model.pkl",
        "metrics.json",
        "auto_train_manifest.json",
    ] {
        assert!(
            ws.model_dir("eredivisie", "poisson_v2").join(f).is_file(),
            "{f}"
        );
    }
    // Append only: the foreign entry first and unchanged, then ours; the foreign model is not registered.
    let text = std::fs::read_to_string(ws.registry()).unwrap();
    assert!(text.contains(&foreign[13..foreign.len() - 2]), "{text}");
    assert_eq!(
        registry_keys(&ws.registry()),
        ["ou25_v1_eredivisie_v1", "poisson_v2_eredivisie_v2"]
    );
    let entry = &serde_json::from_str::<serde_json::Value>(&text).unwrap()["models"][1];
    assert_eq!(entry["status"], "active");
    assert_eq!(entry["version"], "v2");
    assert_eq!(entry["training_data"]["matches"], 306);
    assert!(entry["training_data"]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    // The second run trains nothing and leaves every byte as it was (the lock file aside).
    let snap = snapshot(ws.path());
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(summary["totals"]["trained"], 0);
    assert_eq!(summary["totals"]["existing"], 2);
    assert_eq!(snapshot(ws.path()), snap);
}

#[test]
fn text_report_matches_the_old_pipeline() {
    let ws = Workspace::new(&["N1"]);
    let out = ws.cmd().args(POISSON).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "STARTING AUTOMATIC PER-LEAGUE TRAINING PIPELINE",
        "Found 1 available leagues: eredivisie",
        "Processing: POISSON_V2",
        "   Missing: 1 leagues",
        "Successfully trained poisson_v2 for eredivisie",
        "Updated registry: poisson_v2_eredivisie_v2",
        "TRAINING PIPELINE COMPLETE",
        "Total models trained: 1",
        "Total failures: 0",
        "The models this run checked (poisson_v2 for every league) are consistent; outside its \
         selection 2 are not: 1x2_v2: 1 missing; draw_specialist: 1 missing.",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    let again = ws.cmd().args(POISSON).output().unwrap();
    let text = String::from_utf8(again.stdout).unwrap();
    assert!(
        text.contains("Skipping eredivisie: Models already exist"),
        "{text}"
    );
    assert!(
        text.contains("All poisson_v2 models already exist"),
        "{text}"
    );
}

#[test]
fn partial_and_insufficient_and_unknown_division() {
    let ws = Workspace::new(&["N1", "D1"]);
    // A partial directory made by someone else: warned about, never completed or touched.
    let partial = ws.model_dir("eredivisie", "poisson_v2");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("metrics.json"), b"{\"mine\": 1}").unwrap();
    // A league with only 60 matches, under an unknown division code.
    let rows = head_of("N1/2022-23.csv", 60).replace("\nN1,", "\nX9,");
    std::fs::write(ws.data().join("x9.csv"), rows).unwrap();
    let before = snapshot(&partial);

    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let st = statuses(&summary);
    assert_eq!(st[&("eredivisie".into(), "poisson_v2".into())], "partial");
    assert_eq!(st[&("x9".into(), "poisson_v2".into())], "insufficient_data");
    assert_eq!(st[&("bundesliga".into(), "poisson_v2".into())], "trained");
    assert_eq!(
        summary["data"]["unknown_divisions"],
        serde_json::json!(["X9"])
    );
    assert!(stderr.contains("unknown division code \"X9\""), "{stderr}");
    assert!(stderr.contains("poisson_model.pkl"), "{stderr}");
    assert_eq!(summary["consistent"], false);
    assert_eq!(snapshot(&partial), before);
    assert!(!ws.model_dir("x9", "poisson_v2").exists());
    let x9 = summary["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["league"] == "x9")
        .unwrap();
    assert_eq!(x9["matches"], 60);
}

#[test]
fn missing_metrics_of_our_own_model_is_generated_create_new() {
    let ws = Workspace::new(&["N1"]);
    ws.cmd().args(POISSON).assert().code(0);
    let dir = ws.model_dir("eredivisie", "poisson_v2");
    let original_metrics = std::fs::read(dir.join("metrics.json")).unwrap();
    std::fs::remove_file(dir.join("metrics.json")).unwrap();
    // Without its manifest the directory is not a published version (a published one that lost
    // a file is damaged and never repaired: tests/lifecycle.rs): this tool's model files that
    // lack metrics.json, as an operator may have copied them.
    std::fs::remove_file(dir.join("auto_train_manifest.json")).unwrap();
    let pkl = std::fs::read(dir.join("poisson_model.pkl")).unwrap();

    let (code, dry, _) = ws.run_json(&["--model-type", "poisson_v2", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(
        statuses(&dry)[&("eredivisie".into(), "poisson_v2".into())],
        "would_generate_metrics"
    );
    assert!(!dir.join("metrics.json").exists());

    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(
        statuses(&summary)[&("eredivisie".into(), "poisson_v2".into())],
        "metrics_generated"
    );
    assert_eq!(std::fs::read(dir.join("poisson_model.pkl")).unwrap(), pkl);
    let regenerated: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
    let original: serde_json::Value = serde_json::from_slice(&original_metrics).unwrap();
    for key in [
        "league",
        "total_matches",
        "xi_per_day",
        "reference_date",
        "n_teams",
        "validation",
    ] {
        assert_eq!(regenerated[key], original[key], "{key}");
    }
    let wll = |v: &serde_json::Value| v["weighted_log_likelihood"].as_f64().unwrap();
    assert!((wll(&regenerated) - wll(&original)).abs() < 1e-6);
    // Nothing but metrics.json was added: no temporary file is left.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn bad_rows_are_skipped_and_counted() {
    let ws = Workspace::new(&["N1"]);
    let mut text = std::fs::read_to_string(fixtures().join("N1/2022-23.csv")).unwrap();
    let header_cols = text.lines().next().unwrap().split(',').count();
    let pad = ",".repeat(header_cols - 6);
    // Five bad rows: impossible date, negative goals, non-numeric goals, no away team, no date.
    for row in [
        format!("N1,31/02/2023,Ajax,PSV,1,0{pad}"),
        format!("N1,01/03/2023,Ajax,PSV,-1,0{pad}"),
        format!("N1,02/03/2023,Ajax,PSV,x,0{pad}"),
        format!("N1,03/03/2023,Ajax,,1,0{pad}"),
        format!("N1,,Ajax,PSV,1,0{pad}"),
    ] {
        text.push_str(&row);
        text.push('\n');
    }
    std::fs::write(ws.data().join("N1/2022-23.csv"), text).unwrap();
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["data"]["skipped_rows"], 5);
    assert_eq!(summary["data"]["leagues"]["eredivisie"], 306);
    let f = &summary["data"]["files_with_skipped_rows"][0];
    assert_eq!(f["skipped"], 5);
    assert_eq!(f["skipped_examples"][0]["row"], 307);
    assert!(stderr.contains("skipped 5 of 311 rows"), "{stderr}");
    assert!(
        stderr.contains("row 307: invalid date \"31/02/2023\""),
        "{stderr}"
    );
}

#[test]
fn unreadable_file_is_reported_while_the_others_train() {
    let ws = Workspace::new(&["N1"]);
    std::fs::write(ws.data().join("binary.csv"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    write_csv(
        &ws.data().join("nodate.csv"),
        &["Div,HomeTeam,AwayTeam,FTHG,FTAG", "N1,A,B,1,0"],
    );
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let unreadable = summary["data"]["unreadable_files"].as_array().unwrap();
    assert_eq!(unreadable.len(), 2);
    assert!(unreadable[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("binary.csv"));
    assert!(unreadable[1]["reason"]
        .as_str()
        .unwrap()
        .contains("missing required column Date"));
    assert!(stderr.contains("binary.csv"), "{stderr}");
    assert_eq!(
        statuses(&summary)[&("eredivisie".into(), "poisson_v2".into())],
        "trained"
    );
}

#[test]
fn invalid_registry_stops_the_run_with_exit_2_unchanged() {
    for (content, problem) in [
        ("{\"models\": [", "not a JSON object"),
        ("", "empty"),
        ("[1, 2]", "not a JSON object"),
        ("{\"entries\": []}", "no \"models\" list"),
        ("{\"models\": {}}", "\"models\" is not a list"),
        (
            "{\"models\": [{\"key\": \"a\"}, {\"key\": \"a\"}]}",
            "appears more than once",
        ),
        ("{\"models\": [{\"nokey\": 1}]}", "no string \"key\""),
    ] {
        let ws = Workspace::new(&["N1"]);
        std::fs::write(ws.registry(), content).unwrap();
        let out = ws.cmd().args(POISSON).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{content}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(problem), "{content}: {stderr}");
        assert!(stderr.contains("registry.json"), "{stderr}");
        assert_eq!(std::fs::read_to_string(ws.registry()).unwrap(), content);
        assert!(!ws.model_dir("eredivisie", "poisson_v2").exists());
    }
}

#[test]
fn a_held_lock_means_exit_75() {
    let ws = Workspace::new(&["N1"]);
    std::fs::create_dir_all(ws.models()).unwrap();
    let lock = File::create(ws.models().join(".auto-train.lock")).unwrap();
    lock.lock().unwrap();
    let out = ws.cmd().args(POISSON).output().unwrap();
    assert_eq!(out.status.code(), Some(75));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("another auto-train run holds the lock"));
    assert!(!ws.model_dir("eredivisie", "poisson_v2").exists());
    // A dry run takes no lock, so it still works.
    ws.cmd().args(POISSON).arg("--dry-run").assert().code(0);
    drop(lock);
    ws.cmd().args(POISSON).assert().code(0);
}

#[test]
fn bad_usage_is_exit_2() {
    let ws = Workspace::new(&["N1"]);
    ws.cmd().args(["--model-type", "nope"]).assert().code(2);
    ws.cmd().args(["--xi", "-1"]).assert().code(2);
    ws.cmd().args(["--league", "../x"]).assert().code(2);
    let out = ws
        .bin()
        .args([
            "--data-dir",
            "does-not-exist",
            "--models-dir",
            "m",
            "--registry",
            "r.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does-not-exist"));
    assert!(!ws.path().join("m").exists());
}

#[test]
fn league_filter_and_league_column_and_folder_name() {
    let ws = Workspace::new(&["N1", "D1"]);
    // A file with neither Div nor league column: its folder names the league.
    let text = std::fs::read_to_string(fixtures().join("N1/2022-23.csv")).unwrap();
    let no_div: String = text
        .lines()
        .map(|l| l.split_once(',').unwrap().1.to_string() + "\n")
        .collect();
    std::fs::create_dir_all(ws.data().join("Dutch Cup")).unwrap();
    std::fs::write(ws.data().join("Dutch Cup/2022.csv"), no_div).unwrap();
    // A slug neither the data nor the models dir knows is a typo: refused (issue #22.1); one
    // with a models directory but no data is reported.
    let (code, _, stderr) = ws.run_json(&["--league", "nowhere", "--dry-run"]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::create_dir_all(ws.models().join("leagues/nowhere")).unwrap();
    let (code, summary, _) = ws.run_json(&[
        "--model-type",
        "poisson_v2",
        "--league",
        "dutch_cup",
        "--league",
        "nowhere",
        "--dry-run",
    ]);
    assert_eq!(code, 0);
    let st = statuses(&summary);
    assert_eq!(st.len(), 1, "{st:?}");
    assert_eq!(
        st[&("dutch_cup".into(), "poisson_v2".into())],
        "would_train"
    );
    assert_eq!(
        summary["leagues_without_data"],
        serde_json::json!(["nowhere"])
    );
}

#[test]
fn parquet_files_are_read_like_csv() {
    use polars::prelude::*;
    let ws = Workspace::new(&[]);
    // The N1 season as Parquet with typed columns (integers for goals, a real date column).
    let csv_path = fixtures().join("N1/2022-23.csv");
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(csv_path))
        .unwrap()
        .finish()
        .unwrap();
    // Dates as a real datetime column, as pandas writes them.
    let dates = df.column("Date").unwrap().str().unwrap().clone();
    let millis: Vec<i64> = dates
        .iter()
        .map(|d| {
            let d = d.unwrap();
            let (dd, mm, yyyy) = (&d[0..2], &d[3..5], &d[6..10]);
            let days = days_from_civil(
                yyyy.parse().unwrap(),
                mm.parse().unwrap(),
                dd.parse().unwrap(),
            );
            days * 86_400_000
        })
        .collect();
    let date_col = Series::new("Date".into(), millis)
        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
        .unwrap();
    df.with_column(date_col.into_column()).unwrap();
    let mut file = File::create(ws.data().join("eredivisie.parquet")).unwrap();
    ParquetWriter::new(&mut file).finish(&mut df).unwrap();
    assert!(df.column("FTHG").unwrap().dtype().is_integer());
    assert!(matches!(
        df.column("Date").unwrap().dtype(),
        DataType::Datetime(..)
    ));

    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["data"]["leagues"]["eredivisie"], 306);
    assert_eq!(summary["data"]["skipped_rows"], 0);
    assert_eq!(
        statuses(&summary)[&("eredivisie".into(), "poisson_v2".into())],
        "trained"
    );
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}
