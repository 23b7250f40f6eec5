//! Issue #22.2, #22.6, #22.7 and #21.8-#21.22 (the operator's items): `status` as a health check,
//! cron logs that can be dated and read under -q, one date parser, versioned JSON documents,
//! `--color`, non-UTF-8 paths, fixtures from a FIFO, signals during a --json run.

mod common;

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Stdio;

use common::Workspace;

fn damage_poisson(ws: &Workspace, league: &str) {
    std::fs::write(
        ws.model_dir(league, "poisson_v2").join("poisson_model.pkl"),
        b"",
    )
    .unwrap();
}

/// A line of the text log starts with its UTC time: `2026-12-03T07:20:00.123456Z`.
fn is_timestamped(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && line.split_whitespace().next().unwrap().ends_with('Z')
}

/// #22.2 and #21.11: `status` exits 1 on a damaged model, shows it as damaged (not "gone"), with
/// its key and no key-less extra row; a models dir that does not exist is exit 2, also with
/// --json (never `models: []` and exit 0).
#[test]
fn status_is_a_health_check() {
    let ws = Workspace::new(&["N1"]);
    let (code, _, stderr) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0, "{stderr}");
    let ok = ws.status().output().unwrap();
    assert_eq!(ok.status.code(), Some(0));

    damage_poisson(&ws, "eredivisie");
    let out = ws.status().output().unwrap();
    assert_eq!(out.status.code(), Some(1), "the run exits 1 on it too");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("damaged") && stderr.contains("eredivisie poisson_v2"),
        "{stderr}"
    );
    let json = ws.status().arg("--json").output().unwrap();
    assert_eq!(json.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(doc["exit_code"], 1);
    let row = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["model_type"] == "poisson_v2")
        .unwrap();
    assert_eq!(row["state"], "damaged");
    let versions = row["versions"].as_array().unwrap();
    assert_eq!(
        versions.len(),
        1,
        "one version, no key-less extra row: {row:#}"
    );
    assert_eq!(versions[0]["role"], "damaged", "present, not gone: {row:#}");
    assert_eq!(versions[0]["key"], "poisson_v2_eredivisie_v2");
    assert!(versions[0]["reason"]
        .as_str()
        .unwrap()
        .contains("poisson_model.pkl is empty"));
    let (code, _, _) = ws.run_json(&[]);
    assert_eq!(code, 1);

    // Run from the wrong directory: the models dir does not exist.
    let empty = tempfile::tempdir().unwrap();
    for json in [false, true] {
        let mut cmd = assert_cmd::Command::cargo_bin("auto-train").unwrap();
        cmd.current_dir(empty.path()).arg("status");
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("models dir models does not exist")
                && stderr.contains(&format!("working directory {}", empty.path().display())),
            "{stderr}"
        );
        if json {
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(doc["exit_code"], 2);
            assert!(doc.get("models").is_none());
        }
    }
}

