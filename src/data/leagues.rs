//! League naming: maps football-data.co.uk division codes to the slugs that name model
//! directories and registry keys, so every module agrees on what a league is called.

/// The full published football-data.co.uk code list with the slugs the service uses.
const DIVISIONS: &[(&str, &str)] = &[
    ("E0", "premier_league"),
    ("E1", "championship"),
    ("E2", "league_one"),
    ("E3", "league_two"),
    ("EC", "national_league"),
    ("SC0", "scottish_premiership"),
    ("SC1", "scottish_championship"),
    ("SC2", "scottish_league_one"),
    ("SC3", "scottish_league_two"),
    ("D1", "bundesliga"),
    ("D2", "bundesliga_2"),
    ("I1", "serie_a"),
    ("I2", "serie_b"),
    ("SP1", "la_liga"),
    ("SP2", "la_liga_2"),
    ("F1", "ligue_1"),
    ("F2", "ligue_2"),
    ("N1", "eredivisie"),
    ("B1", "belgian_pro_league"),
    ("P1", "primeira_liga"),
    ("T1", "super_lig"),
    ("G1", "greek_super_league"),
];

/// Slug for a division code: `Some(slug)` for a published code, `None` for an unknown one.
pub fn slug_for_division(code: &str) -> Option<&'static str> {
    let code = code.trim();
    DIVISIONS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, slug)| *slug)
}

/// Normalises a league name given directly (a `league` column or a folder name) into a slug:
/// trimmed, lowercase, runs of anything but letters, digits and `_` turned into one `_`.
pub fn normalise_slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_underscore = false;
    for ch in name.trim().chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() || ch == '_' {
            out.push(ch);
            last_underscore = ch == '_';
        } else if !last_underscore && !out.is_empty() {
            out.push('_');
            last_underscore = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The longest slug: a model directory is named by it, and a file name has at most 255 bytes.
pub const MAX_SLUG_BYTES: usize = 255;

/// The slug of a league named by country and league, as football-data.co.uk's "extra leagues"
/// files do (`Country` Brazil, `League` Serie A: `brazil_serie_a`), so that it never merges with
/// a main league of the same name (Italy's `I1` is `serie_a`).
pub fn slug_for_country_league(country: &str, league: &str) -> String {
    normalise_slug(&format!("{} {}", country.trim(), league.trim()))
}

/// A slug is safe to use as a directory name and registry key part.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_BYTES
        && slug != "."
        && slug != ".."
        && slug
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_the_published_codes() {
        assert_eq!(slug_for_division("E0"), Some("premier_league"));
        assert_eq!(slug_for_division("SP1"), Some("la_liga"));
        assert_eq!(slug_for_division("T1"), Some("super_lig"));
        assert_eq!(slug_for_division("B1"), Some("belgian_pro_league"));
        assert_eq!(slug_for_division(" sc0 "), Some("scottish_premiership"));
        assert_eq!(slug_for_division("X9"), None);
    }

    #[test]
    fn normalises_names() {
        assert_eq!(normalise_slug("Premier League"), "premier_league");
        assert_eq!(normalise_slug("  X9 "), "x9");
        assert_eq!(normalise_slug("../etc"), "etc");
        assert!(!is_valid_slug(""));
        assert!(is_valid_slug("x9"));
        assert!(is_valid_slug(&"a".repeat(MAX_SLUG_BYTES)));
        assert!(!is_valid_slug(&"a".repeat(MAX_SLUG_BYTES + 1)));
        assert_eq!(
            slug_for_country_league(" Brazil", "Serie A "),
            "brazil_serie_a"
        );
    }
}
