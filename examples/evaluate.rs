//! Out-of-sample evaluation of `1x2_v2` and `draw_specialist` on real data: for each of eight
//! leagues, train on seasons up to 2021-22 and predict every 2022-23 match (features from the
//! matches strictly before it plus its own pre-match odds), with and without odds columns, and
//! compare with base rates and the Pinnacle opening market on the same matches.
//! Run: `cargo run --release --example evaluate [data_dir]`.

#[path = "../tests/model_support/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use auto_train::data::date::Date;
use auto_train::data::matches::{Dataset, LeagueMatches};
use auto_train::features::benchmark_market_probs;
use auto_train::models::model_type::{Fixture, ModelType, TrainContext};
use auto_train::models::{draw_specialist::DrawSpecialist, one_x_two_v2::OneXTwoV2};
use auto_train::stats::metrics::{auc, base_rates, score_1x2, score_binary};

const LEAGUES: &[&str] = &["E0", "SP1", "I1", "D1", "F1", "N1", "P1", "E1"];
const ALL: &[&str] = &["E0", "E1", "SP1", "I1", "D1", "F1", "N1", "P1", "SC0", "B1"];

fn write(dir: &Path, files: &[auto_train::models::model_type::ModelFile]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in files {
        std::fs::write(dir.join(&f.name), &f.bytes)?;
    }
    Ok(())
}

fn train_view(full: &Dataset, cut: Date) -> Dataset {
    let mut ds = Dataset::default();
    for (k, l) in &full.leagues {
        let m: Vec<_> = l.matches.iter().filter(|m| m.date < cut).cloned().collect();
        ds.leagues.insert(
            k.clone(),
            LeagueMatches {
                league: k.clone(),
                matches: m,
            },
        );
    }
    ds
}

struct Row {
    rps: f64,
    ll: f64,
    acc: f64,
    mkt_rps: f64,
    base_rps: f64,
    n: usize,
    d_auc: f64,
    d_ll: f64,
    d_const_ll: f64,
    d_mkt_auc: f64,
    d_mkt_ll: f64,
    ms_1x2: f64,
    ms_draw: f64,
}

fn run(full: &Dataset, odds_full: &Dataset, div: &str, tmp: &Path) -> Result<Row> {
    let slug = common::slug(div);
    let cut = Date::season_start(season());
    let train_ds = train_view(full, cut);
    let league = train_ds.league(&slug).context("league")?;
    let ctx = TrainContext {
        league,
        dataset: &train_ds,
        xi_per_day: None,
        strength_ridge: None,
        total_ridge: None,
        market_weight: None,
        selection: Default::default(),
        trained_date: "2023-07-01 00:00:00",
        features: &auto_train::features::FeatureCache::new(),
        warm_start: None,
    };
    let t = Instant::now();
    let m = OneXTwoV2.train(&ctx)?;
    let ms_1x2 = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let d = DrawSpecialist.train(&ctx)?;
    let ms_draw = t.elapsed().as_secs_f64() * 1e3;
    let dir1 = tmp.join(format!("{slug}_1x2"));
    let dir2 = tmp.join(format!("{slug}_draw"));
    write(&dir1, &m.files)?;
    write(&dir2, &d.files)?;
    let p1 = OneXTwoV2.load(&dir1)?;
    let p2 = DrawSpecialist.load(&dir2)?;

    let test: Vec<_> = full
        .league(&slug)
        .context("league")?
        .matches
        .iter()
        .filter(|m| m.date >= cut)
        .collect();
    let odds_test: Vec<_> = odds_full
        .league(&slug)
        .context("league")?
        .matches
        .iter()
        .filter(|m| m.date >= cut)
        .collect();
    let fixtures: Vec<Fixture> = test
        .iter()
        .map(|m| Fixture {
            date: m.date,
            home: m.home.clone(),
            away: m.away.clone(),
            extras: m.extras.clone(),
        })
        .collect();
    let probs = p1.predict(&fixtures, full, &slug)?;
    let draws = p2.predict(&fixtures, full, &slug)?;
    let y: Vec<usize> = test.iter().map(|m| m.outcome()).collect();
    // Same matches: those with a benchmark market price.
    let mut idx = Vec::new();
    let mut mk = Vec::new();
    for (i, m) in odds_test.iter().enumerate() {
        if let Some(p) = benchmark_market_probs(&m.extras) {
            idx.push(i);
            mk.push(p);
        }
    }
    let pm: Vec<[f64; 3]> = idx
        .iter()
        .map(|&i| [probs[i][0], probs[i][1], probs[i][2]])
        .collect();
    let ym: Vec<usize> = idx.iter().map(|&i| y[i]).collect();
    let s = score_1x2(&pm, &ym);
    let sm = score_1x2(&mk, &ym);
    let train_y: Vec<usize> = league.matches.iter().map(|m| m.outcome()).collect();
    let br = base_rates(&train_y);
    let sb = score_1x2(&vec![br; ym.len()], &ym);
    let yd: Vec<bool> = ym.iter().map(|&o| o == 1).collect();
    let pd: Vec<f64> = idx.iter().map(|&i| draws[i][0]).collect();
    let sd = score_binary(&pd, &yd);
    let sc = score_binary(&vec![br[1]; yd.len()], &yd);
    let mkd: Vec<f64> = mk.iter().map(|p| p[1]).collect();
    let smd = score_binary(&mkd, &yd);
    for p in &probs {
        let sum: f64 = p.iter().sum();
        anyhow::ensure!((sum - 1.0).abs() < 1e-9, "probabilities sum to {sum}");
    }
    Ok(Row {
        rps: s.rps,
        ll: s.log_loss,
        acc: s.accuracy,
        mkt_rps: sm.rps,
        base_rps: sb.rps,
        n: ym.len(),
        d_auc: sd.auc.unwrap_or(f64::NAN),
        d_ll: sd.log_loss,
        d_const_ll: sc.log_loss,
        d_mkt_auc: auc(&mkd, &yd).unwrap_or(f64::NAN),
        d_mkt_ll: smd.log_loss,
        ms_1x2,
        ms_draw,
    })
}

