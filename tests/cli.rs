//! The command line's contract with cron and with shells: one JSON document on stdout with
//! `exit_code` and `error` on every exit path when `--json` is given, and completions and the
//! man page generated from the same definitions that parse the arguments.

mod common;

use common::*;

/// Runs with `--json` and returns (exit code, the JSON document on stdout, stderr).
fn json_exit(ws: &Workspace, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = ws.cmd().arg("--json").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {:?}; stderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap(), doc, stderr)
}

#[test]
fn json_on_every_exit_path() {
    let ws = Workspace::new(&["N1"]);
    // A normal run: exit 0, error null.
    let (code, doc, _) = json_exit(&ws, &["--model-type", "poisson_v2"]);
    assert_eq!(
        (code, &doc["exit_code"], &doc["error"]),
        (0, &0.into(), &serde_json::Value::Null)
    );

    // Bad usage (clap's own errors included).
    for args in [
        &["--model-type", "ou25_v9"][..],
        &["--league", "../x"][..],
        &["--min-new-matches", "0"][..],
    ] {
        let (code, doc, stderr) = json_exit(&ws, args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(doc["exit_code"], 2, "{args:?}");
        assert!(!doc["error"].as_str().unwrap().is_empty(), "{args:?}");
    }
    // A missing argument is named, not cut off at clap's first line.
    let (code, doc, _) = json_exit(&ws, &["--min-new-matches", "5"]);
    assert_eq!(code, 2);
    assert_eq!(
        doc["error"],
        "the following required arguments were not provided: --refresh"
    );
    // An invalid registry, with JSON log lines on stderr too.
    std::fs::write(ws.registry(), "{\"models\": 3}").unwrap();
    let out = ws
        .cmd()
        .args(["--json", "--log-format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["error"].as_str().unwrap().contains("is invalid"),
        "{doc}"
    );
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["level"], "ERROR");
    }
    std::fs::remove_file(ws.registry()).unwrap();

    // A data dir that does not exist; a models dir that is a file.
    let (code, doc, _) = json_exit(&ws, &["--data-dir", "/nonexistent/auto-train-data"]);
    assert_eq!((code, doc["exit_code"].as_i64()), (2, Some(2)));
    let file = ws.path().join("a_file");
    std::fs::write(&file, "x").unwrap();
    let out = ws
        .bin()
        .args(["--json", "--data-dir"])
        .arg(ws.data())
        .arg("--models-dir")
        .arg(&file)
        .arg("--registry")
        .arg(ws.registry())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["exit_code"], 1);
    assert!(doc["error"].as_str().unwrap().contains("a_file"), "{doc}");

    // status --json carries the same two fields.
    let out = ws.status().arg("--json").output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["exit_code"], 0);
    assert_eq!(doc["error"], serde_json::Value::Null);
}

#[test]
fn completions_and_man_page_come_from_the_definitions() {
    let ws = Workspace::new(&[]);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = ws.bin().args(["generate", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        for word in ["refresh", "min-new-matches", "predict", "status"] {
            assert!(text.contains(word), "{shell}: {word}");
        }
        // --model-type values come from the list of model types (shells that complete values).
        if !["bash", "zsh", "fish"].contains(&shell) {
            continue;
        }
        for ty in auto_train::models::model_types() {
            assert!(text.contains(ty.spec().name), "{shell}: {}", ty.spec().name);
        }
    }
    let out = ws.bin().args(["generate", "man"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let man = String::from_utf8(out.stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH auto-train 1"),
        "{man}"
    );
    assert!(man.contains("min\\-new\\-matches"), "{man}");
}
