//! `auto-train status` and the operator-facing output options.

mod common;

use common::*;

#[test]
fn status_reports_state_loading_metrics_and_registration() {
    let ws = Workspace::new(&["N1", "D1"]);
    ws.cmd()
        .args(["--model-type", "poisson_v2", "--league", "bundesliga"])
        .assert()
        .code(0);
    // Another tool's model for eredivisie and a partial one for a league without data.
    let foreign = ws.model_dir("eredivisie", "poisson_v2");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("poisson_model.pkl"), OTHER_TOOL_PICKLE).unwrap();
    std::fs::write(foreign.join("metrics.json"), b"{}").unwrap();
    let partial = ws.model_dir("serie_a", "poisson_v2");
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("metrics.json"), b"{}").unwrap();
    let before = snapshot(ws.path());

    let s = ws.status_json();
    assert_eq!(snapshot(ws.path()), before, "status wrote something");
    let ours = status_row(&s, "bundesliga", "poisson_v2");
    assert_eq!(ours["state"], "existing");
    assert_eq!(ours["loads"], true);
    assert_eq!(ours["registered"], true);
    assert_eq!(ours["matches"], 918);
    assert!(ours["metrics"]["rps"].as_f64().unwrap() > 0.1);
    let theirs = status_row(&s, "eredivisie", "poisson_v2");
    assert_eq!(theirs["state"], "existing");
    assert_eq!(theirs["loads"], false);
    assert_eq!(theirs["registered"], false);
    assert!(theirs["load_error"]
        .as_str()
        .unwrap()
        .contains("poisson_model.pkl"));
    let sa = status_row(&s, "serie_a", "poisson_v2");
    assert_eq!(sa["state"], "partial");
    assert_eq!(
        sa["missing_files"],
        serde_json::json!(["poisson_model.pkl"])
    );
    assert_eq!(
        status_row(&s, "bundesliga", "draw_specialist")["state"],
        "missing"
    );

    // The table has one line per model plus details, and a closed pipe is no panic.
    let out = ws.status().output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("bundesliga")
            && l.contains("poisson_v2")
            && l.contains("existing")
            && l.contains("rps ")),
        "{text}"
    );
    assert!(text.contains("loads NO: "), "{text}");
}

#[test]
fn json_logs_and_quiet_mode() {
    let ws = Workspace::new(&["N1"]);
    std::fs::write(ws.data().join("junk.csv"), "Div,Date\nN1,01/01/2020\n").unwrap();
    let out = ws
        .cmd()
        .args(["--model-type", "poisson_v2", "--log-format", "json"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.is_empty());
    for line in stderr.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["level"], "WARN");
    }
    assert!(!stderr.contains('\u{1b}'), "no colour codes");

    let ws = Workspace::new(&["N1"]);
    let out = ws
        .cmd()
        .args(["--model-type", "poisson_v2", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}
