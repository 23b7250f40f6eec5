//! The bad-data corpus (tests/fixtures/bad/, made from real fixture rows by make_corpus.py):
//! each file is loaded in its own temp dir beside one good league file (N1 2022-23, 306
//! matches), and its documented outcome is checked through the `--json` summary: rows skipped
//! and counted (with the first skipped row and its reason), or the file reported as unreadable
//! with its reason, or read in full. The good league always trains, and nothing ever panics.
//! Runs are pinned to `--as-of 2030-01-01` (every corpus match is from 2022-23).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// What loading one bad file must give.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Every row used.
    Clean,
    /// `skipped` of `rows` data rows skipped; the first skipped row and part of its reason.
    Skipped {
        rows: usize,
        skipped: usize,
        first_row: usize,
        reason: &'static str,
    },
    /// Reported under `unreadable_files` with this in its reason; nothing from it is used.
    Unreadable(&'static str),
}

use Expect::*;

struct Case {
    file: &'static str,
    expect: Expect,
    /// Matches per league that this file contributes (eredivisie's 306 come from the good file).
    leagues: &'static [(&'static str, usize)],
    duplicates: usize,
    unknown_divisions: &'static [&'static str],
}

const fn case(
    file: &'static str,
    expect: Expect,
    leagues: &'static [(&'static str, usize)],
) -> Case {
    Case {
        file,
        expect,
        leagues,
        duplicates: 0,
        unknown_divisions: &[],
    }
}

const fn skipped(rows: usize, skipped: usize, first_row: usize, reason: &'static str) -> Expect {
    Skipped {
        rows,
        skipped,
        first_row,
        reason,
    }
}

const BUNDES20: &[(&str, usize)] = &[("bundesliga", 20)];
/// Today for every run of this suite.
const AS_OF: &str = "2030-01-01";
const NONE: &[(&str, usize)] = &[];

