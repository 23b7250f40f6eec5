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
    let mut kept: Vec<SourcedRow> = Vec::with_capacity(rows.len());
    let mut duplicates = 0;
    let mut left_out = Vec::new();
    let mut group: Vec<SourcedRow> = Vec::new();
    for r in rows {
        if group.first().is_some_and(|g| !same_match(&g.m, &r.m)) {
            take_group(
                &mut group,
                &mut kept,
                &mut duplicates,
                &mut left_out,
                file_name,
            );
        }
        group.push(r);
    }
    take_group(
        &mut group,
        &mut kept,
        &mut duplicates,
        &mut left_out,
        file_name,
    );
    left_out.extend(impossible_tail(&mut kept));
    Settled {
        matches: kept.into_iter().map(|r| r.m).collect(),
        duplicates,
        left_out,
    }
}

fn same_match(a: &Match, b: &Match) -> bool {
    a.date == b.date && a.home == b.home && a.away == b.away
}

/// One match's rows: the first when every copy has the same score, else none.
fn take_group(
    group: &mut Vec<SourcedRow>,
    kept: &mut Vec<SourcedRow>,
    duplicates: &mut usize,
    left_out: &mut Vec<LeftOut>,
    file_name: &dyn Fn(u32) -> String,
) {
    let score = |r: &SourcedRow| (r.m.home_goals, r.m.away_goals);
    let Some(first) = group.first() else { return };
    if group.iter().all(|r| score(r) == score(first)) {
        *duplicates += group.len() - 1;
        kept.extend(group.drain(..).take(1));
        group.clear();
        return;
    }
    for r in group.iter() {
        let other = group.iter().find(|o| score(o) != score(r)).unwrap_or(first);
        left_out.push(LeftOut {
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
        });
    }
    group.clear();
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
