//! Living in the Python service's model tree: the empty directories its `--dry-run` left are
//! trained into, the draw specialist's directory is `draw_specialist_v1/` while an earlier
//! release's `draw_specialist/` is still served, and Python-made models are reported as another
//! tool's, not as failures.

mod common;

use common::*;

const POISSON: &[&str] = &["--model-type", "poisson_v2"];

#[test]
fn an_empty_model_dir_is_trained_into_and_one_with_a_file_stays_partial() {
    let ws = Workspace::new(&["N1"]);
    let dir = ws.model_dir("eredivisie", "poisson_v2");
    std::fs::create_dir_all(&dir).unwrap();
    let before = snapshot(ws.path());
    let (code, dry, _) = ws.run_json(&["--dry-run", "--model-type", "poisson_v2"]);
    assert_eq!(code, 0);
    assert_eq!(
        statuses(&dry)[&("eredivisie".into(), "poisson_v2".into())],
        "would_train"
    );
    assert_eq!(snapshot(ws.path()), before);
    let s = ws.status_json();
    assert_eq!(
        status_row(&s, "eredivisie", "poisson_v2")["state"],
        "missing"
    );

    let (code, run, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        statuses(&run)[&("eredivisie".into(), "poisson_v2".into())],
        "trained",
        "{run:#}"
    );
    assert_complete_poisson_dir(&dir, "trained into the empty directory");
    assert!(temp_leftovers(&ws.models()).is_empty());
    assert_eq!(registry_keys(&ws.registry()), ["poisson_v2_eredivisie_v2"]);
    let (_, again, _) = ws.run_json(POISSON);
    assert_eq!(again["totals"]["trained"], 0);

    // Any file at all (even a hidden one) makes it someone's partial model: never touched.
    let ws = Workspace::new(&["N1"]);
    let dir = ws.model_dir("eredivisie", "poisson_v2");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(".keep"), b"").unwrap();
    let before = snapshot(ws.path());
    let (code, run, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(
        statuses(&run)[&("eredivisie".into(), "poisson_v2".into())],
        "partial"
    );
    let leagues = |s: &std::collections::BTreeMap<std::path::PathBuf, Option<Vec<u8>>>| {
        s.iter()
            .filter(|(p, _)| p.starts_with("models/leagues"))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(leagues(&snapshot(ws.path())), leagues(&before));
}

#[test]
fn the_draw_specialist_is_trained_into_draw_specialist_v1_and_served_from_there() {
    let ws = Workspace::new(&["D1"]);
    let (code, summary, stderr) = ws.run_json(&["--model-type", "draw_specialist"]);
    assert_eq!(code, 0, "{stderr}");
    let r = result_row(&summary, "bundesliga", "draw_specialist");
    assert_eq!(r["status"], "trained");
    assert!(r["path"]
        .as_str()
        .unwrap()
        .ends_with("/models/leagues/bundesliga/draw_specialist_v1"));
    assert!(!ws.model_dir("bundesliga", "draw_specialist").exists());
    let registry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.registry()).unwrap()).unwrap();
    let entry = &registry["models"][0];
    assert_eq!(entry["key"], "draw_specialist_bundesliga_v1");
    assert_eq!(entry["model_type"], "draw_specialist");
    assert_eq!(entry["path"], "leagues/bundesliga/draw_specialist_v1");
    let s = ws.status_json();
    let row = status_row(&s, "bundesliga", "draw_specialist");
    assert_eq!(row["state"], "existing");
    assert_eq!(row["loads"], true);
    assert_eq!(row["path"], "leagues/bundesliga/draw_specialist_v1");
    let legacy = fixtures().join("legacy_models");
    let rows = ws.predict_ok("bundesliga", &legacy.join("fixtures.csv"));
    assert_eq!(
        rows[0].iter().next_back(),
        Some("draw_specialist_draw"),
        "{:?}",
        rows[0]
    );
    // Nothing in the models dir is reported as another tool's.
    let (_, again, _) = ws.run_json(&[]);
    assert_eq!(
        again["untouched"]["other_model_dirs"],
        serde_json::json!([])
    );
}

