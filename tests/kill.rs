//! SAFE MODE under SIGKILL: a real training run over nine leagues is killed at many instants
//! (spread over a whole run, plus instants chosen by watching the models dir: as the first
//! temporary directory appears, after the first / half / all model directories are in place).
//! After every kill: each model directory is absent or complete and loadable, leftovers are
//! never counted as models, the registry is valid with every pre-existing entry's text intact,
//! and every pre-existing file is byte-identical. Then a normal run completes everything and
//! registers every model exactly once (also those whose run died between the directory rename
//! and the registry update), and a further run changes nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Leagues whose poisson_v2 model this tool trains in the test (bundesliga has a foreign one).
const OURS: &[&str] = &[
    "belgian_pro_league",
    "eredivisie",
    "la_liga",
    "ligue_1",
    "premier_league",
    "primeira_liga",
    "scottish_premiership",
    "serie_a",
];

/// Pre-existing registry entries (one compact, one hand-formatted): their text must survive.
const FOREIGN_ENTRIES: [&str; 2] = [
    r#"{"key": "ou25_v1_eredivisie_v1", "model_type": "ou25_v1", "league": "eredivisie", "version": "v1", "trained_date": "2025-11-16 14:00:00", "status": "active"}"#,
    r#"{
      "key":   "poisson_v2_super_lig_v2",
      "model_type": "poisson_v2", "league": "super_lig", "version": "v2",
      "note": "made by the old pipeline; é ü"
    }"#,
];

type Snapshot = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// Data: N1 as it is; E0 (13 seasons), D1 (3 seasons) and their rows again as SP1/I1/F1 and
/// N1's as P1/SC0/B1, each league in one compact file (core columns and odds: the run is then
/// short and mostly training and writing, so that kills land mid-write).
/// Models dir: a complete foreign poisson_v2 for bundesliga (not ours: never registered), an
/// ou25_v1 dir, a foreign poisson_v2 of a league without data. Registry: two foreign entries.
fn setup() -> Workspace {
    let ws = Workspace::new(&["N1"]);
    for (src, code) in [
        ("E0", "E0"),
        ("D1", "D1"),
        ("E0", "SP1"),
        ("D1", "I1"),
        ("D1", "F1"),
        ("N1", "P1"),
        ("N1", "SC0"),
        ("N1", "B1"),
    ] {
        compact_league(src, code, &ws.data().join(format!("{code}/all.csv")));
    }
    let bundes = ws.model_dir("bundesliga", "poisson_v2");
    std::fs::create_dir_all(&bundes).unwrap();
    std::fs::write(bundes.join("poisson_model.pkl"), OTHER_TOOL_PICKLE).unwrap();
    std::fs::write(bundes.join("metrics.json"), b"{\"foreign\": true}").unwrap();
    let ou = ws.model_dir("eredivisie", "ou25_v1");
    std::fs::create_dir_all(&ou).unwrap();
    std::fs::write(ou.join("model.pkl"), b"ou25").unwrap();
    let superlig = ws.model_dir("super_lig", "poisson_v2");
    std::fs::create_dir_all(&superlig).unwrap();
    std::fs::write(superlig.join("poisson_model.pkl"), b"old").unwrap();
    std::fs::write(superlig.join("metrics.json"), b"{}").unwrap();
    let registry = format!(
        "{{\n  \"comment\": \"kept\",\n  \"models\": [\n    {},\n    {}\n  ]\n}}\n",
        FOREIGN_ENTRIES[0], FOREIGN_ENTRIES[1]
    );
    std::fs::write(ws.registry(), registry).unwrap();
    ws
}

