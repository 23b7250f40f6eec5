//! `auto-train backtest` driven as a user would: on real football-data.co.uk files in temp dirs.
//! The protocol is checked against `auto-train predict` run day by day in separate processes, and
//! against corrupted data: nothing dated on or after a match day may change that day's predictions.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use auto_train::data::date::Date;
use common::{read_csv_table, snapshot, write_csv_rows, Workspace};

/// Runs `auto-train backtest` with `args`; returns (exit code, stdout, stderr).
fn backtest(ws: &Workspace, args: &[&str]) -> (i32, String, String) {
    let out = ws.bin().arg("backtest").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn backtest_ok(ws: &Workspace, data: &Path, out: &Path, args: &[&str]) -> String {
    let mut all = vec![
        "--data-dir".to_string(),
        data.display().to_string(),
        "--out".to_string(),
        out.display().to_string(),
    ];
    all.extend(args.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let (code, stdout, stderr) = backtest(ws, &refs);
    assert_eq!(code, 0, "backtest {args:?} failed: {stderr}");
    stdout
}

/// predictions.csv as (header, rows).
fn read_predictions(out: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    read_csv_table(&out.join("predictions.csv"))
}

/// Rows keyed by (date, home, away), as column name -> value.
fn keyed(
    header: &[String],
    rows: &[Vec<String>],
) -> BTreeMap<(String, String, String), BTreeMap<String, String>> {
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (d, h, a) = (col("date"), col("home_team"), col("away_team"));
    rows.iter()
        .map(|r| {
            (
                (r[d].clone(), r[h].clone(), r[a].clone()),
                header.iter().cloned().zip(r.iter().cloned()).collect(),
            )
        })
        .collect()
}

fn date_of(header: &[String], row: &[String]) -> Date {
    let i = header.iter().position(|h| h == "Date").unwrap();
    Date::parse(&row[i]).unwrap()
}

fn day(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// Columns a fixture must not carry, listed independently of the tool: results, match statistics
/// and every closing-odds column of the 2022-23 layout.
const NOT_IN_FIXTURES: &[&str] = &[
    "FTHG",
    "FTAG",
    "FTR",
    "HTHG",
    "HTAG",
    "HTR",
    "HS",
    "AS",
    "HST",
    "AST",
    "HF",
    "AF",
    "HC",
    "AC",
    "HY",
    "AY",
    "HR",
    "AR",
    "B365CH",
    "B365CD",
    "B365CA",
    "BWCH",
    "BWCD",
    "BWCA",
    "IWCH",
    "IWCD",
    "IWCA",
    "PSCH",
    "PSCD",
    "PSCA",
    "WHCH",
    "WHCD",
    "WHCA",
    "VCCH",
    "VCCD",
    "VCCA",
    "MaxCH",
    "MaxCD",
    "MaxCA",
    "AvgCH",
    "AvgCD",
    "AvgCA",
    "B365C>2.5",
    "B365C<2.5",
    "PC>2.5",
    "PC<2.5",
    "MaxC>2.5",
    "MaxC<2.5",
    "AvgC>2.5",
    "AvgC<2.5",
    "AHCh",
    "B365CAHH",
    "B365CAHA",
    "PCAHH",
    "PCAHA",
    "MaxCAHH",
    "MaxCAHA",
    "AvgCAHH",
    "AvgCAHA",
];

/// The prediction columns of a predictions.csv header (between the teams and `result`).
fn prediction_columns(header: &[String]) -> Vec<String> {
    let start = header.iter().position(|h| h == "away_team").unwrap() + 1;
    let end = header.iter().position(|h| h == "result").unwrap();
    header[start..end].to_vec()
}

#[test]
fn same_numbers_as_predict_run_day_by_day_in_separate_processes() {
    let ws = Workspace::new(&["E0"]);
    let from = "2022-07-01";
    let days = ["2022-08-05", "2022-08-06", "2022-08-07", "2022-08-13"];
    let out_day = ws.path().join("bt_day");
    let out_segment = ws.path().join("bt_segment");
    for (out, replay) in [(&out_day, "day"), (&out_segment, "segment")] {
        backtest_ok(
            &ws,
            &ws.data(),
            out,
            &["--from", from, "--to", days[3], "--replay", replay, "-q"],
        );
    }
    let (header, rows) = read_predictions(&out_day);
    assert_eq!(
        std::fs::read(out_day.join("predictions.csv")).unwrap(),
        std::fs::read(out_segment.join("predictions.csv")).unwrap(),
        "--replay day and --replay segment must give the same predictions"
    );
    let backtest_rows = keyed(&header, &rows);
    let columns = prediction_columns(&header);
    assert_eq!(columns.len(), 3 + 7 + 1, "{columns:?}");

    // The nightly run: models trained by the real binary on every match before --from.
    let seasons: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir(ws.data().join("E0"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let (current_header, current_rows) = read_csv_table(&ws.data().join("E0/2022-23.csv"));
    let before = ws.path().join("before_from");
    for s in seasons.iter().filter(|s| !s.ends_with("2022-23.csv")) {
        std::fs::create_dir_all(before.join("E0")).unwrap();
        std::fs::copy(s, before.join("E0").join(s.file_name().unwrap())).unwrap();
    }
    let models = ws.path().join("nightly_models");
    let status = ws
        .bin()
        .arg("--data-dir")
        .arg(&before)
        .arg("--models-dir")
        .arg(&models)
        .arg("--registry")
        .arg(ws.path().join("nightly_registry.json"))
        .arg("-q")
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );

    let mut compared = 0;
    for d in days {
        let d = day(d);
        // The data dir as it stood that morning, and the day's fixtures without results,
        // statistics or closing odds.
        let morning = ws.path().join(format!("morning_{d}"));
        common::copy_dir(&before, &morning);
        let earlier: Vec<Vec<String>> = current_rows
            .iter()
            .filter(|r| date_of(&current_header, r) < d)
            .cloned()
            .collect();
        write_csv_rows(&morning.join("E0/2022-23.csv"), &current_header, &earlier);
        let keep: Vec<usize> = (0..current_header.len())
            .filter(|&i| !NOT_IN_FIXTURES.contains(&current_header[i].as_str()))
            .collect();
        let fixture_header: Vec<String> = keep.iter().map(|&i| current_header[i].clone()).collect();
        let fixture_rows: Vec<Vec<String>> = current_rows
            .iter()
            .filter(|r| date_of(&current_header, r) == d)
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect();
        assert!(!fixture_rows.is_empty());
        let fixtures = ws.path().join(format!("fixtures_{d}.csv"));
        write_csv_rows(&fixtures, &fixture_header, &fixture_rows);

        let out = ws
            .bin()
            .args(["predict", "--league", "premier_league", "--fixtures"])
            .arg(&fixtures)
            .arg("--data-dir")
            .arg(&morning)
            .arg("--models-dir")
            .arg(&models)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        let predict_header: Vec<String> =
            reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            &predict_header[3..],
            &columns[..],
            "the same columns as predict"
        );
        for record in reader.records() {
            let record = record.unwrap();
            let key = (
                record[0].to_string(),
                record[1].to_string(),
                record[2].to_string(),
            );
            let ours = backtest_rows
                .get(&key)
                .unwrap_or_else(|| panic!("no backtest row for {key:?}"));
            assert_eq!(ours["league"], "premier_league");
            for (name, value) in predict_header.iter().zip(record.iter()).skip(3) {
                assert_eq!(&ours[name], value, "{key:?} {name}: backtest vs predict");
            }
            compared += 1;
        }
    }
    // 1 + 6 + 3 + 7 matches on those four days, and nothing else in the backtest.
    assert_eq!(compared, 17);
    assert_eq!(rows.len(), 17);
}

/// E0 with `edit` applied to the 2022-23 rows (header, rows) in a new data dir.
fn edited_data(
    ws: &Workspace,
    name: &str,
    edit: impl Fn(&[String], &mut Vec<Vec<String>>),
) -> PathBuf {
    let dir = ws.path().join(name);
    common::copy_dir(&ws.data(), &dir);
    let (header, mut rows) = read_csv_table(&dir.join("E0/2022-23.csv"));
    edit(&header, &mut rows);
    write_csv_rows(&dir.join("E0/2022-23.csv"), &header, &rows);
    dir
}

fn set(header: &[String], row: &mut [String], column: &str, value: String) {
    let i = header.iter().position(|h| h == column).unwrap();
    row[i] = value;
}

fn get<'a>(header: &[String], row: &'a [String], column: &str) -> &'a str {
    &row[header.iter().position(|h| h == column).unwrap()]
}

#[test]
fn nothing_dated_on_or_after_a_match_day_changes_its_predictions() {
    let ws = Workspace::new(&["E0"]);
    let d = day("2022-08-13");
    let args = [
        "--from",
        "2022-07-01",
        "--to",
        "2022-08-21",
        "--refresh",
        "daily",
        "-q",
    ];
    // Day d and every later day: results reversed, statistics and closing odds changed; plus a
    // 0-9 home defeat of a club playing on day d, dated day d.
    let corrupted = edited_data(&ws, "corrupted", |h, rows| {
        let mut fake = None;
        for r in rows.iter_mut().filter(|r| date_of(h, r) >= d) {
            let (hg, ag) = (get(h, r, "FTHG").to_string(), get(h, r, "FTAG").to_string());
            set(h, r, "FTHG", ag);
            set(h, r, "FTAG", hg);
            let ftr = match get(h, r, "FTR") {
                "H" => "A",
                "A" => "H",
                x => x,
            }
            .to_string();
            set(h, r, "FTR", ftr);
            for c in ["HST", "AST", "HS", "AS"] {
                set(h, r, c, "25".into());
            }
            let (ch, ca) = (get(h, r, "PSCH").to_string(), get(h, r, "PSCA").to_string());
            set(h, r, "PSCH", ca);
            set(h, r, "PSCA", ch);
            if fake.is_none() && date_of(h, r) == d {
                let mut f = r.clone();
                let home = get(h, r, "HomeTeam").to_string();
                set(h, &mut f, "AwayTeam", home);
                set(h, &mut f, "HomeTeam", "Nowhere Rovers".into());
                set(h, &mut f, "FTHG", "0".into());
                set(h, &mut f, "FTAG", "9".into());
                set(h, &mut f, "FTR", "A".into());
                fake = Some(f);
            }
        }
        rows.push(fake.unwrap());
    });
    // Only day d's opening odds changed (home and away prices swapped).
    let reopened = edited_data(&ws, "reopened", |h, rows| {
        for r in rows.iter_mut().filter(|r| date_of(h, r) == d) {
            for (a, b) in [("PSH", "PSA"), ("AvgH", "AvgA"), ("B365H", "B365A")] {
                let (x, y) = (get(h, r, a).to_string(), get(h, r, b).to_string());
                set(h, r, a, y);
                set(h, r, b, x);
            }
        }
    });
    for replay in ["day", "segment"] {
        let run = |data: &Path, name: &str| {
            let out = ws.path().join(format!("{name}_{replay}"));
            let mut a = args.to_vec();
            a.extend(["--replay", replay]);
            backtest_ok(&ws, data, &out, &a);
            let (header, rows) = read_predictions(&out);
            (prediction_columns(&header), keyed(&header, &rows))
        };
        let (columns, clean) = run(&ws.data(), "clean");
        let (_, dirty) = run(&corrupted, "dirty");
        let (_, swapped) = run(&reopened, "swapped");
        let (mut same_day, mut later_changed) = (0, 0);
        for (key, row) in &clean {
            let date = day(&key.0);
            let other = &dirty[key];
            let equal = columns.iter().all(|c| row[c] == other[c]);
            if date <= d {
                assert!(
                    equal,
                    "{replay}: {key:?} changed when day {d} and later changed"
                );
                same_day += (date == d) as usize;
            } else if !equal {
                later_changed += 1;
            }
        }
        assert_eq!(same_day, 7, "{replay}");
        assert_eq!(
            dirty.len(),
            clean.len() + 1,
            "{replay}: the fake match is predicted too"
        );
        // The corruption is visible: the days after d see it.
        assert!(
            later_changed >= 5,
            "{replay}: only {later_changed} later rows changed"
        );
        // The day's own opening odds do reach its predictions (the comparison above can fail).
        let changed_by_odds = clean
            .iter()
            .filter(|(k, _)| day(&k.0) == d)
            .filter(|(k, r)| r["1x2_v2_home"] != swapped[*k]["1x2_v2_home"])
            .count();
        assert_eq!(changed_by_odds, 7, "{replay}");
        for (key, row) in clean.iter().filter(|(k, _)| day(&k.0) < d) {
            assert!(columns.iter().all(|c| row[c] == swapped[key][c]), "{key:?}");
        }
    }
}

#[test]
fn refuses_an_existing_non_empty_out_and_writes_nowhere_else() {
    let ws = Workspace::new(&["E0"]);
    let out = ws.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), b"mine").unwrap();
    let data_before = snapshot(&ws.data());
    let args = |out: &Path| {
        vec![
            "--data-dir".to_string(),
            ws.data().display().to_string(),
            "--out".to_string(),
            out.display().to_string(),
            "--from".to_string(),
            "2022-08-01".to_string(),
            "--to".to_string(),
            "2022-08-07".to_string(),
        ]
    };
    let refs = |v: &[String]| v.iter().map(String::clone).collect::<Vec<_>>();
    let a = refs(&args(&out));
    let (code, _, stderr) = backtest(&ws, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("not empty") && stderr.contains("out"),
        "{stderr}"
    );
    assert_eq!(
        snapshot(&out),
        BTreeMap::from([(PathBuf::from("keep.txt"), Some(b"mine".to_vec()))])
    );
    // A file in place of the directory.
    let file = ws.path().join("file_out");
    std::fs::write(&file, b"x").unwrap();
    let a = refs(&args(&file));
    let (code, _, stderr) = backtest(&ws, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
    // An existing empty directory is used; the data is unchanged and no models dir or registry
    // appears (the binary runs inside the workspace).
    let empty = ws.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let a = refs(&args(&empty));
    let (code, _, stderr) = backtest(&ws, &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{stderr}");
    assert!(empty.join("summary.json").is_file());
    assert_eq!(snapshot(&ws.data()), data_before);
    assert!(!ws.models().exists() && !ws.registry().exists());
    // Bad arguments: exit 2 with a clear message, nothing written.
    for (bad, expect) in [
        (
            vec!["--from", "2022-08-10", "--to", "2022-08-01"],
            "before --from",
        ),
        (
            vec!["--from", "2022-08-01", "--league", "nowhere"],
            "no data for league",
        ),
        (vec!["--from", "1st of May"], "not a date"),
        (
            vec!["--from", "2022-08-01", "--total-ridge", "2000"],
            "outside 0..=1000",
        ),
        (
            vec!["--from", "2022-08-01", "--total-ridge", "lots"],
            "is not a number",
        ),
    ] {
        let out = ws.path().join("bad_out");
        let mut a = vec![
            "--data-dir".to_string(),
            ws.data().display().to_string(),
            "--out".to_string(),
            out.display().to_string(),
        ];
        a.extend(bad.iter().map(|s| s.to_string()));
        let (code, _, stderr) = backtest(&ws, &a.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(code, 2, "{bad:?}: {stderr}");
        assert!(stderr.contains(expect), "{bad:?}: {stderr}");
        assert!(!out.exists(), "{bad:?}");
    }
}

/// The value at a dotted summary.json path.
fn at<'a>(v: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    path.split('.').fold(v, |v, k| &v[k])
}

fn rps(p: [f64; 3], o: usize) -> f64 {
    let mut obs = [0.0; 3];
    obs[o] = 1.0;
    let c1 = p[0] - obs[0];
    let c2 = p[0] + p[1] - obs[0] - obs[1];
    0.5 * (c1 * c1 + c2 * c2)
}

#[test]
fn writes_predictions_summary_and_a_report_that_agrees_with_it() {
    let ws = Workspace::new(&["E0", "D1"]);
    let out = ws.path().join("report");
    let stdout = backtest_ok(
        &ws,
        &ws.data(),
        &out,
        &["--from", "2022-08-01", "--to", "2022-10-31", "--json"],
    );
    let summary_text = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(stdout, summary_text, "--json prints summary.json");
    let summary: serde_json::Value = serde_json::from_str(&summary_text).unwrap();

    // predictions.csv: predict's columns between the league and the outcome columns.
    let (header, rows) = read_predictions(&out);
    let expected_header = "league,date,home_team,away_team,1x2_v2_home,1x2_v2_draw,1x2_v2_away,\
        poisson_v2_home,poisson_v2_draw,poisson_v2_away,poisson_v2_lambda_home,\
        poisson_v2_lambda_away,poisson_v2_over_2_5,poisson_v2_btts,draw_specialist_draw,result,\
        home_goals,away_goals,market_open_home,market_open_draw,market_open_away,\
        market_close_home,market_close_draw,market_close_away,market_open_over_2_5,\
        market_close_over_2_5";
    assert_eq!(header.join(","), expected_header);
    // Every match of both leagues in the period, with its real result.
    let mut expected = BTreeMap::new();
    for (div, league) in [("E0", "premier_league"), ("D1", "bundesliga")] {
        let (h, data_rows) = read_csv_table(&ws.data().join(div).join("2022-23.csv"));
        for r in data_rows {
            let date = date_of(&h, &r);
            if date >= day("2022-08-01") && date <= day("2022-10-31") {
                expected.insert(
                    (
                        league.to_string(),
                        date.to_string(),
                        get(&h, &r, "HomeTeam").to_string(),
                    ),
                    (
                        get(&h, &r, "FTR").to_string(),
                        get(&h, &r, "FTHG").to_string(),
                        get(&h, &r, "FTAG").to_string(),
                    ),
                );
            }
        }
    }
    assert_eq!(rows.len(), expected.len());
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let num = |r: &Vec<String>, n: &str| r[col(n)].parse::<f64>().unwrap();
    let mut dates: Vec<String> = Vec::new();
    let mut pooled_rps = 0.0;
    for r in &rows {
        let key = (r[0].clone(), r[1].clone(), r[2].clone());
        let (ftr, hg, ag) = &expected[&key];
        assert_eq!(
            (
                &r[col("result")],
                &r[col("home_goals")],
                &r[col("away_goals")]
            ),
            (ftr, hg, ag)
        );
        for prefix in ["1x2_v2", "poisson_v2", "market_open", "market_close"] {
            let s: f64 = ["home", "draw", "away"]
                .iter()
                .map(|k| num(r, &format!("{prefix}_{k}")))
                .sum();
            assert!((s - 1.0).abs() < 1e-9, "{prefix} sums to {s} in {key:?}");
        }
        let o = ["H", "D", "A"]
            .iter()
            .position(|x| *x == r[col("result")])
            .unwrap();
        pooled_rps += rps(
            [
                num(r, "1x2_v2_home"),
                num(r, "1x2_v2_draw"),
                num(r, "1x2_v2_away"),
            ],
            o,
        );
        dates.push(r[1].clone());
    }
    assert!(dates.windows(2).all(|w| w[0] <= w[1]), "rows in date order");
    pooled_rps /= rows.len() as f64;

    // summary.json: every league x type and pooled; the RPS recomputed from the CSV.
    assert_eq!(summary["matches"], rows.len());
    assert_eq!(summary["pooled"]["1x2_v2"]["n"], rows.len());
    let stated = summary["pooled"]["1x2_v2"]["model"]["rps"]
        .as_f64()
        .unwrap();
    assert!(
        (stated - pooled_rps).abs() < 1e-9,
        "{stated} vs {pooled_rps}"
    );
    for league in ["premier_league", "bundesliga"] {
        for ty in ["1x2_v2", "poisson_v2", "draw_specialist"] {
            let b = &summary["by_league"][league][ty];
            assert!(b["n"].as_u64().unwrap() > 50, "{league} {ty}");
            for k in ["market_open", "market_close"] {
                assert!(b[k]["difference"]["log_loss"]["se"].as_f64().unwrap() > 0.0);
            }
            assert!(b["base_rates"]["log_loss"].as_f64().is_some());
        }
        assert!(summary["by_league"][league]["draw_specialist"]["model"]["rps"].is_null());
        assert!(summary["by_league"][league]["1x2_v2"]["model"]["draw_auc"]
            .as_f64()
            .is_some());
    }
    // The trained models are under --out, read back from there.
    for league in ["premier_league", "bundesliga"] {
        for ty in ["1x2_v2", "poisson_v2", "draw_specialist"] {
            assert!(out
                .join("models")
                .join(league)
                .join(ty)
                .join("2022-08-01")
                .join("metrics.json")
                .is_file());
        }
    }

    // report.html: self-contained, every figure present, every SVG well-formed, every tagged number
    // equal to summary.json.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http")
    );
    for id in [
        "reliability-1x2_v2",
        "reliability-poisson_v2",
        "reliability-draw_specialist",
        "rps-by-month",
        "per-league",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id} missing");
    }
    let mut svgs = 0;
    let mut texts: Vec<String> = Vec::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").expect("an <svg> is closed") + start + 6;
        let svg = &rest[start..end];
        let mut reader = quick_xml::Reader::from_str(svg);
        let mut depth = 0i64;
        let mut elements = 0;
        loop {
            match reader.read_event() {
                Ok(quick_xml::events::Event::Start(_)) => {
                    depth += 1;
                    elements += 1
                }
                Ok(quick_xml::events::Event::End(_)) => depth -= 1,
                Ok(quick_xml::events::Event::Empty(_)) => elements += 1,
                Ok(quick_xml::events::Event::Text(t)) => {
                    texts.push(String::from_utf8_lossy(&t).trim().to_string())
                }
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("SVG {svgs} is not well-formed: {e}"),
            }
        }
        assert_eq!(depth, 0, "SVG {svgs} has unclosed elements");
        assert!(elements > 50, "SVG {svgs} has only {elements} elements");
        // Lines were drawn (polylines of the series).
        assert!(svg.contains("<polyline"), "SVG {svgs} draws no line");
        svgs += 1;
        rest = &rest[end..];
    }
    assert_eq!(
        svgs, 5,
        "three reliability diagrams, RPS by month and over 2.5 goals"
    );
    // The month axis names the three months.
    for m in ["2022-08", "2022-09", "2022-10"] {
        assert!(
            texts.iter().any(|t| t.starts_with(&format!("{m} ("))),
            "month {m} not on the axis"
        );
    }
    let mut tagged = 0;
    for piece in html.split("data-key=\"").skip(1) {
        let (key, after) = piece.split_once('"').unwrap();
        let text = after[1..].split('<').next().unwrap();
        let value = at(&summary, key);
        let shown = match value.as_f64() {
            Some(v) if key.ends_with(".n") => format!("{v}"),
            Some(v) if key.ends_with(".mean") => format!("{v:+.4}"),
            Some(v) => format!("{v:.4}"),
            None => panic!("{key} is not a number in summary.json ({value})"),
        };
        assert_eq!(text, shown, "{key}");
        tagged += 1;
    }
    // 2 leagues + pooled, 3 types each, at least 12 numbers a row.
    assert!(tagged >= 9 * 12, "only {tagged} numbers tagged");
}

