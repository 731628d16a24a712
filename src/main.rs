//! `rsync-tool`: parse, run, print one line on failure, exit with rdiff's status.

mod cli;
mod cmd;
mod error;
mod fs;
mod generate;
mod progress;
mod sha256;

use std::io::Write;
use std::panic;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;

use crate::error::ExitStatus;

fn main() -> ExitCode {
    panic::set_hook(Box::new(|info| {
        progress::clear_for_exit();
        eprintln!("rsync-tool: internal error: {info}");
    }));
    if let Err(err) = fs::remove_temporaries_on_signal() {
        eprintln!("rsync-tool: {err}");
        return ExitStatus::Internal.into();
    }
    let args = cli::rdiff_args::normalize_args(std::env::args_os());
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return usage_exit(err),
    };
    match panic::catch_unwind(|| cmd::run(cli)) {
        Ok(Ok(())) => ExitStatus::Success.into(),
        Ok(Err(err)) if err.is_broken_pipe() => ExitStatus::Success.into(),
        Ok(Err(err)) => {
            eprintln!("rsync-tool: {err}");
            err.status().into()
        }
        Err(_) => ExitStatus::Internal.into(),
    }
}

/// Help and version go to stdout with status 0; any other clap error is one
/// line and rdiff's usage status, 101.
fn usage_exit(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp => {
            let _ = err.print();
            return ExitStatus::Success.into();
        }
        ErrorKind::DisplayVersion => {
            // clap would name a subcommand ("rsync-tool-patch 0.1.0")
            let _ = writeln!(std::io::stdout(), "rsync-tool {}", cli::VERSION);
            return ExitStatus::Success.into();
        }
        _ => {}
    }
    eprintln!(
        "rsync-tool: {} (see --help)",
        one_line(&err.render().to_string())
    );
    ExitStatus::Syntax.into()
}

/// clap's message without its usage block and tips, on one line: the
/// missing argument or the possible values stay in it.
fn one_line(text: &str) -> String {
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    if parts.is_empty() {
        "invalid usage".to_string()
    } else {
        parts.join(" ")
    }
}
