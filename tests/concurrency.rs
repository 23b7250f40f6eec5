//! Four runs started at once on the same dirs: exactly one trains; the others either find the
//! lock held (exit 75, one line) or start after it finished (exit 0, nothing to train). The
//! final state equals that of a single run.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

const LEAGUES: usize = 5;

fn setup() -> Workspace {
    let ws = Workspace::new(&["N1"]);
    for (src, code) in [("E0", "E0"), ("D1", "D1"), ("D1", "SP1"), ("N1", "I1")] {
        compact_league(src, code, &ws.data().join(format!("{code}/all.csv")));
    }
    ws
}

fn command(ws: &Workspace) -> Command {
    let mut c = ws.process(&["--model-type", "poisson_v2", "--json"]);
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// The trained_date of the registry's entries (one run trained them all).
fn trained_date(registry: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(registry).unwrap()).unwrap();
    let dates: std::collections::BTreeSet<String> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["trained_date"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(dates.len(), 1, "one training run: {dates:?}");
    dates.into_iter().next().unwrap()
}

fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// The registry and every model file, with the run's timestamp blanked (same length, so the
/// pickle framing is unchanged). Lock files are left out.
fn normalised_state(ws: &Workspace) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let date = trained_date(&ws.registry());
    let blank = b"0000-00-00 00:00:00";
    // File hashes cover trained_date too: blank them after blanking the date.
    let unhash = |b: Vec<u8>| blank_hashes(&b);
    let mut state: BTreeMap<PathBuf, Option<Vec<u8>>> = snapshot(&ws.models())
        .into_iter()
        .filter(|(p, _)| p != Path::new(".auto-train.lock"))
        .map(|(p, c)| {
            (
                PathBuf::from("models").join(p),
                c.map(|b| unhash(replace_all(&b, date.as_bytes(), blank))),
            )
        })
        .collect();
    let registry = std::fs::read(ws.registry()).unwrap();
    state.insert(
        "registry.json".into(),
        Some(unhash(replace_all(&registry, date.as_bytes(), blank))),
    );
    state
}

/// `sha256:<64 hex digits>` -> `sha256:<hash>`.
fn blank_hashes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if rest.starts_with(b"sha256:")
            && rest.len() >= 71
            && rest[7..71].iter().all(|c| c.is_ascii_hexdigit())
        {
            out.extend_from_slice(b"sha256:<hash>");
            i += 71;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn four_runs_at_once_train_each_model_once() {
    let reference = setup();
    let out = command(&reference).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let expected = normalised_state(&reference);
    let expected_keys = registry_keys(&reference.registry());
    assert_eq!(expected_keys.len(), LEAGUES);

    // Rounds 0-2 start the four runs at once; rounds 3-4 stagger them (0, 40, 80, 120 ms and
    // 0, 80, 160, 240 ms) so that late runs may also find the work done and exit 0.
    for round in 0..5u32 {
        let ws = setup();
        let stagger = std::time::Duration::from_millis(40 * u64::from(round.saturating_sub(2)));
        let children: Vec<_> = (0..4)
            .map(|i| {
                if i > 0 {
                    std::thread::sleep(stagger);
                }
                command(&ws).spawn().unwrap()
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let mut trained = Vec::new();
        let mut locked = 0;
        for out in &outputs {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{stderr}");
            match out.status.code() {
                Some(0) => {
                    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_eq!(summary["totals"]["failed"], 0);
                    trained.push(summary["totals"]["trained"].as_u64().unwrap());
                }
                Some(75) => {
                    locked += 1;
                    assert_eq!(stderr.lines().count(), 1, "{stderr}");
                    assert!(
                        stderr.contains("another auto-train run holds the lock"),
                        "{stderr}"
                    );
                    // --json: even a locked-out run prints one JSON document (cron keeps it).
                    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_eq!(doc["exit_code"], 75);
                    assert!(doc["error"]
                        .as_str()
                        .unwrap()
                        .contains("another auto-train run holds the lock"));
                }
                other => panic!("round {round}: exit {other:?}: {stderr}"),
            }
        }
        eprintln!("round {round}: trained per run {trained:?}, {locked} locked out");
        assert_eq!(trained.iter().sum::<u64>(), LEAGUES as u64, "{trained:?}");
        assert_eq!(
            trained.iter().filter(|&&t| t > 0).count(),
            1,
            "exactly one run trains: {trained:?}"
        );
        assert_eq!(trained.len() + locked, 4);
        assert_eq!(registry_keys(&ws.registry()), expected_keys);
        assert!(temp_leftovers(&ws.models()).is_empty());
        assert_eq!(normalised_state(&ws), expected, "round {round}");
    }
}
