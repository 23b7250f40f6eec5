//! A bounded, deterministic stand-in for the cargo-fuzz target `fuzz/fuzz_targets/date_parse.rs`
//! that runs in `cargo test` (no nightly needed): 100k strings shaped like dates, mutated with
//! the characters real files hold (accents, U+FFFD from lossy cp1252, full-width digits, signs,
//! times), must never make `Date::parse` panic; every accepted string names a real day that
//! prints and parses back; and real days written in the three formats parse to themselves.

use auto_train::data::date::Date;

/// xorshift64*: small, deterministic, good enough to spread the cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SEPARATORS: &[&str] = &[
    "/", "/", "-", "-", ".", " ", "", "T", ":", "é", "\u{fffd}", "－", "//",
];
const NOISE: &[&str] = &[
    "",
    "",
    "",
    " ",
    "T19:30:00",
    " 15:00",
    "Z",
    "é",
    "\u{fffd}",
    "０",
    "+",
    "-",
    "\r",
    "\t",
    "\u{feff}",
    "x",
    "00",
    "½",
];

fn digits(rng: &mut Rng, max_len: u64) -> String {
    let len = rng.below(max_len + 1);
    (0..len)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

/// A real date in one of the accepted formats, with 0-2 characters replaced, inserted or
/// deleted.
fn mutated_real_date(rng: &mut Rng) -> String {
    let (y, m, d) = Date(rng.below(60_000) as i32 - 20_000).ymd();
    let text = match rng.below(4) {
        0 => format!("{y:04}-{m:02}-{d:02}"),
        1 => format!("{d:02}/{m:02}/{y:04}"),
        2 => format!("{d}/{m}/{:02}", y % 100),
        _ => format!("{y:04}-{m:02}-{d:02}T19:30:00"),
    };
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..rng.below(3) {
        let at = rng.below(chars.len() as u64 + 1) as usize;
        let c = rng
            .pick(&["é", "\u{fffd}", "0", "9", "/", "-", " ", "日", "+"])
            .chars()
            .next()
            .unwrap();
        match rng.below(3) {
            0 if at < chars.len() => chars[at] = c,
            1 => chars.insert(at, c),
            _ if at < chars.len() => {
                chars.remove(at);
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn date_shaped(rng: &mut Rng) -> String {
    if rng.below(2) == 0 {
        return mutated_real_date(rng);
    }
    let mut s = String::new();
    s.push_str(rng.pick(NOISE));
    let first = rng.below(5) + 1;
    s.push_str(&digits(rng, first));
    s.push_str(rng.pick(SEPARATORS));
    s.push_str(&digits(rng, 3));
    s.push_str(rng.pick(SEPARATORS));
    s.push_str(&digits(rng, 5));
    s.push_str(rng.pick(NOISE));
    // Sometimes replace one byte-position character with a multi-byte one.
    if rng.below(4) == 0 && !s.is_empty() {
        let chars: Vec<char> = s.chars().collect();
        let at = rng.below(chars.len() as u64) as usize;
        let mut t: String = chars[..at].iter().collect();
        t.push_str(rng.pick(&["é", "\u{fffd}", "日", "９"]));
        t.extend(&chars[at + 1..]);
        s = t;
    }
    s
}

#[test]
fn date_parse_never_panics_on_date_shaped_strings() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for _ in 0..100_000 {
        let s = date_shaped(&mut rng);
        let parsed = std::panic::catch_unwind(|| Date::parse(&s))
            .unwrap_or_else(|_| panic!("Date::parse panicked on {s:?}"));
        if let Some(date) = parsed {
            accepted += 1;
            let (y, m, d) = date.ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(date), "{s:?}");
            assert_eq!(Date::parse(&date.to_string()), Some(date), "{s:?}");
        }
    }
    // The generator does reach valid dates, so both branches are exercised.
    assert!(accepted > 10_000, "{accepted}");
}

#[test]
fn real_days_round_trip_in_the_three_formats() {
    let mut rng = Rng(42);
    for _ in 0..100_000 {
        // 1900-01-01 .. 2099-12-31 (the two-digit-year range) as days since 1970.
        let days = rng.below(73_049) as i32 - 25_567;
        let date = Date(days);
        let (y, m, d) = date.ymd();
        let yy = y % 100;
        let two_digit_ok = (y >= 2000 && yy < 70) || (y < 2000 && yy >= 70);
        for (text, ok) in [
            (format!("{y:04}-{m:02}-{d:02}"), true),
            (format!("{d:02}/{m:02}/{y:04}"), true),
            (format!("{d}/{m}/{y}"), true),
            (format!("{d:02}/{m:02}/{yy:02}"), two_digit_ok),
            (format!("{y:04}-{m:02}-{d:02}T12:00:00"), true),
        ] {
            if ok {
                assert_eq!(Date::parse(&text), Some(date), "{text}");
            }
        }
        assert_eq!(date.to_string(), format!("{y:04}-{m:02}-{d:02}"));
    }
    // Days that do not exist never parse.
    for (y, m, d) in [
        (2023, 2, 29),
        (2100, 2, 29),
        (2022, 4, 31),
        (2022, 13, 1),
        (2022, 0, 1),
    ] {
        assert_eq!(Date::parse(&format!("{d:02}/{m:02}/{y}")), None);
        assert_eq!(Date::parse(&format!("{y}-{m:02}-{d:02}")), None);
    }
    assert!(Date::parse("29/02/2000").is_some());
}
