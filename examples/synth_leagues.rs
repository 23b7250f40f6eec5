//! Synthetic football-data.co.uk-shaped leagues for scale and performance tests.
//!
//! ```sh
//! cargo run --release --example synth_leagues -- --out DIR --leagues N --seasons S [--teams 20] [--seed 1]
//!     [--wide] [--layout league-season|season|one]
//! ```
//!
//! Writes `DIR/<CODE>/<season>.csv` (codes `S001`, `S002`, ...; seasons `YYYY-YY`, the last one
//! 2024-25) with the columns `Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HS,AS,HST,AST` and pre-match
//! odds `B365H/D/A`, `PSH/D/A`, `AvgH/D/A`. Dates are `dd/mm/yyyy`, August to May.
//!
//! `--wide` writes the real column set instead: the 106 columns of football-data.co.uk's 2022-23
//! files (kick-off time, half-time score, referee, shots, fouls, corners, cards; opening and
//! closing 1X2 odds of B365, BW, IW, PS, WH, VC with their maximum and average; over/under 2.5
//! and Asian handicap, opening and closing). The goals are the same as without `--wide` (the extra
//! columns draw from a second random stream). `--layout season` writes every league of a season
//! into one file `DIR/<season>.csv`, `--layout one` writes everything into `DIR/all.csv`.
//!
//! The model that generates the goals is the one the trainer fits: home goals
//! ~ Poisson(exp(base + home + attack[home] + defence[away])), away goals
//! ~ Poisson(exp(base + attack[away] + defence[home])), with home advantage 0.25 (log rate),
//! about 2.7 goals a match, team strength N(0, 0.3) (attack and defence correlated through it),
//! a slow mean-reverting drift between seasons, and the bottom three clubs relegated each season
//! and replaced by three clubs from a lower-division pool. Every season is a double round robin.
//! Odds come from the true 1X2 probabilities, a little bookmaker noise and a margin.
//!
//! Pure std: a xorshift64* generator (deterministic for a seed), Poisson sampling by inversion,
//! normal variates by Box-Muller. The same arguments always write byte-identical files.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

const HOME_ADVANTAGE: f64 = 0.25;
/// ln of the per-side base rate; with the strength spread this gives ~2.7 goals a match.
const BASE: f64 = 0.235;
const STRENGTH_SD: f64 = 0.3;
/// Season-to-season persistence of a club's strength (AR(1), stationary sd STRENGTH_SD).
const PERSISTENCE: f64 = 0.9;
const RELEGATED: usize = 3;
const LAST_SEASON: i32 = 2024;

struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so that small seeds give unrelated streams.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    /// xorshift64*.
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self, sd: f64) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        sd * (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Poisson by inversion of the cumulative distribution.
    fn poisson(&mut self, rate: f64) -> u32 {
        let u = self.uniform();
        let mut k = 0u32;
        let mut p = (-rate).exp();
        let mut cdf = p;
        while u > cdf && k < 60 {
            k += 1;
            p *= rate / k as f64;
            cdf += p;
        }
        k
    }

    fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize % n.max(1)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

struct Club {
    name: String,
    attack: f64,
    defence: f64,
}

impl Club {
    fn new(name: String, rng: &mut Rng) -> Club {
        let strength = rng.normal(STRENGTH_SD * 0.9);
        Club {
            name,
            attack: strength + rng.normal(STRENGTH_SD * 0.3),
            defence: -strength + rng.normal(STRENGTH_SD * 0.3),
        }
    }

    /// One season of mean-reverting drift towards `centre` (overall strength).
    fn drift(&mut self, centre: f64, rng: &mut Rng) {
        let sd = STRENGTH_SD * (1.0 - PERSISTENCE * PERSISTENCE).sqrt();
        self.attack = centre + PERSISTENCE * (self.attack - centre) + rng.normal(sd);
        self.defence = -centre + PERSISTENCE * (self.defence + centre) + rng.normal(sd);
    }
}

fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Rounds of a double round robin (circle method), each a list of (home, away) indices.
fn double_round_robin(n: usize) -> Vec<Vec<(usize, usize)>> {
    let n_even = n + n % 2;
    let mut ring: Vec<usize> = (0..n_even).collect();
    let mut first = Vec::new();
    for round in 0..n_even - 1 {
        let mut games = Vec::new();
        for i in 0..n_even / 2 {
            let (a, b) = (ring[i], ring[n_even - 1 - i]);
            if a >= n || b >= n {
                continue; // bye
            }
            // Alternate so that no club is always at home.
            games.push(if (round + i) % 2 == 0 { (a, b) } else { (b, a) });
        }
        first.push(games);
        ring[1..].rotate_right(1);
    }
    let second: Vec<Vec<(usize, usize)>> = first
        .iter()
        .map(|g| g.iter().map(|&(h, a)| (a, h)).collect())
        .collect();
    first.into_iter().chain(second).collect()
}

/// P(home win), P(draw), P(away win) of independent Poisson goals.
fn one_x_two(lambda: f64, mu: f64) -> [f64; 3] {
    const N: usize = 16;
    let pmf = |rate: f64| {
        let mut p = [0.0; N];
        p[0] = (-rate).exp();
        for k in 1..N {
            p[k] = p[k - 1] * rate / k as f64;
        }
        p
    };
    let (ph, pa) = (pmf(lambda), pmf(mu));
    let mut out = [0.0; 3];
    for (x, px) in ph.iter().enumerate() {
        for (y, py) in pa.iter().enumerate() {
            out[if x > y {
                0
            } else if x == y {
                1
            } else {
                2
            }] += px * py;
        }
    }
    let total: f64 = out.iter().sum();
    out.map(|p| p / total)
}

/// Decimal odds with a margin and a little bookmaker-specific noise, rounded to 2 places.
fn odds(probs: [f64; 3], margin: f64, noise: f64, rng: &mut Rng) -> [f64; 3] {
    let noisy = probs.map(|p| p * rng.normal(noise).exp());
    let total: f64 = noisy.iter().sum();
    noisy.map(|p| {
        let o = 1.0 / (p / total * (1.0 + margin));
        (o.max(1.01) * 100.0).round() / 100.0
    })
}

/// Where the rows go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `DIR/<CODE>/<season>.csv`: one file per league and season.
    LeagueSeason,
    /// `DIR/<season>.csv`: every league of a season in one file.
    Season,
    /// `DIR/all.csv`: every row in one file.
    One,
}

struct Args {
    out: PathBuf,
    leagues: usize,
    seasons: usize,
    teams: usize,
    seed: u64,
    wide: bool,
    layout: Layout,
}

const NARROW_HEADER: &str = "Div,Date,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HS,AS,HST,AST,\
B365H,B365D,B365A,PSH,PSD,PSA,AvgH,AvgD,AvgA";

/// The header of football-data.co.uk's 2022-23 main-league files (106 columns).
const WIDE_HEADER: &str = "Div,Date,Time,HomeTeam,AwayTeam,FTHG,FTAG,FTR,HTHG,HTAG,HTR,Referee,\
HS,AS,HST,AST,HF,AF,HC,AC,HY,AY,HR,AR,B365H,B365D,B365A,BWH,BWD,BWA,IWH,IWD,IWA,PSH,PSD,PSA,\
WHH,WHD,WHA,VCH,VCD,VCA,MaxH,MaxD,MaxA,AvgH,AvgD,AvgA,B365>2.5,B365<2.5,P>2.5,P<2.5,Max>2.5,\
Max<2.5,Avg>2.5,Avg<2.5,AHh,B365AHH,B365AHA,PAHH,PAHA,MaxAHH,MaxAHA,AvgAHH,AvgAHA,B365CH,\
B365CD,B365CA,BWCH,BWCD,BWCA,IWCH,IWCD,IWCA,PSCH,PSCD,PSCA,WHCH,WHCD,WHCA,VCCH,VCCD,VCCA,\
MaxCH,MaxCD,MaxCA,AvgCH,AvgCD,AvgCA,B365C>2.5,B365C<2.5,PC>2.5,PC<2.5,MaxC>2.5,MaxC<2.5,\
AvgC>2.5,AvgC<2.5,AHCh,B365CAHH,B365CAHA,PCAHH,PCAHA,MaxCAHH,MaxCAHA,AvgCAHH,AvgCAHA";

/// Bookmakers of the wide 1X2 columns: (margin, noise), in header order (B365 BW IW PS WH VC).
const BOOKS: [(f64, f64); 6] = [
    (0.05, 0.03),
    (0.06, 0.03),
    (0.065, 0.035),
    (0.025, 0.02),
    (0.06, 0.03),
    (0.05, 0.03),
];