/// The training dates under `out/models/<league>/<type>/`.
fn training_dates(out: &Path, league: &str, ty: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out.join("models").join(league).join(ty))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn refresh_retrains_on_schedule_and_only_leagues_with_new_matches() {
    // Match days 5, 6, 7, 12 (D1 only), 13, 14, 15 (E0 only), 19 (D1 only), 20, 21 August 2022.
    let ws = Workspace::new(&["E0", "D1"]);
    let dates = |v: &[&str]| v.iter().map(|d| format!("2022-{d}")).collect::<Vec<_>>();
    let run = |refresh: &str| {
        let out = ws.path().join(format!("refresh_{refresh}"));
        let summary = backtest_ok(
            &ws,
            &ws.data(),
            &out,
            &[
                "--from",
                "2022-07-01",
                "--to",
                "2022-08-21",
                "--refresh",
                refresh,
                "--json",
            ],
        );
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        (out, summary)
    };
    // Weekly: the first match day of each ISO week (Monday to Sunday).
    let (out, summary) = run("weekly");
    for league in ["premier_league", "bundesliga"] {
        for ty in ["1x2_v2", "poisson_v2", "draw_specialist"] {
            assert_eq!(
                training_dates(&out, league, ty),
                dates(&["07-01", "08-12", "08-15"]),
                "{league} {ty}"
            );
        }
    }
    assert_eq!(summary["trainings"], 2 * 3 * 3);
    // Daily: every match day, each league only when it has played since its last training.
    let (out, summary) = run("daily");
    let e0 = dates(&[
        "07-01", "08-06", "08-07", "08-12", "08-14", "08-15", "08-19", "08-21",
    ]);
    let d1 = dates(&[
        "07-01", "08-06", "08-07", "08-12", "08-13", "08-14", "08-15", "08-20", "08-21",
    ]);
    for ty in ["1x2_v2", "poisson_v2", "draw_specialist"] {
        assert_eq!(training_dates(&out, "premier_league", ty), e0, "{ty}");
        assert_eq!(training_dates(&out, "bundesliga", ty), d1, "{ty}");
    }
    assert_eq!(summary["trainings"], (e0.len() + d1.len()) * 3);
    assert_eq!(summary["refresh"], "daily");
    // Never: one training before --from.
    let (out, summary) = run("never");
    assert_eq!(
        training_dates(&out, "bundesliga", "poisson_v2"),
        dates(&["07-01"])
    );
    assert_eq!(summary["trainings"], 2 * 3);
}

