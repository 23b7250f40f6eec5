//! Close-name suggestions for a league slug or club name that the data does not know, so that a
//! typo (`premiership`, `Man Utd`) is answered with the names it probably meant.
//!
//! A known name is close to the typed one when, ignoring case and everything but letters and
//! digits, the two are equal, one contains the other (at least 4 characters), each word of the
//! typed name abbreviates the known name's word in the same place (`Man Utd` / `Man United`:
//! same first letter, letters in order), they start with the same 6 characters
//! (`premiership` / `premier_league`), their Jaro-Winkler similarity is at least 0.88, or they
//! are at most one edit apart per four characters.

/// Lowercase letters and digits only.
fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// `short` abbreviates `long`: same first letter, every letter of `short` found in order.
fn abbreviates(short: &str, long: &str) -> bool {
    if short.chars().next() != long.chars().next() || short.len() > long.len() {
        return false;
    }
    let mut rest = long.chars();
    short.chars().all(|c| rest.any(|l| l == c))
}

/// How close `known` is to `typed` (higher is closer), or `None` when it is not close.
fn closeness(typed: &str, known: &str) -> Option<f64> {
    let (t, k) = (squash(typed), squash(known));
    if t.is_empty() || k.is_empty() {
        return None;
    }
    if t == k {
        return Some(2.0);
    }
    let similarity = strsim::jaro_winkler(&t, &k);
    let (tw, kw) = (words(typed), words(known));
    let contains = t.len().min(k.len()) >= 4 && (k.contains(&t) || t.contains(&k));
    let abbreviation = tw.len() == kw.len() && tw.iter().zip(&kw).all(|(a, b)| abbreviates(a, b));
    let edits = strsim::levenshtein(&t, &k) <= (t.len().max(k.len()) / 4).max(1);
    let prefix = t.chars().zip(k.chars()).take_while(|(a, b)| a == b).count() >= 6;
    (contains || abbreviation || prefix || edits || similarity >= 0.88).then_some(1.0 + similarity)
}

/// The known names close to `typed`, closest first (at most `limit`).
pub fn suggest<'a>(
    typed: &str,
    known: impl IntoIterator<Item = &'a str>,
    limit: usize,
) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = known
        .into_iter()
        .filter(|k| *k != typed)
        .filter_map(|k| closeness(typed, k).map(|s| (s, k)))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(limit).map(|(_, k)| k).collect()
}

/// ` (did you mean "a" or "b"?)`, or nothing when there is no close name.
pub fn did_you_mean(suggestions: &[&str]) -> String {
    if suggestions.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = suggestions.iter().map(|s| format!("{s:?}")).collect();
    format!(" (did you mean {}?)", quoted.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_names() {
        let clubs = ["Man United", "Man City", "Arsenal", "Newcastle", "West Ham"];
        assert_eq!(suggest("Man Utd", clubs, 3), vec!["Man United"]);
        assert_eq!(suggest("arsenal", clubs, 3), vec!["Arsenal"]);
        assert_eq!(suggest("Newcastel", clubs, 3), vec!["Newcastle"]);
        assert!(suggest("Real Madrid", clubs, 3).is_empty());
        let slugs = [
            "premier_league",
            "scottish_premiership",
            "la_liga",
            "championship",
        ];
        assert_eq!(
            suggest("premiership", slugs, 3),
            vec!["premier_league", "scottish_premiership"]
        );
        assert_eq!(suggest("premier_legue", slugs, 3), vec!["premier_league"]);
        assert_eq!(suggest("laliga", slugs, 3), vec!["la_liga"]);
        assert_eq!(did_you_mean(&["a"]), " (did you mean \"a\"?)");
    }
}