const CASES: &[Case] = &[
    // Dates.
    case(
        "date_dotted.csv",
        skipped(20, 20, 1, "invalid date \"05.08.2022\""),
        NONE,
    ),
    // Month first: the days above 12 cannot be months; the others cannot be told apart.
    case(
        "date_us_month_first.csv",
        skipped(20, 10, 11, "invalid date \"08/13/2022\""),
        &[("bundesliga", 10)],
    ),
    case(
        "date_nonexistent.csv",
        skipped(20, 5, 3, "invalid date \"31/02/2023\""),
        &[("bundesliga", 15)],
    ),
    case(
        "date_text_month.csv",
        skipped(20, 20, 1, "invalid date \"05-Aug-2022\""),
        NONE,
    ),
    case("date_iso_with_time.csv", Clean, BUNDES20),
    case("date_two_digit_year.csv", Clean, BUNDES20),
    // Was a panic (a byte slice inside 'é'): now an invalid date.
    case(
        "date_multibyte.csv",
        skipped(20, 2, 1, "invalid date \"2022-08-0é\""),
        &[("bundesliga", 18)],
    ),
    case(
        "date_empty.csv",
        skipped(20, 2, 4, "no date"),
        &[("bundesliga", 18)],
    ),
    // Goals.
    case(
        "goals_negative.csv",
        skipped(
            20,
            3,
            1,
            "home goals \"-1\" is not a non-negative whole number",
        ),
        &[("bundesliga", 17)],
    ),
    case(
        "goals_non_numeric.csv",
        skipped(20, 3, 2, "away goals \"two\" is not a number"),
        &[("bundesliga", 17)],
    ),
    // "2.0" and "0.0" are whole numbers (pandas writes them); "1.5" is not.
    case(
        "goals_fractional.csv",
        skipped(
            20,
            1,
            1,
            "home goals \"1.5\" is not a non-negative whole number",
        ),
        &[("bundesliga", 19)],
    ),
    // 1e26, 1e400 (inf), 100, NaN, inf skipped; "-0" is zero.
    case(
        "goals_huge.csv",
        skipped(
            20,
            5,
            1,
            "home goals \"99999999999999999999999999\" is not a plausible goal count",
        ),
        &[("bundesliga", 15)],
    ),
    case(
        "goals_empty_postponed.csv",
        skipped(20, 2, 5, "home goals missing"),
        &[("bundesliga", 18)],
    ),
    // Columns.
    case(
        "missing_date_column.csv",
        Unreadable("missing required column Date"),
        NONE,
    ),
    case(
        "missing_goal_column.csv",
        Unreadable("missing required column FTAG or AG"),
        NONE,
    ),
    case(
        "missing_team_column.csv",
        Unreadable("missing required column HomeTeam or Home"),
        NONE,
    ),
    // An extra-leagues file: named by country and league.
    case(
        "alias_columns_new_layout.csv",
        Clean,
        &[("germany_bundesliga", 20)],
    ),
    // Brazil's Serie A is not Italy's (I1, serie_a).
    case("extra_leagues_brazil.csv", Clean, &[("brazil_serie_a", 20)]),
    case("extra_and_reordered_columns.csv", Clean, BUNDES20),
    case(
        "ragged_rows.csv",
        skipped(20, 2, 2, "away goals missing"),
        &[("bundesliga", 18)],
    ),
    // Encodings and line endings.
    case("cp1252_team_names.csv", Clean, BUNDES20),
    case("utf8_bom.csv", Clean, BUNDES20),
    case("crlf_line_endings.csv", Clean, BUNDES20),
    case("padded_cells.csv", Clean, BUNDES20),
    case("quoted_commas.csv", Clean, BUNDES20),
    case("huge_cell.csv", Clean, BUNDES20),
    case("UPPER_EXTENSION.CSV", Clean, BUNDES20),
    // Not CSV at all, or nothing in it.
    case("empty.csv", Unreadable("empty file (no header row)"), NONE),
    case(
        "blank_lines_only.csv",
        Unreadable("empty file (no header row)"),
        NONE,
    ),
    case("header_only.csv", Clean, NONE),
    case("binary_gzip.csv", Unreadable("NUL bytes"), NONE),
    case(
        "binary_no_nul.csv",
        Unreadable("missing required column Date"),
        NONE,
    ),
    case(
        "semicolon_separated.csv",
        Unreadable("missing required column Date"),
        NONE,
    ),
    case(
        "tab_separated.csv",
        Unreadable("missing required column Date"),
        NONE,
    ),
    case("csv_named.parquet", Unreadable("parquet"), NONE),
    // One unbalanced quote makes polars refuse the whole file.
    case("unbalanced_quote.csv", Unreadable("could not parse"), NONE),
    // Rows.
    case(
        "same_team_twice.csv",
        skipped(20, 1, 6, "home and away team are the same (\"Wolfsburg\")"),
        &[("bundesliga", 19)],
    ),
    case(
        "empty_team.csv",
        skipped(20, 1, 7, "no home team"),
        &[("bundesliga", 19)],
    ),
    case(
        "empty_division.csv",
        skipped(20, 2, 1, "no league (empty Div/league cell)"),
        &[("bundesliga", 18)],
    ),
    // "Total" / "Source: ..." rows are skipped and are not reported as division codes.
    case(
        "junk_trailing_rows.csv",
        skipped(23, 3, 21, "no league (empty Div/league cell)"),
        BUNDES20,
    ),
    Case {
        duplicates: 10,
        ..case("duplicate_rows.csv", Clean, &[("bundesliga", 10)])
    },
    Case {
        duplicates: 15,
        ..case("duplicates_of_another_file.csv", Clean, NONE)
    },
    Case {
        unknown_divisions: &["X1"],
        ..case("unknown_division.csv", Clean, &[("x1", 20)])
    },
    // A league cell that looks like a path becomes a plain slug.
    case("league_column_path.csv", Clean, &[("etc", 20)]),
    // "Liga 1", "liga_1", "LIGA-1": one league (with a warning, checked below).
    case("league_names_merged.csv", Clean, &[("liga_1", 20)]),
    // 256 bytes cannot name a directory: rejected like an empty name, the raw value shown.
    case(
        "league_name_too_long.csv",
        skipped(20, 2, 1, "league name \"xxxxxxxxxxxxxxxx"),
        &[("bundesliga", 18)],
    ),
    // Dated after today (2032 and 2099, with --as-of 2030-01-01): not results.
    case(
        "future_dated.csv",
        skipped(
            20,
            2,
            3,
            "dated 2032-05-28, after today (2030-01-01): not a result",
        ),
        &[("bundesliga", 18)],
    ),
    // Odds: zero, empty, huge or junk odds do not cost the row.
    case("odds_zero.csv", Clean, BUNDES20),
    case("odds_empty.csv", Clean, BUNDES20),
    case("odds_huge_and_junk.csv", Clean, BUNDES20),
];

