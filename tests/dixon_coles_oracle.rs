//! Oracle test: the time-decay Dixon-Coles fit of the Premier League (E0, 2010-11 to 2022-23)
//! against an independently computed optimum (tests/fixtures/poisson_E0.json).

use auto_train::stats::dixon_coles::{
    fit, fit_single_team, log_prob, weighted_log_likelihood, FitError, GoalsData,
};
use std::collections::BTreeSet;
use std::path::PathBuf;

const XI: f64 = 0.0018;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// dd/mm/yy or dd/mm/yyyy -> days since epoch.
fn parse_date(s: &str) -> i64 {
    let parts: Vec<&str> = s.trim().split('/').collect();
    assert_eq!(parts.len(), 3, "bad date {s:?}");
    let d: i64 = parts[0].parse().unwrap();
    let m: i64 = parts[1].parse().unwrap();
    let mut y: i64 = parts[2].parse().unwrap();
    if parts[2].len() == 2 {
        y += 2000;
    }
    days_from_civil(y, m, d)
}

struct Match {
    day: i64,
    home: String,
    away: String,
    hg: u16,
    ag: u16,
}

fn load_matches() -> Vec<Match> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("E0"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 13);
    let mut out = Vec::new();
    for f in files {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(&f)
            .unwrap();
        let headers = rdr.byte_headers().unwrap().clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| String::from_utf8_lossy(h).trim_start_matches('\u{feff}') == name)
                .unwrap_or_else(|| panic!("{name} missing in {f:?}"))
        };
        let (c_date, c_home, c_away, c_hg, c_ag) = (
            col("Date"),
            col("HomeTeam"),
            col("AwayTeam"),
            col("FTHG"),
            col("FTAG"),
        );
        for rec in rdr.byte_records() {
            let rec = rec.unwrap();
            let get = |c: usize| {
                String::from_utf8_lossy(rec.get(c).unwrap_or(b""))
                    .trim()
                    .to_string()
            };
            let (hg, ag) = (get(c_hg), get(c_ag));
            if hg.is_empty() || ag.is_empty() {
                continue;
            }
            out.push(Match {
                day: parse_date(&get(c_date)),
                home: get(c_home),
                away: get(c_away),
                hg: hg.parse().unwrap(),
                ag: ag.parse().unwrap(),
            });
        }
    }
    out
}

struct E0 {
    teams: Vec<String>,
    data: GoalsData,
}

fn load_e0() -> E0 {
    let matches = load_matches();
    let teams: Vec<String> = matches
        .iter()
        .flat_map(|m| [m.home.clone(), m.away.clone()])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let idx = |t: &str| teams.binary_search_by(|x| x.as_str().cmp(t)).unwrap() as u32;
    let latest = matches.iter().map(|m| m.day).max().unwrap();
    assert_eq!(latest, days_from_civil(2023, 5, 28));
    let mut data = GoalsData {
        n_teams: teams.len(),
        ..Default::default()
    };
    for m in &matches {
        data.home.push(idx(&m.home));
        data.away.push(idx(&m.away));
        data.home_goals.push(m.hg);
        data.away_goals.push(m.ag);
        data.weight.push((-XI * (latest - m.day) as f64).exp());
    }
    E0 { teams, data }
}

fn one_x_two(lambda: f64, mu: f64, rho: f64) -> (f64, f64, f64) {
    let (mut h, mut d, mut a) = (0.0, 0.0, 0.0);
    for x in 0..=14u16 {
        for y in 0..=14u16 {
            let p = log_prob(lambda, mu, rho, x, y).exp();
            match x.cmp(&y) {
                std::cmp::Ordering::Greater => h += p,
                std::cmp::Ordering::Equal => d += p,
                std::cmp::Ordering::Less => a += p,
            }
        }
    }
    let s = h + d + a;
    (h / s, d / s, a / s)
}

