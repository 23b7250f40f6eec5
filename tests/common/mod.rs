//! Shared helpers for the tests that drive the real binary in temp dirs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temp workspace: `data/` with copies of the named fixture folders, `models/`, `registry.json`.
pub struct Workspace {
    pub dir: TempDir,
}

impl Workspace {
    pub fn new(fixture_dirs: &[&str]) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("data")).unwrap();
        for name in fixture_dirs {
            copy_dir(&fixtures().join(name), &dir.path().join("data").join(name));
        }
        Workspace { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn data(&self) -> PathBuf {
        self.path().join("data")
    }
    pub fn models(&self) -> PathBuf {
        self.path().join("models")
    }
    pub fn registry(&self) -> PathBuf {
        self.path().join("registry.json")
    }
    pub fn model_dir(&self, league: &str, ty: &str) -> PathBuf {
        self.models().join("leagues").join(league).join(ty)
    }

    /// The binary with --data-dir/--models-dir/--registry pointing into the workspace, run from
    /// inside it so that nothing can land in the repo.
    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("auto-train").unwrap();
        c.current_dir(self.path())
            .env_remove("RUST_LOG")
            .arg("--data-dir")
            .arg(self.data())
            .arg("--models-dir")
            .arg(self.models())
            .arg("--registry")
            .arg(self.registry());
        c
    }

    /// Runs with `--json` plus `args`; returns (exit code, parsed summary, stderr).
    pub fn run_json(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        let out = self.cmd().arg("--json").args(args).output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}): {}\nstderr: {stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (code, json, stderr)
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file and directory under `root` with its bytes (directories map to None).
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        let Ok(read) = std::fs::read_dir(dir) else {
            return;
        };
        for e in read {
            let e = e.unwrap();
            let p = e.path();
            let rel = p.strip_prefix(root).unwrap().to_path_buf();
            if e.file_type().unwrap().is_dir() {
                out.insert(rel, None);
                walk(root, &p, out);
            } else {
                out.insert(rel, Some(std::fs::read(&p).unwrap()));
            }
        }
    }
    walk(root, root, &mut out);
    out
}

/// Results of the JSON summary as (league, model_type) -> status.
pub fn statuses(summary: &serde_json::Value) -> BTreeMap<(String, String), String> {
    summary["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                (
                    r["league"].as_str().unwrap().to_string(),
                    r["model_type"].as_str().unwrap().to_string(),
                ),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Registry keys in file order.
pub fn registry_keys(path: &Path) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap().to_string())
        .collect()
}

/// Writes `rows` (header first) as a CSV file, creating parent directories.
pub fn write_csv(path: &Path, rows: &[&str]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, rows.join("\n") + "\n").unwrap();
}

/// The first `n` data rows (plus header) of a fixture file.
pub fn head_of(fixture: &str, n: usize) -> String {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    text.lines().take(n + 1).collect::<Vec<_>>().join("\n") + "\n"
}