/// Loads `name` (already placed in the workspace's data dir) beside the good file and checks
/// the outcome.
fn check(ws: &Workspace, c: &Case) {
    let name = c.file;
    let (code, summary, stderr) = ws.run_json(&["--model-type", "poisson_v2", "--as-of", AS_OF]);
    let ctx = format!("{name}: {stderr}");
    assert_eq!(code, 0, "{ctx}");
    assert!(!stderr.contains("panicked"), "{ctx}");
    let data = &summary["data"];

    let mut leagues: BTreeMap<String, u64> = c
        .leagues
        .iter()
        .map(|(l, n)| (l.to_string(), *n as u64))
        .collect();
    leagues.insert("eredivisie".into(), 306);
    let got: BTreeMap<String, u64> = data["leagues"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    assert_eq!(got, leagues, "{ctx}");
    assert_eq!(data["duplicates"], c.duplicates, "{ctx}");
    assert_eq!(
        data["unknown_divisions"],
        serde_json::json!(c.unknown_divisions),
        "{ctx}"
    );
    // The good league trains whatever the bad file holds.
    assert_eq!(
        statuses(&summary)[&("eredivisie".into(), "poisson_v2".into())],
        "trained",
        "{ctx}"
    );
    assert_complete_poisson_dir(&ws.model_dir("eredivisie", "poisson_v2"), name);

    let unreadable = data["unreadable_files"].as_array().unwrap();
    let with_skips = data["files_with_skipped_rows"].as_array().unwrap();
    match c.expect {
        Clean => {
            assert!(unreadable.is_empty(), "{ctx}");
            assert!(with_skips.is_empty(), "{ctx}");
            assert_eq!(data["skipped_rows"], 0, "{ctx}");
        }
        Skipped {
            rows,
            skipped,
            first_row,
            reason,
        } => {
            assert!(unreadable.is_empty(), "{ctx}");
            assert_eq!(data["skipped_rows"], skipped, "{ctx}");
            assert_eq!(with_skips.len(), 1, "{ctx}");
            let f = &with_skips[0];
            assert!(f["path"].as_str().unwrap().ends_with(name), "{ctx}");
            assert_eq!(f["rows"], rows, "{ctx}");
            assert_eq!(f["skipped"], skipped, "{ctx}");
            assert_eq!(f["used"], rows - skipped, "{ctx}");
            let examples = f["skipped_examples"].as_array().unwrap();
            assert_eq!(examples.len(), skipped.min(5), "{ctx}");
            assert_eq!(examples[0]["row"], first_row, "{ctx}");
            assert!(
                examples[0]["reason"].as_str().unwrap().contains(reason),
                "{ctx}: {}",
                examples[0]["reason"]
            );
            assert!(
                stderr.contains(&format!("skipped {skipped} of {rows} rows")),
                "{ctx}"
            );
        }
        Unreadable(reason) => {
            assert_eq!(unreadable.len(), 1, "{ctx}");
            assert!(with_skips.is_empty(), "{ctx}");
            assert!(
                unreadable[0]["path"].as_str().unwrap().ends_with(name),
                "{ctx}"
            );
            assert!(
                unreadable[0]["reason"].as_str().unwrap().contains(reason),
                "{ctx}: {}",
                unreadable[0]["reason"]
            );
            assert!(stderr.contains("cannot read"), "{ctx}");
            assert!(stderr.contains(name), "{ctx}");
        }
    }
    // The text report and a dry run survive it too.
    let out = ws
        .cmd()
        .args(["--model-type", "poisson_v2", "--dry-run", "--as-of", AS_OF])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{name}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("TRAINING PIPELINE COMPLETE"));
}

fn workspace_with(file: &Path, name: &str) -> Workspace {
    let ws = Workspace::new(&["N1"]);
    std::fs::copy(file, ws.data().join(name)).unwrap();
    ws
}

#[test]
fn every_bad_file_has_its_documented_outcome() {
    let bad = fixtures().join("bad");
    // Every file of the corpus is in the table (and the table has no stale names).
    let mut on_disk: Vec<String> = std::fs::read_dir(&bad)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != "make_corpus.py")
        .collect();
    on_disk.sort();
    let mut in_table: Vec<String> = CASES.iter().map(|c| c.file.to_string()).collect();
    in_table.sort();
    assert_eq!(on_disk, in_table);
    assert!(CASES.len() >= 30);

    std::thread::scope(|s| {
        for part in [0, 1] {
            let bad = &bad;
            s.spawn(move || {
                for c in CASES.iter().skip(part).step_by(2) {
                    let ws = workspace_with(&bad.join(c.file), c.file);
                    check(&ws, c);
                }
            });
        }
    });
}

