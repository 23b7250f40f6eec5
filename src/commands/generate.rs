//! `auto-train generate`: shell completions (clap_complete) and man pages (clap_mangen), made
//! from the same clap definition that parses the command line, so they never drift from it.
//! What clap cannot know (exit status, environment, files, examples) is written here, one text
//! per page.

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use clap_mangen::roff::{bold, roman, Roff};

use crate::cli::{Cli, GenerateArgs, Generated};
use crate::exit::{CommandError, CommandResult, ExitCode};

/// The binary's name, as the shells see it.
const BIN: &str = "auto-train";

pub fn run_generate(args: &GenerateArgs) -> CommandResult {
    match (args.what, &args.out_dir) {
        (Generated::Man, Some(dir)) => write_man_pages(dir),
        (Generated::Man, None) => {
            let (_, page) = man_pages()?.swap_remove(0);
            crate::write_stdout(&page)?;
            Ok(ExitCode::Ok)
        }
        (_, Some(_)) => Err(CommandError::usage(anyhow::anyhow!(
            "--out-dir is only for `generate man` (a completion script goes to stdout)"
        ))),
        (shell, None) => {
            crate::write_stdout(&completion_script(shell))?;
            Ok(ExitCode::Ok)
        }
    }
}

/// The completion script for a shell (nothing for `Man`).
pub fn completion_script(what: Generated) -> Vec<u8> {
    use clap_complete::Shell;
    let shell = match what {
        Generated::Bash => Shell::Bash,
        Generated::Zsh => Shell::Zsh,
        Generated::Fish => Shell::Fish,
        Generated::Elvish => Shell::Elvish,
        Generated::Powershell => Shell::PowerShell,
        Generated::Man => return Vec::new(),
    };
    let mut out: Vec<u8> = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN, &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    match shell {
        Shell::Bash => fix_bash_for_hyphenated_name(&script, BIN).into_bytes(),
        Shell::Fish => fix_fish(&script, BIN, &Cli::command()).into_bytes(),
        Shell::Zsh => fix_zsh(&script).into_bytes(),
        _ => script.into_bytes(),
    }
}

/// clap_complete 4.6's bash script cannot complete anything after a subcommand of a binary whose
/// name has a hyphen (clap-rs/clap#6421): its dispatcher loop reaches the state
/// `auto__train__subcmd__status`, while the case labels spell the same state
/// `auto__subcmd__train__subcmd__status`, so no label ever matches. The labels are rewritten the
/// way the dispatcher spells them. Its function `_auto-train` is also not a valid name for a bash
/// in POSIX mode (clap-rs/clap#6468), so it becomes `_auto__train`. Both are no-ops on a script
/// without the fault.
fn fix_bash_for_hyphenated_name(script: &str, bin: &str) -> String {
    let dispatcher = bin.replace('-', "__");
    let labels = bin.replace('-', "__subcmd__");
    script
        .replace(
            &format!("{labels}__subcmd__"),
            &format!("{dispatcher}__subcmd__"),
        )
        .replace(&format!("_{bin}() {{"), &format!("_{dispatcher}() {{"))
        .replace(&format!("-F _{bin} "), &format!("-F _{dispatcher} "))
}

/// Two gaps of clap_complete 4.6's fish script. Its guard `__fish_<bin>_needs_command` parses the
/// words so far with `argparse`, which fails while a top-level option still waits for its value
/// (`auto-train --model-type <TAB>`), so no top-level candidate, not even that option's values, is
/// offered; the guard now parses them again with the awaited value filled in. And it offers no
/// values for positional arguments (`auto-train generate <TAB>`); a line per subcommand adds
/// them. Both are no-ops on a script without the gap.
fn fix_fish(script: &str, bin: &str, cmd: &clap::Command) -> String {
    let f = bin.replace('-', "_");
    let parse = format!("    argparse -s (__fish_{f}_global_optspecs) -- $cmd 2>/dev/null\n");
    let retry =
        format!("{parse}    or argparse -s (__fish_{f}_global_optspecs) -- $cmd '' 2>/dev/null\n");
    let mut script = script.replacen(
        &format!("{parse}    or return\n"),
        &format!("{retry}    or return\n"),
        1,
    );
    for sub in cmd.get_subcommands() {
        for arg in sub.get_positionals().filter(|a| !a.is_hide_set()) {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| v.get_name().to_string())
                .collect();
            if values.is_empty() {
                continue;
            }
            let values = values.join(" ");
            script.push_str(&format!(
                "complete -c {bin} -n \"__fish_{f}_using_subcommand {}; and not __fish_seen_subcommand_from {values}\" -f -a '{values}'\n",
                sub.get_name()
            ));
        }
    }
    script
}

