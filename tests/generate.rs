//! `auto-train generate`: the completion scripts driven through the real shells' completion
//! machinery (bash's COMP_WORDS/COMP_CWORD, zsh's completion widget in a pseudo-terminal, fish's
//! `complete -C`), and the man pages rendered by groff. The expected candidates come from the clap
//! definition that parses the command line, so a script that drops or invents a flag fails. A
//! shell or groff that is missing fails the test (`.ci/run` installs them).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use clap::CommandFactory;
use common::Workspace;

/// A command of the definition: the top level for `None`.
fn definition(sub: Option<&str>) -> clap::Command {
    let mut cmd = auto_train::cli::Cli::command();
    cmd.build();
    match sub {
        None => cmd,
        Some(name) => cmd.find_subcommand(name).unwrap().clone(),
    }
}

/// Every visible `--long` flag (and visible alias) of a command.
fn longs(cmd: &clap::Command) -> BTreeSet<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .flat_map(|a| a.get_long_and_visible_aliases().unwrap_or_default())
        .map(|l| format!("--{l}"))
        .collect()
}

/// Every visible `-s` flag of a command.
fn shorts(cmd: &clap::Command) -> BTreeSet<String> {
    cmd.get_arguments()
        .filter(|a| !a.is_hide_set() && !a.is_positional())
        .flat_map(|a| a.get_short_and_visible_aliases().unwrap_or_default())
        .map(|s| format!("-{s}"))
        .collect()
}

/// The possible values of an argument.
fn values(cmd: &clap::Command, id: &str) -> BTreeSet<String> {
    let arg = cmd.get_arguments().find(|a| a.get_id() == id).unwrap();
    arg.get_possible_values()
        .iter()
        .map(|v| v.get_name().to_string())
        .collect()
}

