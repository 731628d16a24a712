//! Outputs that are never half-written and never clobbered by accident:
//! the `rsync-tool-output` crate (shared with the Python package), given
//! the command line's hooks (named temporaries removed and a commit under
//! way finished when a signal ends the run; `-v`'s remarks) and its
//! spellings (`-` for stdout, "use -f to overwrite").

use std::path::Path;

use rsync_tool_output::{self as output, Hooks};
pub use rsync_tool_output::{Output, was_closed_at_start, where_written};

use crate::error::{Error, ExitStatus, Result};
use crate::signals;

/// How an output may treat an existing file.
#[derive(Clone, Copy, Debug, Default)]
pub struct OutputMode {
    /// `-f`: an existing output may be replaced.
    pub force: bool,
    /// `--inplace`: write into the existing file at the end.
    pub inplace: bool,
    /// `-v`: say when the result is built elsewhere.
    pub verbose: bool,
}

/// The command line's hooks: see the module's documentation.
struct CliHooks {
    verbose: bool,
}

static QUIET: CliHooks = CliHooks { verbose: false };
static VERBOSE: CliHooks = CliHooks { verbose: true };

impl Hooks for CliHooks {
    fn temp_created(&self, path: &Path) {
        signals::set_pending(path.to_path_buf(), true);
    }

    fn temp_gone(&self, path: &Path) {
        signals::set_pending(path.to_path_buf(), false);
    }

    /// Signals wait until the commit is over, and once it is in place the
    /// run reports success.
    fn commit(&self, place: &mut dyn FnMut() -> bool) {
        let guard = signals::commit_guard();
        guard.finish(place());
    }

    fn notice(&self, message: &str) {
        if self.verbose {
            crate::errln!("rsync-tool: {message}");
        }
    }
}

impl OutputMode {
    fn options(self) -> output::Options {
        output::Options {
            force: self.force,
            inplace: self.inplace,
            overwrite_hint: "use -f to overwrite",
            hooks: if self.verbose { &VERBOSE } else { &QUIET },
        }
    }
}

/// A file path, or `None` for stdout (`None` or `-`).
fn file_path(path: Option<&Path>) -> Option<&Path> {
    path.filter(|p| p.as_os_str() != "-")
}

/// Fails early, before any work, when `path` exists and `-f` is not given;
/// [`open`] and [`commit`] check again.
pub fn precheck(path: Option<&Path>, mode: OutputMode) -> Result<()> {
    match file_path(path) {
        Some(path) => Ok(Output::precheck(path, mode.options())?),
        None => Ok(()),
    }
}

/// Opens the output named by `path` (`None` or `-`: stdout). An existing
/// path is an error unless `-f` is given.
pub fn open(path: Option<&Path>, mode: OutputMode) -> Result<Output> {
    Ok(match file_path(path) {
        Some(path) => Output::open(path, mode.options())?,
        None => Output::stdout(mode.options())?,
    })
}

/// Puts finished outputs in place, all or none where that can be (see
/// [`rsync_tool_output::commit`]).
pub fn commit(outputs: Vec<Output>) -> Result<()> {
    Ok(output::commit(outputs)?)
}

impl From<output::Error> for Error {
    fn from(err: output::Error) -> Error {
        // Every kind, an existing output included, is rdiff's I/O status.
        Error::new(ExitStatus::Io, err.to_string()).broken_pipe(err.is_broken_pipe())
    }
}
