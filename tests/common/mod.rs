//! Shared helpers for the tests that drive the real binary in temp dirs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

pub mod python;

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

    /// The binary run from inside the workspace (so that nothing can land in the repo), no flags.
    pub fn bin(&self) -> Command {
        let mut c = Command::cargo_bin("auto-train").unwrap();
        c.current_dir(self.path()).env_remove("RUST_LOG");
        c
    }

    /// The binary with --data-dir/--models-dir/--registry pointing into the workspace.
    pub fn cmd(&self) -> Command {
        let mut c = self.bin();
        c.arg("--data-dir")
            .arg(self.data())
            .arg("--models-dir")
            .arg(self.models())
            .arg("--registry")
            .arg(self.registry());
        c
    }

    /// The binary as a plain `std::process::Command` (to spawn it and watch or kill it while it
    /// runs) on the workspace's dirs with `args`, no stdin; stdout and stderr are the caller's.
    pub fn process(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(bin());
        c.current_dir(self.path())
            .env_remove("RUST_LOG")
            .arg("--data-dir")
            .arg(self.data())
            .arg("--models-dir")
            .arg(self.models())
            .arg("--registry")
            .arg(self.registry())
            .args(args)
            .stdin(std::process::Stdio::null());
        c
    }

    /// `auto-train predict --league LEAGUE --fixtures FIXTURES` on the workspace's models and data.
    pub fn predict(&self, league: &str, fixtures: &Path) -> Command {
        let mut c = self.bin();
        c.args(["predict", "--league", league, "--fixtures"])
            .arg(fixtures)
            .arg("--models-dir")
            .arg(self.models())
            .arg("--data-dir")
            .arg(self.data());
        c
    }

    /// `predict` that must succeed: its CSV output as records, the header first.
    pub fn predict_ok(&self, league: &str, fixtures: &Path) -> Vec<csv::StringRecord> {
        let out = self.predict(league, fixtures).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        let mut rows = vec![reader.headers().unwrap().clone()];
        rows.extend(reader.records().map(|r| r.unwrap()));
        rows
    }

    /// `auto-train status` on the workspace's data, models and registry.
    pub fn status(&self) -> Command {
        let mut c = self.bin();
        c.arg("status")
            .arg("--data-dir")
            .arg(self.data())
            .arg("--models-dir")
            .arg(self.models())
            .arg("--registry")
            .arg(self.registry());
        c
    }

    /// `status --json` that must run to the end (exit 0, or 1 when a model is damaged), parsed;
    /// the document's `exit_code` is the process's.
    pub fn status_json(&self) -> serde_json::Value {
        let out = self.status().arg("--json").output().unwrap();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["exit_code"], code.unwrap());
        doc
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
    registry_keys_in(&std::fs::read_to_string(path).unwrap())
}

/// Keys of a registry text in order, without validating uniqueness.
pub fn registry_keys_in(text: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
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

/// A CSV file's header and rows (all text).
pub fn read_csv_table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// Writes `header` and `rows` as a CSV file, creating parent directories.
pub fn write_csv_rows(path: &Path, header: &[String], rows: &[Vec<String>]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(header).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
}

/// The first `n` data rows (plus header) of a fixture file.
pub fn head_of(fixture: &str, n: usize) -> String {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    text.lines().take(n + 1).collect::<Vec<_>>().join("\n") + "\n"
}

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_auto-train"))
}

