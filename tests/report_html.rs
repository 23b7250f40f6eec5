//! Issue #22.8 and #21.21: backtest's report.html is readable at any width (viewBox, text of at
//! least 12 px at the narrowest a chart is drawn), every reliability bin and monthly RPS carries
//! an interval, a one-match month neither stretches the axis nor goes without an interval, long
//! ranges get a readable number of month labels, each table column has one unit, and the report
//! and summary.json carry the run's metadata.

mod common;

use std::path::Path;

use common::Workspace;

/// D1's three seasons plus one June 2023 match: a home favourite beaten 0-4 (a one-match month
/// with a large RPS).
fn workspace_with_a_one_match_month() -> Workspace {
    let ws = Workspace::new(&["D1"]);
    let path = ws.data().join("D1/2022-23.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let favourite = text
        .lines()
        .skip(1)
        .find(|l| l.split(',').nth(col("HomeTeam")) == Some("Bayern Munich"))
        .unwrap();
    let mut cells: Vec<String> = favourite.split(',').map(String::from).collect();
    cells[col("Date")] = "10/06/2023".into();
    cells[col("AwayTeam")] = "Bochum".into();
    cells[col("FTHG")] = "0".into();
    cells[col("FTAG")] = "4".into();
    cells[col("FTR")] = "A".into();
    let mut text = text.trim_end().to_string();
    text.push('\n');
    text.push_str(&cells.join(","));
    text.push('\n');
    std::fs::write(&path, text).unwrap();
    ws
}

fn backtest(ws: &Workspace, out: &Path) -> serde_json::Value {
    let o = ws
        .bin()
        .args([
            "backtest",
            "--data-dir",
            "data",
            "--from",
            "2021-08-01",
            "--out",
        ])
        .arg(out)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Every `<svg ...>` element of the page with its body.
fn svgs(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<svg") {
        let end = rest[start..].find("</svg>").unwrap() + start + 6;
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The cells of each `<tr>` of the table with this id, with the row's class.
fn table(html: &str, id: &str) -> Vec<(String, Vec<String>)> {
    let start = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let body = &html[start..start + html[start..].find("</table>").unwrap()];
    body.split("<tr")
        .skip(2)
        .map(|row| {
            let class = attr(row, "class").unwrap_or_default().to_string();
            let cells = row
                .split("<td")
                .skip(1)
                .map(|c| {
                    let inner = &c[c.find('>').unwrap() + 1..];
                    let text = inner.split("</td>").next().unwrap();
                    // Cells may hold spans: keep their text.
                    text.split('<')
                        .map(|p| p.rsplit('>').next().unwrap())
                        .collect::<String>()
                })
                .collect();
            (class, cells)
        })
        .collect()
}

fn wilson(hits: f64, n: f64) -> (f64, f64) {
    let z = 1.96f64;
    let p = hits / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    ((c - h).max(0.0), (c + h).min(1.0))
}

#[test]
fn report_is_readable_with_intervals_units_and_metadata() {
    let ws = workspace_with_a_one_match_month();
    let out = ws.path().join("bt");
    let summary = backtest(&ws, &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("name=\"viewport\""));

    // Any width: no fixed size, the viewBox scales; text >= 12 px at the narrowest.
    let charts = svgs(&html);
    // Three reliability diagrams, RPS by month, over 2.5 goals of poisson_v2.
    assert_eq!(charts.len(), 5);
    for svg in &charts {
        let tag = &svg[..svg.find('>').unwrap()];
        assert_eq!(attr(tag, "width"), Some("100%"), "{tag}");
        assert!(attr(tag, "height").is_none(), "{tag}");
        let view: Vec<f64> = attr(tag, "viewBox")
            .unwrap()
            .split(' ')
            .map(|v| v.parse().unwrap())
            .collect();
        let style = attr(tag, "style").unwrap();
        let min_width: f64 = style
            .split("min-width:")
            .nth(1)
            .unwrap()
            .split("px")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let scale = min_width / view[2];
        for piece in svg.split("font-size=\"").skip(1) {
            let size: f64 = piece.split('"').next().unwrap().parse().unwrap();
            assert!(size * scale >= 12.0, "{size} px at scale {scale:.2}");
        }
    }

    // Reliability: every bin with forecasts has its Wilson interval; sparse bins are marked.
    for ty in [
        "1x2_v2",
        "poisson_v2",
        "draw_specialist",
        "over-2-5-poisson_v2",
    ] {
        let rows = table(&html, &format!("reliability-data-{ty}"));
        // Three outcomes of a three-way model, one event for the draw model and over 2.5.
        let least = if ty.starts_with("poisson") || ty.starts_with("1x2") {
            10
        } else {
            4
        };
        assert!(rows.len() >= least, "{ty}: {} bins", rows.len());
        for (class, c) in &rows {
            let n: f64 = c[2].parse().unwrap();
            let observed: f64 = c[4].parse().unwrap();
            let (low, high): (f64, f64) = (c[5].parse().unwrap(), c[6].parse().unwrap());
            let (wl, wh) = wilson((observed * n).round(), n);
            assert!(
                (low - wl).abs() < 1e-3 && (high - wh).abs() < 1e-3,
                "{ty} {c:?}"
            );
            assert!(low <= observed && observed <= high && high - low > 0.0);
            assert_eq!(class == "few", n < 30.0, "{ty} {c:?}");
        }
    }

    // RPS by month: an interval on every point, the one-match June marked, not setting the axis.
    let months = table(&html, "rps-by-month-data");
    let mut june_max: f64 = 0.0;
    for (class, c) in &months {
        let n: usize = c[2].parse().unwrap();
        let (mean, low, high): (f64, f64, f64) = (
            c[3].parse().unwrap(),
            c[5].parse().unwrap(),
            c[6].parse().unwrap(),
        );
        assert!(low < mean && mean < high, "{c:?}");
        assert_eq!(class == "few", n < 30, "{c:?}");
        if c[1] == "2023-06" {
            assert_eq!(n, 1);
            june_max = june_max.max(mean);
        }
    }
    assert!(june_max > 0.4, "the upset has a large RPS: {june_max}");
    let monthly = charts[3];
    let texts: Vec<&str> = monthly
        .split("</text>")
        .filter_map(|t| t.rsplit('>').next())
        .map(str::trim)
        .collect();
    let top_tick = texts
        .iter()
        .filter_map(|t| t.parse::<f64>().ok())
        .filter(|v| *v < 1.0)
        .fold(0.0, f64::max);
    assert!(
        top_tick < june_max - 0.05,
        "the one-match month does not stretch the axis: top tick {top_tick}, June {june_max}"
    );
    // Readable month labels on a 23-month range.
    let month_labels = texts
        .iter()
        .filter(|t| t.len() > 8 && t.as_bytes()[4] == b'-' && t.contains(" ("))
        .count();
    let distinct_months = months
        .iter()
        .map(|(_, c)| c[1].clone())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    assert!(distinct_months >= 20, "{distinct_months}");
    assert!(
        (2..=8).contains(&month_labels),
        "{month_labels} month labels"
    );
    // The markets are dashed (many short segments), drawn before (under) the models.
    let black = monthly.matches("stroke=\"#000000\"").count();
    assert!(black > 2 * distinct_months, "dashed opening market");
    let model_line = monthly
        .find("<polyline fill=\"none\" opacity=\"1\" stroke=\"#1F77B4\"")
        .expect("the 1x2 line");
    let market = monthly
        .find("stroke=\"#000000\" stroke-width=\"2\"")
        .unwrap();
    assert!(market < model_line, "the model is drawn over the market");

    // One unit per column: three-way and draw models in tables of their own.
    let three_way = table(&html, "per-league");
    let draw = table(&html, "per-league-draw");
    assert!(three_way.iter().all(|(_, c)| c[1] != "draw_specialist"));
    assert!(draw.iter().all(|(_, c)| c[1] == "draw_specialist"));
    assert_eq!(three_way.len(), 2 * 2, "bundesliga and pooled, two types");
    assert_eq!(draw.len(), 2);
    assert!(three_way.iter().all(|(_, c)| c.len() == 14));
    assert!(draw.iter().all(|(_, c)| c.len() == 12));

    // Metadata in summary.json and the page.
    let meta = &summary["metadata"];
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(meta["tool_version"], env!("CARGO_PKG_VERSION"));
    let args: Vec<&str> = meta["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(&args[1..4], &["backtest", "--data-dir", "data"]);
    assert_eq!(
        meta["working_directory"].as_str().unwrap(),
        ws.path().canonicalize().unwrap().to_str().unwrap()
    );
    let fingerprint = meta["data_fingerprint"].as_str().unwrap();
    assert!(fingerprint.starts_with("sha256:") && fingerprint.len() == 71);
    assert!(html.contains("id=\"metadata\"") && html.contains(fingerprint));
    let created = meta["created_utc"].as_str().unwrap();
    assert_eq!(created.len(), 19, "{created}");
    assert!(html.contains(created));

    // The fingerprint is the data's: the same data gives the same one, one score changed another.
    let again = backtest(&ws, &ws.path().join("bt2"));
    assert_eq!(again["metadata"]["data_fingerprint"], fingerprint);
    let path = ws.data().join("D1/2021-22.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<String> = lines[5].split(',').map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let fthg = header.iter().position(|h| *h == "FTHG").unwrap();
    cells[fthg] = (cells[fthg].parse::<u32>().unwrap() + 1).to_string();
    lines[5] = cells.join(",");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let changed = backtest(&ws, &ws.path().join("bt3"));
    assert_ne!(changed["metadata"]["data_fingerprint"], fingerprint);
}
