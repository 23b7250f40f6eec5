//! Registry and models dir faults beyond tests/run.rs: a registry cut short, empty, not JSON, of
//! the wrong shape, holding a key twice; a models dir or registry that cannot be written. Tests
//! run as root in CI, where permission bits stop nothing, so "cannot be written" is made with
//! paths that are in the way (a regular file where a directory must be, a directory where a
//! file must be) and, where the filesystem and capabilities allow it, `chattr +i`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const POISSON: &[&str] = &["--model-type", "poisson_v2"];

/// A valid registry written by a real run (two entries), as bytes.
fn real_registry() -> Vec<u8> {
    let ws = Workspace::new(&["N1"]);
    compact_league("D1", "D1", &ws.data().join("D1/all.csv"));
    ws.cmd().args(POISSON).assert().code(0);
    assert_eq!(registry_keys(&ws.registry()).len(), 2);
    std::fs::read(ws.registry()).unwrap()
}

/// The models dir holds nothing but the run lock (nothing was trained or half-written).
fn assert_nothing_trained(ws: &Workspace, context: &str) {
    let names: Vec<String> = std::fs::read_dir(ws.models())
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        names.iter().all(|n| n == ".auto-train.lock"),
        "{context}: {names:?}"
    );
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn every_invalid_registry_is_refused_with_exit_2_and_left_byte_identical() {
    let real = real_registry();
    let n = real.len();
    let mut cases: Vec<(String, Vec<u8>, &str)> = Vec::new();
    for cut in [1, n / 4, n / 2, 3 * n / 4, n - 2] {
        cases.push((
            format!("cut to {cut} of {n} bytes"),
            real[..cut].to_vec(),
            "not a JSON object",
        ));
    }
    for (name, bytes, problem) in [
        ("empty", &b""[..], "the file is empty"),
        ("whitespace", b" \n\t\r\n", "the file is empty"),
        ("yaml", b"models:\n  - key: x\n", "not a JSON object"),
        (
            "binary",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            "not a JSON object",
        ),
        ("nul", b"\0", "not a JSON object"),
        ("null", b"null", "not a JSON object"),
        ("string", b"\"models\"", "not a JSON object"),
        ("list", b"[{\"key\": \"a\"}]", "not a JSON object"),
        (
            "models null",
            b"{\"models\": null}",
            "\"models\" is not a list",
        ),
        (
            "models text",
            b"{\"models\": \"a\"}",
            "\"models\" is not a list",
        ),
        (
            "number entry",
            b"{\"models\": [1]}",
            "entry 1 is not an object",
        ),
        (
            "list entry",
            b"{\"models\": [[]]}",
            "entry 1 is not an object",
        ),
        (
            "numeric key",
            b"{\"models\": [{\"key\": \"a\"}, {\"key\": 5}]}",
            "entry 2 has no string \"key\"",
        ),
        (
            "models twice",
            b"{\"models\": [], \"models\": [{\"key\": \"a\"}]}",
            "\"models\" cannot be read",
        ),
        (
            "trailing junk",
            b"{\"models\": []} {\"models\": []}",
            "not a JSON object",
        ),
    ] {
        cases.push((name.to_string(), bytes.to_vec(), problem));
    }
    // A registry with a BOM is not JSON: refused (rather than rewritten without it), saying so.
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(&real);
    cases.push(("BOM".into(), bom, "starts with a UTF-8 byte-order mark"));
    // A real registry whose second entry was pasted in again.
    let text = String::from_utf8(real.clone()).unwrap();
    let start = text.find("{\n      \"key\"").unwrap();
    let end = text.rfind("\n  ]").unwrap();
    let entries = &text[start..end];
    let second = &entries[entries.rfind(",\n    {").unwrap() + 2..];
    let dup = text.replace(entries, &format!("{entries},\n{second}"));
    assert_eq!(registry_keys_in(&dup).len(), 3);
    cases.push((
        "duplicate key".into(),
        dup.into_bytes(),
        "appears more than once",
    ));

    for (name, bytes, problem) in &cases {
        for dry in [false, true] {
            let ws = Workspace::new(&["N1"]);
            std::fs::write(ws.registry(), bytes).unwrap();
            let mut cmd = ws.cmd();
            cmd.args(POISSON);
            if dry {
                cmd.arg("--dry-run");
            }
            let out = cmd.output().unwrap();
            let stderr = stderr_of(&out);
            let context = format!("{name} (dry run: {dry}): {stderr}");
            assert_eq!(out.status.code(), Some(2), "{context}");
            assert!(stderr.contains(problem), "{context}");
            assert!(
                stderr.contains(&ws.registry().display().to_string()),
                "{context}"
            );
            assert!(!stderr.contains("panicked"), "{context}");
            assert_eq!(&std::fs::read(ws.registry()).unwrap(), bytes, "{context}");
            assert_nothing_trained(&ws, &context);
            assert!(temp_leftovers(&ws.models()).is_empty());
            // Nothing beside the registry either (no temp file, no registry lock).
            let mut names: Vec<String> = std::fs::read_dir(ws.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
                .collect();
            names.sort();
            let expected: &[&str] = if dry {
                &["data", "registry.json"]
            } else {
                &["data", "models", "registry.json"]
            };
            assert_eq!(names, expected, "{context}");
        }
    }
}

/// The models dir path is a regular file: the run cannot create it. Found: exit 1 (an I/O
/// error while preparing the run), before the registry is read or anything is trained.
#[test]
fn models_dir_that_is_a_file() {
    let ws = Workspace::new(&["N1"]);
    std::fs::write(ws.models(), b"not a directory").unwrap();
    let out = ws.cmd().args(POISSON).output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("creating directory"), "{stderr}");
    assert!(
        stderr.contains(&ws.models().display().to_string()),
        "{stderr}"
    );
    assert_eq!(std::fs::read(ws.models()).unwrap(), b"not a directory");
    assert!(!ws.registry().exists());
    // A dry run writes nothing, so it still works and reports would_train.
    let (code, summary, _) = ws.run_json(&["--model-type", "poisson_v2", "--dry-run"]);
    assert_eq!(code, 0);
    assert_eq!(
        statuses(&summary)[&("eredivisie".into(), "poisson_v2".into())],
        "would_train"
    );
}