fn set(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The generated script for a shell, written into the workspace.
fn script(ws: &Workspace, shell: &str, file: &str) -> std::path::PathBuf {
    let out = ws.bin().args(["generate", shell]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "generate {shell}");
    let path = ws.path().join(file);
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// What the shells are asked, and the exact candidates each must offer. The last word is the
/// one being completed.
fn cases() -> Vec<(Vec<&'static str>, BTreeSet<String>)> {
    let top = definition(None);
    let status = definition(Some("status"));
    let predict = definition(Some("predict"));
    let backtest = definition(Some("backtest"));
    let generate = definition(Some("generate"));
    // The definition holds what the issue named: a guard against an empty expectation.
    assert!(longs(&status).is_superset(&set(&["--json", "--models-dir", "--as-of"])));
    assert!(longs(&backtest).is_superset(&set(&["--from", "--refresh", "--replay", "--out"])));
    assert!(longs(&predict).is_superset(&set(&["--league", "--fixtures", "--out"])));
    let model_types = values(&top, "model_type");
    assert_eq!(
        model_types,
        set(&["1x2_v2", "poisson_v2", "draw_specialist", "all"])
    );
    vec![
        (vec!["auto-train", "--"], longs(&top)),
        (vec!["auto-train", "status", "--"], longs(&status)),
        (vec!["auto-train", "backtest", "--"], longs(&backtest)),
        (vec!["auto-train", "predict", "--"], longs(&predict)),
        (
            vec!["auto-train", "predict", "--league", "premier_league", "--"],
            longs(&predict),
        ),
        (vec!["auto-train", "--model-type", ""], model_types),
        (
            vec!["auto-train", "backtest", "--refresh", ""],
            set(&["never", "daily", "weekly"]),
        ),
        (
            vec!["auto-train", "status", "--log-format", "j"],
            set(&["json"]),
        ),
        (vec!["auto-train", "generate", "--o"], set(&["--out-dir"])),
        (vec!["auto-train", "generate", ""], {
            // bash offers a positional's values beside the flags.
            let mut all = values(&generate, "what");
            all.extend(longs(&generate));
            all.extend(shorts(&generate));
            all
        }),
    ]
}

/// Runs bash's completion function for `words` the way readline does: COMP_WORDS, COMP_CWORD,
/// COMP_LINE, COMP_POINT set, the function found through `complete -p auto-train`, called with
/// the command, the current word and the previous word. Returns COMPREPLY.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    const DRIVER: &str = r#"
set -u
source "$1"; shift
spec=$(complete -p auto-train) || exit 3
fn=${spec#* -F }; fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
COMPREPLY=()
"$fn" auto-train "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", DRIVER, "driver"])
        .arg(script)
        .args(words)
        .current_dir(script.parent().unwrap())
        .output()
        .expect("bash must be installed");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{words:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_every_subcommand_and_flag() {
    let ws = Workspace::new(&[]);
    let script = script(&ws, "bash", "auto-train.bash");
    for (words, expected) in cases() {
        let got = bash_complete(&script, &words);
        let got_set: BTreeSet<String> = got.iter().cloned().collect();
        assert_eq!(
            got.len(),
            got_set.len(),
            "{words:?}: {got:?} has duplicates"
        );
        assert_eq!(got_set, expected, "bash, {words:?}");
    }
    // The first word: subcommands and the top level's flags.
    let mut first = longs(&definition(None));
    first.extend(shorts(&definition(None)));
    first.extend(set(&["predict", "status", "backtest", "generate", "help"]));
    let got: BTreeSet<String> = bash_complete(&script, &["auto-train", ""])
        .into_iter()
        .collect();
    assert_eq!(got, first);
    // A bash in POSIX mode (sh linked to bash) can load it too.
    let out = Command::new("bash")
        .args([
            "--posix",
            "--norc",
            "-c",
            "source \"$1\" && complete -p auto-train",
            "sh",
        ])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// fish's own completion engine: `complete -C LINE` prints each candidate (tab, description).
fn fish_complete(script: &Path, words: &[&str]) -> BTreeSet<String> {
    let line = words.join(" ");
    let out = Command::new("fish")
        .args(["--no-config", "-c", "source $argv[1]; complete -C $argv[2]"])
        .arg(script)
        .arg(&line)
        .current_dir(script.parent().unwrap())
        // Whatever fish keeps (history, universal variables) goes into the temp dir.
        .env("HOME", script.parent().unwrap())
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CACHE_HOME")
        .output()
        .expect("fish must be installed (.ci/run installs it)");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect()
}

#[test]
fn fish_completes_every_subcommand_and_flag() {
    let ws = Workspace::new(&[]);
    let script = script(&ws, "fish", "auto-train.fish");
    for (words, expected) in cases() {
        let got = fish_complete(&script, &words);
        let expected = if words == ["auto-train", "generate", ""] {
            // fish offers a positional's values alone.
            values(&definition(Some("generate")), "what")
        } else {
            expected
        };
        assert_eq!(got, expected, "fish, {words:?}");
    }
}

/// zsh's completion system in an interactive zsh on a pseudo-terminal (zsh/zpty): compinit
/// loads `_auto-train` from fpath, TAB runs the completion widget, and a wrapper around
/// `compadd` writes every match zsh would offer (after its own prefix matching) to a file.
fn zsh_complete(dir: &Path, words: &[&str]) -> BTreeSet<String> {
    const DRIVER: &str = r#"
zmodload zsh/zpty || exit 3
dir=$1; line=$2
zpty z zsh -f -i
zpty -w z "PS1=''; HOME=${(q)dir}; fpath=(${(q)dir}/fpath \$fpath)"
zpty -w z "autoload -Uz compinit && compinit -u -d ${(q)dir}/zcompdump"
zpty -w z "compadd() {
  if [[ \${@[(I)-(O|A|D)*]} -ne 0 ]]; then builtin compadd \"\$@\"; return; fi
  local -a __found
  builtin compadd -O __found \"\$@\"
  (( \${#__found} )) && print -rl -- \"\${(@)__found}\" >> ${(q)dir}/matches
  builtin compadd \"\$@\"
}"
zpty -w z "done-mark() { print -r -- done > ${(q)dir}/done }; comppostfuncs=(done-mark)"
zpty -w z "bindkey '^I' complete-word"
zpty -w -n z "$line"$'\t'
for i in {1..200}; do
  [[ -e $dir/done ]] && break
  sleep 0.05
done
zpty -d z
[[ -e $dir/done ]] || exit 4
"#;
    let _ = std::fs::remove_file(dir.join("matches"));
    let _ = std::fs::remove_file(dir.join("done"));
    let line = words.join(" ");
    let out = Command::new("zsh")
        .args(["-f", "-c", DRIVER, "driver"])
        .arg(dir)
        .arg(&line)
        .current_dir(dir)
        .output()
        .expect("zsh must be installed (.ci/run installs it)");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{line}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("matches"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn zsh_completes_every_subcommand_and_flag() {
    let ws = Workspace::new(&[]);
    let fpath = ws.path().join("fpath");
    std::fs::create_dir(&fpath).unwrap();
    let generated = script(&ws, "zsh", "generated.zsh");
    std::fs::rename(generated, fpath.join("_auto-train")).unwrap();
    for (words, expected) in cases() {
        let got = zsh_complete(ws.path(), &words);
        let expected = match words.as_slice() {
            // zsh offers a positional's values alone.
            ["auto-train", "generate", ""] => values(&definition(Some("generate")), "what"),
            // and no option already given that cannot be repeated.
            ["auto-train", "predict", "--league", ..] => {
                expected.into_iter().filter(|f| f != "--league").collect()
            }
            _ => expected,
        };
        assert_eq!(got, expected, "zsh, {words:?}");
    }
}

/// The pages `generate man --out-dir` must write.
const PAGES: [&str; 5] = [
    "auto-train.1",
    "auto-train-predict.1",
    "auto-train-status.1",
    "auto-train-backtest.1",
    "auto-train-generate.1",
];

/// `generate man --out-dir <ws>/man1`: exactly the pages of `PAGES`, each path on stdout.
fn write_pages(ws: &Workspace) -> std::path::PathBuf {
    let dir = ws.path().join("man1");
    let out = ws
        .bin()
        .args(["generate", "man", "--out-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    present.sort();
    let mut expected: Vec<String> = PAGES.iter().map(|n| n.to_string()).collect();
    expected.sort();
    assert_eq!(present, expected);
    let mut listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            Path::new(l)
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    listed.sort();
    assert_eq!(listed, expected);
    dir
}

/// The man pages, each through groff's man macros: it renders without a warning and holds the
/// sections a page needs; the `--as-of` default is "today", not the day of generation; every
/// page a page refers to is generated.
#[test]
fn man_pages_render_with_their_sections() {
    let ws = Workspace::new(&[]);
    let dir = write_pages(&ws);
    let today = auto_train::data::today_utc().to_string();
    for name in PAGES {
        let out = Command::new("groff")
            // Warnings on; no hyphenation and ragged right, so words stay whole.
            .args(["-man", "-Tutf8", "-ww", "-rLL=100n", "-rHY=0", "-dAD=l"])
            .arg(dir.join(name))
            .env("GROFF_NO_SGR", "1")
            .output()
            .expect("groff must be installed (.ci/run installs groff-base)");
        assert_eq!(out.status.code(), Some(0), "{name}");
        assert!(
            out.stderr.is_empty(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Overstriking (bold) removed: the text as a reader sees it; `flat` with every run of
        // white space as one space (lines are filled and wrapped).
        let text = strip_overstrike(&String::from_utf8(out.stdout).unwrap());
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        let command = name.trim_end_matches(".1");
        let headings: Vec<&str> = text
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(' ') && l == &l.to_uppercase())
            .collect();
        for section in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                headings.contains(&section),
                "{name}: no {section} in {headings:?}"
            );
        }
        assert!(flat.contains("RUST_LOG"), "{name}");
        assert!(
            flat.contains(&format!("NAME {command} - ")),
            "{name}: NAME line"
        );
        assert!(!flat.contains(&today), "{name} holds today's date {today}");
        if flat.contains("--as-of") {
            assert!(flat.contains("[default: today (UTC)]"), "{name}");
        }
        for referred in refs(&flat) {
            assert!(
                PAGES.contains(&format!("{referred}.1").as_str()),
                "{name} refers to {referred}(1), which is not generated"
            );
        }
        // Every example runs this binary.
        let examples = section_text(&text, "EXAMPLES");
        assert!(examples.contains("auto-train"), "{name}: {examples}");
    }
    // The top page names each command's page.
    let top = std::fs::read_to_string(dir.join("auto-train.1")).unwrap();
    for sub in ["predict", "status", "backtest", "generate"] {
        assert!(top.contains(&format!("auto\\-train\\-{sub}(1)")), "{sub}");
    }
}

/// A page is never overwritten: a second `--out-dir` run refuses with exit 2 and changes
/// nothing. Without `--out-dir`, the top page goes to stdout; `--out-dir` is for man pages only.
#[test]
fn man_pages_are_never_overwritten() {
    let ws = Workspace::new(&[]);
    let dir = write_pages(&ws);
    let before = std::fs::read(dir.join("auto-train.1")).unwrap();
    std::fs::write(dir.join("auto-train-status.1"), b"mine").unwrap();
    let out = ws
        .bin()
        .args(["generate", "man", "--out-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("auto-train-status.1"));
    assert_eq!(
        std::fs::read(dir.join("auto-train-status.1")).unwrap(),
        b"mine"
    );
    assert_eq!(std::fs::read(dir.join("auto-train.1")).unwrap(), before);

    let out = ws.bin().args(["generate", "man"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, before);
    let out = ws
        .bin()
        .args(["generate", "bash", "--out-dir", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!ws.path().join("x").exists());
}

fn strip_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    // Overstrike pairs leave the second character after the backspace removed the first.
    out.into_iter().collect()
}

/// The names `x` of every `x(1)` reference to an auto-train page.
fn refs(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter_map(|w| w.strip_suffix("(1)"))
        .filter(|w| w.starts_with("auto-train"))
        .map(str::to_string)
        .collect()
}

/// The body of a section of a rendered page.
fn section_text(text: &str, heading: &str) -> String {
    text.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n")
}