/// Copies every file of a fixture folder into `to`, with the `Div` code of every data row
/// rewritten to `code` (real rows under another league).
pub fn copy_with_div(fixture_dir: &str, code: &str, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(fixtures().join(fixture_dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.lines().enumerate() {
            if i == 0 {
                out.push_str(line);
            } else {
                let (_, rest) = line.split_once(',').unwrap();
                out.push_str(code);
                out.push(',');
                out.push_str(rest);
            }
            out.push('\n');
        }
        std::fs::write(to.join(f.file_name().unwrap()), out).unwrap();
    }
}

/// Hidden temporary names (`.*.auto-train-tmp-*`) under `models/leagues`, up to three levels
/// deep (league, model dir, file), as paths relative to the models dir.
pub fn temp_leftovers(models: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let is_temp = |n: &str| n.starts_with('.') && n.contains(".auto-train-tmp-");
    let root = models.join("leagues");
    for l in names(&root) {
        if is_temp(&l) {
            out.push(format!("leagues/{l}"));
            continue;
        }
        for m in names(&root.join(&l)) {
            if is_temp(&m) {
                out.push(format!("leagues/{l}/{m}"));
                continue;
            }
            for f in names(&root.join(&l).join(&m)) {
                if is_temp(&f) {
                    out.push(format!("leagues/{l}/{m}/{f}"));
                }
            }
        }
    }
    out
}

/// Checks that a poisson_v2 model directory is complete: its three files, metrics.json and the
/// manifest parse, and the model loads. Panics with `context` otherwise.
pub fn assert_complete_poisson_dir(dir: &Path, context: &str) {
    for f in [
        "poisson_model.pkl",
        "metrics.json",
        "auto_train_manifest.json",
    ] {
        assert!(
            dir.join(f).is_file(),
            "{context}: {} lacks {f}",
            dir.display()
        );
    }
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap())
            .unwrap_or_else(|e| panic!("{context}: metrics.json of {}: {e}", dir.display()));
    assert_eq!(metrics["model_type"], "poisson_v2", "{context}");
    let _: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("auto_train_manifest.json")).unwrap())
            .unwrap_or_else(|e| panic!("{context}: manifest of {}: {e}", dir.display()));
    let ty = auto_train::models::by_name("poisson_v2").unwrap();
    if let Err(e) = ty.load(dir) {
        panic!("{context}: {} does not load: {e:#}", dir.display());
    }
}

/// Validates a registry file the way the tool does (valid JSON of the right shape, no key
/// twice) and returns its keys in order.
pub fn valid_registry_keys(path: &Path, context: &str) -> Vec<String> {
    if let Err(e) = auto_train::store::registry::Registry::load(path) {
        panic!("{context}: {e}");
    }
    registry_keys(path)
}

/// Writes every row of a fixture folder (all seasons, in order) as one compact CSV file with
/// the core columns and the Bet365 1X2 odds, under the division code `code`: real rows, loaded
/// much faster than the ~100-column originals.
pub fn compact_league(fixture_dir: &str, code: &str, to: &Path) {
    const COLUMNS: [&str; 9] = [
        "Date", "HomeTeam", "AwayTeam", "FTHG", "FTAG", "FTR", "B365H", "B365D", "B365A",
    ];
    let mut files: Vec<_> = std::fs::read_dir(fixtures().join(fixture_dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = format!("Div,{}\n", COLUMNS.join(","));
    for f in files {
        let mut reader = csv::Reader::from_path(&f).unwrap();
        let header = reader.headers().unwrap().clone();
        let idx: Vec<usize> = COLUMNS
            .iter()
            .map(|c| header.iter().position(|h| h == *c).unwrap())
            .collect();
        for record in reader.records() {
            let record = record.unwrap();
            out.push_str(code);
            for &i in &idx {
                out.push(',');
                out.push_str(&record[i]);
            }
            out.push('\n');
        }
    }
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, out).unwrap();
}

/// The row of `status --json` for a league and model type.
pub fn status_row<'a>(s: &'a serde_json::Value, league: &str, ty: &str) -> &'a serde_json::Value {
    s["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["league"] == league && r["model_type"] == ty)
        .unwrap_or_else(|| panic!("no status row {league} {ty}: {s:#}"))
}

/// The result of a league and model type in a run's JSON summary.
pub fn result_row<'a>(
    summary: &'a serde_json::Value,
    league: &str,
    ty: &str,
) -> &'a serde_json::Value {
    summary["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["league"] == league && r["model_type"] == ty)
        .unwrap_or_else(|| panic!("no result {league} {ty}: {summary:#}"))
}

/// A model file of another tool: what `pickle.dumps(obj, protocol=4)` writes for an object of
/// scikit-learn's `LogisticRegression` class (`C = 1.0`, `coef_ = [[0.5, -0.25]]`), as the old
/// Python service's models are. Well-formed, and not this tool's: left alone, never damaged.
pub const OTHER_TOOL_PICKLE: &[u8] = b"\x80\x04\x95o\x00\x00\x00\x00\x00\x00\x00\x8c\x1esklearn.linear_model._logistic\x94\x8c\x12LogisticRegression\x94\x93\x94)\x81\x94}\x94(\x8c\x01C\x94G?\xf0\x00\x00\x00\x00\x00\x00\x8c\x05coef_\x94]\x94]\x94(G?\xe0\x00\x00\x00\x00\x00\x00G\xbf\xd0\x00\x00\x00\x00\x00\x00eaub.";