/// Two-way decimal odds for probability `p` of the first outcome, with a margin and noise.
fn two_way(p: f64, margin: f64, noise: f64, rng: &mut Rng) -> [f64; 2] {
    let p = (p * rng.normal(noise).exp()).clamp(0.02, 0.98);
    [p, 1.0 - p].map(|q| ((1.0 / (q * (1.0 + margin))).max(1.01) * 100.0).round() / 100.0)
}

/// P(more than 2.5 goals) with Poisson total goals of rate `total`.
fn over_2_5(total: f64) -> f64 {
    1.0 - (-total).exp() * (1.0 + total + total * total / 2.0)
}

/// The wide columns after `FTR`, for one match: `HTHG` to `AvgCAHA`, comma-separated, with a
/// leading comma. `probs` are the true 1X2 probabilities the narrow odds also come from.
#[allow(clippy::too_many_arguments)]
fn wide_tail(
    rng: &mut Rng,
    lambda: f64,
    mu: f64,
    goals: (u32, u32),
    shots: [u32; 4],
    probs: [f64; 3],
    referee: usize,
    out: &mut String,
) {
    let (hg, ag) = goals;
    let half = |g: u32, rng: &mut Rng| (0..g).filter(|_| rng.uniform() < 0.45).count();
    let (hthg, htag) = (half(hg, rng), half(ag, rng));
    let htr = match hthg.cmp(&htag) {
        std::cmp::Ordering::Greater => 'H',
        std::cmp::Ordering::Equal => 'D',
        std::cmp::Ordering::Less => 'A',
    };
    let _ = write!(out, ",{hthg},{htag},{htr},Referee {referee:02}");
    let [hs, as_, hst, ast] = shots;
    let _ = write!(out, ",{hs},{as_},{hst},{ast}");
    for rate in [11.0, 11.0, 5.0, 4.5, 1.7, 1.9, 0.06, 0.07] {
        let _ = write!(out, ",{}", rng.poisson(rate));
    }
    // Opening and closing markets: the closing line knows a little more (less noise).
    for noise_scale in [1.0, 0.6] {
        let books: Vec<[f64; 3]> = BOOKS
            .iter()
            .map(|&(m, n)| odds(probs, m, n * noise_scale, rng))
            .collect();
        let max = [0, 1, 2].map(|k| books.iter().map(|b| b[k]).fold(0.0, f64::max));
        let avg = odds(probs, 0.055, 0.015 * noise_scale, rng);
        for b in books.iter().chain([&max, &avg]) {
            let _ = write!(out, ",{},{},{}", b[0], b[1], b[2]);
        }
        let p_over = over_2_5(lambda + mu);
        let ou: Vec<[f64; 2]> = [0.05, 0.03, 0.0, 0.055]
            .iter()
            .map(|&m| two_way(p_over, m, 0.03 * noise_scale, rng))
            .collect();
        // Max: the better price of B365 and Pinnacle on each side.
        let ou_max = [ou[0][0].max(ou[1][0]), ou[0][1].max(ou[1][1])];
        for (i, o) in ou.iter().enumerate() {
            let o = if i == 2 { &ou_max } else { o };
            let _ = write!(out, ",{},{}", o[0], o[1]);
        }
        // Asian handicap: the quarter line nearest the expected goal difference, prices near
        // evens around it.
        let line = -((lambda - mu) * 4.0).round() / 4.0;
        let line = if line == 0.0 { 0.0 } else { line };
        let _ = write!(out, ",{line}");
        let ah: Vec<[f64; 2]> = [0.05, 0.025, 0.0, 0.055]
            .iter()
            .map(|&m| two_way(0.5, m, 0.04 * noise_scale, rng))
            .collect();
        let ah_max = [ah[0][0].max(ah[1][0]), ah[0][1].max(ah[1][1])];
        for (i, o) in ah.iter().enumerate() {
            let o = if i == 2 { &ah_max } else { o };
            let _ = write!(out, ",{},{}", o[0], o[1]);
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        out: PathBuf::new(),
        leagues: 0,
        seasons: 0,
        teams: 20,
        seed: 1,
        wide: false,
        layout: Layout::LeagueSeason,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--out" => args.out = PathBuf::from(value()?),
            "--leagues" => args.leagues = number(value()?)? as usize,
            "--seasons" => args.seasons = number(value()?)? as usize,
            "--teams" => args.teams = number(value()?)? as usize,
            "--seed" => args.seed = number(value()?)?,
            "--wide" => args.wide = true,
            "--layout" => {
                args.layout = match value()?.as_str() {
                    "league-season" => Layout::LeagueSeason,
                    "season" => Layout::Season,
                    "one" => Layout::One,
                    other => return Err(format!("--layout: unknown layout {other}")),
                }
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.out.as_os_str().is_empty() || args.leagues == 0 || args.seasons == 0 {
        return Err("--out, --leagues and --seasons are required".into());
    }
    if args.teams < 2 + RELEGATED {
        return Err(format!("--teams must be at least {}", 2 + RELEGATED));
    }
    Ok(args)
}

/// The files rows go to, per `--layout`; each file gets the header once.
struct Sink {
    out: PathBuf,
    layout: Layout,
    header: &'static str,
    /// Files still being appended to (`season` and `one` layouts).
    open: std::collections::BTreeMap<PathBuf, std::io::BufWriter<std::fs::File>>,
}

impl Sink {
    /// Appends one league's rows of one season (`season_file`, e.g. `2024-25.csv`).
    fn write(&mut self, code: &str, season_file: &str, rows: &str) -> std::io::Result<()> {
        let path = match self.layout {
            Layout::LeagueSeason => self.out.join(code).join(season_file),
            Layout::Season => self.out.join(season_file),
            Layout::One => self.out.join("all.csv"),
        };
        let file = match self.open.entry(path.clone()) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                f.write_all(self.header.as_bytes())?;
                f.write_all(b"\n")?;
                e.insert(f)
            }
        };
        file.write_all(rows.as_bytes())?;
        if self.layout == Layout::LeagueSeason {
            // Written once: closed now rather than holding thousands of files open.
            if let Some(mut f) = self.open.remove(&path) {
                f.flush()?;
            }
        }
        Ok(())
    }

    fn finish(self) -> std::io::Result<()> {
        for (_, mut f) in self.open {
            f.flush()?;
        }
        Ok(())
    }
}

/// Writes one league; returns the number of matches.
fn write_league(args: &Args, league: usize, sink: &mut Sink) -> std::io::Result<usize> {
    let code = format!("S{:03}", league + 1);
    let mut rng = Rng::new(
        args.seed
            .wrapping_mul(1_000_003)
            .wrapping_add(league as u64),
    );
    // The wide columns' own stream, so that the goals do not depend on `--wide`.
    let mut wide_rng = Rng::new(
        args.seed
            .wrapping_mul(1_000_033)
            .wrapping_add(league as u64)
            ^ 0x5749_4445,
    );
    let mut next_club = 0usize;
    let mut new_club = |rng: &mut Rng| {
        next_club += 1;
        Club::new(format!("{code} Club {next_club:03}"), rng)
    };
    let mut top: Vec<Club> = (0..args.teams).map(|_| new_club(&mut rng)).collect();
    let mut pool: Vec<Club> = (0..2 * RELEGATED)
        .map(|_| {
            let mut c = new_club(&mut rng);
            c.attack -= 0.25;
            c.defence += 0.25;
            c
        })
        .collect();
    let rounds = double_round_robin(args.teams);
    let first_season = LAST_SEASON - args.seasons as i32 + 1;
    let mut total = 0;
    for season in first_season..=LAST_SEASON {
        let start = days_from_civil(season, 8, 8) + rng.below(7) as i64;
        let end = days_from_civil(season + 1, 5, 18) + rng.below(7) as i64;
        let step = (end - start) as f64 / (rounds.len() - 1).max(1) as f64;
        let mut order: Vec<usize> = (0..top.len()).collect();
        rng.shuffle(&mut order);
        let mut points = vec![0i32; top.len()];
        let mut text = String::with_capacity(if args.wide { 500 } else { 100 } * 400);
        for (r, games) in rounds.iter().enumerate() {
            let round_day = start + (r as f64 * step).round() as i64;
            for (g, &(h, a)) in games.iter().enumerate() {
                let (h, a) = (order[h], order[a]);
                let (home, away) = (&top[h], &top[a]);
                let lambda = (BASE + HOME_ADVANTAGE / 2.0 + home.attack + away.defence).exp();
                let mu = (BASE - HOME_ADVANTAGE / 2.0 + away.attack + home.defence).exp();
                let (hg, ag) = (rng.poisson(lambda), rng.poisson(mu));
                let hst = hg + rng.poisson(2.6 * lambda.sqrt());
                let ast = ag + rng.poisson(2.6 * mu.sqrt());
                let hs = hst + rng.poisson(6.0 + 2.0 * lambda);
                let as_ = ast + rng.poisson(6.0 + 2.0 * mu);
                let probs = one_x_two(lambda, mu);
                let b365 = odds(probs, 0.05, 0.03, &mut rng);
                let ps = odds(probs, 0.025, 0.02, &mut rng);
                let avg = odds(probs, 0.055, 0.015, &mut rng);
                let ftr = match hg.cmp(&ag) {
                    std::cmp::Ordering::Greater => {
                        points[h] += 3;
                        'H'
                    }
                    std::cmp::Ordering::Equal => {
                        points[h] += 1;
                        points[a] += 1;
                        'D'
                    }
                    std::cmp::Ordering::Less => {
                        points[a] += 3;
                        'A'
                    }
                };
                // Half of a round on the Saturday, half on the Sunday.
                let (y, m, d) = civil_from_days(round_day + (g % 2) as i64);
                if args.wide {
                    let time = if g % 3 == 0 { "17:30" } else { "15:00" };
                    let _ = write!(
                        text,
                        "{code},{d:02}/{m:02}/{y},{time},{},{},{hg},{ag},{ftr}",
                        home.name, away.name
                    );
                    let referee = wide_rng.below(24) + 1;
                    wide_tail(
                        &mut wide_rng,
                        lambda,
                        mu,
                        (hg, ag),
                        [hs, as_, hst, ast],
                        probs,
                        referee,
                        &mut text,
                    );
                    text.push('\n');
                    total += 1;
                    continue;
                }
                let _ = writeln!(
                    text,
                    "{code},{d:02}/{m:02}/{y},{},{},{hg},{ag},{ftr},{hs},{as_},{hst},{ast},\
                     {},{},{},{},{},{},{},{},{}",
                    home.name,
                    away.name,
                    b365[0],
                    b365[1],
                    b365[2],
                    ps[0],
                    ps[1],
                    ps[2],
                    avg[0],
                    avg[1],
                    avg[2]
                );
                total += 1;
            }
        }
        let name = format!("{}-{:02}.csv", season, (season + 1).rem_euclid(100));
        sink.write(&code, &name, &text)?;

        // Relegation (fewest points; ties by name for determinism) and promotion.
        let mut ranking: Vec<usize> = (0..top.len()).collect();
        ranking.sort_by(|&x, &y| {
            points[x]
                .cmp(&points[y])
                .then(top[x].name.cmp(&top[y].name))
        });
        let mut down: Vec<usize> = ranking[..RELEGATED].to_vec();
        down.sort_unstable_by(|a, b| b.cmp(a));
        let relegated: Vec<Club> = down.into_iter().map(|i| top.swap_remove(i)).collect();
        rng.shuffle(&mut pool);
        for _ in 0..RELEGATED {
            top.push(pool.pop().unwrap_or_else(|| new_club(&mut rng)));
        }
        pool.extend(relegated);
        for c in &mut top {
            c.drift(0.0, &mut rng);
        }
        for c in &mut pool {
            c.drift(-0.25, &mut rng);
        }
        // Now and then a club from further down joins the pool.
        if rng.uniform() < 0.3 {
            let mut c = new_club(&mut rng);
            c.attack -= 0.3;
            c.defence += 0.3;
            pool.push(c);
        }
    }
    Ok(total)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!(
                "usage: synth_leagues --out DIR --leagues N --seasons S [--teams 20] [--seed 1] \
                 [--wide] [--layout league-season|season|one]"
            );
            std::process::exit(2);
        }
    };
    let mut sink = Sink {
        out: args.out.clone(),
        layout: args.layout,
        header: if args.wide {
            WIDE_HEADER
        } else {
            NARROW_HEADER
        },
        open: Default::default(),
    };
    let mut total = 0;
    for league in 0..args.leagues {
        match write_league(&args, league, &mut sink) {
            Ok(n) => total += n,
            Err(e) => {
                eprintln!("error: writing league {}: {e}", league + 1);
                std::process::exit(1);
            }
        }
    }
    if let Err(e) = sink.finish() {
        eprintln!("error: writing {}: {e}", args.out.display());
        std::process::exit(1);
    }
    println!(
        "wrote {total} matches: {} leagues x {} seasons x {} teams into {}",
        args.leagues,
        args.seasons,
        args.teams,
        args.out.display()
    );
}
