//! Criterion bench of `auto-train predict` for one fixture on the shipped data, in-process: the
//! whole command without its output (fixtures file, every complete model of premier_league, the
//! data dir with the columns the feature pass learns from, one feature pass, the predictions),
//! and its pieces. The models are trained once, before timing, by the binary into a temporary
//! models dir.
//!
//! ```sh
//! cargo bench --bench predict
//! ```

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use auto_train::commands::predict::read_fixtures;
use auto_train::data::matches::Dataset;
use auto_train::data::{load_data_dir_with, Columns};
use auto_train::features::HISTORY_COLUMNS;
use auto_train::models::model_type::{Fixture, Predictor};
use auto_train::store::registry::Registry;
use auto_train::store::versions;
use criterion::{criterion_group, criterion_main, Criterion};

// The binary's allocator (src/main.rs), so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/processed");
const LEAGUE: &str = "premier_league";

/// What `run_predict` reads before predicting: the current version of each model type of the
/// league (registry read, every version checked).
fn load_models(models_dir: &Path, registry: &Path) -> Vec<Box<dyn Predictor>> {
    let registry = Registry::load(registry).expect("the registry the binary wrote");
    auto_train::models::model_types()
        .into_iter()
        .filter_map(|t| {
            let lineage = versions::lineage(models_dir, Some(&registry), LEAGUE, t);
            let current = lineage.current()?;
            Some(
                t.load(&models_dir.join(&current.path))
                    .expect("a model trained by the binary loads"),
            )
        })
        .collect()
}

fn load_data() -> Dataset {
    load_data_dir_with(Path::new(DATA_DIR), Columns::Wanted(HISTORY_COLUMNS))
        .expect("data/processed loads")
        .dataset
}

/// As `run_predict`: one feature pass for every model that reads features.
fn predict_all(models: &[Box<dyn Predictor>], fixtures: &[Fixture], data: &Dataset) -> usize {
    let features =
        auto_train::models::common::fixture_features(data, LEAGUE, fixtures).expect("features");
    models
        .iter()
        .map(|m| m.predict_with(fixtures, &features).expect("predicts").len())
        .sum()
}

fn bench_predict(c: &mut Criterion) {
    let work = tempfile::tempdir().expect("temp dir");
    let models_dir = work.path().join("models");
    let status = Command::new(env!("CARGO_BIN_EXE_auto-train"))
        .args(["-q", "--league", LEAGUE, "--data-dir", DATA_DIR])
        .arg("--models-dir")
        .arg(&models_dir)
        .arg("--registry")
        .arg(work.path().join("registry.json"))
        .status()
        .expect("the binary runs");
    assert!(status.success(), "training premier_league failed");
    let fixtures_path = work.path().join("fixtures.csv");
    std::fs::write(
        &fixtures_path,
        "Date,HomeTeam,AwayTeam,PSH,PSD,PSA\n2023-08-12,Arsenal,Chelsea,1.9,3.6,4.2\n",
    )
    .expect("fixtures written");
    let registry = work.path().join("registry.json");
    let models = load_models(&models_dir, &registry);
    assert_eq!(models.len(), 3, "all three model types of {LEAGUE}");
    let fixtures = read_fixtures(&fixtures_path).expect("fixtures read");
    let data = load_data();

    let mut g = c.benchmark_group("predict one fixture");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.bench_function("whole command (fixtures, models, data, predictions)", |b| {
        b.iter(|| {
            let fixtures = read_fixtures(&fixtures_path).expect("fixtures read");
            let models = load_models(&models_dir, &registry);
            let data = load_data();
            predict_all(&models, &fixtures, &data)
        })
    });
    g.bench_function("data load (required + HISTORY_COLUMNS)", |b| {
        b.iter(load_data)
    });
    g.bench_function("models load (3 types)", |b| {
        b.iter(|| load_models(&models_dir, &registry))
    });
    g.bench_function("predictions (data loaded)", |b| {
        b.iter(|| predict_all(&models, &fixtures, &data))
    });
    g.finish();
}

criterion_group!(benches, bench_predict);
criterion_main!(benches);