/// `<models>/leagues` is a file: every model fails to be written (exit 1), each failure names
/// the path, nothing is registered and no temporary leftover remains.
#[test]
fn leagues_dir_that_is_a_file() {
    let ws = Workspace::new(&["N1"]);
    compact_league("D1", "D1", &ws.data().join("D1/all.csv"));
    std::fs::create_dir_all(ws.models()).unwrap();
    std::fs::write(ws.models().join("leagues"), b"x").unwrap();
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 1, "{stderr}");
    for r in summary["results"].as_array().unwrap() {
        assert_eq!(r["status"], "failed", "{r}");
        assert!(r["reason"].as_str().unwrap().contains("leagues"), "{r}");
        assert_eq!(r["registered"], false);
    }
    assert_eq!(summary["totals"]["failed"], 2);
    assert!(stderr.contains("Training failed"), "{stderr}");
    assert_eq!(std::fs::read(ws.models().join("leagues")).unwrap(), b"x");
    // The missing registry is created (documented), empty.
    assert_eq!(registry_keys(&ws.registry()), Vec::<String>::new());
}

/// One league's directory is a file: that league fails, the other trains and is registered.
#[test]
fn one_league_path_in_the_way() {
    let ws = Workspace::new(&["N1"]);
    compact_league("D1", "D1", &ws.data().join("D1/all.csv"));
    std::fs::create_dir_all(ws.models().join("leagues")).unwrap();
    std::fs::write(ws.models().join("leagues/bundesliga"), b"x").unwrap();
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 1);
    let st = statuses(&summary);
    assert_eq!(st[&("bundesliga".into(), "poisson_v2".into())], "failed");
    assert_eq!(st[&("eredivisie".into(), "poisson_v2".into())], "trained");
    assert_eq!(registry_keys(&ws.registry()), ["poisson_v2_eredivisie_v2"]);
    assert_complete_poisson_dir(&ws.model_dir("eredivisie", "poisson_v2"), "eredivisie");
    assert!(temp_leftovers(&ws.models()).is_empty());
}

/// The registry's parent is a regular file, or the registry is a directory: it cannot be read,
/// so the run stops with exit 2 before training.
#[test]
fn registry_path_that_cannot_be_read() {
    let ws = Workspace::new(&["N1"]);
    std::fs::write(ws.path().join("etc"), b"file").unwrap();
    std::fs::create_dir(ws.registry()).unwrap();
    for registry in [ws.path().join("etc/registry.json"), ws.registry()] {
        let out = Command::new(bin())
            .current_dir(ws.path())
            .arg("--data-dir")
            .arg(ws.data())
            .arg("--models-dir")
            .arg(ws.models())
            .arg("--registry")
            .arg(&registry)
            .args(POISSON)
            .output()
            .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("cannot be read"), "{stderr}");
        assert!(stderr.contains(&registry.display().to_string()), "{stderr}");
        assert_nothing_trained(&ws, &stderr);
    }
    assert_eq!(std::fs::read(ws.path().join("etc")).unwrap(), b"file");
}