/// Entries that cannot be read however they are opened (as root, permission bits would not stop
/// a read): a dangling symlink and a symlink loop are reported by path and reason; a directory
/// named like a CSV file is searched like any directory.
#[cfg(unix)]
#[test]
fn unreadable_entries_made_at_run_time() {
    use std::os::unix::fs::symlink;
    for (name, make, reason) in [
        (
            "dangling.csv",
            &(|p: &Path| symlink(p.with_file_name("nowhere.csv"), p).unwrap()) as &dyn Fn(&Path),
            "No such file",
        ),
        (
            "loop.csv",
            &|p: &Path| symlink(p, p).unwrap(),
            "symbolic links",
        ),
    ] {
        let ws = Workspace::new(&["N1"]);
        make(&ws.data().join(name));
        check(
            &ws,
            &Case {
                file: name,
                expect: Unreadable(reason),
                leagues: NONE,
                duplicates: 0,
                unknown_divisions: &[],
            },
        );
    }
    // A FIFO named like a CSV file (and a symlink to one) would block the first read forever:
    // reported by path and skipped, by a dry run too.
    for name in ["pipe.csv", "link_to_pipe.csv"] {
        let ws = Workspace::new(&["N1"]);
        let fifo = ws.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        if name == "pipe.csv" {
            std::fs::rename(&fifo, ws.data().join(name)).unwrap();
        } else {
            symlink(&fifo, ws.data().join(name)).unwrap();
        }
        check(
            &ws,
            &Case {
                file: name,
                expect: Unreadable("not a regular file"),
                leagues: NONE,
                duplicates: 0,
                unknown_divisions: &[],
            },
        );
    }
    // A directory called 2022-23.csv holding a real season file: that file is read.
    let ws = Workspace::new(&["N1"]);
    let dir = ws.data().join("D1.csv");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(fixtures().join("D1/2022-23.csv"), dir.join("2022-23.csv")).unwrap();
    let (code, summary, stderr) = ws.run_json(&["--model-type", "poisson_v2", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(summary["data"]["leagues"]["bundesliga"], 306);
    assert_eq!(summary["data"]["unreadable_files"], serde_json::json!([]));
}

/// A league of an extra-leagues file (Country, League) beside a main league of the same name
/// stays apart; different spellings of one name form one league, with one warning naming two of
/// them.
#[test]
fn extra_leagues_stay_apart_and_merged_league_names_warn() {
    let ws = Workspace::new(&["N1"]);
    copy_with_div("D1", "I1", &ws.data().join("I1"));
    let bad = fixtures().join("bad");
    for f in ["extra_leagues_brazil.csv", "league_names_merged.csv"] {
        std::fs::copy(bad.join(f), ws.data().join(f)).unwrap();
    }
    let (code, summary, stderr) = ws.run_json(&["--model-type", "poisson_v2", "--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    let leagues = &summary["data"]["leagues"];
    assert_eq!(leagues["brazil_serie_a"], 20, "{stderr}");
    assert_eq!(
        leagues["serie_a"], 918,
        "three seasons of D1 rows as I1: {stderr}"
    );
    assert_eq!(leagues["liga_1"], 20, "{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("both map to"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "one warning for liga_1, none for serie_a: {stderr}"
    );
    assert!(
        warnings[0].contains("\"Liga 1\" and \"liga_1\" both map to \"liga_1\""),
        "{stderr}"
    );
}

/// `--as-of` pins today: a match dated on it is not in the future, one dated a day later is; the
/// same files give other counts on other days. (The file's two far-future rows are also ten and
/// seventy years past the rest of their league: whatever `--as-of` says, a date that is not in
/// the future is set aside as impossible, so bundesliga keeps its 18 real matches.) `status` and
/// `predict` take the flag too.
#[test]
fn as_of_pins_today_for_run_status_and_predict() {
    let ws = Workspace::new(&["N1"]);
    std::fs::copy(
        fixtures().join("bad/future_dated.csv"),
        ws.data().join("future_dated.csv"),
    )
    .unwrap();
    for (as_of, future, impossible) in [
        ("2032-05-27", 2, 0),
        ("2032-05-28", 1, 1),
        ("2099-01-01", 0, 2),
    ] {
        let (code, summary, stderr) =
            ws.run_json(&["--model-type", "poisson_v2", "--dry-run", "--as-of", as_of]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(summary["data"]["leagues"]["bundesliga"], 18, "{as_of}");
        assert_eq!(summary["data"]["skipped_rows"], 2, "{as_of}");
        let file = &summary["data"]["files_with_skipped_rows"][0];
        assert_eq!(file["future"], future, "{as_of}: {file}");
        let set_aside = file["skipped_examples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["reason"].as_str().unwrap().contains("an impossible date"))
            .count();
        assert_eq!(set_aside, impossible, "{as_of}: {file}");
    }
    let out = ws
        .cmd()
        .args(["--as-of", "28/05/2032", "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "only YYYY-MM-DD is accepted");
    // status needs a models dir (without one it exits 2: nothing trained, or the wrong dir).
    std::fs::create_dir_all(ws.models()).unwrap();
    let out = ws
        .status()
        .args(["--as-of", "2032-05-27"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let fixtures_csv = ws.path().join("fixtures.csv");
    write_csv(
        &fixtures_csv,
        &["Date,HomeTeam,AwayTeam", "2033-01-01,Ajax,PSV"],
    );
    let out = ws
        .predict("eredivisie", &fixtures_csv)
        .args(["--as-of", "2032-05-27"])
        .output()
        .unwrap();
    // No model trained: refused for that reason, not for the flag.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
