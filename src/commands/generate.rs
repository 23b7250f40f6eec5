//! `auto-train generate`: shell completions (clap_complete) and the man page (clap_mangen), made
//! from the same clap definition that parses the command line, so they never drift from it.

use clap::CommandFactory;

use crate::cli::{Cli, GenerateArgs, Generated};
use crate::exit::{CommandResult, ExitCode};

pub fn run_generate(args: &GenerateArgs) -> CommandResult {
    use clap_complete::Shell;
    let mut command = Cli::command();
    let mut out: Vec<u8> = Vec::new();
    let shell = match args.what {
        Generated::Bash => Some(Shell::Bash),
        Generated::Zsh => Some(Shell::Zsh),
        Generated::Fish => Some(Shell::Fish),
        Generated::Elvish => Some(Shell::Elvish),
        Generated::Powershell => Some(Shell::PowerShell),
        Generated::Man => None,
    };
    match shell {
        Some(shell) => clap_complete::generate(shell, &mut command, "auto-train", &mut out),
        None => clap_mangen::Man::new(command).render(&mut out)?,
    }
    crate::write_stdout(&out)?;
    Ok(ExitCode::Ok)
}