/// clap_complete 4.6's zsh script lets the top level's `_arguments` offer its own options at any
/// position, so `auto-train predict --league x --<TAB>` also offered the training run's options
/// (`--dry-run`, `--xi`: the top level has a `--league` too). The run's options never follow a
/// subcommand (`args_conflicts_with_subcommands`), so the top-level call gets `-A "-*"`: no
/// options after the first word that is not one. Only the first `_arguments` call is the top
/// level's; a subcommand's options may follow its positional (`generate man --out-dir`).
fn fix_zsh(script: &str) -> String {
    let top = "    _arguments \"${_arguments_options[@]}\" : \\\n";
    let fixed = "    _arguments \"${_arguments_options[@]}\" -A \"-*\" : \\\n";
    script.replacen(top, fixed, 1)
}

/// What a page says beyond the clap definition.
struct PageText {
    exit_status: &'static [(&'static str, &'static str)],
    environment: &'static [(&'static str, &'static str)],
    files: &'static [(&'static str, &'static str)],
    /// (what it does, the command line)
    examples: &'static [(&'static str, &'static str)],
}

const LOGGING_ENV: [(&str, &str); 2] = [
    (
        "RUST_LOG",
        "Log filter for stderr (tracing-subscriber's EnvFilter syntax, e.g. auto_train=debug); \
         overrides -v and -q.",
    ),
    (
        "NO_COLOR",
        "When set, log lines are never coloured (they are coloured only when stderr is a terminal).",
    ),
];

const RUN_ENV: [(&str, &str); 3] = [
    LOGGING_ENV[0],
    LOGGING_ENV[1],
    (
        "RAYON_NUM_THREADS",
        "Worker threads for loading and training (default: one per core); the models are the \
         same for any count.",
    ),
];

const RUN_PAGE: PageText = PageText {
    exit_status: &[
        ("0", "Nothing failed (also when there was nothing to do)."),
        (
            "1",
            "A model is damaged, a model failed to train or could not be written, a registry \
             lineage is inconsistent, the data is behind a current model (clock, --as-of, rows or \
             a season file gone: nothing published, the current version still served), the \
             models directory could not be created or its lock file opened, or the registry \
             could not be updated (the models are in place and the next run registers them).",
        ),
        (
            "2",
            "Bad usage (a --league that neither the data nor the models directory knows \
             included), an unreadable data directory, or an invalid registry; nothing was \
             trained and the registry is unchanged.",
        ),
        (
            "75",
            "Another run holds the lock on the models directory: retry later.",
        ),
        (
            "128+n",
            "Stopped by signal n (143 SIGTERM, 130 SIGINT, 129 SIGHUP); with --json the error \
             document is still printed.",
        ),
    ],
    environment: &RUN_ENV,
    files: &[
        (
            "data/processed/",
            "Match files (.csv, .parquet), searched recursively (--data-dir).",
        ),
        (
            "models/leagues/LEAGUE/MODEL_TYPE/",
            "One directory per league and model type (--models-dir); later versions at \
             MODEL_TYPE@N/.",
        ),
        (
            "registry.json",
            "The append-only registry (--registry), created if missing.",
        ),
        (
            "models/.auto-train.lock",
            "The lock that keeps two runs apart.",
        ),
        (
            ".registry.json.lock",
            "The lock held while the registry is rewritten.",
        ),
    ],
    examples: &[
        (
            "Show what a run would train, writing nothing:",
            "auto-train --dry-run",
        ),
        (
            "Train the missing Poisson models of one league:",
            "auto-train --model-type poisson_v2 --league premier_league",
        ),
        (
            "Nightly from cron, JSON summary on stdout, errors appended to a log:",
            "cd /srv/prediction && bin/auto-train --json > last.json 2>> errors.log",
        ),
        (
            "Also train new versions of models with at least 10 new matches:",
            "auto-train --refresh --min-new-matches 10",
        ),
    ],
};

