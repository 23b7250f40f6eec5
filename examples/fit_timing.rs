//! Times `auto_train::stats::dixon_coles::fit` on one league with the weights Poisson v2 uses
//! (w = exp(-xi * days before the league's latest match)), the same inputs the trainer builds.
//!
//! ```sh
//! cargo run --release --example fit_timing -- [--data-dir data/processed] [--xi 0.0018] \
//!     [--repeats 20] [--dump DIR] [LEAGUE ...]
//! ```
//!
//! Prints one tab-separated line per league: league, matches, teams, median and min seconds of a
//! cold fit, weighted log-likelihood, iterations, then the min seconds and iterations of a fit
//! warm-started from that fit, and the seconds of `fit_single_team` for every team in turn
//! (each from the full fit). With `--dump DIR` it also writes
//! `DIR/<league>.csv` (home, away, home_goals, away_goals, weight) so that another tool can fit
//! exactly the same matches with exactly the same weights.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use auto_train::models::poisson_v2;
use auto_train::stats::dixon_coles;

fn main() -> anyhow::Result<()> {
    let mut data_dir = PathBuf::from("data/processed");
    let mut xi = 0.0018;
    let mut repeats = 20usize;
    let mut dump: Option<PathBuf> = None;
    let mut wanted = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| anyhow::anyhow!("{a} needs a value"))
        };
        match a.as_str() {
            "--data-dir" => data_dir = PathBuf::from(value()?),
            "--xi" => xi = value()?.parse()?,
            "--repeats" => repeats = value()?.parse()?,
            "--dump" => dump = Some(PathBuf::from(value()?)),
            _ => wanted.push(a),
        }
    }
    let loaded = auto_train::data::load_data_dir(&data_dir)?;
    println!(
        "league\tmatches\tteams\tmedian_s\tmin_s\tweighted_log_likelihood\titerations\t\
         warm_min_s\twarm_iterations\tsingle_team_all_s"
    );
    for (slug, league) in &loaded.dataset.leagues {
        if !wanted.is_empty() && !wanted.contains(slug) {
            continue;
        }
        let (teams, data) = poisson_v2::goals_data(&league.matches, xi);
        if let Some(dir) = &dump {
            std::fs::create_dir_all(dir)?;
            let mut f =
                std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{slug}.csv")))?);
            writeln!(f, "home,away,home_goals,away_goals,weight")?;
            for i in 0..data.home.len() {
                writeln!(
                    f,
                    "\"{}\",\"{}\",{},{},{:e}",
                    teams[data.home[i] as usize].replace('"', "\"\""),
                    teams[data.away[i] as usize].replace('"', "\"\""),
                    data.home_goals[i],
                    data.away_goals[i],
                    data.weight[i]
                )?;
            }
            f.flush()?;
        }
        let mut times = Vec::with_capacity(repeats);
        let mut last = None;
        for _ in 0..repeats.max(1) {
            let started = Instant::now();
            let fit = dixon_coles::fit(&data, None)?;
            times.push(started.elapsed().as_secs_f64());
            last = Some(fit);
        }
        times.sort_by(f64::total_cmp);
        let fit = last.expect("at least one fit");
        let mut warm_min = f64::INFINITY;
        let mut warm_iterations = 0;
        for _ in 0..repeats.max(1) {
            let started = Instant::now();
            let warm = dixon_coles::fit(&data, Some(&fit))?;
            warm_min = warm_min.min(started.elapsed().as_secs_f64());
            warm_iterations = warm.iterations;
        }
        let started = Instant::now();
        for team in 0..teams.len() as u32 {
            dixon_coles::fit_single_team(&data, team, &fit)?;
        }
        let single_team_all = started.elapsed().as_secs_f64();
        println!(
            "{slug}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{}\t{:.6}\t{}\t{:.6}",
            league.len(),
            teams.len(),
            times[times.len() / 2],
            times[0],
            fit.weighted_log_likelihood,
            fit.iterations,
            warm_min,
            warm_iterations,
            single_team_all
        );
    }
    Ok(())
}
