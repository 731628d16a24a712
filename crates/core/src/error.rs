//! The error type and rdiff's exit statuses (librsync's `rs_result`).

use std::fmt;
use std::io;

/// rdiff's exit status for each kind of failure (librsync's `rs_result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// I/O error: missing input, permission, disk full, existing output.
    Io = 100,
    /// Usage error: bad or unknown option or command.
    Syntax = 101,
    /// Out of memory.
    Memory = 102,
    /// Input ended early: truncated signature or delta, COPY past the basis end.
    InputEnded = 103,
    /// Bad magic number: not a signature or not a delta.
    BadMagic = 104,
    /// Corrupt input: implausible header or delta command; failed verification.
    Corrupt = 106,
    /// Internal error: should never be seen.
    Internal = 107,
    /// Bad parameter, such as a strong sum longer than the hash.
    Param = 108,
}

impl Status {
    /// The process exit code rdiff uses for this status.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Maps a librsync `rs_result` to a status; unknown values are internal errors.
    pub fn from_rs_result(r: i32) -> Status {
        match r {
            100 => Status::Io,
            101 => Status::Syntax,
            102 => Status::Memory,
            103 => Status::InputEnded,
            104 => Status::BadMagic,
            106 => Status::Corrupt,
            108 => Status::Param,
            _ => Status::Internal,
        }
    }
}

/// Which stream an error is about, so a front end can name the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The old file: input of `signature`, basis of `patch`.
    Basis,
    /// A signature file, written by `signature`, read by `delta`.
    Signature,
    /// The new file, input of `delta`.
    New,
    /// A delta file, written by `delta`, read by `patch`.
    Delta,
    /// The output being written.
    Output,
}

/// A failure of a signature, delta or patch run: what went wrong, about which
/// stream, and the rdiff exit status it maps to.
#[derive(Debug)]
pub struct Error {
    status: Status,
    role: Option<Role>,
    message: String,
    source: Option<io::Error>,
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error with a status and a message.
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            role: None,
            message: message.into(),
            source: None,
        }
    }

    /// An I/O error while reading or writing `role`.
    pub fn io(role: Role, what: &str, err: io::Error) -> Error {
        Error {
            status: Status::Io,
            role: Some(role),
            message: what.to_string(),
            source: Some(err),
        }
    }

    /// Attributes this error to a stream.
    pub fn about(mut self, role: Role) -> Error {
        self.role = Some(role);
        self
    }

    /// rdiff's exit status for this error.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The stream at fault, when known.
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// True when the run stopped because its [`Cancel`](crate::Cancel) was set.
    pub fn is_cancelled(&self) -> bool {
        self.source
            .as_ref()
            .and_then(|e| e.get_ref())
            .is_some_and(|e| e.is::<crate::io::Cancelled>())
    }

    /// True when the error is a write to a reader that went away (`| head`).
    pub fn is_broken_pipe(&self) -> bool {
        self.source
            .as_ref()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(err) => write!(f, "{}: {}", self.message, plain_io_message(err)),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// An I/O error's text without Rust's " (os error N)" suffix.
pub(crate) fn plain_io_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(i) => {
            let mut s = text[..i].to_string();
            if let Some(first) = s.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            s
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_one_plain_phrase() {
        let err = Error::io(
            Role::Output,
            "write failed",
            io::Error::from_raw_os_error(28),
        );
        assert_eq!(err.to_string(), "write failed: no space left on device");
        assert_eq!(err.status().code(), 100);
        assert_eq!(err.role(), Some(Role::Output));
    }

    #[test]
    fn unknown_engine_results_are_internal() {
        assert_eq!(Status::from_rs_result(103), Status::InputEnded);
        assert_eq!(Status::from_rs_result(2), Status::Internal);
    }
}