const STATUS_PAGE: PageText = PageText {
    exit_status: &[
        ("0", "The table was shown and no model is damaged."),
        (
            "1",
            "A model is damaged, a registry lineage is inconsistent or the data is behind a \
             current model (a run would exit 1 too).",
        ),
        (
            "2",
            "Bad usage, the models directory does not exist, or the registry is invalid (the \
             table is shown anyway).",
        ),
    ],
    environment: &LOGGING_ENV,
    files: &[],
    examples: &[
        (
            "Every league and model type of the current directory:",
            "auto-train status",
        ),
        (
            "The same as JSON, for a monitoring script:",
            "auto-train status --json --models-dir /srv/prediction/models \
             --registry /srv/prediction/registry.json --data-dir /srv/prediction/data/processed",
        ),
    ],
};

const PREDICT_PAGE: PageText = PageText {
    exit_status: &[
        (
            "0",
            "Every fixture was predicted (a damaged model type is left out with a warning).",
        ),
        (
            "1",
            "No usable model of the league, or the output could not be written.",
        ),
        (
            "2",
            "Bad usage, unreadable fixtures or a bad fixture row, a --league that is not a slug \
             or that neither the models nor the data directory knows, a club name that is a typo \
             of a club of the league, two clubs of another league, or no match of the league in \
             the data directory for a model that needs history.",
        ),
    ],
    environment: &LOGGING_ENV,
    files: &[],
    examples: &[
        (
            "Predict the sample fixtures of this repository:",
            "auto-train predict --league premier_league --fixtures examples/fixtures_premier_league.csv",
        ),
        (
            "Read fixtures from stdin, write a new CSV file:",
            "auto-train predict --league la_liga --fixtures - --out predictions.csv < fixtures.csv",
        ),
    ],
};

const BACKTEST_PAGE: PageText = PageText {
    exit_status: &[
        (
            "0",
            "The backtest ran; predictions.csv, summary.json and report.html are in --out.",
        ),
        (
            "1",
            "A model failed to train or a file could not be written.",
        ),
        (
            "2",
            "Bad usage: bad dates, --to before --from, a league without data, no match in the \
             period, --out exists and is not empty, or --out is inside the data or models \
             directory (nothing written).",
        ),
    ],
    environment: &RUN_ENV,
    files: &[],
    examples: &[
        (
            "Replay 2022-23 with the models trained before it:",
            "auto-train backtest --from 2022-07-01 --to 2023-06-30 --out /tmp/bt",
        ),
        (
            "Retrain weekly, two leagues, summary.json on stdout:",
            "auto-train backtest --from 2022-07-01 --refresh weekly --league serie_a \
             --league la_liga --out /tmp/bt2 --json",
        ),
    ],
};

const GENERATE_PAGE: PageText = PageText {
    exit_status: &[
        ("0", "The script or the pages were written."),
        ("1", "A page could not be written."),
        (
            "2",
            "Bad usage, or a page already exists in --out-dir (nothing is overwritten).",
        ),
    ],
    environment: &LOGGING_ENV,
    files: &[],
    examples: &[
        (
            "Install bash completion for the current user:",
            "auto-train generate bash > ~/.local/share/bash-completion/completions/auto-train",
        ),
        (
            "Install every man page for the current user:",
            "auto-train generate man --out-dir ~/.local/share/man/man1",
        ),
        (
            "zsh (a directory on $fpath) and fish:",
            "auto-train generate zsh > ~/.zfunc/_auto-train; \
             auto-train generate fish > ~/.config/fish/completions/auto-train.fish",
        ),
    ],
};

/// The text of the page of a command (`""`: the training run).
fn page_text(command: &str) -> &'static PageText {
    match command {
        "status" => &STATUS_PAGE,
        "predict" => &PREDICT_PAGE,
        "backtest" => &BACKTEST_PAGE,
        "generate" => &GENERATE_PAGE,
        _ => &RUN_PAGE,
    }
}

/// Every man page, as (file name, roff): auto-train.1 first, then one per command.
pub fn man_pages() -> Result<Vec<(String, Vec<u8>)>, std::io::Error> {
    let mut cmd = today_as_default(Cli::command().disable_help_subcommand(true));
    cmd.build();
    let see_also: Vec<String> = std::iter::once(BIN.to_string())
        .chain(
            cmd.get_subcommands()
                .map(|s| format!("{BIN}-{}", s.get_name())),
        )
        .collect();
    let mut pages = vec![render_page(&cmd, page_text(""), &see_also)?];
    for sub in cmd.get_subcommands() {
        pages.push(render_page(sub, page_text(sub.get_name()), &see_also)?);
    }
    Ok(pages)
}