/// The test season (`EVAL_SEASON`, default 2022 = 2022-23); earlier ones serve model selection.
fn season() -> i32 {
    std::env::var("EVAL_SEASON")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2022)
}

fn main() -> Result<()> {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("/work/shared/data/football-data".into()),
    );
    let with_odds = common::load_dir(&root, ALL, true, None)?;
    let without = common::load_dir(&root, ALL, false, None)?;
    let tmp = std::env::temp_dir().join(format!("x12_eval_{}", std::process::id()));
    for (label, ds) in [("with odds", &with_odds), ("without odds", &without)] {
        println!(
            "== 1x2_v2 and draw_specialist, {label} (test season {}, same matches as the market) ==",
            season()
        );
        println!("{:<4} {:>4} {:>7} {:>7} {:>6} {:>8} {:>8} | {:>6} {:>6} {:>7} {:>7} {:>7} | {:>6} {:>6}",
            "div", "n", "rps", "logl", "acc", "mkt_rps", "base", "d_auc", "m_auc", "d_ll", "c_ll", "m_ll", "ms1x2", "msdraw");
        let mut sums = [0.0; 10];
        for div in LEAGUES {
            let r = run(ds, &with_odds, div, &tmp)?;
            println!("{:<4} {:>4} {:>7.4} {:>7.4} {:>6.3} {:>8.4} {:>8.4} | {:>6.3} {:>6.3} {:>7.4} {:>7.4} {:>7.4} | {:>6.0} {:>6.0}",
                div, r.n, r.rps, r.ll, r.acc, r.mkt_rps, r.base_rps, r.d_auc, r.d_mkt_auc, r.d_ll, r.d_const_ll, r.d_mkt_ll, r.ms_1x2, r.ms_draw);
            for (s, v) in sums.iter_mut().zip([
                r.rps,
                r.ll,
                r.acc,
                r.mkt_rps,
                r.base_rps,
                r.d_auc,
                r.d_mkt_auc,
                r.d_ll,
                r.d_const_ll,
                r.d_mkt_ll,
            ]) {
                *s += v / LEAGUES.len() as f64;
            }
        }
        println!("mean      {:>7.4} {:>7.4} {:>6.3} {:>8.4} {:>8.4} | {:>6.4} {:>6.4} {:>7.4} {:>7.4} {:>7.4}",
            sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6], sums[7], sums[8], sums[9]);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
