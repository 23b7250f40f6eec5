//! Detection (`--dry-run`, `status`) and the Poisson model load only the required columns, the
//! feature models and `predict` the columns the feature pass reads, and `Columns::All` every
//! numeric column. All three must see exactly the same matches, skipped rows, unreadable files,
//! duplicates and unknown divisions, on clean data and on every file of the bad-data corpus, or a
//! dry run would promise something the real run does not do; and a wanted column must hold the
//! same numbers as in the full load.

use std::path::Path;

use auto_train::data::{load_data_dir_with, Columns, LoadedData};
use auto_train::features::COLUMNS_READ;

/// Everything a load reports except the extras, as comparable text.
fn outline(loaded: &LoadedData) -> Vec<String> {
    let mut lines = Vec::new();
    for (slug, league) in &loaded.dataset.leagues {
        for m in &league.matches {
            lines.push(format!(
                "{slug} {} {} {} {} {}",
                m.date, m.home, m.away, m.home_goals, m.away_goals
            ));
        }
    }
    for f in &loaded.files {
        lines.push(format!(
            "file {} rows {} used {} skipped {} {:?}",
            f.path.display(),
            f.rows,
            f.used,
            f.skipped,
            f.skipped_examples
                .iter()
                .map(|s| (s.row, s.reason.clone()))
                .collect::<Vec<_>>()
        ));
    }
    for u in &loaded.unreadable {
        lines.push(format!("unreadable {} {}", u.path.display(), u.reason));
    }
    lines.push(format!("duplicates {}", loaded.duplicates));
    lines.push(format!("unknown {:?}", loaded.unknown_divisions));
    lines
}

fn check(dir: &Path) -> (usize, usize) {
    let all = load_data_dir_with(dir, Columns::All).unwrap();
    let required = load_data_dir_with(dir, Columns::Required).unwrap();
    let wanted = load_data_dir_with(dir, Columns::Wanted(COLUMNS_READ)).unwrap();
    let (a, r, w) = (outline(&all), outline(&required), outline(&wanted));
    assert_eq!(a.len(), r.len(), "{}", dir.display());
    assert_eq!(a.len(), w.len(), "{}", dir.display());
    for ((x, y), z) in a.iter().zip(&r).zip(&w) {
        assert_eq!(x, y, "{}", dir.display());
        assert_eq!(x, z, "{}", dir.display());
    }
    // The wanted load holds exactly the full load's numbers under the wanted names.
    for (slug, league) in &all.dataset.leagues {
        let kept = &wanted.dataset.leagues[slug].matches;
        for (full, m) in league.matches.iter().zip(kept) {
            let expected: Vec<(&str, f64)> = full
                .extras
                .iter()
                .filter(|(n, _)| COLUMNS_READ.contains(n))
                .collect();
            assert_eq!(
                m.extras.iter().collect::<Vec<_>>(),
                expected,
                "{}",
                dir.display()
            );
        }
    }
    let with_extras = all
        .dataset
        .leagues
        .values()
        .flat_map(|l| &l.matches)
        .filter(|m| !m.extras.is_empty())
        .count();
    assert!(required
        .dataset
        .leagues
        .values()
        .flat_map(|l| &l.matches)
        .all(|m| m.extras.is_empty()));
    (a.len(), with_extras)
}

#[test]
fn required_columns_load_the_same_matches_and_reports() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (lines, with_extras) = check(&fixtures.join("E0"));
    assert!(lines > 4900 && with_extras > 4900, "{lines} {with_extras}");
    // Real 2022-23 width (106 columns), every league's file.
    check(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data/processed")
            .as_path(),
    );
    check(&fixtures.join("D1"));
    check(&fixtures.join("N1"));
}

#[test]
fn required_columns_agree_on_every_bad_file() {
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad");
    let mut files: Vec<_> = std::fs::read_dir(&bad)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "py"))
        .collect();
    files.sort();
    assert!(files.len() >= 46, "{}", files.len());
    // One file at a time, so that each file's outcome is compared on its own.
    for file in files {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&file, dir.path().join(file.file_name().unwrap())).unwrap();
        check(dir.path());
    }
    // And all together (duplicates across files, unknown divisions, league names).
    check(&bad);
}

/// Matches (with extras) and the summed file reports, without file paths.
fn matches_and_totals(loaded: &LoadedData) -> (Vec<String>, [usize; 3]) {
    let mut lines = Vec::new();
    for (slug, league) in &loaded.dataset.leagues {
        for m in &league.matches {
            lines.push(format!(
                "{slug} {} {} {} {} {} {:?}",
                m.date,
                m.home,
                m.away,
                m.home_goals,
                m.away_goals,
                m.extras.iter().collect::<Vec<_>>()
            ));
        }
    }
    let totals = loaded.files.iter().fold([0; 3], |t, f| {
        [t[0] + f.rows, t[1] + f.used, t[2] + f.skipped]
    });
    (lines, totals)
}