/// `--as-of` defaults to the day the command runs: a page must say so, not show the day it was
/// generated.
fn today_as_default(cmd: clap::Command) -> clap::Command {
    fn today(arg: clap::Arg) -> clap::Arg {
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        arg.hide_default_value(true)
            .help(format!("{help} [default: today (UTC)]"))
    }
    let has_as_of = |c: &clap::Command| c.get_arguments().any(|a| a.get_id() == "as_of");
    let subs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| has_as_of(s))
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = if has_as_of(&cmd) {
        cmd.mut_arg("as_of", today)
    } else {
        cmd
    };
    for sub in subs {
        cmd = cmd.mut_subcommand(sub, |s| s.mut_arg("as_of", today));
    }
    cmd
}

/// One page: clap_mangen's sections, then EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES and SEE
/// ALSO before its VERSION section.
fn render_page(
    cmd: &clap::Command,
    text: &PageText,
    see_also: &[String],
) -> Result<(String, Vec<u8>), std::io::Error> {
    let man = clap_mangen::Man::new(cmd.clone());
    let name = man.get_filename();
    let mut page = Vec::new();
    man.render(&mut page)?;
    let page = String::from_utf8(page).expect("clap_mangen writes UTF-8");

    let mut extra = Roff::new();
    definitions(&mut extra, "EXIT STATUS", text.exit_status);
    definitions(&mut extra, "ENVIRONMENT", text.environment);
    definitions(&mut extra, "FILES", text.files);
    extra.control("SH", ["EXAMPLES"]);
    for (what, line) in text.examples {
        extra.control("PP", []).text([roman(*what)]);
        extra
            .control("RS", ["4"])
            .control("nf", [])
            .text([bold(*line)])
            .control("fi", [])
            .control("RE", []);
    }
    let this = cmd.get_display_name().unwrap_or(BIN);
    let others: Vec<String> = see_also
        .iter()
        .filter(|p| p.as_str() != this)
        .map(|p| format!("{p}(1)"))
        .collect();
    extra
        .control("SH", ["SEE ALSO"])
        .text([roman(others.join(", "))]);
    let preamble = Roff::new().render();
    let extra = extra.render();
    let extra = extra.strip_prefix(&preamble).unwrap_or(&extra);
    let page = match page.find(".SH VERSION") {
        Some(at) => format!("{}{extra}{}", &page[..at], &page[at..]),
        None => format!("{page}{extra}"),
    };
    Ok((name, page.into_bytes()))
}

/// A section of tagged paragraphs (nothing when there are no items).
fn definitions(roff: &mut Roff, title: &str, items: &[(&str, &str)]) {
    if items.is_empty() {
        return;
    }
    roff.control("SH", [title]);
    for (term, meaning) in items {
        roff.control("TP", [])
            .text([bold(*term)])
            .text([roman(*meaning)]);
    }
}

/// `generate man --out-dir DIR`: every page into DIR (created if missing). Nothing is written
/// when a page is already there; a page is never overwritten.
fn write_man_pages(dir: &Path) -> CommandResult {
    let pages = man_pages()?;
    let existing: Vec<String> = pages
        .iter()
        .map(|(name, _)| dir.join(name))
        .filter(|p| p.symlink_metadata().is_ok())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "{} already exist{} (never overwritten: move the old pages away first)",
            existing.join(", "),
            if existing.len() == 1 { "s" } else { "" }
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
    let mut written = String::new();
    for (name, page) in &pages {
        let path = dir.join(name);
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)?;
            file.write_all(page)?;
            file.sync_all()
        };
        write().map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        written.push_str(&format!("{}\n", path.display()));
    }
    crate::write_stdout(written.as_bytes())?;
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::fix_bash_for_hyphenated_name;

    #[test]
    fn labels_are_spelt_as_the_dispatcher_spells_them() {
        let broken = "_my-app() {\n cmd=\"my__app__subcmd__x\"\n my__subcmd__app__subcmd__x)\n\
                      complete -F _my-app -o nosort my-app\n";
        let fixed = fix_bash_for_hyphenated_name(broken, "my-app");
        assert_eq!(
            fixed,
            "_my__app() {\n cmd=\"my__app__subcmd__x\"\n my__app__subcmd__x)\n\
             complete -F _my__app -o nosort my-app\n"
        );
        // A name without a hyphen has nothing to fix.
        assert_eq!(fix_bash_for_hyphenated_name(broken, "app"), broken);
    }
}
