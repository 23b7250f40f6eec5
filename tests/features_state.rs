//! The incremental feature state against the one-pass feature computation, on every league of
//! the shipped data: advanced match day by match day (as a backtest does), its training rows and
//! the features of fixtures are bit for bit those of the full pass; and it refuses to go back or
//! to take a match dated before the morning it stands at.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use auto_train::data::date::Date;
use auto_train::data::matches::{Dataset, LeagueMatches};
use auto_train::data::{load_data_dir_with, Columns};
use auto_train::features::{self, FeatureState, LeagueRows, Query, RawFeatures, COLUMNS_READ};
use auto_train::models::model_type::Fixture;

fn shipped() -> Dataset {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/processed");
    let loaded = load_data_dir_with(&dir, Columns::Wanted(COLUMNS_READ)).expect("shipped data");
    assert_eq!(loaded.dataset.leagues.len(), 8, "the 8 shipped leagues");
    loaded.dataset
}

fn assert_same_bits(a: &RawFeatures, b: &RawFeatures, what: &str) {
    let bits = |f: &RawFeatures| f.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let market = |m: Option<[f64; 3]>| m.map(|p| p.map(f64::to_bits));
    assert_eq!(bits(a), bits(b), "{what}: feature values");
    assert_eq!(a.warm, b.warm, "{what}: warm");
    assert_eq!(market(a.market), market(b.market), "{what}: market");
    assert_eq!(market(a.bench), market(b.bench), "{what}: bench");
}

fn assert_same_rows(a: &LeagueRows, b: &LeagueRows, league: &str) {
    assert_eq!(a.raw.len(), b.raw.len(), "{league}: rows");
    assert!(!a.raw.is_empty(), "{league}: has rows");
    for (i, (x, y)) in a.raw.iter().zip(&b.raw).enumerate() {
        assert_same_bits(x, y, &format!("{league} row {i}"));
    }
    assert_eq!(a.outcomes, b.outcomes, "{league}");
    assert_eq!(a.home_goals, b.home_goals, "{league}");
    assert_eq!(a.away_goals, b.away_goals, "{league}");
    assert_eq!(a.seasons, b.seasons, "{league}");
    assert_eq!(a.dates, b.dates, "{league}");
}

/// The data as it stood on the morning of `day`: every league's matches dated before it.
fn morning(all: &Dataset, day: Date) -> Dataset {
    Dataset {
        leagues: all
            .leagues
            .iter()
            .map(|(slug, l)| {
                let matches = l.before(day).to_vec();
                let league = LeagueMatches {
                    league: slug.clone(),
                    matches,
                };
                (slug.clone(), league)
            })
            .collect(),
    }
}

#[test]
fn advanced_day_by_day_it_gives_the_full_pass_rows_bit_for_bit_on_every_shipped_league() {
    let all = shipped();
    let full = LeagueRows::build_all(&all).unwrap();
    let days: BTreeSet<Date> = all
        .leagues
        .values()
        .flat_map(|l| l.matches.iter().map(|m| m.date))
        .collect();
    let mut state = FeatureState::keeping_rows();
    for &day in &days {
        state.advance_to(&all, day).unwrap();
    }
    let last = *days.iter().next_back().unwrap();
    state.advance_to(&all, Date(last.0 + 1)).unwrap();
    let rows = state.rows().unwrap();
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        full.keys().collect::<Vec<_>>()
    );
    for (league, r) in rows {
        assert_same_rows(r, &full[league], league);
    }
}

