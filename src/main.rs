//! `rsync-tool`: parse, run, print one line on failure, exit with rdiff's status.

mod cli;
mod commands;
mod input;
mod manpage;
mod output;
mod progress;
mod verify;

use std::io::Write;
use std::panic;
use std::process::ExitCode;

use clap::Parser;
use clap::error::ErrorKind;
use rsync_tool_core::Status;

fn main() -> ExitCode {
    panic::set_hook(Box::new(|info| {
        progress::clear_for_exit();
        eprintln!("rsync-tool: internal error: {info}");
    }));
    if let Err(err) = output::remove_temporaries_on_signal() {
        eprintln!("rsync-tool: {err:#}");
        return ExitCode::from(Status::Internal.code() as u8);
    }
    let args = cli::normalize_args(std::env::args_os());
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return usage_exit(err),
    };
    match panic::catch_unwind(|| commands::run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            let status = status_of(&err);
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("rsync-tool: {err:#}");
            ExitCode::from(status as u8)
        }
        Err(_) => ExitCode::from(Status::Internal.code() as u8),
    }
}

/// Help and version go to stdout with status 0; any other clap error is one
/// line and rdiff's usage status, 101.
fn usage_exit(err: clap::Error) -> ExitCode {
    match err.kind() {
        ErrorKind::DisplayHelp => {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayVersion => {
            // clap would name a subcommand ("rsync-tool-patch 0.1.0")
            let _ = writeln!(std::io::stdout(), "rsync-tool {}", cli::VERSION);
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    eprintln!(
        "rsync-tool: {} (see --help)",
        one_line(&err.render().to_string())
    );
    ExitCode::from(Status::Syntax.code() as u8)
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

/// rdiff's exit status for an error: the library's status, else 100 for I/O.
fn status_of(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<rsync_tool_core::Error>())
        .map_or(Status::Io.code(), |e| e.status().code())
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|e| e.downcast_ref::<rsync_tool_core::Error>())
        .any(rsync_tool_core::Error::is_broken_pipe)
}