/// The registry can be read but not updated (its lock path is taken by a directory): the
/// models are in place and complete, the run exits 1 and reports the registry failure and that
/// nothing was registered; the registry is unchanged. Once the obstacle is gone, the next run
/// registers them from their manifests without training again.
#[test]
fn registry_that_cannot_be_updated_is_reported_and_recovered() {
    let ws = Workspace::new(&["N1"]);
    let original = b"{\"models\": [{\"key\": \"foreign\"}]}".to_vec();
    std::fs::write(ws.registry(), &original).unwrap();
    let lock = ws.path().join(".registry.json.lock");
    std::fs::create_dir(&lock).unwrap();
    let (code, summary, stderr) = ws.run_json(POISSON);
    assert_eq!(code, 1, "{stderr}");
    assert!(summary["registry_error"]
        .as_str()
        .unwrap()
        .contains(".registry.json.lock"));
    assert!(stderr.contains("updating the registry"), "{stderr}");
    let r = &summary["results"][0];
    assert_eq!(r["status"], "trained");
    assert_eq!(r["registered"], false);
    assert_eq!(summary["consistent"], false);
    assert_eq!(std::fs::read(ws.registry()).unwrap(), original);
    let dir = ws.model_dir("eredivisie", "poisson_v2");
    assert_complete_poisson_dir(&dir, "unregistered model");
    let text = ws.cmd().args(POISSON).output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("Registry update FAILED"));

    std::fs::remove_dir(&lock).unwrap();
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(summary["totals"]["trained"], 0);
    assert_eq!(
        summary["registry_appended"],
        serde_json::json!(["poisson_v2_eredivisie_v2"])
    );
    assert_eq!(
        registry_keys(&ws.registry()),
        ["foreign", "poisson_v2_eredivisie_v2"]
    );
}

/// Clears the immutable flag again when dropped, so the temp dir can be removed.
struct Immutable(PathBuf);

impl Immutable {
    /// `chattr +i`, or None where it does not work (no chattr, no CAP_LINUX_IMMUTABLE, a
    /// filesystem without the flag) or does not stop a write.
    fn set(path: &Path) -> Option<Immutable> {
        let ok = Command::new("chattr")
            .arg("+i")
            .arg(path)
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return None;
        }
        let guard = Immutable(path.to_path_buf());
        let blocked = if path.is_dir() {
            std::fs::write(path.join("probe"), b"").is_err()
        } else {
            std::fs::OpenOptions::new().append(true).open(path).is_err()
        };
        blocked.then_some(guard)
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = Command::new("chattr").arg("-i").arg(&self.0).status();
    }
}

/// `chattr +i` on the registry and on the models dir (skipped where chattr does not work).
/// Found: an immutable registry fails at the final rename (exit 1, registry error reported,
/// registry unchanged, the registry's temporary file removed, the model complete and
/// recoverable); an immutable models dir fails at its lock file (exit 1, nothing written).
#[test]
fn immutable_registry_and_models_dir_as_root() {
    let ws = Workspace::new(&["N1"]);
    let original = b"{\"models\": []}\n".to_vec();
    std::fs::write(ws.registry(), &original).unwrap();
    {
        let Some(_guard) = Immutable::set(&ws.registry()) else {
            eprintln!("chattr +i does not work here: skipped");
            return;
        };
        let (code, summary, stderr) = ws.run_json(POISSON);
        assert_eq!(code, 1, "{stderr}");
        assert!(summary["registry_error"]
            .as_str()
            .unwrap()
            .contains("registry.json"));
        assert_eq!(summary["results"][0]["registered"], false);
        assert_eq!(std::fs::read(ws.registry()).unwrap(), original);
        assert_complete_poisson_dir(&ws.model_dir("eredivisie", "poisson_v2"), "immutable");
        let mut names: Vec<String> = std::fs::read_dir(ws.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [".registry.json.lock", "data", "models", "registry.json"]
        );
    }
    let (code, summary, _) = ws.run_json(POISSON);
    assert_eq!(code, 0);
    assert_eq!(
        summary["registry_appended"],
        serde_json::json!(["poisson_v2_eredivisie_v2"])
    );

    let ws = Workspace::new(&["N1"]);
    std::fs::create_dir(ws.models()).unwrap();
    {
        let Some(_guard) = Immutable::set(&ws.models()) else {
            return;
        };
        let out = ws.cmd().args(POISSON).output().unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("lock file"), "{stderr}");
        assert_eq!(std::fs::read_dir(ws.models()).unwrap().count(), 0);
        assert!(!ws.registry().exists());
    }
}

#[test]
fn leftover_of_an_interrupted_registry_update_is_reported_and_left() {
    let ws = Workspace::new(&["N1"]);
    std::fs::write(ws.registry(), "{\"models\": []}").unwrap();
    let leftover = ws.path().join(".registry.json.auto-train-tmp-123-456");
    std::fs::write(&leftover, "{\"models\": [").unwrap();
    let (code, summary, stderr) = ws.run_json(&["--model-type", "poisson_v2"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("interrupted registry update"), "{stderr}");
    let listed = summary["untouched"]["leftovers"].as_array().unwrap();
    assert!(
        listed.iter().any(|l| l
            .as_str()
            .unwrap()
            .ends_with(".registry.json.auto-train-tmp-123-456")),
        "{listed:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&leftover).unwrap(),
        "{\"models\": ["
    );
}