#[test]
fn each_morning_from_that_mornings_data_gives_the_full_pass_features_of_its_fixtures() {
    let all = shipped();
    // Every 7th match day of 2021-22 onwards, with every league's matches of that day as
    // fixtures (their own pre-match odds kept, everything else dropped as predict would).
    let days: Vec<Date> = all
        .leagues
        .values()
        .flat_map(|l| l.matches.iter().map(|m| m.date))
        .filter(|d| *d >= Date::from_ymd(2021, 7, 1).unwrap())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .step_by(7)
        .collect();
    assert!(days.len() > 40, "{} days", days.len());
    let mut state = FeatureState::new();
    let mut compared = 0;
    for &day in &days {
        // The state only ever sees that morning's data.
        let data = morning(&all, day);
        state.advance_to(&data, day).unwrap();
        for (slug, l) in &all.leagues {
            let fixtures: Vec<Fixture> = l
                .matches
                .iter()
                .filter(|m| m.date == day)
                .map(|m| Fixture {
                    date: m.date,
                    home: m.home.clone(),
                    away: m.away.clone(),
                    extras: m.extras.clone(),
                })
                .collect();
            let queries: Vec<Query> = fixtures
                .iter()
                .map(|f| Query {
                    date: f.date,
                    league: slug,
                    home: &f.home,
                    away: &f.away,
                    extras: &f.extras,
                })
                .collect();
            let reference = features::compute(&data, None, &queries).unwrap();
            for (q, r) in queries.iter().zip(&reference) {
                assert_same_bits(&state.features(q).unwrap(), r, &format!("{slug} {day}"));
                compared += 1;
            }
        }
    }
    assert!(compared > 500, "{compared} fixtures compared");
}

#[test]
fn fixture_features_of_a_fresh_state_are_the_full_pass_ones_in_input_order() {
    let all = shipped();
    let league = all.league("premier_league").unwrap();
    // Unsorted dates, two seasons apart, and a club new to the data.
    let pick = |i: usize| {
        let m = &league.matches[i];
        Fixture {
            date: m.date,
            home: m.home.clone(),
            away: m.away.clone(),
            extras: m.extras.clone(),
        }
    };
    let mut fixtures = vec![pick(4000), pick(900), pick(4500), pick(2000)];
    fixtures.push(Fixture {
        home: Arc::from("Nowhere Rovers"),
        ..pick(4800)
    });
    let queries: Vec<Query> = fixtures
        .iter()
        .map(|f| Query {
            date: f.date,
            league: "premier_league",
            home: &f.home,
            away: &f.away,
            extras: &f.extras,
        })
        .collect();
    let reference = features::compute(&all, None, &queries).unwrap();
    let got = FeatureState::new()
        .fixture_features(&all, "premier_league", &fixtures)
        .unwrap();
    assert_eq!(got.len(), reference.len());
    for (i, (a, b)) in got.iter().zip(&reference).enumerate() {
        assert_same_bits(a, b, &format!("fixture {i}"));
    }
}

#[test]
fn refuses_to_go_back_or_to_take_a_match_dated_before_its_morning() {
    let all = shipped();
    let day = Date::from_ymd(2022, 1, 1).unwrap();
    let mut state = FeatureState::new();
    state.advance_to(&morning(&all, day), day).unwrap();
    assert_eq!(state.morning(), Some(day));
    let back = state.advance_to(&all, Date(day.0 - 1)).unwrap_err();
    assert!(back.to_string().contains("cannot go back"), "{back}");
    let l = all.league("premier_league").unwrap();
    let query = |m: &auto_train::data::matches::Match| {
        let err = state
            .features(&Query::of_match("premier_league", m))
            .unwrap_err();
        err.to_string()
    };
    let earlier = l.before(day).last().unwrap();
    assert!(query(earlier).contains("before the feature state's morning"));
    // A morning's data missing one of its matches, then that match arriving later.
    let mut data = morning(&all, day);
    let pl = data.leagues.get_mut("premier_league").unwrap();
    pl.matches.remove(pl.matches.len() - 3);
    let mut gappy = FeatureState::new();
    gappy.advance_to(&data, day).unwrap();
    let late = gappy.advance_to(&all, Date(day.0 + 30)).unwrap_err();
    let expected = format!(
        "premier_league: a match dated {} arrived after the feature state reached {day}",
        l.before(day).last().unwrap().date
    );
    assert!(late.to_string().contains(&expected), "{late}");
}