fn spawn(ws: &Workspace) -> Child {
    ws.process(&["--model-type", "poisson_v2", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// SIGKILL (unless it already exited); true when the run had finished on its own.
fn kill(mut child: Child) -> bool {
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    child.wait().unwrap();
    finished
}

fn kill_after(ws: &Workspace, delay: Duration) -> bool {
    let child = spawn(ws);
    std::thread::sleep(delay);
    kill(child)
}

/// Kills the run as soon as `event` holds (polled every 100 us), or lets it finish.
fn kill_on(ws: &Workspace, event: &dyn Fn(&Workspace) -> bool) -> bool {
    let mut child = spawn(ws);
    loop {
        if event(ws) {
            return kill(child);
        }
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

fn model_dirs_in_place(ws: &Workspace) -> usize {
    OURS.iter()
        .filter(|l| ws.model_dir(l, "poisson_v2").exists())
        .count()
}

/// What a kill left behind.
#[derive(Debug, Default, Clone, Copy)]
struct Outcome {
    finished: bool,
    dirs: usize,
    registered: usize,
    leftovers: usize,
    /// Complete model dirs the next run registered (killed after rename, before registry).
    recovered: usize,
}

/// Every file and directory of `before` but the registry is still there, byte-identical.
fn assert_unchanged_but_registry(ws: &Workspace, before: &Snapshot, context: &str) {
    for (path, content) in before {
        if path == Path::new("registry.json") {
            continue;
        }
        let now = ws.path().join(path);
        match content {
            None => assert!(now.is_dir(), "{context}: {} is gone", path.display()),
            Some(bytes) => assert_eq!(
                std::fs::read(&now).ok().as_ref(),
                Some(bytes),
                "{context}: {} changed",
                path.display()
            ),
        }
    }
}

/// Every invariant that must hold after a kill at any instant.
fn check_after_kill(ws: &Workspace, before: &Snapshot, context: &str) -> Outcome {
    let mut out = Outcome::default();
    for league in OURS {
        let dir = ws.model_dir(league, "poisson_v2");
        if dir.symlink_metadata().is_ok() {
            assert_complete_poisson_dir(&dir, context);
            out.dirs += 1;
        }
    }
    // The registry: valid, no key twice, the foreign entries first and verbatim, and nothing
    // registered whose directory is not complete.
    let keys = valid_registry_keys(&ws.registry(), context);
    let text = std::fs::read_to_string(ws.registry()).unwrap();
    for entry in FOREIGN_ENTRIES {
        assert!(
            text.contains(entry),
            "{context}: entry text changed:\n{text}"
        );
    }
    assert_eq!(
        keys[..2],
        ["ou25_v1_eredivisie_v1", "poisson_v2_super_lig_v2"],
        "{context}"
    );
    assert!(text.contains("\"comment\": \"kept\""), "{context}: {text}");
    for key in &keys[2..] {
        let league = key
            .strip_prefix("poisson_v2_")
            .and_then(|k| k.strip_suffix("_v2"))
            .unwrap_or_else(|| panic!("{context}: unexpected key {key}"));
        assert!(OURS.contains(&league), "{context}: {key}");
        assert!(
            ws.model_dir(league, "poisson_v2").is_dir(),
            "{context}: {key} registered without its directory"
        );
        out.registered += 1;
    }
    // Every pre-existing file is byte-identical (the registry is checked entry by entry).
    assert_unchanged_but_registry(ws, before, context);
    // A dry run sees complete models or missing ones, and leftovers only as leftovers.
    let mut leftovers = temp_leftovers(&ws.models());
    // A kill during the registry update may leave its temporary file beside the registry.
    for e in std::fs::read_dir(ws.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().to_string();
        if name.starts_with(".registry.json.auto-train-tmp-") {
            leftovers.push(ws.path().join(name).display().to_string());
        }
    }
    out.leftovers = leftovers.len();
    let (code, summary, stderr) = ws.run_json(&["--model-type", "poisson_v2", "--dry-run"]);
    assert_eq!(code, 0, "{context}: {stderr}");
    assert!(!stderr.contains("panicked"), "{context}: {stderr}");
    for ((league, _), status) in statuses(&summary) {
        let expected = if league == "bundesliga"
            || ws
                .model_dir(&league, "poisson_v2")
                .symlink_metadata()
                .is_ok()
        {
            "existing"
        } else {
            "would_train"
        };
        assert_eq!(status, expected, "{context}: {league}");
    }
    let reported: BTreeSet<String> = summary["untouched"]["leftovers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        reported,
        leftovers.iter().cloned().collect::<BTreeSet<_>>(),
        "{context}"
    );
    for r in summary["results"].as_array().unwrap() {
        assert!(
            !r["path"].as_str().unwrap().contains(".auto-train-tmp-"),
            "{context}: {r}"
        );
    }
    out
}

/// A normal run completes everything and registers every model exactly once; `further` also
/// checks that one more run changes nothing. Returns how many complete-but-unregistered model
/// directories the run registered.
fn complete_and_check(ws: &Workspace, before: &Snapshot, context: &str, further: bool) -> usize {
    let (code, summary, stderr) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0, "{context}: {stderr}");
    assert!(!stderr.contains("panicked"), "{context}: {stderr}");
    let st = statuses(&summary);
    assert_eq!(st.len(), OURS.len() + 1, "{context}: {st:?}");
    let appended: BTreeSet<String> = summary["registry_appended"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut recovered = 0;
    for league in OURS {
        let s = &st[&(league.to_string(), "poisson_v2".to_string())];
        assert!(s == "trained" || s == "existing", "{context}: {league} {s}");
        if s == "existing" && appended.contains(&format!("poisson_v2_{league}_v2")) {
            recovered += 1;
        }
        assert_complete_poisson_dir(&ws.model_dir(league, "poisson_v2"), context);
    }
    // poisson_v2 runs: consistent about what they check (the other types are outside them).
    assert_eq!(summary["selection_consistent"], true, "{context}");
    let keys = valid_registry_keys(&ws.registry(), context);
    let mut expected: Vec<String> = vec![
        "ou25_v1_eredivisie_v1".into(),
        "poisson_v2_super_lig_v2".into(),
    ];
    let mut ours: Vec<String> = keys[2.min(keys.len())..].to_vec();
    ours.sort();
    expected.extend(OURS.iter().map(|l| format!("poisson_v2_{l}_v2")));
    let mut got = keys[..2.min(keys.len())].to_vec();
    got.extend(ours);
    assert_eq!(
        got, expected,
        "{context}: each model registered exactly once"
    );
    let text = std::fs::read_to_string(ws.registry()).unwrap();
    for entry in FOREIGN_ENTRIES {
        assert!(text.contains(entry), "{context}");
    }
    for (path, content) in before {
        if path != Path::new("registry.json") {
            let now = ws.path().join(path);
            assert_eq!(
                content.is_none(),
                now.is_dir(),
                "{context}: {}",
                path.display()
            );
            if let Some(bytes) = content {
                assert_eq!(&std::fs::read(&now).unwrap(), bytes, "{context}");
            }
        }
    }
    if further {
        let snap = snapshot(ws.path());
        let (code, summary, _) = ws.run_json(&["--model-type", "poisson_v2"]);
        assert_eq!(code, 0, "{context}");
        assert_eq!(summary["totals"]["trained"], 0, "{context}");
        assert_eq!(summary["registry_appended"], serde_json::json!([]));
        assert_eq!(
            snapshot(ws.path()),
            snap,
            "{context}: a further run changed files"
        );
    }
    recovered
}

/// One kill in a fresh workspace, then every check, then completion.
fn one_kill(label: &str, further: bool, do_kill: &dyn Fn(&Workspace) -> bool) -> Outcome {
    let ws = setup();
    let before = snapshot(ws.path());
    let finished = do_kill(&ws);
    let mut outcome = check_after_kill(&ws, &before, label);
    outcome.finished = finished;
    outcome.recovered = complete_and_check(&ws, &before, label, further);
    eprintln!("{label}: {outcome:?}");
    outcome
}

/// Duration of a normal, uninterrupted run on the same setup (its result is checked too).
fn normal_run_duration() -> Duration {
    let ws = setup();
    let before = snapshot(ws.path());
    let started = Instant::now();
    let status = spawn(&ws).wait().unwrap();
    let elapsed = started.elapsed();
    assert_eq!(status.code(), Some(0));
    let out = check_after_kill(&ws, &before, "uninterrupted run");
    assert_eq!(out.dirs, OURS.len());
    assert_eq!(out.registered, OURS.len());
    elapsed
}

/// 24 kills at delays from 0 to 1.3 x a normal run (two threads of 12), denser towards the end
/// where the writes are.
#[test]
fn sigkill_at_instants_spread_over_a_run() {
    let duration = normal_run_duration();
    eprintln!("normal run: {duration:?}");
    const KILLS: u32 = 24;
    let delays: Vec<Duration> = (0..KILLS)
        .map(|i| duration.mul_f64(1.3 * (f64::from(i) / f64::from(KILLS - 1)).sqrt()))
        .collect();
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = [0, 1]
            .map(|t| {
                let delays = &delays;
                s.spawn(move || {
                    delays
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| i % 2 == t)
                        .map(|(i, d)| {
                            one_kill(&format!("kill {i} after {d:?}"), i % 6 == 0, &|ws| {
                                kill_after(ws, *d)
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .into_iter()
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(outcomes.len(), KILLS as usize);
    // At least the earliest kill hit a running process (the later ones may find it finished).
    assert!(outcomes.iter().any(|o| !o.finished));
}

/// Kills chosen by watching the models dir, so that the interesting instants are hit whatever
/// the machine's speed: while the first model directory is being written, and between the
/// renames and the registry update (retried a few times if the run outran the watcher).
#[test]
fn sigkill_while_writing_and_before_the_registry_update() {
    let temp_appeared = |ws: &Workspace| !temp_leftovers(&ws.models()).is_empty();
    let first_dir = |ws: &Workspace| model_dirs_in_place(ws) >= 1;
    let half_dirs = |ws: &Workspace| model_dirs_in_place(ws) >= OURS.len() / 2;
    let all_dirs = |ws: &Workspace| model_dirs_in_place(ws) == OURS.len();
    let mut mid_write = 0;
    let mut recovered = 0;
    for (name, event) in [
        (
            "first temporary dir",
            &temp_appeared as &dyn Fn(&Workspace) -> bool,
        ),
        ("first model dir", &first_dir),
        ("half the model dirs", &half_dirs),
        ("all model dirs", &all_dirs),
    ] {
        for attempt in 0..4 {
            let o = one_kill(
                &format!("kill at {name} (#{attempt})"),
                attempt == 0,
                &|ws| kill_on(ws, event),
            );
            mid_write += o.leftovers;
            recovered += o.recovered;
            if !o.finished && (o.leftovers > 0 || o.recovered > 0) {
                break;
            }
        }
    }
    eprintln!(
        "leftovers of killed writes: {mid_write}; models registered by the next run: {recovered}"
    );
    // The window between the first rename and the registry update spans the training of the
    // other leagues, so a watcher that polls every 100 us lands in it.
    assert!(
        recovered > 0,
        "no kill landed between a rename and the registry update"
    );
}

/// The model of an interrupted-then-completed run also loads in Python (no imports needed).
#[test]
fn completed_models_load_in_python_and_predict() {
    let ws = setup();
    let before = snapshot(ws.path());
    kill_on(&ws, &|ws| model_dirs_in_place(ws) >= 1);
    check_after_kill(&ws, &before, "python check");
    complete_and_check(&ws, &before, "python check", false);
    let mut pkls: Vec<PathBuf> = OURS
        .iter()
        .map(|l| ws.model_dir(l, "poisson_v2").join("poisson_model.pkl"))
        .collect();
    pkls.sort();
    let paths: Vec<&Path> = pkls.iter().map(|p| p.as_path()).collect();
    let script = "for p in sys.argv[1:]:\n    d = load(p)\n    assert d['model_type'] == 'poisson_v2' and d['teams'], p\nprint('ok')";
    assert_eq!(python::run_on_files(script, &paths), "ok");
    let fixtures = ws.path().join("fixtures.csv");
    write_csv(
        &fixtures,
        &["Date,HomeTeam,AwayTeam", "01/08/2023,Ajax,PSV"],
    );
    let out = ws.predict("eredivisie", &fixtures).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("poisson_v2_home"));
}

/// The setup with every league's poisson_v2 trained on all but its last 40 rows, then the full
/// data back: every model is stale, and `--refresh` publishes `poisson_v2@2` for each.
fn stale_setup() -> Workspace {
    let ws = setup();
    let mut full = Vec::new();
    for e in std::fs::read_dir(ws.data()).unwrap() {
        let dir = e.unwrap().path();
        let file = dir.join("all.csv");
        if !file.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&file, lines[..lines.len() - 40].join("\n") + "\n").unwrap();
        full.push((file, text));
    }
    // N1 is kept as shipped (several files): drop its last file's tail the same way.
    let n1 = ws.data().join("N1/2022-23.csv");
    let n1_text = std::fs::read_to_string(&n1).unwrap();
    let lines: Vec<&str> = n1_text.lines().collect();
    std::fs::write(&n1, lines[..lines.len() - 40].join("\n") + "\n").unwrap();
    full.push((n1, n1_text));
    let (code, _, stderr) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0, "{stderr}");
    for (file, text) in full {
        std::fs::write(file, text).unwrap();
    }
    ws
}

fn spawn_refresh(ws: &Workspace) -> Child {
    ws.process(&[
        "--model-type",
        "poisson_v2",
        "--refresh",
        "--min-new-matches",
        "1",
        "-q",
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap()
}

fn refreshed_in_place(ws: &Workspace) -> usize {
    OURS.iter()
        .filter(|l| ws.model_dir(l, "poisson_v2@2").exists())
        .count()
}

/// After a kill during `--refresh`: every version absent or complete, the first versions and
/// every other pre-existing file byte-identical, the registry valid with no key twice and
/// each registered version's directory complete; then a run completes the registration and
/// refreshes what is left, and one more run changes nothing.
fn check_refresh_kill(ws: &Workspace, before: &Snapshot, context: &str) -> usize {
    for league in OURS {
        let dir = ws.model_dir(league, "poisson_v2@2");
        if dir.symlink_metadata().is_ok() {
            assert_complete_poisson_dir(&dir, context);
        }
    }
    assert_unchanged_but_registry(ws, before, context);
    let before_text =
        String::from_utf8(before[Path::new("registry.json")].clone().unwrap()).unwrap();
    let keys = valid_registry_keys(&ws.registry(), context);
    let text = std::fs::read_to_string(ws.registry()).unwrap();
    let old_keys = registry_keys_in(&before_text);
    assert_eq!(keys[..old_keys.len()], old_keys[..], "{context}");
    // Entries are kept verbatim and new ones appended: the old text up to its last entry is a
    // prefix of the new one.
    let old_entries_end = before_text.rfind("\n  ]").unwrap();
    assert!(
        text.starts_with(&before_text[..old_entries_end]),
        "{context}: the old entries' text is kept"
    );
    for key in &keys[old_keys.len()..] {
        let league = key
            .strip_prefix("poisson_v2_")
            .and_then(|k| k.strip_suffix("_v2@2"))
            .unwrap_or_else(|| panic!("{context}: unexpected key {key}"));
        assert_complete_poisson_dir(&ws.model_dir(league, "poisson_v2@2"), context);
    }
    let registered_by_kill = keys.len() - old_keys.len();

    let args = [
        "--model-type",
        "poisson_v2",
        "--refresh",
        "--min-new-matches",
        "1",
    ];
    let (code, summary, stderr) = ws.run_json(&args);
    assert_eq!(code, 0, "{context}: {stderr}");
    // poisson_v2 runs: consistent about what they check (the other types are outside them).
    assert_eq!(summary["selection_consistent"], true, "{context}");
    let keys = valid_registry_keys(&ws.registry(), context);
    let mut expected = old_keys.clone();
    let mut new: Vec<String> = keys[old_keys.len()..].to_vec();
    new.sort();
    expected.extend(new);
    let mut want: Vec<String> = old_keys.clone();
    let mut refreshed: Vec<String> = OURS
        .iter()
        .map(|l| format!("poisson_v2_{l}_v2@2"))
        .collect();
    refreshed.sort();
    want.extend(refreshed);
    assert_eq!(
        expected, want,
        "{context}: each version registered exactly once"
    );
    for league in OURS {
        assert_complete_poisson_dir(&ws.model_dir(league, "poisson_v2@2"), context);
    }
    let entries: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ws.registry()).unwrap()).unwrap();
    for e in entries["models"].as_array().unwrap() {
        if let Some(k) = e["key"].as_str().and_then(|k| k.strip_suffix("@2")) {
            assert_eq!(e["supersedes"], k, "{context}");
        }
    }
    let snap = snapshot(ws.path());
    let (code, summary, _) = ws.run_json(&args);
    assert_eq!(code, 0, "{context}");
    assert_eq!(
        summary["registry_appended"],
        serde_json::json!([]),
        "{context}"
    );
    assert_eq!(
        snapshot(ws.path()),
        snap,
        "{context}: a further run changed files"
    );
    registered_by_kill
}

/// Kills during `--refresh` at instants spread over a refresh run and at watched instants (the
/// first new version in place, all of them in place before the registry update).
#[test]
fn sigkill_during_a_refresh() {
    let reference = stale_setup();
    let started = Instant::now();
    assert_eq!(spawn_refresh(&reference).wait().unwrap().code(), Some(0));
    let duration = started.elapsed();
    assert_eq!(refreshed_in_place(&reference), OURS.len());
    let mut hits = 0;
    let mut delays: Vec<Option<Duration>> = (0..8)
        .map(|i| Some(duration.mul_f64(1.2 * f64::from(i) / 7.0)))
        .collect();
    delays.extend([None, None, None]);
    for (i, delay) in delays.into_iter().enumerate() {
        let ws = stale_setup();
        let before = snapshot(ws.path());
        let mut child = spawn_refresh(&ws);
        match delay {
            Some(d) => std::thread::sleep(d),
            None => loop {
                let target = if i % 2 == 0 { 1 } else { OURS.len() };
                if refreshed_in_place(&ws) >= target || child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_micros(100));
            },
        }
        let finished = kill(child);
        let context = format!("refresh kill {i} ({delay:?})");
        let partial = refreshed_in_place(&ws);
        check_refresh_kill(&ws, &before, &context);
        if !finished {
            hits += 1;
        }
        eprintln!("{context}: finished {finished}, {partial} versions in place");
    }
    assert!(hits > 0, "no kill hit a running refresh");
}
