//! `rsync-tool`: parse, run, print one line on failure, exit with rdiff's status.

/// `eprintln!` that never panics: a closed stderr (`2>&1 | head -n1`) loses
/// the line, not the run.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::error::write_stderr(format_args!($($arg)*))
    };
}
pub(crate) use errln;

mod cli;
mod cmd;
mod compress;
mod error;
mod fs;
mod generate;
mod progress;
mod sha256;
mod signals;

use std::io::Write;
use std::panic;
use std::process::ExitCode;

use clap::FromArgMatches;
use clap::error::{ContextKind, ContextValue, ErrorKind};

use crate::error::ExitStatus;

fn main() -> ExitCode {
    panic::set_hook(Box::new(|info| {
        progress::clear_for_exit();
        crate::errln!("rsync-tool: internal error: {info}");
    }));
    if let Err(err) = signals::install() {
        crate::errln!("rsync-tool: {err}");
        return ExitStatus::Internal.into();
    }
    let args: Vec<_> = std::env::args_os().collect();
    let parsed = cli::quick::parse(&args).map(Ok).unwrap_or_else(|| {
        cli::command()
            .try_get_matches_from(cli::rdiff_args::normalize_args(args))
            .and_then(|matches| cli::Cli::from_arg_matches(&matches))
    });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => return usage_exit(err),
    };
    match panic::catch_unwind(|| cmd::run(cli)) {
        Ok(Ok(())) => ExitStatus::Success.into(),
        Ok(Err(err)) if err.is_broken_pipe() => signals::die_of_broken_pipe(),
        Ok(Err(err)) => {
            crate::errln!("rsync-tool: {err}");
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
            let _ = writeln!(
                std::io::stdout(),
                "rsync-tool {}\n{}",
                cli::VERSION,
                cli::COPYRIGHT
            );
            return ExitStatus::Success.into();
        }
        ErrorKind::UnknownArgument => {
            if let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) {
                // rdiff's words, which scripts and librsync's tests grep
                let arg = arg.split('=').next().unwrap_or(arg);
                let hint = match arg {
                    "-i" | "--bzip2" => {
                        "bzip2 is not supported; delta -z/--gzip or --zstd compress"
                    }
                    "-z" | "--gzip" | "--zstd" => {
                        "only delta compresses; patch reads compressed deltas"
                    }
                    _ => "see --help",
                };
                crate::errln!("rsync-tool: unknown option: {arg} ({hint})");
                return ExitStatus::Syntax.into();
            }
        }
        _ => {}
    }
    crate::errln!(
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