/// Margin-free P(over 2.5) of a raw data row from the first usable pair of `pairs`.
fn over_under(h: &[String], r: &[String], pairs: &[[&str; 2]]) -> Option<f64> {
    pairs.iter().find_map(|[o, u]| {
        let o: f64 = get(h, r, o).parse().ok()?;
        let u: f64 = get(h, r, u).parse().ok()?;
        Some((1.0 / o) / (1.0 / o + 1.0 / u))
    })
}

fn log_loss(p: f64, event: bool) -> f64 {
    -(if event { p } else { 1.0 - p }).ln()
}

/// Every market `predict` prints is scored: poisson_v2's over 2.5 goals and both teams to score,
/// each against the base rate of the training data, and over 2.5 against the opening and closing
/// over/under odds of the data (Pinnacle); all recomputed here from the raw files and
/// predictions.csv, and shown in the text table and report.html (with a reliability diagram).
#[test]
fn goal_markets_are_scored_against_base_rates_and_over_under_odds() {
    let ws = Workspace::new(&["E0"]);
    let out = ws.path().join("bt");
    let table = backtest_ok(
        &ws,
        &ws.data(),
        &out,
        &[
            "--from",
            "2022-08-01",
            "--to",
            "2022-10-31",
            "--model-type",
            "poisson_v2",
            "--xi",
            "0.0018",
        ],
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    // The training data: every Premier League match before 2022-08-01.
    let (mut over, mut btts, mut n_train) = (0usize, 0usize, 0usize);
    let mut raw = BTreeMap::new();
    for entry in std::fs::read_dir(ws.data().join("E0")).unwrap() {
        let (h, rows) = read_csv_table(&entry.unwrap().path());
        for r in rows {
            let (hg, ag): (u32, u32) = (
                get(&h, &r, "FTHG").parse().unwrap(),
                get(&h, &r, "FTAG").parse().unwrap(),
            );
            let date = date_of(&h, &r);
            if date < day("2022-08-01") {
                n_train += 1;
                over += (hg + ag > 2) as usize;
                btts += (hg > 0 && ag > 0) as usize;
            } else if date <= day("2022-10-31") {
                let key = (date.to_string(), get(&h, &r, "HomeTeam").to_string());
                let open = over_under(&h, &r, &[["P>2.5", "P<2.5"], ["Avg>2.5", "Avg<2.5"]]);
                let close = over_under(&h, &r, &[["PC>2.5", "PC<2.5"], ["AvgC>2.5", "AvgC<2.5"]]);
                raw.insert(key, (open, close));
            }
        }
    }
    let rates = [over as f64 / n_train as f64, btts as f64 / n_train as f64];
    let (header, rows) = read_predictions(&out);
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let (mut ll, mut base, mut open_m, mut open_k, mut close_k) =
        ([0.0; 2], [0.0; 2], 0.0, 0.0, 0.0);
    let (mut n_open, mut n_close) = (0, 0);
    for r in &rows {
        let (hg, ag): (u32, u32) = (
            r[col("home_goals")].parse().unwrap(),
            r[col("away_goals")].parse().unwrap(),
        );
        let events = [hg + ag > 2, hg > 0 && ag > 0];
        for (k, c) in ["poisson_v2_over_2_5", "poisson_v2_btts"]
            .iter()
            .enumerate()
        {
            let p: f64 = r[col(c)].parse().unwrap();
            ll[k] += log_loss(p, events[k]);
            base[k] += log_loss(rates[k], events[k]);
        }
        let (open, close) = raw[&(r[col("date")].clone(), r[col("home_team")].clone())];
        let p: f64 = r[col("poisson_v2_over_2_5")].parse().unwrap();
        let shown = |c: &str| r[col(c)].parse::<f64>().ok();
        assert_eq!(shown("market_open_over_2_5").is_some(), open.is_some());
        if let Some(q) = open {
            assert!((shown("market_open_over_2_5").unwrap() - q).abs() < 1e-6);
            open_m += log_loss(p, events[0]);
            open_k += log_loss(q, events[0]);
            n_open += 1;
        }
        if let Some(q) = close {
            close_k += log_loss(q, events[0]);
            n_close += 1;
        }
    }
    let n = rows.len() as f64;
    assert!(n > 100.0 && n_open > 100 && n_close > 100);
    let close_to = |path: &str, want: f64| {
        let got = at(&summary, path).as_f64().unwrap();
        assert!((got - want).abs() < 1e-6, "{path}: {got} vs {want}");
    };
    for (k, market) in ["over_2_5", "btts"].iter().enumerate() {
        let key = format!("pooled.poisson_v2.{market}");
        close_to(&format!("{key}.model.log_loss"), ll[k] / n);
        close_to(&format!("{key}.base_rate.log_loss"), base[k] / n);
        close_to(
            &format!("{key}.base_rate_difference.log_loss.mean"),
            (ll[k] - base[k]) / n,
        );
        assert_eq!(at(&summary, &format!("{key}.n")), rows.len());
    }
    close_to(
        "pooled.poisson_v2.over_2_5.market_open.market.log_loss",
        open_k / n_open as f64,
    );
    close_to(
        "pooled.poisson_v2.over_2_5.market_open.model.log_loss",
        open_m / n_open as f64,
    );
    close_to(
        "pooled.poisson_v2.over_2_5.market_close.market.log_loss",
        close_k / n_close as f64,
    );
    assert!(summary["pooled"]["poisson_v2"]["btts"]["market_open"].is_null());

    // The text table and the report show them.
    assert!(table.contains("goal markets"), "{table}");
    let pooled_line = table
        .lines()
        .rfind(|l| l.starts_with("pooled") && l.contains("poisson_v2"))
        .unwrap();
    assert!(
        pooled_line.contains(&format!("{:.4}", ll[0] / n)),
        "{pooled_line}"
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("id=\"reliability-over-2-5-poisson_v2\""));
    assert!(html.contains("id=\"goal-markets\""));
    assert!(html.contains("data-key=\"pooled.poisson_v2.over_2_5.market_open.market.log_loss\""));
}

/// `backtest` takes a run's model options: with `--xi`, `--total-ridge`, `--market-weight` and `--selection`, the model it trains
/// before `--from` is the one `auto-train` with the same options trains on the same matches
/// (metrics.json equal but for the training date), and summary.json records the options.
#[test]
fn backtest_trains_with_the_run_model_options() {
    for options in [
        vec!["--xi", "0.0025", "--selection", "season"],
        vec!["--selection", "window"],
        vec![
            "--xi",
            "0.0018",
            "--total-ridge",
            "5",
            "--selection",
            "window",
        ],
        vec!["--market-weight", "0.3", "--selection", "window"],
    ] {
        let ws = Workspace::new(&["E0"]);
        let out = ws.path().join("bt");
        let mut args = vec![
            "--from",
            "2022-08-01",
            "--to",
            "2022-08-31",
            "--model-type",
            "poisson_v2",
        ];
        args.extend(&options);
        backtest_ok(&ws, &ws.data(), &out, &args);
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["selection"], options[options.len() - 1]);
        // The same matches for a run: the data before 2022-08-01.
        let run = Workspace::new(&[]);
        std::fs::create_dir_all(run.data().join("E0")).unwrap();
        for entry in std::fs::read_dir(ws.data().join("E0")).unwrap() {
            let path = entry.unwrap().path();
            if !path.ends_with("2022-23.csv") {
                std::fs::copy(&path, run.data().join("E0").join(path.file_name().unwrap()))
                    .unwrap();
            }
        }
        let mut run_args = vec!["--model-type", "poisson_v2", "-q"];
        run_args.extend(&options);
        run.cmd().args(&run_args).assert().code(0);
        let read = |p: PathBuf| {
            let mut v: serde_json::Value =
                serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
            v["trained_date"] = serde_json::Value::Null;
            v
        };
        let from_backtest =
            read(out.join("models/premier_league/poisson_v2/2022-08-01/metrics.json"));
        let from_run = read(
            run.model_dir("premier_league", "poisson_v2")
                .join("metrics.json"),
        );
        assert_eq!(from_backtest, from_run, "{options:?}");
        // Every match of the fixture has odds: by default the strengths are fitted to their
        // market's expected goals alone, and the ridges against the goals' noise are off; with
        // a third of each score the market's, the goals' defaults.
        let total = from_run["total_matches"].clone();
        assert_eq!(from_run["scores"]["matches_with_market"], total);
        if options.contains(&"--market-weight") {
            assert_eq!(summary["market_weight"], 0.3);
            assert_eq!(from_run["scores"]["market_weight"], 0.3);
            assert_eq!(from_run["strength_ridge"], 3.0);
            assert_eq!(from_run["total_ridge"], 20.0);
            assert_eq!(
                from_run["xi_selection"]["against_default"]["default"],
                0.0018
            );
        } else {
            assert!(summary["market_weight"].is_null());
            assert_eq!(from_run["scores"]["market_weight"], 1.0);
        }
        if options.contains(&"--total-ridge") {
            assert_eq!(summary["total_ridge"], 5.0);
            assert_eq!(from_run["total_ridge"], 5.0);
        } else if !options.contains(&"--market-weight") {
            assert!(summary["total_ridge"].is_null());
            assert_eq!(from_run["total_ridge"], 0.0);
        }
        if options.contains(&"0.0018") {
            assert_eq!(summary["xi_per_day"], 0.0018);
        } else if options[0] == "--xi" {
            assert_eq!(summary["xi_per_day"], 0.0025);
            assert_eq!(from_run["xi_per_day"], 0.0025);
            assert_eq!(from_run["xi_selection"]["protocol"], "season");
        } else {
            assert!(summary["xi_per_day"].is_null());
            assert_eq!(from_run["xi_selection"]["protocol"], "window");
        }
    }
}