/// A tree written by the first release (`draw_specialist/`, tests/fixtures/legacy_models) is
/// the existing model: recognised, reported, served as the current version, never moved, and
/// no second draw specialist is trained beside it.
#[test]
fn an_old_draw_specialist_tree_is_served_where_it_is_and_never_moved() {
    let ws = Workspace::new(&["D1"]);
    let legacy = fixtures().join("legacy_models");
    copy_dir(&legacy.join("leagues"), &ws.models().join("leagues"));
    let old = ws.model_dir("bundesliga", "draw_specialist");
    let old_bytes = snapshot(&old);

    let s = ws.status_json();
    let row = status_row(&s, "bundesliga", "draw_specialist");
    assert_eq!(row["state"], "existing", "{row:#}");
    assert_eq!(row["loads"], true);
    assert_eq!(row["path"], "leagues/bundesliga/draw_specialist");

    let (code, dry, _) = ws.run_json(&["--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(
        result_row(&dry, "bundesliga", "draw_specialist")["status"],
        "existing"
    );
    assert_eq!(dry["untouched"]["other_model_dirs"], serde_json::json!([]));

    let (code, run, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}");
    let r = result_row(&run, "bundesliga", "draw_specialist");
    assert_eq!(r["status"], "existing", "{run:#}");
    assert!(r["path"]
        .as_str()
        .unwrap()
        .ends_with("/models/leagues/bundesliga/draw_specialist"));
    assert_eq!(run["totals"]["trained"], 0);
    assert!(!ws.model_dir("bundesliga", "draw_specialist_v1").exists());
    assert_eq!(snapshot(&old), old_bytes);

    // Served: predict gives what the first release predicted from it.
    let rows = ws.predict_ok("bundesliga", &legacy.join("fixtures.csv"));
    let text = std::fs::read_to_string(legacy.join("predictions_0.1.0.csv")).unwrap();
    let expected: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), expected.len());
    let col = expected[0]
        .iter()
        .position(|c| *c == "draw_specialist_draw")
        .unwrap();
    assert_eq!(&rows[0][col], "draw_specialist_draw");
    for (got, want) in rows[1..].iter().zip(&expected[1..]) {
        let (a, b): (f64, f64) = (got[col].parse().unwrap(), want[col].parse().unwrap());
        assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
    }
    assert_eq!(snapshot(&old), old_bytes);

    // Stale (a match after its training data): a --refresh publishes the new version under the
    // new name, beside the old tree, which stays as it is.
    let file = ws.data().join("D1/2022-23.csv");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("D1,19/08/2023,15:30,Bayern Munich,Dortmund,2,1,H\n");
    std::fs::write(&file, text).unwrap();
    let (code, run, stderr) = ws.run_json(&["--refresh", "--min-new-matches", "1"]);
    assert_eq!(code, 0, "{stderr}");
    let r = result_row(&run, "bundesliga", "draw_specialist");
    assert_eq!(r["status"], "refreshed", "{run:#}");
    assert!(ws
        .model_dir("bundesliga", "draw_specialist_v1@2")
        .join("draw_model.pkl")
        .is_file());
    assert!(!ws.model_dir("bundesliga", "draw_specialist_v1").exists());
    assert_eq!(snapshot(&old), old_bytes);
    let s = ws.status_json();
    let row = status_row(&s, "bundesliga", "draw_specialist");
    assert_eq!(
        row["path"], "leagues/bundesliga/draw_specialist_v1@2",
        "{row:#}"
    );
    assert_eq!(row["loads"], true);
}

/// The old pipeline's own models (joblib pickles of its Python classes, placeholder metrics) are
/// existing models made by another tool: reported as such, kept, never a failure.
#[test]
fn python_made_models_are_reported_as_another_tools() {
    let ws = Workspace::new(&["N1"]);
    let dir = ws.model_dir("eredivisie", "poisson_v2");
    std::fs::create_dir_all(&dir).unwrap();
    // A pickle of a LightGBM Booster as joblib writes it: it needs `lightgbm` to load.
    let mut pkl = b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00\x8c\x0elightgbm.basic\x94\x8c\x07Booster\x94\x93\x94)\x81\x94.".to_vec();
    pkl.extend_from_slice(&[0u8; 16]);
    std::fs::write(dir.join("poisson_model.pkl"), &pkl).unwrap();
    std::fs::write(
        dir.join("metrics.json"),
        br#"{"league": "eredivisie", "model_type": "poisson_v2", "decay_factor": 0.8}"#,
    )
    .unwrap();
    let before = snapshot(ws.path());
    let (code, run, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let r = result_row(&run, "eredivisie", "poisson_v2");
    assert_eq!(r["status"], "existing", "{run:#}");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("made by another tool"),
        "{r:#}"
    );
    assert_eq!(run["totals"]["failed"], 0);
    let after = snapshot(ws.path());
    for p in before.keys().filter(|p| p.starts_with("models")) {
        assert_eq!(after.get(p), before.get(p));
    }
    let s = ws.status_json();
    let row = status_row(&s, "eredivisie", "poisson_v2");
    assert_eq!(row["state"], "existing");
    assert!(
        row["load_error"]
            .as_str()
            .unwrap()
            .contains("made by another tool"),
        "{row:#}"
    );
}
