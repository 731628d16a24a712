//! Exceptions: the engine's errors as `LibrsyncError` subclasses carrying
//! rdiff's status, and the caller's own exceptions passed through unchanged.

use std::io;
use std::sync::Mutex;

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use rsync_tool_core::{Error, Status};

/// The Python module that defines the exception classes.
const ERRORS_MODULE: &str = "rsync_tool._errors";

/// The exception class for an rdiff status.
fn class_name(status: Status) -> &'static str {
    match status {
        Status::BadMagic => "BadMagicError",
        Status::Corrupt => "CorruptError",
        Status::InputEnded => "TruncatedError",
        Status::Param | Status::Syntax => "ParameterError",
        Status::Io => "LibrsyncIOError",
        Status::Memory | Status::Internal => "LibrsyncError",
    }
}

/// A `LibrsyncError` subclass (named by `class`) with `message` and `code`.
pub fn raise(py: Python<'_>, class: &str, message: String, code: i32) -> PyErr {
    let made = py
        .import(ERRORS_MODULE)
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1((message, code)));
    match made {
        Ok(exc) => PyErr::from_value(exc),
        Err(err) => err,
    }
}

/// The exception for an engine error; `name` (a path), when given, is put
/// in front of the message.
pub fn from_core(py: Python<'_>, err: &Error, name: Option<&str>) -> PyErr {
    let message = match name {
        Some(name) if !name.is_empty() => format!("{name}: {err}"),
        _ => err.to_string(),
    };
    raise(py, class_name(err.status()), message, err.status().code())
}

/// An I/O error of ours (opening, renaming) about `name`, as `LibrsyncIOError`.
pub fn io_error(py: Python<'_>, what: &str, name: &str, err: &io::Error) -> PyErr {
    let class = match err.kind() {
        io::ErrorKind::AlreadyExists => "OutputExistsError",
        _ => "LibrsyncIOError",
    };
    let exc = raise(
        py,
        class,
        format!("{name}: {what}: {err}"),
        Status::Io.code(),
    );
    if let Some(errno) = err.raw_os_error() {
        let value = exc.value(py);
        let _ = value.setattr("errno", errno);
        let _ = value.setattr("filename", name);
    }
    exc
}

/// An output's failure (opening, committing): `OutputExistsError` when the
/// output exists or appeared meanwhile, else `LibrsyncIOError`; `errno` and
/// `filename` set when the system gave an error number.
pub fn output_error(py: Python<'_>, err: &rsync_tool_output::Error) -> PyErr {
    let class = match err.kind() {
        rsync_tool_output::ErrorKind::Exists | rsync_tool_output::ErrorKind::Appeared => {
            "OutputExistsError"
        }
        _ => "LibrsyncIOError",
    };
    let exc = raise(py, class, err.to_string(), Status::Io.code());
    if let Some(errno) = err.io_error().and_then(io::Error::raw_os_error) {
        let value = exc.value(py);
        let _ = value.setattr("errno", errno);
        let _ = value.setattr("filename", err.name());
    }
    exc
}

/// Where a Python exception raised inside an engine callback waits until the
/// engine has unwound; it then wins over the engine's own error.
#[derive(Default)]
pub struct Slot(Mutex<Option<PyErr>>);

/// The I/O error an engine callback returns after storing a Python exception.
pub fn stored() -> io::Error {
    io::Error::other("a Python exception was raised")
}

impl Slot {
    /// Keeps the first exception raised and returns the error to give the engine.
    pub fn store(&self, err: PyErr) -> io::Error {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(err);
        }
        stored()
    }

    /// The stored exception, if any.
    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// The exception for an engine failure: a stored one if any, else the
    /// engine's error.
    pub fn failure(&self, py: Python<'_>, err: &Error, name: Option<&str>) -> PyErr {
        self.take().unwrap_or_else(|| from_core(py, err, name))
    }
}

/// Ctrl-C while the engine ran in another thread.
pub fn interrupted() -> PyErr {
    PyKeyboardInterrupt::new_err("interrupted")
}
