//! ESPN soccer data as input (the data of the Python service this tool replaces): the dataset's
//! `fixtures.csv` with its tables, the processed snake_case files, the status and competition
//! rules, and one league read from both formats.

mod common;

use std::path::Path;

use common::*;
use serde_json::json;

/// The eight seed leagues, in slug order.
const SEED: [&str; 8] = [
    "bundesliga",
    "championship",
    "eredivisie",
    "la_liga",
    "ligue_1",
    "premier_league",
    "primeira_liga",
    "serie_a",
];

fn league_counts(summary: &serde_json::Value) -> Vec<(String, u64)> {
    summary["data"]["leagues"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

#[test]
fn espn_data_trains_the_eight_leagues_then_a_second_run_trains_nothing() {
    let ws = Workspace::new(&["espn"]);
    let before = snapshot(ws.path());
    let (code, dry, stderr) = ws.run_json(&["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(snapshot(ws.path()), before, "a dry run writes nothing");
    let expected: Vec<(String, u64)> = [
        ("bundesliga", 612),
        ("championship", 1104),
        ("eredivisie", 612),
        ("la_liga", 760),
        ("ligue_1", 760),
        ("premier_league", 760),
        ("primeira_liga", 306),
        ("serie_a", 760),
    ]
    .iter()
    .map(|(l, n)| (l.to_string(), *n))
    .collect();
    assert_eq!(league_counts(&dry), expected);
    assert_eq!(
        dry["data"]["espn_skipped_by_reason"],
        json!({"canceled": 1, "cup or other competition": 26, "in progress": 1, "postponed": 3, "scheduled": 3}),
        "{:#}",
        dry["data"]
    );
    assert_eq!(dry["data"]["unreadable_files"], json!([]));
    assert_eq!(dry["data"]["espn_tables"].as_array().unwrap().len(), 3);
    let file = &dry["data"]["espn_files"][0];
    assert_eq!(file["rows"], 5708);
    assert_eq!(file["used"], 5674);
    assert_eq!(file["skipped"], 34);
    let espn = &file["espn"];
    let ids = |key: &str| -> Vec<String> {
        espn[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {} {}", c["league_id"], c["code"], c["slug"]).replace('"', ""))
            .collect()
    };
    assert_eq!(
        ids("leagues"),
        [
            "3914 ENG.2 championship",
            "700 ENG.1 premier_league",
            "710 FRA.1 ligue_1",
            "715 POR.1 primeira_liga",
            "720 GER.1 bundesliga",
            "725 NED.1 eredivisie",
            "730 ITA.1 serie_a",
            "740 ESP.1 la_liga",
        ]
    );
    assert_eq!(
        ids("skipped_competitions"),
        [
            "20922 POR.TACA.PORTUGAL ",
            "3918 ENG.FA ",
            "3920 ENG.LEAGUE_CUP ",
            "3951 ESP.COPA_DEL_REY ",
            "3952 FRA.COUPE_DE_FRANCE ",
            "3954 GER.DFB_POKAL ",
            "3956 ITA.COPPA_ITALIA ",
            "3957 NED.CUP ",
        ]
    );
    let st = statuses(&dry);
    assert_eq!(st.len(), 24);
    assert!(st.values().all(|s| s == "would_train"), "{st:?}");

    // The text report says the same.
    let out = ws.cmd().arg("--dry-run").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "skipped by reason: canceled 1, cup or other competition 26, in progress 1, postponed 3, scheduled 3"
        ),
        "{text}"
    );
    assert!(text.contains("700 ENG.1 -> premier_league (760)"), "{text}");
    assert!(text.contains("3918 ENG.FA (2)"), "{text}");

    let (code, run, stderr) = ws.run_json(&[]);
    assert_eq!(code, 0, "{stderr}\n{run:#}");
    let st = statuses(&run);
    assert!(st.values().all(|s| s == "trained"), "{st:?}");
    assert_eq!(run["totals"]["trained"], 24);
    for league in SEED {
        assert_complete_poisson_dir(&ws.model_dir(league, "poisson_v2"), league);
        assert!(ws
            .model_dir(league, "draw_specialist_v1")
            .join("draw_model.pkl")
            .is_file());
        assert!(!ws.model_dir(league, "draw_specialist").exists());
    }
    let keys = registry_keys(&ws.registry());
    assert_eq!(keys.len(), 24);
    assert!(keys.contains(&"draw_specialist_premier_league_v1".to_string()));

    let snap = snapshot(ws.path());
    let (code, again, _) = ws.run_json(&[]);
    assert_eq!(code, 0);
    assert_eq!(again["totals"]["trained"], 0);
    assert!(statuses(&again).values().all(|s| s == "existing"));
    assert_eq!(snapshot(ws.path()), snap);
}

/// `dd/mm/yy` or `dd/mm/yyyy` as `yyyy-mm-dd`.
fn iso(date: &str) -> String {
    let p: Vec<&str> = date.split('/').collect();
    let year = if p[2].len() == 2 {
        format!("20{}", p[2])
    } else {
        p[2].to_string()
    };
    format!("{year}-{:0>2}-{:0>2}", p[1], p[0])
}

/// The rows (iso date, home, away, home goals, away goals) of E0 seasons.
fn e0_rows(seasons: &[&str]) -> Vec<[String; 5]> {
    let mut rows = Vec::new();
    for s in seasons {
        let mut r = csv::Reader::from_path(fixtures().join(format!("E0/{s}.csv"))).unwrap();
        let h = r.headers().unwrap().clone();
        let col = |n: &str| h.iter().position(|c| c == n).unwrap();
        let (d, ht, at, hg, ag) = (
            col("Date"),
            col("HomeTeam"),
            col("AwayTeam"),
            col("FTHG"),
            col("FTAG"),
        );
        for rec in r.records() {
            let rec = rec.unwrap();
            rows.push([
                iso(&rec[d]),
                rec[ht].to_string(),
                rec[at].to_string(),
                rec[hg].to_string(),
                rec[ag].to_string(),
            ]);
        }
    }
    rows
}

const ESPN_HEADER: &str = "Rn,seasonType,leagueId,eventId,date,venueId,attendance,homeTeamId,awayTeamId,homeTeamWinner,awayTeamWinner,homeTeamScore,awayTeamScore,homeTeamShootoutScore,awayTeamShootoutScore,statusId,updateTime";

/// Writes `rows` as ESPN files in `dir` (league 700, full time, 15:00 UTC) with a team table of
/// their own (`name(team)` as each team's displayName) and the dataset's status and league
/// tables.
fn write_espn(dir: &Path, rows: &[[String; 5]], league_id: u32, name: impl Fn(&str) -> String) {
    std::fs::create_dir_all(dir).unwrap();
    let mut teams: Vec<&str> = rows
        .iter()
        .flat_map(|r| [r[1].as_str(), r[2].as_str()])
        .collect();
    teams.sort();
    teams.dedup();
    let id = |t: &str| 90_000 + teams.binary_search(&t).unwrap();
    let mut table = String::from("teamId,location,name,abbreviation,displayName\n");
    for t in &teams {
        let n = name(t);
        table.push_str(&format!("{},{n},{n},X,{n}\n", id(t)));
    }
    std::fs::write(dir.join("teams.csv"), table).unwrap();
    let mut fx = format!("{ESPN_HEADER}\n");
    for (i, r) in rows.iter().enumerate() {
        let (hg, ag): (u32, u32) = (r[3].parse().unwrap(), r[4].parse().unwrap());
        fx.push_str(&format!(
            "{},1,{league_id},{},{} 15:00:00,-1,0,{},{},{},{},{hg},{ag},0,0,28,{} 18:00:00\n",
            i + 1,
            800_000 + i,
            r[0],
            id(&r[1]),
            id(&r[2]),
            if hg > ag { "True" } else { "False" },
            if ag > hg { "True" } else { "False" },
            r[0]
        ));
    }
    std::fs::write(dir.join("fixtures.csv"), fx).unwrap();
    for t in ["status.csv", "leagues.csv"] {
        std::fs::copy(fixtures().join("espn").join(t), dir.join(t)).unwrap();
    }
}

/// The same rows cut to the columns ESPN has, as a football-data file.
fn write_football_data(path: &Path, rows: &[[String; 5]]) {
    let mut out = String::from("Div,Date,HomeTeam,AwayTeam,FTHG,FTAG\n");
    for r in rows {
        out.push_str(&format!(
            "E0,{},{},{},{},{}\n",
            r[0], r[1], r[2], r[3], r[4]
        ));
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, out).unwrap();
}

/// A pickle as JSON without its training time.
fn pickle_json(path: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        auto_train::store::pickle::from_bytes(&std::fs::read(path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("trained_date");
    v
}

fn metrics_json(path: &Path) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("trained_date");
    v
}

/// Same matches, same model: a football-data league converted to ESPN files (its own team table)
/// trains exactly the models the football-data file cut to the columns ESPN has trains.
#[test]
fn the_same_matches_from_espn_files_train_the_same_models() {
    let rows = e0_rows(&["2019-20", "2020-21", "2021-22", "2022-23"]);
    let from_espn = Workspace::new(&[]);
    write_espn(
        &from_espn.data().join("base_data"),
        &rows,
        700,
        str::to_string,
    );
    let from_fd = Workspace::new(&[]);
    write_football_data(&from_fd.data().join("E0.csv"), &rows);
    for ws in [&from_espn, &from_fd] {
        let (code, summary, stderr) = ws.run_json(&[]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(summary["totals"]["trained"], 3, "{summary:#}");
        assert_eq!(summary["data"]["leagues"]["premier_league"], 1520);
    }
    for (ty, files) in [
        ("poisson_v2", &["poisson_model.pkl"][..]),
        (
            "1x2_v2",
            &[
                "home_model.pkl",
                "draw_model.pkl",
                "away_model.pkl",
                "calibrator.pkl",
            ][..],
        ),
        ("draw_specialist_v1", &["draw_model.pkl"][..]),
    ] {
        let (a, b) = (
            from_espn.model_dir("premier_league", ty),
            from_fd.model_dir("premier_league", ty),
        );
        for f in files {
            assert_eq!(pickle_json(&a.join(f)), pickle_json(&b.join(f)), "{ty} {f}");
        }
        assert_eq!(
            metrics_json(&a.join("metrics.json")),
            metrics_json(&b.join("metrics.json")),
            "{ty}"
        );
    }
    // Every odds-free probability of every model type, on fixtures of next season.
    let fixtures_file = from_fd.path().join("next.csv");
    let mut lines = vec!["Date,HomeTeam,AwayTeam".to_string()];
    for r in rows.iter().rev().take(40) {
        lines.push(format!("2023-08-19,{},{}", r[1], r[2]));
    }
    std::fs::write(&fixtures_file, lines.join("\n") + "\n").unwrap();
    let a = from_espn.predict_ok("premier_league", &fixtures_file);
    let b = from_fd.predict_ok("premier_league", &fixtures_file);
    assert_eq!(a[0].len(), 14, "{:?}", a[0]);
    assert_eq!(a, b);
}

fn status_table() -> String {
    std::fs::read_to_string(fixtures().join("espn/status.csv")).unwrap()
}

/// Each status and competition rule on hand-made rows of the dataset's layout.
#[test]
fn only_final_scores_of_leagues_train_and_the_rest_is_counted_by_reason() {
    let ws = Workspace::new(&[]);
    let dir = ws.data().join("espn");
    write_csv(
        &dir.join("teams.csv"),
        &[
            "teamId,location,name,abbreviation,displayName",
            "1,A,A,A,Club A",
            "2,B,B,B,Club B",
            "3,C,C,C,Club C",
        ],
    );
    write_csv(
        &dir.join("leagues.csv"),
        &[
            "seasonType,year,seasonName,seasonSlug,leagueId,midsizeName,leagueName,leagueShortName",
            "1,2024,x,x,630,BRA.1,Brazilian Serie A,Serie A",
            "2,2024,x,x,3918,ENG.FA,English FA Cup,FA Cup",
        ],
    );
    std::fs::write(dir.join("status.csv"), status_table()).unwrap();
    let row = |event: u32, league: u32, home: u32, away: u32, hs: &str, as_: &str, status: u32| {
        format!("{event},1,{league},{event},2023-03-{:02} 15:00:00,-1,0,{home},{away},False,False,{hs},{as_},0,0,{status},2023-03-30 00:00:00", event % 28 + 1)
    };
    let rows = vec![
        ESPN_HEADER.to_string(),
        row(1, 700, 1, 2, "2", "1", 28),
        row(2, 700, 2, 3, "3", "2", 45),
        row(3, 700, 3, 1, "1", "1", 47),
        row(4, 700, 1, 3, "0", "0", 6),
        row(5, 700, 3, 2, "0", "0", 1),
        row(6, 700, 2, 1, "1", "0", 2),
        row(7, 700, 1, 2, "0", "0", 5),
        row(8, 700, 2, 3, "1", "0", 27),
        row(9, 700, 3, 1, "0", "0", 99),
        row(10, 630, 1, 9, "2", "2", 28),
        row(11, 3918, 1, 2, "1", "1", 47),
        row(12, 12345, 1, 2, "1", "0", 28),
        row(13, 700, 1, 2, "x", "0", 28),
    ];
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    write_csv(&dir.join("fixtures.csv"), &refs);
    let (code, s, stderr) = ws.run_json(&["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        league_counts(&s),
        [
            ("brazil_serie_a".to_string(), 1),
            ("premier_league".to_string(), 3)
        ]
    );
    assert_eq!(
        s["data"]["espn_skipped_by_reason"],
        json!({"abandoned": 1, "bad cells": 1, "canceled": 1, "competition not in leagues.csv": 1,
               "cup or other competition": 1, "in progress": 1, "postponed": 1, "scheduled": 1,
               "unknown status id 99": 1}),
    );
    let espn = &s["data"]["espn_files"][0]["espn"];
    assert_eq!(espn["after_extra_time_or_penalties"], 2);
    assert_eq!(espn["teams_without_name"], json!(["9"]));
    assert!(stderr.contains("no row in teams.csv"), "{stderr}");
    let examples = &s["data"]["espn_files"][0]["skipped_examples"];
    assert_eq!(examples[0]["row"], 13, "{examples:#}");
    assert!(
        examples[0]["reason"]
            .as_str()
            .unwrap()
            .contains("home score \"x\" is not a number"),
        "{examples:#}"
    );
}

/// The processed files' snake_case schema, as CSV and as Parquet, with names from the data dir's
/// teams.csv: the same matches, counted once.
#[test]
fn processed_snake_case_files_read_with_names_from_teams_csv() {
    use polars::prelude::*;
    let ws = Workspace::new(&[]);
    let rows = e0_rows(&["2022-23"]);
    let mut teams: Vec<&str> = rows
        .iter()
        .flat_map(|r| [r[1].as_str(), r[2].as_str()])
        .collect();
    teams.sort();
    teams.dedup();
    let id = |t: &str| (teams.binary_search(&t).unwrap() + 1) as i64;
    let mut table = vec!["teamId,displayName".to_string()];
    table.extend(teams.iter().map(|t| format!("{},{t}", id(t))));
    let refs: Vec<&str> = table.iter().map(String::as_str).collect();
    write_csv(&ws.data().join("teams.csv"), &refs);
    let mut csv_rows = vec![
        "match_id,league_id,home_team_id,away_team_id,home_score,away_score,date,status_id"
            .to_string(),
    ];
    for (i, r) in rows.iter().enumerate() {
        csv_rows.push(format!(
            "{i},700,{},{},{},{},{} 15:00:00,28",
            id(&r[1]),
            id(&r[2]),
            r[3],
            r[4],
            r[0]
        ));
    }
    let refs: Vec<&str> = csv_rows.iter().map(String::as_str).collect();
    write_csv(&ws.data().join("processed/matches.csv"), &refs);
    let mut df = df!(
        "match_id" => (0..rows.len() as i64).collect::<Vec<_>>(),
        // Ids as floats, as pandas writes a column that once held a missing value.
        "league_id" => vec![700f64; rows.len()],
        "home_team_id" => rows.iter().map(|r| id(&r[1]) as f64).collect::<Vec<_>>(),
        "away_team_id" => rows.iter().map(|r| id(&r[2])).collect::<Vec<_>>(),
        "home_score" => rows.iter().map(|r| r[3].parse::<i64>().unwrap()).collect::<Vec<_>>(),
        "away_score" => rows.iter().map(|r| r[4].parse::<i64>().unwrap()).collect::<Vec<_>>(),
        "date" => rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
    )
    .unwrap();
    let file = std::fs::File::create(ws.data().join("processed/matches.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
    let (code, s, stderr) = ws.run_json(&["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("matches.parquet: no status column"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("matches.csv: no status column"),
        "{stderr}"
    );
    assert_eq!(s["data"]["unreadable_files"], json!([]));
    assert_eq!(s["data"]["espn_files"].as_array().unwrap().len(), 2);
    assert_eq!(s["data"]["leagues"]["premier_league"], 380);
    assert_eq!(s["data"]["duplicates"], 380);
    // Named by teams.csv: the football-data file of the same rows is the same league.
    write_football_data(&ws.data().join("E0.csv"), &rows);
    let (_, s, _) = ws.run_json(&["--dry-run"]);
    assert_eq!(s["data"]["leagues"]["premier_league"], 380);
    assert_eq!(s["data"]["duplicates"], 760);
    assert_eq!(s["data"]["format_conflicts"], json!([]));
}

/// A league in both formats is one league when both name the teams alike (matches counted
/// once); when the names differ its ESPN rows are left out with a warning, never counted twice.
#[test]
fn one_league_from_both_formats_is_deduplicated_or_refused_with_a_warning() {
    let old = e0_rows(&["2021-22"]);
    let new = e0_rows(&["2022-23"]);
    let both: Vec<[String; 5]> = old.iter().chain(&new).cloned().collect();

    let ws = Workspace::new(&[]);
    write_espn(&ws.data().join("espn"), &both, 700, str::to_string);
    write_football_data(&ws.data().join("fd/E0.csv"), &new);
    let (code, s, stderr) = ws.run_json(&["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s["data"]["leagues"]["premier_league"], 760);
    assert_eq!(s["data"]["duplicates"], 380);
    assert_eq!(s["data"]["format_conflicts"], json!([]));

    let ws = Workspace::new(&[]);
    write_espn(&ws.data().join("espn"), &both, 700, |t| format!("FC {t}"));
    write_football_data(&ws.data().join("fd/E0.csv"), &new);
    let (code, s, stderr) = ws.run_json(&["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(s["data"]["leagues"]["premier_league"], 380);
    let conflicts = s["data"]["format_conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["league"], "premier_league");
    assert_eq!(conflicts[0]["espn_matches_dropped"], 760);
    assert!(stderr.contains("whose team names differ"), "{stderr}");
    let out = ws.cmd().arg("--dry-run").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Warning: league premier_league is in ESPN and football-data files with different team names"),
        "{text}"
    );

    // Seasons apart (no shared day) with unlike names: the same refusal.
    let ws = Workspace::new(&[]);
    write_espn(&ws.data().join("espn"), &old, 700, |t| format!("FC {t}"));
    write_football_data(&ws.data().join("fd/E0.csv"), &new);
    let (_, s, _) = ws.run_json(&["--dry-run"]);
    assert_eq!(s["data"]["leagues"]["premier_league"], 380);
    assert_eq!(
        s["data"]["format_conflicts"][0]["espn_matches_dropped"],
        380
    );
}