/// poisson_v2 fits its strengths to the market's expected goals of earlier matches only. A daily
/// backtest on data whose closing odds differ for every match from 2023-05-20 on (home and
/// away prices swapped, over and under swapped) predicts every match up to and including that
/// day exactly as before (neither a match's own closing prices nor its day's are read), and
/// later matches differently (the refits of later mornings read those prices as history).
#[test]
fn poisson_strengths_read_the_closing_odds_of_earlier_matches_only() {
    let ws = Workspace::new(&["E0"]);
    let changed_from = Date::parse("2023-05-20").unwrap();
    let altered = ws.path().join("altered");
    for entry in std::fs::read_dir(ws.data().join("E0")).unwrap() {
        let path = entry.unwrap().path();
        let (header, mut rows) = read_csv_table(&path);
        let at = |name: &str| header.iter().position(|h| h == name);
        let date = at("Date").unwrap();
        let closing: Vec<(usize, usize)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let other = if let Some(p) = h.strip_suffix("CH") {
                    at(&format!("{p}CA"))?
                } else if let Some(p) = h.strip_suffix("C>2.5") {
                    at(&format!("{p}C<2.5"))?
                } else {
                    return None;
                };
                Some((i, other))
            })
            .collect();
        for row in rows.iter_mut() {
            let parts: Vec<u32> = row[date].split('/').map(|p| p.parse().unwrap()).collect();
            let day = Date::from_ymd(parts[2] as i32, parts[1], parts[0]).unwrap();
            if day >= changed_from {
                for &(a, b) in &closing {
                    row.swap(a, b);
                }
            }
        }
        write_csv_rows(
            &altered.join("E0").join(path.file_name().unwrap()),
            &header,
            &rows,
        );
    }
    let args = [
        "--from",
        "2023-05-13",
        "--to",
        "2023-05-28",
        "--refresh",
        "daily",
        "--model-type",
        "poisson_v2",
    ];
    let predictions = |data: &Path, out: &str| {
        let out = ws.path().join(out);
        backtest_ok(&ws, data, &out, &args);
        let (header, rows) = read_predictions(&out);
        let keep: Vec<usize> = (0..header.len())
            .filter(|&i| i < 4 || header[i].starts_with("poisson_v2_"))
            .collect();
        rows.iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect::<Vec<String>>())
            .collect::<Vec<_>>()
    };
    let before = predictions(&ws.data(), "before");
    let after = predictions(&altered, "after");
    assert_eq!(before.len(), after.len());
    let (mut same, mut later_changed) = (0, 0);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b[..4], a[..4]);
        if Date::parse(&b[1]).unwrap() <= changed_from {
            assert_eq!(b, a, "a prediction read odds of its own day or later");
            same += 1;
        } else if b != a {
            later_changed += 1;
        }
    }
    assert!(same >= 10, "{same} matches up to the change");
    assert!(
        later_changed >= 5,
        "only {later_changed} later predictions changed"
    );
}
