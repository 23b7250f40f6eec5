//! `Date::parse` on arbitrary UTF-8: never panics, and a parsed date prints as `yyyy-mm-dd`
//! that parses back to the same date.
#![no_main]

use auto_train::data::date::Date;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Some(date) = Date::parse(text) {
        let (y, m, d) = date.ymd();
        assert_eq!(Date::from_ymd(y, m, d), Some(date));
        let printed = date.to_string();
        if (0..=9999).contains(&y) {
            assert_eq!(Date::parse(&printed), Some(date), "{text:?} -> {printed}");
        }
    }
});
