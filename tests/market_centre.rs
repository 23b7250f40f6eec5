//! The market models of 1x2_v2 and draw_specialist are penalised towards the opening market, not
//! towards the base rates: on a league whose results carry no signal beyond its odds (every
//! matchday's outcomes are exactly its odds' margin-free probabilities), the trained models,
//! through the binary, predict the market's probabilities for any odds, and metrics.json says
//! where the penalty is centred.

mod common;

use common::Workspace;

/// The matchdays' margin-free probabilities (home, draw, away); each matchday's ten matches all
/// carry one of them, and their results are exactly that share of home wins, draws and away wins.
const MARKETS: [[u32; 3]; 4] = [[5, 3, 2], [2, 3, 5], [7, 2, 1], [4, 4, 2]];

/// The bookmaker's margin: odds are 1 / (1.05 p), so the proportional removal gives back p.
const MARGIN: f64 = 1.05;

fn odds(p: [f64; 3]) -> [f64; 3] {
    p.map(|q| 1.0 / (MARGIN * q))
}

/// Three seasons of 38 matchdays of a 20-club league, one matchday a week.
fn write_league(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    let clubs: Vec<String> = (0..20).map(|i| format!("Club {i:02}")).collect();
    for season in 2019..2022 {
        let mut rows =
            vec!["Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HST,AST,PSH,PSD,PSA".to_string()];
        // First Saturday of August (2019-08-03 is a Saturday; 364 days later is one too).
        let first = first_saturday_of_august(season);
        for day in 0..38 {
            let date = add_days(first, 7 * day);
            let market = MARKETS[(day as usize + season as usize) % MARKETS.len()];
            let p = market.map(|k| k as f64 / 10.0);
            let o = odds(p);
            // The circle method: club 19 stays, the others rotate, every club plays once.
            let rot: Vec<usize> = (0..19).map(|i| (i + day as usize) % 19).collect();
            let mut pairs = vec![(rot[0], 19)];
            for i in 1..10 {
                pairs.push((rot[i], rot[19 - i]));
            }
            for (m, (h, a)) in pairs.into_iter().enumerate() {
                let (hg, ag, r) = if m < market[0] as usize {
                    (1, 0, "H")
                } else if m < (market[0] + market[1]) as usize {
                    (1, 1, "D")
                } else {
                    (0, 1, "A")
                };
                let (h, a) = if day % 2 == 0 { (h, a) } else { (a, h) };
                rows.push(format!(
                    "E0,{date},{},{},{hg},{ag},{r},3,3,{:?},{:?},{:?}",
                    clubs[h], clubs[a], o[0], o[1], o[2]
                ));
            }
        }
        std::fs::write(dir.join(format!("{season}.csv")), rows.join("\n") + "\n").unwrap();
    }
}

/// Days since 1970-01-01 of the first Saturday of August of `season` (2019, 2020, 2021).
fn first_saturday_of_august(season: i32) -> i64 {
    // 2019-08-03 is day 18111; each later season starts 52 weeks later.
    18111 + 364 * (season as i64 - 2019)
}

/// `day` (days since 1970-01-01) plus `n` days, as yyyy-mm-dd.
fn add_days(day: i64, n: i64) -> String {
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = day + n + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    format!("{y:04}-{m:02}-{d:02}")
}

#[test]
fn a_market_model_on_results_with_no_signal_beyond_the_odds_predicts_the_market() {
    assert_eq!(add_days(18111, 0), "2019-08-03");
    let ws = Workspace::new(&[]);
    write_league(&ws.data().join("E0"));
    for ty in ["1x2_v2", "draw_specialist"] {
        ws.cmd()
            .args(["-q", "--model-type", ty, "--as-of", "2022-07-01"])
            .assert()
            .code(0);
    }
    let metrics = |dir: &str| -> serde_json::Value {
        let dir = ws.model_dir("premier_league", dir);
        serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap()
    };
    let draw = metrics("draw_specialist_v1");
    assert_eq!(draw["regularisation"]["centre"], "mkt_draw_logit");
    assert_eq!(
        draw["regularisation"]["fallback_centre"],
        serde_json::Value::Null
    );
    let metrics = metrics("1x2_v2");
    assert_eq!(metrics["uses_market_features"], true);
    let centre = &metrics["regularisation"]["centre"];
    assert_eq!(centre["home"], "mkt_home_logit", "{centre}");
    assert_eq!(centre["draw"], "mkt_draw_logit", "{centre}");
    assert_eq!(centre["away"], "mkt_away_logit", "{centre}");
    assert_eq!(
        metrics["regularisation"]["fallback_centre"],
        serde_json::Value::Null
    );

    // Odds seen in training and odds never seen: the model is the market function itself.
    let fixtures: [[f64; 3]; 4] = [
        [0.5, 0.3, 0.2],
        [0.7, 0.2, 0.1],
        [0.62, 0.23, 0.15],
        [0.12, 0.2, 0.68],
    ];
    let mut csv = String::from("Date,HomeTeam,AwayTeam,PSH,PSD,PSA\n");
    for p in &fixtures {
        let o = odds(*p);
        csv += &format!(
            "2022-08-06,Club 01,Club 02,{:?},{:?},{:?}\n",
            o[0], o[1], o[2]
        );
    }
    let file = ws.path().join("fixtures.csv");
    std::fs::write(&file, csv).unwrap();
    let rows = ws.predict_ok("premier_league", &file);
    let header: Vec<&str> = rows[0].iter().collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let cols = [col("1x2_v2_home"), col("1x2_v2_draw"), col("1x2_v2_away")];
    for (row, p) in rows[1..].iter().zip(&fixtures) {
        for (k, &c) in cols.iter().enumerate() {
            let got: f64 = row[c].parse().unwrap();
            // Odds are stored as f32 (relative error up to 6e-8 each), so the margin-free
            // probabilities the model sees differ from `p` by up to about 2e-7 relative; the
            // fits stop far closer than that. (Penalised towards zero, the model was 4e-3 away.)
            assert!(
                (got - p[k]).abs() < 5e-7,
                "odds {p:?}, outcome {k}: predicted {got}"
            );
        }
        // The draw model's Platt scaling keeps its own small penalty (alpha 1e-3, towards
        // a = 0), so P = sigmoid(a z + b) with z the market's draw logit: within
        // |(a - 1) z + b| / 4 of the market (plus the f32 odds), about 1e-5 here; the model
        // penalised towards the base rate was 1.5e-3 away.
        let (a, b) = (
            draw["calibration"]["a"].as_f64().unwrap(),
            draw["calibration"]["b"].as_f64().unwrap(),
        );
        let z = (p[1] / (1.0 - p[1])).ln();
        let bound = ((a - 1.0) * z + b).abs() / 4.0 + 5e-7;
        assert!(bound < 1e-4, "Platt a {a}, b {b}");
        let got: f64 = row[col("draw_specialist_draw")].parse().unwrap();
        assert!(
            (got - p[1]).abs() < bound,
            "odds {p:?}: draw predicted {got}, bound {bound}"
        );
    }
}
