//! Criterion benches of the hot pieces of a training run, on the shipped data:
//! loading `data/processed` (every column, and only the required ones as detection does), the
//! shared feature pass, one Dixon-Coles fit, one logistic fit (as shipped, and linfa-logistic
//! from its own zero start for comparison), and the training of one league for each model type
//! through the `ModelType` seam. Kept short (small samples) so that `cargo bench` finishes in
//! about a minute and a half on 2 cores.
//!
//! ```sh
//! cargo bench --bench hot_paths                 # all
//! cargo bench --bench hot_paths -- load         # one group
//! ```

use std::path::Path;
use std::time::Duration;

use auto_train::data::matches::LeagueMatches;
use auto_train::data::{load_data_dir, load_data_dir_with, Columns};
use auto_train::features::{FeatureCache, LeagueRows};
use auto_train::models::draw_specialist::DrawSpecialist;
use auto_train::models::model_type::{ModelType, TrainContext};
use auto_train::models::one_x_two_v2::OneXTwoV2;
use auto_train::models::poisson_v2::{self, PoissonV2};
use auto_train::stats::dixon_coles;
use criterion::{criterion_group, criterion_main, Criterion};

// The binary's allocator (src/main.rs), so that the figures are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/processed");
const LEAGUE: &str = "premier_league";
const XI: f64 = 0.0018;

fn league() -> (auto_train::data::matches::Dataset, LeagueMatches) {
    let loaded = load_data_dir(Path::new(DATA_DIR)).expect("data/processed loads");
    let league = loaded
        .dataset
        .league(LEAGUE)
        .expect("premier_league in data/processed")
        .clone();
    (loaded.dataset, league)
}

fn bench_load(c: &mut Criterion) {
    let mut g = c.benchmark_group("load");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.bench_function("load_data_dir(data/processed)", |b| {
        b.iter(|| load_data_dir(Path::new(DATA_DIR)).expect("loads"))
    });
    g.bench_function("load_data_dir_with(data/processed, Required)", |b| {
        b.iter(|| load_data_dir_with(Path::new(DATA_DIR), Columns::Required).expect("loads"))
    });
    g.finish();
}

/// One binary logistic fit as 1x2_v2 makes it: the home-win model on the rating features of
/// every premier_league row, standardised, alpha 1 (the weakest penalty, the slowest case).
fn bench_logistic(c: &mut Criterion) {
    use auto_train::stats::logistic::{self, Standardiser};
    use linfa::prelude::*;
    let dataset = load_data_dir(Path::new(DATA_DIR))
        .expect("data loads")
        .dataset;
    let league = dataset.league(LEAGUE).expect("league");
    let rows = FeatureCache::new()
        .league_rows(&dataset, league)
        .expect("features");
    let names: Vec<String> = auto_train::models::one_x_two_v2::BASE_FEATURES
        .iter()
        .map(|s| s.to_string())
        .collect();
    let raw = auto_train::features::select_rows(&rows.raw, &names).expect("features");
    let x = Standardiser::fit(&raw, names.len())
        .matrix(&raw)
        .expect("matrix");
    let y: Vec<bool> = rows.outcomes.iter().map(|&o| o == 0).collect();
    let targets: ndarray::Array1<usize> = y.iter().map(|&b| b as usize).collect();
    let mut g = c.benchmark_group("logistic");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function(
        "fit_binary (Newton start, linfa-logistic) 8 features",
        |b| {
            b.iter(|| {
                logistic::fit_binary(&x, &y, 1.0, None, None, logistic::Polish::Exact)
                    .expect("fits")
            })
        },
    );
    g.bench_function("linfa-logistic from zero, 8 features", |b| {
        b.iter(|| {
            linfa_logistic::LogisticRegression::default()
                .alpha(1.0)
                .max_iterations(200)
                .gradient_tolerance(1e-3)
                .fit(&linfa::Dataset::new(x.clone(), targets.clone()))
                .expect("fits")
        })
    });
    g.finish();
}

fn bench_fit(c: &mut Criterion) {
    let (_, league) = league();
    let (_, data) = poisson_v2::goals_data(&league.matches, XI);
    let mut g = c.benchmark_group("fit");
    g.sample_size(20).measurement_time(Duration::from_secs(3));
    g.bench_function("dixon_coles::fit premier_league xi=0.0018", |b| {
        b.iter(|| dixon_coles::fit(&data, None).expect("fits"))
    });
    g.finish();
}

fn bench_train(c: &mut Criterion) {
    let (dataset, league) = league();
    let mut g = c.benchmark_group("train");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    for (name, xi) in [
        ("fixed xi 0.0018", Some(XI)),
        ("xi chosen by validation", None),
    ] {
        g.bench_function(format!("poisson_v2 premier_league, {name}"), |b| {
            b.iter(|| {
                let ctx = TrainContext {
                    league: &league,
                    dataset: &dataset,
                    xi_per_day: xi,
                    strength_ridge: None,
                    total_ridge: None,
                    market_weight: None,
                    selection: Default::default(),
                    trained_date: "2000-01-01 00:00:00",
                    features: &FeatureCache::new(),
                    warm_start: None,
                };
                PoissonV2.train(&ctx).expect("trains")
            })
        });
    }
    g.finish();
}

/// The feature pass over every match of every league (shared by 1x2_v2 and draw_specialist).
fn bench_features(c: &mut Criterion) {
    let dataset = load_data_dir(Path::new(DATA_DIR))
        .expect("data loads")
        .dataset;
    let mut g = c.benchmark_group("features");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("all leagues, one pass", |b| {
        b.iter(|| LeagueRows::build_all(&dataset).expect("features"))
    });
    g.finish();
}

/// 1x2_v2 and draw_specialist training of one league, features already computed (as for every
/// league after the first in a run).
fn bench_train_feature_models(c: &mut Criterion) {
    let dataset = load_data_dir(Path::new(DATA_DIR))
        .expect("data loads")
        .dataset;
    let league = dataset.league(LEAGUE).expect("league");
    let features = FeatureCache::new();
    features.league_rows(&dataset, league).expect("features");
    let ctx = TrainContext {
        league,
        dataset: &dataset,
        xi_per_day: None,
        strength_ridge: None,
        total_ridge: None,
        market_weight: None,
        selection: Default::default(),
        trained_date: "2000-01-01 00:00:00",
        features: &features,
        warm_start: None,
    };
    let mut g = c.benchmark_group("train");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.bench_function("1x2_v2 premier_league", |b| {
        b.iter(|| OneXTwoV2.train(&ctx).expect("trains"))
    });
    g.bench_function("draw_specialist premier_league", |b| {
        b.iter(|| DrawSpecialist.train(&ctx).expect("trains"))
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_load,
    bench_features,
    bench_fit,
    bench_logistic,
    bench_train,
    bench_train_feature_models
);
criterion_main!(benches);
