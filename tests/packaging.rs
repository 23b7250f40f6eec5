//! Set-up facts a newcomer relies on, checked against the files that state them: the declared
//! MSRV (`rust-version`) is one the locked dependencies build with, the README says the same
//! Rust version, the licence Cargo.toml names is in LICENSE, the version has its CHANGELOG
//! release, what a run writes at the top of the repo is ignored by git, and the quick start's
//! sample fixtures predict.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `1.95` or `1.95.0` as comparable numbers (a missing patch is 0).
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().unwrap());
    let major = parts.next().unwrap();
    let minor = parts.next().unwrap_or(0);
    let patch = parts.next().unwrap_or(0);
    (major, minor, patch)
}

/// The locked dependency graph as `cargo metadata` resolves it from Cargo.lock (`--locked`:
/// fails rather than re-resolve), every platform and dev-dependencies included.
fn metadata() -> serde_json::Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(repo().join("Cargo.toml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn rust_version_is_one_the_locked_packages_build_with() {
    let meta = metadata();
    let packages = meta["packages"].as_array().unwrap();
    let ours = packages
        .iter()
        .find(|p| p["name"] == "auto-train" && p["source"].is_null())
        .expect("the root package");
    let declared = ours["rust_version"]
        .as_str()
        .expect("Cargo.toml declares rust-version");
    let mut needed = (0, 0, 0);
    let mut higher = Vec::new();
    for p in packages.iter().filter(|p| !p["source"].is_null()) {
        let Some(rv) = p["rust_version"].as_str() else {
            continue;
        };
        needed = needed.max(version(rv));
        if version(rv) > version(declared) {
            let (name, v) = (p["name"].as_str().unwrap(), p["version"].as_str().unwrap());
            higher.push(format!("{name} {v} needs {rv}"));
        }
    }
    assert!(
        packages.len() > 100,
        "{} packages: not the whole lock",
        packages.len()
    );
    assert!(
        higher.is_empty(),
        "Cargo.toml says rust-version = {declared:?}, but locked packages need more: {higher:?}"
    );
    // The README's prerequisite is the same Rust version.
    let (major, minor, _) = needed.max(version(declared));
    let readme = read("README.md");
    assert!(
        readme.contains(&format!("Rust {major}.{minor} or newer")),
        "README's Install section should say Rust {major}.{minor} or newer"
    );
    assert!(readme.contains("cargo install --locked --path ."));
}

#[test]
fn license_and_version_match_cargo_toml() {
    let manifest = read("Cargo.toml");
    assert!(
        manifest.contains("license = \"MIT\""),
        "Cargo.toml names MIT"
    );
    let license = read("LICENSE");
    assert!(license.starts_with("MIT License\n"), "{license}");
    assert!(license.contains("Permission is hereby granted, free of charge"));

    // The version has its release in the CHANGELOG, right below the Unreleased heading.
    let changelog = read("CHANGELOG.md");
    let releases: Vec<&str> = changelog
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .collect();
    assert_eq!(releases.first(), Some(&"Unreleased"), "{releases:?}");
    let release = releases.get(1).copied().unwrap_or_default();
    let number = release.split_whitespace().next().unwrap_or_default();
    assert_eq!(number, env!("CARGO_PKG_VERSION"), "{releases:?}");
    // And the binary says so.
    let out = assert_cmd::Command::cargo_bin("auto-train")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("auto-train {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// `git check-ignore` on the paths a run writes with the default flags, from the top of the
/// repo (the README's quick start): all ignored, and the registry is not tracked.
#[test]
fn what_a_run_writes_at_the_top_is_ignored() {
    let written = [
        "registry.json",
        ".registry.json.lock",
        ".registry.json.auto-train-tmp-1-0",
        "models/.auto-train.lock",
        "models/leagues/premier_league/poisson_v2/poisson_model.pkl",
        "models/leagues/.poisson_v2.auto-train-tmp-1-0/x",
        "models/leagues/premier_league/poisson_v2@2/metrics.json",
    ];
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(repo())
            .args(args)
            .output()
            .expect("git (the tests run in a clone)")
    };
    for path in written {
        let out = git(&["check-ignore", "--no-index", "-q", path]);
        assert_eq!(out.status.code(), Some(0), "{path} is not ignored");
    }
    // The layout stays visible, and nothing that is code or data is ignored.
    for path in [
        "models/leagues/.gitkeep",
        "data/processed/E0/2022-23.csv",
        "examples/fixtures_premier_league.csv",
    ] {
        let out = git(&["check-ignore", "--no-index", "-q", path]);
        assert_eq!(out.status.code(), Some(1), "{path} is ignored");
    }
    let out = git(&["ls-files", "--", "registry.json", "models"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "models/leagues/.gitkeep\n",
        "tracked at the top: only the layout's placeholder"
    );
    assert!(Path::new(&repo().join("examples/fixtures_premier_league.csv")).is_file());
}

/// The README's quick start: train, then predict `examples/fixtures_premier_league.csv`. Every
/// fixture gets a row, in file order, with every model type's probabilities.
#[test]
fn the_sample_fixtures_predict() {
    let ws = common::Workspace::new(&["E0"]);
    let out = ws.cmd().arg("-q").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sample = repo().join("examples/fixtures_premier_league.csv");
    let rows = ws.predict_ok("premier_league", &sample);
    let header: Vec<&str> = rows[0].iter().collect();
    for column in [
        "date",
        "home_team",
        "away_team",
        "1x2_v2_home",
        "poisson_v2_home",
        "draw_specialist_draw",
    ] {
        assert!(header.contains(&column), "{header:?}");
    }
    let mut reader = csv::Reader::from_path(&sample).unwrap();
    let fixtures: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(fixtures.len(), 10);
    assert_eq!(rows.len(), fixtures.len() + 1);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for (row, fixture) in rows[1..].iter().zip(&fixtures) {
        assert_eq!(&row[col("home_team")], &fixture[1]);
        assert_eq!(&row[col("away_team")], &fixture[2]);
        assert!(row[col("date")].starts_with("2023-08-1"), "{row:?}");
        for model in ["1x2_v2", "poisson_v2"] {
            let sum: f64 = ["home", "draw", "away"]
                .iter()
                .map(|o| row[col(&format!("{model}_{o}"))].parse::<f64>().unwrap())
                .sum();
            assert!((sum - 1.0).abs() < 1e-6, "{model}: {row:?}");
        }
    }
}