/// A file without quotes is cut into lines and cells directly, and a large one is parsed in
/// parts side by side; a file with a quote goes through the csv crate. The same rows must give
/// the same load either way, as one large file or as several small ones.
#[test]
fn one_large_file_loads_like_its_rows_in_small_files_and_like_the_quoted_reader() {
    let processed = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/processed");
    let reference = std::fs::read_to_string(processed.join("E0/2022-23.csv")).unwrap();
    let header = reference.lines().next().unwrap().to_string();
    let date_col = header.split(',').position(|c| c == "Date").unwrap();
    let home_col = header.split(',').position(|c| c == "HomeTeam").unwrap();
    let away_col = header.split(',').position(|c| c == "AwayTeam").unwrap();
    // Every 2022-23 file of the shipped data with that header, 20 times over under other club
    // names (so that no copy is a duplicate), with junk rows near the end and CRLF line ends in between.
    let mut parts: Vec<String> = Vec::new();
    for copy in 0..20 {
        let mut rows = String::new();
        for div in ["B1", "D1", "E0", "E1", "F1", "I1", "N1", "P1", "SC0", "SP1"] {
            let Ok(text) = std::fs::read_to_string(processed.join(div).join("2022-23.csv")) else {
                continue;
            };
            let mut lines = text.lines();
            if lines.next() != Some(header.as_str()) {
                continue;
            }
            for line in lines {
                let mut cells: Vec<String> = line.split(',').map(str::to_string).collect();
                for c in [home_col, away_col] {
                    cells[c] = format!("{} {copy}", cells[c]);
                }
                rows.push_str(&cells.join(","));
                rows.push_str(if copy % 2 == 0 { "\n" } else { "\r\n" });
            }
        }
        if copy >= 15 {
            // Late in the file: in the last part when it is cut.
            rows.push_str("E0,not a date,A,B,1,0\n");
        }
        parts.push(rows);
    }
    let one = tempfile::tempdir().unwrap();
    let big = format!("{header}\n{}", parts.concat());
    assert!(
        big.len() > 8 << 20,
        "{} bytes: large enough to be cut",
        big.len()
    );
    std::fs::write(one.path().join("all.csv"), &big).unwrap();
    let small = tempfile::tempdir().unwrap();
    for (i, rows) in parts.iter().enumerate() {
        std::fs::write(
            small.path().join(format!("{i}.csv")),
            format!("{header}\n{rows}"),
        )
        .unwrap();
    }
    // The same big file with one quoted date: read by the csv crate.
    let quoted = tempfile::tempdir().unwrap();
    let mut lines: Vec<String> = big.split('\n').map(str::to_string).collect();
    let mut cells: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    cells[date_col] = format!("\"{}\"", cells[date_col]);
    lines[1] = cells.join(",");
    std::fs::write(quoted.path().join("all.csv"), lines.join("\n")).unwrap();

    for columns in [
        Columns::All,
        Columns::Required,
        Columns::Wanted(COLUMNS_READ),
    ] {
        let one = load_data_dir_with(one.path(), columns).unwrap();
        let small = load_data_dir_with(small.path(), columns).unwrap();
        let quoted = load_data_dir_with(quoted.path(), columns).unwrap();
        let (a, totals) = matches_and_totals(&one);
        assert!(a.len() > 10_000, "{}", a.len());
        assert_eq!(totals[2], 5, "{columns:?}: the junk rows");
        let (b, small_totals) = matches_and_totals(&small);
        assert_eq!(totals, small_totals, "{columns:?}");
        assert_eq!(a.len(), b.len(), "{columns:?}");
        assert!(a.iter().zip(&b).all(|(x, y)| x == y), "{columns:?}");
        // The same file read by the csv crate: the same outline, reports included.
        let rename = |l: String| {
            let (q, o) = (&quoted.files[0].path, &one.files[0].path);
            l.replace(&q.display().to_string(), &o.display().to_string())
        };
        let (x, y) = (outline(&one), outline(&quoted));
        assert_eq!(x.len(), y.len(), "{columns:?}");
        for (x, y) in x.into_iter().zip(y) {
            assert_eq!(x, rename(y), "{columns:?}");
        }
        // Row numbers count across the parts: the junk rows are where they were written.
        let junk_rows: Vec<usize> = one.files[0]
            .skipped_examples
            .iter()
            .map(|s| s.row)
            .collect();
        let mut expected = Vec::new();
        let mut row = 0;
        for (copy, rows) in parts.iter().enumerate() {
            row += rows.lines().count();
            if copy >= 15 {
                expected.push(row);
            }
        }
        assert_eq!(junk_rows, expected, "{columns:?}");
    }
}
