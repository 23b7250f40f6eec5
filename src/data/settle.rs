//! One league's rows from every file made into its match list: sorted by date, a match given
//! twice with the same score counted once (the first file in path order wins), a match given
//! with different scores used in neither version (an operator must say which is right), and a
//! match dated impossibly far past the rest of its league set aside. Every row left out is named
//! by file and row, so nothing is settled silently.

use crate::data::date::Date;
use crate::data::matches::Match;

/// A match dated more than this many days after its league's previous match, with fewer than
/// [`IMPOSSIBLE_TAIL_MATCHES`] matches of its league from it on, is set aside as an impossible
/// date (a typo'd year). The longest real break in the shipped data is 188 days (Eredivisie,
/// March to September 2020); off-seasons are about 100.
pub const IMPOSSIBLE_GAP_DAYS: i32 = 200;

/// See [`IMPOSSIBLE_GAP_DAYS`]: fewer matches than one round of a 20-club league.
pub const IMPOSSIBLE_TAIL_MATCHES: usize = 10;

/// A row of one file: the match, the file's index and the data row number in it.
pub struct SourcedRow {
    pub m: Match,
    pub file: u32,
    pub row: u32,
}

/// A row left out of its league, and why.
#[derive(Debug, Clone)]
pub struct LeftOut {
    pub file: u32,
    pub row: u32,
    pub reason: String,
}

/// A league's match list and what was left out of it.
pub struct Settled {
    pub matches: Vec<Match>,
    /// Rows that repeated a match with the same score (counted once).
    pub duplicates: usize,
    pub left_out: Vec<LeftOut>,
}

/// Settles one league's rows (`rows` in path order, then row order). `file_name` names a
/// file index in reasons.
pub fn settle(mut rows: Vec<SourcedRow>, file_name: &dyn Fn(u32) -> String) -> Settled {
    // Stable: among copies of one match, path order, then row order.
    rows.sort_by(|a, b| (a.m.date, &a.m.home, &a.m.away).cmp(&(b.m.date, &b.m.home, &b.m.away)));
    let mut keep = vec![true; rows.len()];
    let mut duplicates = 0;
    let mut left_out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let first = &rows[start];
        let end = start
            + rows[start..]
                .iter()
                .position(|r| !same_match(&first.m, &r.m))
                .unwrap_or(rows.len() - start);
        let group = &rows[start..end];
        keep[start + 1..end].iter_mut().for_each(|k| *k = false);
        if group.iter().all(|r| score(r) == score(first)) {
            duplicates += group.len() - 1;
        } else {
            keep[start] = false;
            left_out.extend(conflicts(group, file_name));
        }
        start = end;
    }
    let mut kept = keep.into_iter();
    rows.retain(|_| kept.next().unwrap_or(false));
    left_out.extend(impossible_tail(&mut rows));
    Settled {
        matches: rows.into_iter().map(|r| r.m).collect(),
        duplicates,
        left_out,
    }
}

fn same_match(a: &Match, b: &Match) -> bool {
    a.date == b.date && a.home == b.home && a.away == b.away
}

fn score(r: &SourcedRow) -> (u8, u8) {
    (r.m.home_goals, r.m.away_goals)
}

/// Every row of a match given with different scores, each naming a copy that disagrees.
fn conflicts(group: &[SourcedRow], file_name: &dyn Fn(u32) -> String) -> Vec<LeftOut> {
    group
        .iter()
        .map(|r| {
            let other = group
                .iter()
                .find(|o| score(o) != score(r))
                .unwrap_or(&group[0]);
            LeftOut {
                file: r.file,
                row: r.row,
                reason: format!(
                    "{} {} v {} is {}-{} here but {}-{} in {} row {}: conflicting copies of one \
                     match, neither is used (remove the wrong one)",
                    r.m.date,
                    r.m.home,
                    r.m.away,
                    r.m.home_goals,
                    r.m.away_goals,
                    other.m.home_goals,
                    other.m.away_goals,
                    file_name(other.file),
                    other.row
                ),
            }
        })
        .collect()
}

