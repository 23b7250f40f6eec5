//! The row parser: arbitrary bytes as a `.csv` file in a data dir, loaded with
//! `data::load_data_dir` (polars read + validation of every row). Never panics; the file is
//! either reported unreadable or every row is used or skipped, and the counts add up.
#![no_main]

use auto_train::data::load_data_dir;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.csv"), bytes).unwrap();
    let loaded = load_data_dir(dir.path()).expect("the data dir itself is readable");
    assert_eq!(loaded.files.len() + loaded.unreadable.len(), 1);
    for f in &loaded.files {
        assert_eq!(f.used + f.skipped, f.rows);
        assert!(f.skipped_examples.len() <= f.skipped.min(5));
    }
    let matches: usize = loaded.dataset.leagues.values().map(|l| l.len()).sum();
    let used: usize = loaded.files.iter().map(|f| f.used).sum();
    assert_eq!(matches + loaded.duplicates, used);
});