/// #22.6: the fatal line carries a timestamp and names the working directory; with -q a damaged
/// model still gives one line on stderr; "Total failures" counts what made the exit 1.
#[test]
fn cron_logs_can_be_dated_and_read_under_quiet() {
    let ws = Workspace::new(&["N1"]);
    let out = ws
        .bin()
        .args(["--data-dir", "no/such/dir", "--models-dir"])
        .arg(ws.models())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let line = stderr.lines().last().unwrap();
    assert!(is_timestamped(line), "{stderr}");
    assert!(
        line.contains("ERROR")
            && line.contains("no/such/dir")
            && line.contains(&format!("working directory {}", ws.path().display())),
        "{line}"
    );

    let (code, _, _) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0);
    damage_poisson(&ws, "eredivisie");
    let out = ws
        .cmd()
        .args(["--model-type", "poisson_v2", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        is_timestamped(&stderr)
            && stderr.contains("exit 1")
            && stderr.contains("1 damaged (eredivisie poisson_v2)"),
        "{stderr}"
    );

    let out = ws
        .cmd()
        .args(["--model-type", "poisson_v2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Total failures: 1 (1 damaged (eredivisie poisson_v2))"),
        "{text}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let damaged_dir = ws.model_dir("eredivisie", "poisson_v2");
    assert!(
        stderr.contains(&format!("{}:", damaged_dir.display())),
        "absolute path of the damaged model: {stderr}"
    );
    let (_, summary, _) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(summary["failures"], 1);
}

/// #22.7: one parser for every date on the command line; every JSON document has a schema
/// version and the tool version; `--color`.
#[test]
fn dates_json_versions_and_colour() {
    let ws = Workspace::new(&["N1"]);
    let out_dir = ws.path().join("bt");
    for flag in ["--from", "--to"] {
        let mut args = vec!["backtest", "--data-dir", "data", "--out", "bt"];
        if flag == "--to" {
            args.extend(["--from", "2022-09-01"]);
        }
        args.extend([flag, "01/07/2022"]);
        let out = ws.bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("YYYY-MM-DD"), "{stderr}");
        assert!(!out_dir.exists());
    }
    let out = ws
        .bin()
        .args(["--as-of", "01/07/2022", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    let (code, summary, _) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0);
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["tool_version"], env!("CARGO_PKG_VERSION"));
    let status = ws.status_json();
    assert_eq!(status["schema_version"], 1);
    assert_eq!(status["tool_version"], env!("CARGO_PKG_VERSION"));
    let out = ws
        .bin()
        .args(["--json", "--data-dir", "nowhere"])
        .output()
        .unwrap();
    let error: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(error["schema_version"], 1);
    assert_eq!(error["exit_code"], 2);

    // A warning (an unreadable file) in colour or not.
    std::fs::write(ws.data().join("junk.csv"), "Div,Date\nN1,01/01/2020\n").unwrap();
    let warn = |color: Option<&str>, no_color: bool| -> String {
        let mut cmd = ws.cmd();
        cmd.args(["--model-type", "poisson_v2", "--dry-run"]);
        if let Some(c) = color {
            cmd.args(["--color", c]);
        }
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(warn(Some("always"), false).contains("\u{1b}["));
    assert!(
        warn(Some("always"), true).contains("\u{1b}["),
        "explicit beats NO_COLOR"
    );
    assert!(!warn(Some("never"), false).contains('\u{1b}'));
    assert!(
        !warn(None, false).contains('\u{1b}'),
        "auto: not a terminal"
    );
    let out = ws.bin().args(["--color", "sometimes"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// #21.8: non-UTF-8 paths never panic: the JSON shows them lossily and says so.
#[test]
fn non_utf8_paths_in_json() {
    let ws = Workspace::new(&["N1"]);
    let models = ws.path().join(std::ffi::OsStr::from_bytes(b"models-\xfe"));
    let data = ws.path().join(std::ffi::OsStr::from_bytes(b"data-\xff"));
    std::fs::rename(ws.data(), &data).unwrap();
    std::fs::rename(
        data.join("N1/2022-23.csv"),
        data.join("N1")
            .join(std::ffi::OsStr::from_bytes(b"2022-\xfe.csv")),
    )
    .unwrap();
    std::fs::write(
        data.join(std::ffi::OsStr::from_bytes(b"junk-\xfe.csv")),
        "x\n",
    )
    .unwrap();
    let out = ws
        .bin()
        .arg("--data-dir")
        .arg(&data)
        .arg("--models-dir")
        .arg(&models)
        .args(["--model-type", "poisson_v2", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["paths_lossy"], true);
    assert!(doc["models_dir"]
        .as_str()
        .unwrap()
        .ends_with("models-\u{fffd}"));
    assert_eq!(doc["data"]["unreadable_files"].as_array().unwrap().len(), 1);
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    assert!(models.join("leagues/eredivisie/poisson_v2").is_dir());

    let out = ws
        .bin()
        .arg("status")
        .arg("--data-dir")
        .arg(&data)
        .arg("--models-dir")
        .arg(&models)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["paths_lossy"], true);
}

/// #21.9: the fixtures file is opened once: a FIFO, /dev/stdin and a pipe work.
#[test]
fn fixtures_from_a_fifo_or_stdin() {
    let ws = Workspace::new(&["N1"]);
    let (code, _, _) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0);
    let fixtures = "Date,HomeTeam,AwayTeam\n2023-08-12,Ajax,Feyenoord\n";
    let fifo = ws.path().join("fx.csv");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("auto-train"));
    cmd.current_dir(ws.path())
        .args(["predict", "--league", "eredivisie", "--fixtures"])
        .arg(&fifo)
        .arg("--models-dir")
        .arg(ws.models())
        .arg("--data-dir")
        .arg(ws.data())
        .arg("--registry")
        .arg(ws.registry())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::fs::write(&fifo, fixtures).unwrap();
    let started = std::time::Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("predict hangs on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv_text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(csv_text.lines().count(), 2);
    assert!(csv_text.contains("Ajax,Feyenoord"));

    for path in ["/dev/stdin", "-"] {
        let out = ws
            .predict("eredivisie", Path::new(path))
            .write_stdin(fixtures)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8(out.stdout).unwrap(), csv_text, "{path}");
    }
}

/// #21.17: this tool's own `<type>@<n>` versions are not "other model directories".
#[test]
fn own_versions_are_not_unmanaged_directories() {
    let ws = Workspace::new(&["N1"]);
    let season = ws.data().join("N1/2022-23.csv");
    let text = std::fs::read_to_string(&season).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&season, lines[..lines.len() - 20].join("\n") + "\n").unwrap();
    let (code, _, _) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0);
    std::fs::write(&season, &text).unwrap();
    let (code, summary, _) = ws.run_json(&["--model-type", "poisson_v2", "--refresh"]);
    assert_eq!(code, 0, "{summary:#}");
    assert!(ws.models().join("leagues/eredivisie/poisson_v2@2").is_dir());
    std::fs::create_dir_all(ws.models().join("leagues/eredivisie/ou25_v1")).unwrap();
    let (_, summary, _) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(
        summary["untouched"]["other_model_dirs"],
        serde_json::json!(["leagues/eredivisie/ou25_v1"])
    );
}