/// Takes out the matches after the league's last gap of more than `IMPOSSIBLE_GAP_DAYS` when
/// fewer than `IMPOSSIBLE_TAIL_MATCHES` follow it: a date far past the bulk of the league's data
/// (a typo'd year) must not move the Poisson reference date or any "today" derived from the
/// data, whatever `--as-of` says.
fn impossible_tail(kept: &mut Vec<SourcedRow>) -> Vec<LeftOut> {
    let n = kept.len();
    let lowest = n.saturating_sub(IMPOSSIBLE_TAIL_MATCHES - 1).max(1);
    let gap = |i: usize| kept[i].m.date.0 - kept[i - 1].m.date.0;
    let Some(start) = (lowest..n).find(|&i| gap(i) > IMPOSSIBLE_GAP_DAYS) else {
        return Vec::new();
    };
    let previous: Date = kept[start - 1].m.date;
    kept.split_off(start)
        .into_iter()
        .map(|r| LeftOut {
            file: r.file,
            row: r.row,
            reason: format!(
                "dated {}, {} days after the league's previous match ({previous}) with fewer \
                 than {IMPOSSIBLE_TAIL_MATCHES} matches from it on: an impossible date, set aside",
                r.m.date,
                r.m.date.0 - previous.0
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::matches::Extras;

    fn row(day: i32, home: &str, goals: u8, file: u32) -> SourcedRow {
        SourcedRow {
            m: Match {
                date: Date(day),
                home: home.into(),
                away: "Away".into(),
                home_goals: goals,
                away_goals: 0,
                extras: Extras::default(),
            },
            file,
            row: day as u32,
        }
    }

    fn name(i: u32) -> String {
        format!("f{i}.csv")
    }

    #[test]
    fn same_scores_count_once_different_scores_are_used_in_neither() {
        let rows = vec![
            row(1, "A", 1, 0),
            row(1, "A", 1, 1),
            row(2, "B", 1, 0),
            row(2, "B", 2, 1),
            row(2, "B", 1, 2),
            row(3, "C", 0, 0),
        ];
        let s = settle(rows, &name);
        let kept: Vec<&str> = s.matches.iter().map(|m| &*m.home).collect();
        assert_eq!(kept, ["A", "C"]);
        assert_eq!(s.duplicates, 1);
        assert_eq!(s.left_out.len(), 3, "every copy of B");
        assert!(s.left_out[0]
            .reason
            .contains("is 1-0 here but 2-0 in f1.csv row 2"));
        assert!(s.left_out[1]
            .reason
            .contains("is 2-0 here but 1-0 in f0.csv row 2"));
    }

    #[test]
    fn only_a_short_tail_after_a_long_gap_is_set_aside() {
        let season =
            |start: i32, n: i32| (0..n).map(move |i| row(start + i, &format!("T{i}"), 1, 0));
        // Two typo'd rows, 400 and 700 days past the data: both set aside.
        let mut rows: Vec<SourcedRow> = season(0, 50).collect();
        rows.push(row(449, "X", 9, 1));
        rows.push(row(749, "Y", 9, 1));
        let s = settle(rows, &name);
        assert_eq!(s.matches.len(), 50);
        assert_eq!(s.left_out.len(), 2);
        assert!(
            s.left_out[0].reason.contains("400 days after"),
            "{}",
            s.left_out[0].reason
        );
        // A real season after a long break (ten matches or more) stays; so does a normal
        // off-season gap.
        let rows: Vec<SourcedRow> = season(0, 50).chain(season(300, 10)).collect();
        assert_eq!(settle(rows, &name).matches.len(), 60);
        let rows: Vec<SourcedRow> = season(0, 50).chain(season(150, 1)).collect();
        assert_eq!(settle(rows, &name).matches.len(), 51);
    }
}
