//! Times `auto_train::stats::dixon_coles::fit` on one league with the weights Poisson v2 uses
//! (w = exp(-xi * days before the league's latest match)), the same inputs the trainer builds.
//!
//! ```sh
//! cargo run --release --example fit_timing -- [--data-dir data/processed] [--xi 0.0018] \
//!     [--repeats 20] [--dump DIR] [LEAGUE ...]
//! ```
//!
//! Prints one tab-separated line per league: league, matches, teams, median fit seconds, min fit
//! seconds, weighted log-likelihood, iterations. With `--dump DIR` it also writes
//! `DIR/<league>.csv` (home, away, home_goals, away_goals, weight) so that another tool can fit
//! exactly the same matches with exactly the same weights.

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use auto_train::stats::dixon_coles;
use auto_train::models::poisson_v2;

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
    println!("league\tmatches\tteams\tmedian_s\tmin_s\tweighted_log_likelihood\titerations");
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
        println!(
            "{slug}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{}",
            league.len(),
            teams.len(),
            times[times.len() / 2],
            times[0],
            fit.weighted_log_likelihood,
            fit.iterations
        );
    }
    Ok(())
}
