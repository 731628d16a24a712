//! The binary's errors and exit statuses: rdiff's (librsync's `rs_result`),
//! mapped to numbers here only.

use std::fmt;
use std::io;
use std::process::ExitCode;

use rsync_tool_core::Status;

/// How a run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Done (also `--help`, `--version`).
    Success,
    /// I/O error: missing input, permission, disk full, existing output.
    Io,
    /// Usage error: bad or unknown option, argument or command.
    Syntax,
    /// Out of memory.
    Memory,
    /// Input ended early.
    InputEnded,
    /// Bad magic number.
    BadMagic,
    /// Corrupt input, or a result that failed verification.
    Corrupt,
    /// Internal error: should never be seen.
    Internal,
    /// Bad parameter.
    Param,
}

impl ExitStatus {
    /// The process's exit code, rdiff's for the same failure.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Io => 100,
            ExitStatus::Syntax => 101,
            ExitStatus::Memory => 102,
            ExitStatus::InputEnded => 103,
            ExitStatus::BadMagic => 104,
            ExitStatus::Corrupt => 106,
            ExitStatus::Internal => 107,
            ExitStatus::Param => 108,
        }
    }
}

impl From<Status> for ExitStatus {
    fn from(status: Status) -> ExitStatus {
        match status {
            Status::Io => ExitStatus::Io,
            Status::Syntax => ExitStatus::Syntax,
            Status::Memory => ExitStatus::Memory,
            Status::InputEnded => ExitStatus::InputEnded,
            Status::BadMagic => ExitStatus::BadMagic,
            Status::Corrupt => ExitStatus::Corrupt,
            Status::Internal => ExitStatus::Internal,
            Status::Param => ExitStatus::Param,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> ExitCode {
        ExitCode::from(status.code())
    }
}

/// A failure of the command: the line to print and the status to exit with.
#[derive(Debug)]
pub struct Error {
    status: ExitStatus,
    message: String,
    broken_pipe: bool,
}

/// The binary's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a status and a message.
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
            broken_pipe: false,
        }
    }

    /// An I/O error about `what` (which names the file): status 100.
    pub fn io(what: impl fmt::Display, err: io::Error) -> Error {
        Error {
            status: ExitStatus::Io,
            message: format!("{what}: {}", plain_io_message(&err)),
            broken_pipe: err.kind() == io::ErrorKind::BrokenPipe,
        }
    }

    /// Marks (or not) a write to a reader that went away.
    pub fn broken_pipe(mut self, broken_pipe: bool) -> Error {
        self.broken_pipe = broken_pipe;
        self
    }

    /// A library error, prefixed with the name of the file at fault.
    pub fn about(name: &str, err: rsync_tool_core::Error) -> Error {
        let mut error = Error::from(err);
        error.message = format!("{name}: {}", error.message);
        error
    }

    /// The status to exit with.
    pub fn status(&self) -> ExitStatus {
        self.status
    }

    /// True for a write to a reader that went away (`| head`): a quiet end.
    pub fn is_broken_pipe(&self) -> bool {
        self.broken_pipe
    }
}

impl From<rsync_tool_core::Error> for Error {
    fn from(err: rsync_tool_core::Error) -> Error {
        Error {
            status: err.status().into(),
            message: err.to_string(),
            broken_pipe: err.is_broken_pipe(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Writes one line to stderr, ignoring a stderr that is closed or full.
pub fn write_stderr(args: fmt::Arguments<'_>) {
    use std::io::Write;
    let mut err = io::stderr().lock();
    let _ = err.write_fmt(args).and_then(|()| err.write_all(b"\n"));
}

pub use rsync_tool_output::plain_io_message;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_rdiffs() {
        for status in [
            Status::Io,
            Status::Syntax,
            Status::Memory,
            Status::InputEnded,
            Status::BadMagic,
            Status::Corrupt,
            Status::Internal,
            Status::Param,
        ] {
            assert_eq!(i32::from(ExitStatus::from(status).code()), status.code());
        }
    }

    #[test]
    fn io_errors_read_as_one_plain_phrase() {
        let err = Error::io("x: write failed", io::Error::from_raw_os_error(28));
        assert_eq!(err.to_string(), "x: write failed: no space left on device");
        assert_eq!(err.status(), ExitStatus::Io);
        let pipe = Error::io("stdout", io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(pipe.is_broken_pipe());
    }
}
