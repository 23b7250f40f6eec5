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
            assert_eq!(m.extras.iter().collect::<Vec<_>>(), expected, "{}", dir.display());
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
    check(Path::new(env!("CARGO_MANIFEST_DIR")).join("data/processed").as_path());
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
