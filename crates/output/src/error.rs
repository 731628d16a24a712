//! The error of an output: what failed, about which file, the system's
//! error, and a kind a front end maps to its statuses.

use std::fmt;
use std::io;

/// What kind of failure an [`Error`] is; every kind is rdiff's I/O status
/// (100) on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The output exists and force was not given; it is untouched.
    Exists,
    /// The output appeared while the result was made; it is kept and the
    /// result discarded.
    Appeared,
    /// Any other failure: opening, creating, writing, putting in place.
    Io,
}

/// A failure to open or commit an output.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    name: String,
    what: String,
    source: Option<io::Error>,
    written: Vec<String>,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failure about the output `name`, worded by `what`.
    pub(crate) fn new(kind: ErrorKind, name: &str, what: impl Into<String>) -> Error {
        Error {
            kind,
            name: name.to_string(),
            what: what.into(),
            source: None,
            written: Vec::new(),
        }
    }

    /// A system call's failure about `name`: `what` says what could not be done.
    pub(crate) fn io(name: &str, what: &str, err: io::Error) -> Error {
        Error {
            source: Some(err),
            ..Error::new(ErrorKind::Io, name, what)
        }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The output's display name (`stdout` for standard output).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The system's error, when one caused the failure.
    pub fn io_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }

    /// The other outputs of a failed commit that were written into
    /// nevertheless (they could not be taken back).
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// True when the failure is a write to a reader that went away (`| head`).
    pub fn is_broken_pipe(&self) -> bool {
        self.written.is_empty()
            && self
                .source
                .as_ref()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    }

    pub(crate) fn with_written(mut self, written: Vec<String>) -> Error {
        self.written = written;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.what)?;
        if let Some(err) = &self.source {
            write!(f, ": {}", plain_io_message(err))?;
        }
        if !self.written.is_empty() {
            write!(f, "; {} was written nevertheless", self.written.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let kind = match err.kind {
            ErrorKind::Exists | ErrorKind::Appeared => io::ErrorKind::AlreadyExists,
            ErrorKind::Io => err
                .source
                .as_ref()
                .map_or(io::ErrorKind::Other, io::Error::kind),
        };
        io::Error::new(kind, err)
    }
}

/// An I/O error's text without Rust's " (os error N)" suffix, beginning
/// in lower case: "no space left on device".
pub fn plain_io_message(err: &io::Error) -> String {
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
    fn messages_name_the_file_and_the_failure() {
        let err = Error::io("out", "write failed", io::Error::from_raw_os_error(28));
        assert_eq!(
            err.to_string(),
            "out: write failed: no space left on device"
        );
        assert_eq!(err.kind(), ErrorKind::Io);
        let err = Error::new(ErrorKind::Exists, "a", "output exists")
            .with_written(vec!["b".to_string(), "c".to_string()]);
        assert_eq!(
            err.to_string(),
            "a: output exists; b, c was written nevertheless"
        );
        assert_eq!(io::Error::from(err).kind(), io::ErrorKind::AlreadyExists);
    }
}