#[test]
fn e0_matches_oracle() {
    let e0 = load_e0();
    let oracle: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("poisson_E0.json")).unwrap())
            .unwrap();
    assert_eq!(
        e0.data.home.len() as u64,
        oracle["matches"].as_u64().unwrap()
    );
    assert_eq!(e0.teams.len() as u64, oracle["teams"].as_u64().unwrap());

    // Timing lives in `cargo run --release --example fit_timing` and the hot_paths bench.
    let first = fit(&e0.data, None).unwrap();
    let fitted = fit(&e0.data, None).unwrap();
    let warm = fit(&e0.data, Some(&fitted)).unwrap();
    println!(
        "WLL {:.9} (oracle {:.9}), home_advantage {:.6} (oracle {:.6}), rho {:.6} (oracle {:.6}), converged {}",
        fitted.weighted_log_likelihood,
        oracle["weighted_loglik"].as_f64().unwrap(),
        fitted.home_advantage,
        oracle["home_advantage"].as_f64().unwrap(),
        fitted.rho,
        oracle["rho"].as_f64().unwrap(),
        fitted.converged
    );

    // Deterministic: bit-identical repeated fits.
    assert_eq!(
        first.weighted_log_likelihood.to_bits(),
        fitted.weighted_log_likelihood.to_bits()
    );
    for (a, b) in first.attack.iter().zip(&fitted.attack) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
    assert!(fitted.converged);
    let target = oracle["weighted_loglik"].as_f64().unwrap();
    assert!(fitted.weighted_log_likelihood >= -1825.915);
    assert!((fitted.weighted_log_likelihood - target).abs() < 1e-3);
    // The WLL cannot exceed the true maximum by more than rounding.
    assert!(fitted.weighted_log_likelihood <= target + 1e-6);
    let wll = weighted_log_likelihood(
        &e0.data,
        &fitted.attack,
        &fitted.defence,
        fitted.home_advantage,
        fitted.rho,
    );
    assert_eq!(wll, fitted.weighted_log_likelihood);
    assert!((warm.weighted_log_likelihood - fitted.weighted_log_likelihood).abs() < 1e-9);
    assert!(warm.converged);

    let idx = |t: &str| e0.teams.iter().position(|x| x == t).unwrap();
    let fixtures = oracle["fixtures"].as_array().unwrap();
    assert!(!fixtures.is_empty());
    for fx in fixtures {
        let (h, a) = (
            idx(fx["home"].as_str().unwrap()),
            idx(fx["away"].as_str().unwrap()),
        );
        let lambda = (fitted.home_advantage + fitted.attack[h] + fitted.defence[a]).exp();
        let mu = (fitted.attack[a] + fitted.defence[h]).exp();
        let (el, em) = (
            fx["lambda_home"].as_f64().unwrap(),
            fx["lambda_away"].as_f64().unwrap(),
        );
        assert!(
            ((lambda - el) / el).abs() < 1e-3,
            "{fx}: lambda {lambda} vs {el}"
        );
        assert!(((mu - em) / em).abs() < 1e-3, "{fx}: mu {mu} vs {em}");
        let (ph, pd, pa) = one_x_two(lambda, mu, fitted.rho);
        for (got, key) in [(ph, "p_home"), (pd, "p_draw"), (pa, "p_away")] {
            let want = fx[key].as_f64().unwrap();
            assert!((got - want).abs() < 0.002, "{fx}: {key} {got} vs {want}");
        }
    }
}

#[test]
fn e0_single_team_recovers_full_fit() {
    let e0 = load_e0();
    let full = fit(&e0.data, None).unwrap();
    for team in 0..e0.teams.len() as u32 {
        let (a, d) = fit_single_team(&e0.data, team, &full).unwrap();
        let t = team as usize;
        assert!(
            (a - full.attack[t]).abs() < 1e-4 && (d - full.defence[t]).abs() < 1e-4,
            "{}: ({a}, {d}) vs ({}, {})",
            e0.teams[t],
            full.attack[t],
            full.defence[t]
        );
        // From a poor starting point too.
        let mut moved = full.clone();
        moved.attack[t] += 0.7;
        moved.defence[t] -= 0.5;
        let (a2, d2) = fit_single_team(&e0.data, team, &moved).unwrap();
        assert!((a2 - full.attack[t]).abs() < 1e-4 && (d2 - full.defence[t]).abs() < 1e-4);
    }
}

#[test]
fn e0_single_team_first_season() {
    // Typical use: a promoted team's first season, everything else fixed from a fit on earlier data.
    let e0 = load_e0();
    let last_season_start = days_from_civil(2022, 7, 1);
    let latest = days_from_civil(2023, 5, 28);
    let mut before = e0.data.clone();
    let mut season = e0.data.clone();
    for i in 0..e0.data.weight.len() {
        // recover the match day from the weight
        let days = (-e0.data.weight[i].ln() / XI).round() as i64;
        let day = latest - days;
        if day >= last_season_start {
            before.weight[i] = 0.0;
        } else {
            season.weight[i] = 0.0;
        }
    }
    let base = fit(&before, None).unwrap();
    assert!(base.converged);
    let forest = e0.teams.iter().position(|t| t == "Nott'm Forest").unwrap();
    // Forest played no E0 match before 2022-23: zero weight, parameters finite placeholders.
    assert_eq!(base.attack[forest], 0.0);
    assert!(base.defence[forest].is_finite());
    let (a, d) = fit_single_team(&season, forest as u32, &base).unwrap();
    assert!(a.is_finite() && d.is_finite());
    // The single-team optimum has zero gradient: nudging either parameter lowers the WLL.
    let wll = |a: f64, d: f64| {
        let mut p = base.clone();
        p.attack[forest] = a;
        p.defence[forest] = d;
        weighted_log_likelihood(&season, &p.attack, &p.defence, p.home_advantage, p.rho)
    };
    let best = wll(a, d);
    for (da, dd) in [(1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3)] {
        assert!(wll(a + da, d + dd) < best);
    }
    println!("Nott'm Forest 2022-23 alone: attack {a:.4}, defence {d:.4}");
}

