//! Calendar dates as plain day numbers, so the data, the models and their files agree on one
//! unambiguous representation without pulling a date library into every module.

use std::fmt;

/// A civil date (proleptic Gregorian), stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

impl Date {
    /// Builds a date from year, month and day, or `None` if that day does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// Year, month and day of this date.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// Days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }

    /// The football season a date belongs to, named by the year it starts in: seasons run from
    /// July to June, so 2023-05-28 is in season 2022 ("2022-23").
    pub fn season(self) -> i32 {
        let (y, m, _) = self.ymd();
        if m >= 7 {
            y
        } else {
            y - 1
        }
    }

    /// The label of the season that starts in `season_year`, e.g. 2022 -> `2022-23`.
    pub fn season_label(season_year: i32) -> String {
        format!("{season_year}-{:02}", (season_year + 1).rem_euclid(100))
    }

    /// First day (1 July) of the season that starts in `season_year`.
    pub fn season_start(season_year: i32) -> Date {
        Date(days_from_civil(season_year, 7, 1))
    }

    /// Parses `dd/mm/yy`, `dd/mm/yyyy` or `yyyy-mm-dd` (also `yyyy-mm-ddTHH:MM...`, as Parquet
    /// datetimes print). Two-digit years are 2000-2099 below 70 and 1900s otherwise, as
    /// football-data.co.uk files need.
    pub fn parse(text: &str) -> Option<Date> {
        // Bytes, not chars: every separator and digit is ASCII, so a multi-byte character
        // anywhere makes a part that is not all digits.
        let s = text.trim().as_bytes();
        if s.len() >= 10 && s[4] == b'-' {
            let (date_part, rest) = s.split_at(10);
            if !(rest.is_empty() || rest[0] == b'T' || rest[0] == b' ') {
                return None;
            }
            let mut parts = date_part.split(|&b| b == b'-');
            let y = parse_digits(parts.next()?, 4, 4)?;
            let m = parse_digits(parts.next()?, 2, 2)?;
            let d = parse_digits(parts.next()?, 2, 2)?;
            return Date::from_ymd(y as i32, m, d);
        }
        let mut parts = s.split(|&b| b == b'/');
        let d = parse_digits(parts.next()?, 1, 2)?;
        let m = parse_digits(parts.next()?, 1, 2)?;
        let y_text = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        let y = match y_text.len() {
            2 => {
                let yy = parse_digits(y_text, 2, 2)? as i32;
                if yy < 70 {
                    2000 + yy
                } else {
                    1900 + yy
                }
            }
            4 => parse_digits(y_text, 4, 4)? as i32,
            _ => return None,
        };
        Date::from_ymd(y, m, d)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// The value of `min_len..=max_len` ASCII digits (at most 9: no overflow).
fn parse_digits(s: &[u8], min_len: usize, max_len: usize) -> Option<u32> {
    if s.len() < min_len || s.len() > max_len || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |v, &b| v * 10 + u32::from(b - b'0')))
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The current UTC time as `YYYY-MM-DD HH:MM:SS`, the registry's `trained_date` format.
pub fn now_utc_string() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let date = Date(days as i32);
    format!(
        "{} {:02}:{:02}:{:02}",
        date,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn season_labels() {
        assert_eq!(Date::season_label(2022), "2022-23");
        assert_eq!(Date::season_label(1999), "1999-00");
        assert_eq!(Date::season_label(2099), "2099-00");
        assert_eq!(Date::season_label(-2), "-2-99");
        let d = Date::from_ymd(2023, 5, 28).unwrap();
        assert_eq!(Date::season_label(d.season()), "2022-23");
    }

    #[test]
    fn parses_the_three_formats() {
        assert_eq!(Date::parse("14/08/10"), Date::from_ymd(2010, 8, 14));
        assert_eq!(Date::parse("05/08/2022"), Date::from_ymd(2022, 8, 5));
        assert_eq!(Date::parse("2023-05-28"), Date::from_ymd(2023, 5, 28));
        assert_eq!(
            Date::parse("2023-05-28T00:00:00.000"),
            Date::from_ymd(2023, 5, 28)
        );
        assert_eq!(Date::parse("1/2/2021"), Date::from_ymd(2021, 2, 1));
        assert_eq!(
            Date::parse(" 2023-05-28 12:00 "),
            Date::from_ymd(2023, 5, 28)
        );
    }

    #[test]
    fn rejects_days_that_do_not_exist_and_junk() {
        for s in [
            "31/02/2020",
            "29/02/2021",
            "00/01/2020",
            "12/13/2020",
            "2020-02-30",
            "",
            "abc",
            "1/1/1",
            "12/05/20201",
            "2020/05/12",
            "2020-5-12",
            "+1/01/2020",
            "12/05/20 x",
            "2022-08-0\u{e9}",
            "2022-08-\u{e9}1",
            "2022-\u{fffd}-01",
            "2022-08-01\u{e9}",
            "\u{e9}2022-08-01",
            "1\u{e9}/08/2022",
        ] {
            assert_eq!(Date::parse(s), None, "{s}");
        }
        assert!(Date::parse("29/02/2020").is_some());
    }

    #[test]
    fn round_trips_and_seasons() {
        for days in [-1000, 0, 1, 15_000, 19_505, 40_000] {
            let (y, m, d) = Date(days).ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(Date(days)));
        }
        assert_eq!(Date(0).to_string(), "1970-01-01");
        assert_eq!(Date::parse("28/05/2023").unwrap().season(), 2022);
        assert_eq!(Date::parse("05/08/2022").unwrap().season(), 2022);
        assert_eq!(Date::season_start(2022).to_string(), "2022-07-01");
    }
}
