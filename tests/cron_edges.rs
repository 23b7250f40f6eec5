//! SAFE MODE and cron edge cases that used to end silently wrong: a symlinked or
//! oddly-formatted registry, a failed registry write, `predict --out` on a busy path, fixtures
//! from stdin, impossible fixtures, `predict` with no history, and leftovers of killed runs.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Stdio;

use common::*;

const POISSON: &[&str] = &["--model-type", "poisson_v2"];

#[test]
fn a_symlinked_registry_stays_a_symlink_and_keeps_mode_and_owner() {
    let ws = Workspace::new(&["N1"]);
    let shared = ws.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    let target = shared.join("registry.json");
    std::fs::write(&target, "{\"models\": []}\n").unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
    std::os::unix::fs::symlink("shared/registry.json", ws.registry()).unwrap();

    let (code, _, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let link = std::fs::symlink_metadata(ws.registry()).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(registry_keys(&target), ["poisson_v2_eredivisie_v2"]);
    let meta = std::fs::metadata(&target).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o640);
    assert_eq!((meta.uid(), meta.gid()), (65534, 65534));
    // Nothing left beside the link or the target.
    for dir in [ws.path(), shared.as_path()] {
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(!name.contains("auto-train-tmp"), "{name}");
        }
    }
}

#[test]
fn a_dangling_registry_symlink_is_followed() {
    let ws = Workspace::new(&["N1"]);
    std::fs::create_dir(ws.path().join("shared")).unwrap();
    std::os::unix::fs::symlink("shared/registry.json", ws.registry()).unwrap();
    let (code, _, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    assert!(std::fs::symlink_metadata(ws.registry())
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        registry_keys(&ws.path().join("shared/registry.json")),
        ["poisson_v2_eredivisie_v2"]
    );
}

/// `chattr` on a path; the suite needs it (this machine's ext4 has it): no silent skip.
fn chattr(flag: &str, path: &std::path::Path) {
    let status = std::process::Command::new("chattr")
        .arg(flag)
        .arg(path)
        .status()
        .expect("chattr (e2fsprogs) is needed by this test");
    assert!(status.success(), "chattr {flag} {} failed", path.display());
}

#[test]
fn a_failed_registry_write_leaves_no_temporary_file() {
    let ws = Workspace::new(&["N1"]);
    std::fs::write(ws.registry(), "{\"models\": []}\n").unwrap();
    chattr("+i", &ws.registry());
    let out = ws.cmd().args(POISSON).output().unwrap();
    chattr("-i", &ws.registry());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(ws.registry()).unwrap(), b"{\"models\": []}\n");
    for e in std::fs::read_dir(ws.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.contains("auto-train-tmp"), "left behind: {name}");
    }
    // The next run is not told about an "interrupted" update, and registers the model.
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("interrupted registry update"), "{stderr}");
    assert_eq!(summary["registry_appended"][0], "poisson_v2_eredivisie_v2");
}

#[test]
fn other_top_level_members_keep_their_bytes() {
    let ws = Workspace::new(&["N1"]);
    let head = "{ \"z_comment\":\"kept as typed\",\n\t\"owner\" : {\"b\":1,\"a\":[2, 3]},\n  \"models\": [\n    {\"key\": \"ou25_v1_x_v1\", \"league\": \"x\"}";
    let tail = "\n  ],\n  \"after\":   true\n}\n";
    std::fs::write(ws.registry(), format!("{head}{tail}")).unwrap();
    let (code, _, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(ws.registry()).unwrap();
    assert!(text.starts_with(head), "{text}");
    assert!(text.ends_with(tail), "{text}");
    assert_eq!(
        registry_keys(&ws.registry()),
        ["ou25_v1_x_v1", "poisson_v2_eredivisie_v2"]
    );
}

fn trained_eredivisie() -> (Workspace, std::path::PathBuf) {
    let ws = Workspace::new(&["N1"]);
    ws.cmd().args(POISSON).assert().code(0);
    let fixtures = ws.path().join("fixtures.csv");
    write_csv(
        &fixtures,
        &["Date,HomeTeam,AwayTeam", "01/08/2023,Ajax,Utrecht"],
    );
    (ws, fixtures)
}

#[test]
fn predict_out_never_replaces_and_leaves_no_partial_file() {
    let (ws, fixtures) = trained_eredivisie();
    let out_path = ws.path().join("out.csv");
    std::fs::write(&out_path, "mine\n").unwrap();
    let out = ws
        .predict("eredivisie", &fixtures)
        .arg("--out")
        .arg(&out_path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&out_path.display().to_string()), "{stderr}");
    assert_eq!(std::fs::read(&out_path).unwrap(), b"mine\n");
    // A new path: complete file, nothing else beside it.
    let fresh = ws.path().join("fresh.csv");
    ws.predict("eredivisie", &fixtures)
        .arg("--out")
        .arg(&fresh)
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&fresh).unwrap();
    assert!(
        text.starts_with("date,home_team,away_team,poisson_v2_home"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 2);
    for e in std::fs::read_dir(ws.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        assert!(!name.contains("auto-train-tmp"), "{name}");
    }
    // A directory that does not exist: the error names the path.
    let missing = ws.path().join("no/such/dir/out.csv");
    let out = ws
        .predict("eredivisie", &fixtures)
        .arg("--out")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
}