#[test]
fn bad_input_is_rejected() {
    let good = GoalsData {
        n_teams: 3,
        home: vec![0, 1, 2],
        away: vec![1, 2, 0],
        home_goals: vec![1, 2, 0],
        away_goals: vec![0, 2, 1],
        weight: vec![1.0, 1.0, 1.0],
        scores: Vec::new(),
    };
    assert!(fit(&good, None).is_ok());

    let mut d = good.clone();
    d.away.pop();
    assert!(matches!(fit(&d, None), Err(FitError::BadInput(_))));
    let mut d = good.clone();
    d.weight.push(1.0);
    assert!(matches!(fit(&d, None), Err(FitError::BadInput(_))));
    let mut d = good.clone();
    d.home[1] = 3;
    assert!(matches!(fit(&d, None), Err(FitError::BadInput(_))));
    let mut d = good.clone();
    d.weight[0] = -1.0;
    assert!(matches!(fit(&d, None), Err(FitError::BadInput(_))));
    let mut d = good.clone();
    d.weight[0] = f64::NAN;
    assert!(matches!(fit(&d, None), Err(FitError::BadInput(_))));
    let mut d = good.clone();
    d.weight[2] = f64::INFINITY;
    assert!(matches!(fit(&d, None), Err(FitError::BadInput(_))));
    let mut d = good.clone();
    d.weight = vec![0.0; 3];
    assert_eq!(fit(&d, None).unwrap_err(), FitError::NoMatches);
    let empty = GoalsData::default();
    assert_eq!(fit(&empty, None).unwrap_err(), FitError::NoMatches);

    // Warm start of the wrong size.
    let ok = fit(&good, None).unwrap();
    let mut wrong = ok.clone();
    wrong.attack.push(0.0);
    assert!(matches!(
        fit(&good, Some(&wrong)),
        Err(FitError::BadInput(_))
    ));
    // Non-finite warm start falls back to a cold start.
    let mut nan = ok.clone();
    nan.rho = f64::NAN;
    let refit = fit(&good, Some(&nan)).unwrap();
    assert!((refit.weighted_log_likelihood - ok.weighted_log_likelihood).abs() < 1e-9);

    // fit_single_team
    assert!(matches!(
        fit_single_team(&good, 3, &ok),
        Err(FitError::BadInput(_))
    ));
    assert!(matches!(
        fit_single_team(&good, 0, &wrong),
        Err(FitError::BadInput(_))
    ));
    let mut bad_rho = ok.clone();
    bad_rho.rho = 1.5;
    assert!(matches!(
        fit_single_team(&good, 0, &bad_rho),
        Err(FitError::BadInput(_))
    ));
    let mut d = good.clone();
    d.n_teams = 4;
    let ok4 = fit(&d, None).unwrap();
    assert_eq!(
        fit_single_team(&d, 3, &ok4).unwrap_err(),
        FitError::NoMatches
    );
    assert!(FitError::BadInput("x".into()).to_string().contains('x'));

    // weighted_log_likelihood signals inconsistent input with NaN.
    assert!(weighted_log_likelihood(&good, &[0.0; 2], &[0.0; 3], 0.0, 0.0).is_nan());
}

#[test]
fn degenerate_data_does_not_break() {
    // A team that never scores, a team that never plays, a disconnected pair, all 0-0 draws.
    let data = GoalsData {
        n_teams: 6,
        home: vec![0, 1, 2, 0, 1, 4, 5],
        away: vec![1, 2, 0, 2, 0, 5, 4],
        home_goals: vec![0, 3, 2, 0, 1, 0, 0],
        away_goals: vec![2, 0, 0, 1, 0, 0, 0],
        weight: vec![1.0, 0.5, 2.0, 1.0, 1.0, 1.0, 1.0],
        scores: Vec::new(),
    };
    let f = fit(&data, None).unwrap();
    assert!(f.attack.iter().chain(&f.defence).all(|v| v.is_finite()));
    assert!(f.weighted_log_likelihood.is_finite());
    assert_eq!(f.attack[3], 0.0);
    println!("degenerate fit: {f:?}");
    let all_draws = GoalsData {
        n_teams: 2,
        home: vec![0, 1],
        away: vec![1, 0],
        home_goals: vec![0, 0],
        away_goals: vec![0, 0],
        weight: vec![1.0, 1.0],
        scores: Vec::new(),
    };
    let f = fit(&all_draws, None).unwrap();
    assert!(f.attack.iter().chain(&f.defence).all(|v| v.is_finite()));
    println!("all 0-0 fit: {f:?}");
}

#[test]
fn small_fit_is_deterministic_and_warm_start_helps() {
    let e0 = load_e0();
    // Last two seasons only: a different window, then warm-started from the full fit.
    let mut d = e0.data.clone();
    for w in d.weight.iter_mut() {
        if *w < (-XI * 700.0f64).exp() {
            *w = 0.0;
        }
    }
    let full = fit(&e0.data, None).unwrap();
    let cold = fit(&d, None).unwrap();
    let warm = fit(&d, Some(&full)).unwrap();
    assert!(cold.converged && warm.converged);
    assert!((cold.weighted_log_likelihood - warm.weighted_log_likelihood).abs() < 1e-9);
    println!(
        "window fit: cold {} iterations, warm {} iterations",
        cold.iterations, warm.iterations
    );
}