/// #21.19 and #21.22: with --log-format json an argument error is one JSON line on stderr;
/// --min-new-matches without --refresh is refused.
#[test]
fn argument_errors_as_json_logs_and_refused_quiet_options() {
    let ws = Workspace::new(&["N1"]);
    for args in [
        vec!["--log-format", "json", "--model-type", "foo"],
        vec!["--log-format=json", "--model-type", "foo"],
    ] {
        let out = ws.bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        let line: serde_json::Value = serde_json::from_str(stderr.trim()).unwrap();
        assert_eq!(line["level"], "ERROR");
        assert!(line["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("'foo'"));
    }
    let out = ws
        .cmd()
        .args(["--min-new-matches", "5", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--refresh"));
    let out = ws
        .cmd()
        .args(["--min-new-matches", "5", "--refresh", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// Whether a thread of process `pid` sleeps in the kernel's FIFO open (`wait_for_partner`).
fn waits_on_a_fifo(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks.flatten().any(|t| {
                std::fs::read_to_string(t.path().join("wchan"))
                    .is_ok_and(|w| w.contains("wait_for_partner") || w.contains("fifo"))
            })
        })
        .unwrap_or(false)
}

/// #21.20: SIGTERM during a --json run still gives a JSON document on stdout (exit 143); a file
/// size limit (SIGXFSZ) gives one too and leaves no temporary registry file.
#[test]
fn signals_during_a_json_run() {
    let ws = Workspace::new(&["N1"]);
    // The run waits on a FIFO registry: a deterministic moment to be stopped at.
    let fifo = ws.path().join("fifo-registry.json");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for subcommand in [None, Some("status")] {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("auto-train"));
        cmd.current_dir(ws.path());
        cmd.args(subcommand);
        cmd.arg("--data-dir")
            .arg(ws.data())
            .arg("--models-dir")
            .arg(ws.models())
            .arg("--registry")
            .arg(&fifo)
            .arg("--json")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::fs::create_dir_all(ws.models()).unwrap();
        let mut child = cmd.spawn().unwrap();
        // Until the process waits in open(2) on the FIFO (a loaded machine may take a while).
        let started = std::time::Instant::now();
        while !waits_on_a_fifo(child.id()) {
            assert!(child.try_wait().unwrap().is_none(), "waiting on the FIFO");
            assert!(started.elapsed() < std::time::Duration::from_secs(60));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // SAFETY: a plain kill(2) of the child this test started.
        assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
        let mut stdout = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(143), "{subcommand:?}");
        let doc: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{subcommand:?}: {e}: {stdout:?}"));
        assert_eq!(doc["exit_code"], 143);
        assert!(doc["error"].as_str().unwrap().contains("SIGTERM"));
    }

    std::fs::remove_file(&fifo).unwrap();

    // Model files over the size limit: the writes fail, the run says so in JSON.
    let out = std::process::Command::new("sh")
        .current_dir(ws.path())
        .arg("-c")
        .arg("ulimit -f 2; exec \"$0\" --data-dir data --models-dir models --registry registry.json --model-type poisson_v2 --json")
        .arg(assert_cmd::cargo::cargo_bin("auto-train"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["exit_code"], 1);
    let leftovers: Vec<_> = common::snapshot(ws.path())
        .into_keys()
        .filter(|p| p.to_string_lossy().contains("auto-train-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(!ws.model_dir("eredivisie", "poisson_v2").exists());
}