#[test]
fn predict_reads_stdin_and_writes_stdout_with_dashes() {
    let (ws, fixtures) = trained_eredivisie();
    let expected = ws.predict("eredivisie", &fixtures).output().unwrap().stdout;
    let mut child = std::process::Command::new(bin())
        .current_dir(ws.path())
        .args([
            "predict",
            "--league",
            "eredivisie",
            "--fixtures",
            "-",
            "--out",
            "-",
        ])
        .arg("--models-dir")
        .arg(ws.models())
        .arg("--data-dir")
        .arg(ws.data())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(&fixtures).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, expected);
}

#[test]
fn predict_refuses_impossible_fixtures_and_path_like_leagues() {
    let (ws, _) = trained_eredivisie();
    let bad = ws.path().join("bad.csv");
    write_csv(
        &bad,
        &[
            "Date,HomeTeam,AwayTeam",
            "01/08/2023,Ajax,Utrecht",
            "02/08/2023,Ajax,Ajax",
        ],
    );
    let out = ws.predict("eredivisie", &bad).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("row 2") && stderr.contains("Ajax"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    for league in ["../leagues/eredivisie", "/etc", "a/b"] {
        let out = ws.predict(league, &bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{league}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--league"),
            "{league}"
        );
    }
}

#[test]
fn predict_without_history_is_refused_or_flagged() {
    let ws = Workspace::new(&["D1"]);
    ws.cmd().assert().code(0);
    let fixtures = ws.path().join("fixtures.csv");
    write_csv(
        &fixtures,
        &[
            "Date,HomeTeam,AwayTeam",
            "01/08/2023,Bayern Munich,Dortmund",
            "02/08/2023,Nowhere FC,Dortmund",
        ],
    );
    // An empty data dir (cron in the wrong working directory): exit 2 naming it.
    let empty = ws.path().join("empty_data");
    std::fs::create_dir(&empty).unwrap();
    let out = ws
        .bin()
        .args(["predict", "--league", "bundesliga", "--fixtures"])
        .arg(&fixtures)
        .arg("--models-dir")
        .arg(ws.models())
        .arg("--data-dir")
        .arg(&empty)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&empty.display().to_string()), "{stderr}");
    assert!(out.stdout.is_empty());
    // A club with no history: predicted, with a warning naming it (and only it).
    let out = ws.predict("bundesliga", &fixtures).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Nowhere FC"), "{stderr}");
    assert!(!stderr.contains("for Bayern Munich"), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[test]
fn leftovers_are_reported_with_age_and_size() {
    let ws = Workspace::new(&["N1"]);
    let leftover = ws
        .models()
        .join("leagues/eredivisie/.poisson_v2.auto-train-tmp-1-2");
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join("poisson_model.pkl"), vec![7u8; 1234]).unwrap();
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 0, "{stderr}");
    let l = &summary["leftovers"][0];
    assert_eq!(
        l["path"],
        "leagues/eredivisie/.poisson_v2.auto-train-tmp-1-2"
    );
    assert_eq!(l["bytes"], 1234);
    assert!(l["age_seconds"].as_u64().unwrap() < 600);
    assert!(stderr.contains("1234 bytes"), "{stderr}");
    assert!(leftover.join("poisson_model.pkl").exists(), "left in place");
}
