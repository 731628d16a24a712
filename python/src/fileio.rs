//! File objects that are regular files: the engine reads and writes the file
//! itself, as the CLI does, instead of calling the object's methods.
//!
//! The Python side (`rsync_tool._fast`) hands over `(fd, position)` for an
//! object that is a plain `open()` file of a regular file (flushed first);
//! here the file is reopened through `/proc/self/fd/N` (a new open file
//! description of the same inode, so no `unsafe` and no shared offset) and
//! positioned there. Anything that cannot be reopened (no `/proc`, no
//! permission) goes through the object's methods as before.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use pyo3::prelude::*;

use crate::errors::Slot;
use crate::pyio::{PY_IO_BUFFER, PyReader, PyWriter};
use crate::run::Cancel;

/// A file descriptor of the caller's and the position to start at.
pub type FdSpec = Option<(i32, u64)>;

/// The file behind `spec`, opened anew and positioned, if it can be.
pub fn reopen(spec: FdSpec, write: bool) -> Option<(File, u64)> {
    let (fd, pos) = spec?;
    if fd < 0 || !cfg!(target_os = "linux") {
        return None;
    }
    let path = format!("/proc/self/fd/{fd}");
    let mut file = if write {
        // Readable too where the permissions allow: a patch verifies its
        // result by reading it back beside the writer (the fast path).
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .or_else(|_| OpenOptions::new().write(true).open(&path))
            .ok()?
    } else {
        File::open(&path).ok()?
    };
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    file.seek(SeekFrom::Start(pos)).ok()?;
    Some((file, pos))
}

/// An input: a reopened file or the object's `read`.
pub enum Input<'a> {
    File(File),
    Object(BufReader<PyReader<'a>>),
}

impl<'a> Input<'a> {
    /// `file` (reopened, with its start) if there is one, else `obj`.
    pub fn new(
        obj: &'a Py<PyAny>,
        file: Option<(File, u64)>,
        slot: &'a Slot,
    ) -> (Input<'a>, Option<u64>) {
        match file {
            Some((file, pos)) => (Input::File(file), Some(pos)),
            None => (
                Input::Object(BufReader::with_capacity(
                    PY_IO_BUFFER,
                    PyReader::new(obj, slot),
                )),
                None,
            ),
        }
    }

    pub fn is_file(&self) -> bool {
        matches!(self, Input::File(_))
    }
}

impl Read for Input<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::File(file) => file.read(buf),
            Input::Object(obj) => obj.read(buf),
        }
    }
}

impl Seek for Input<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Input::File(file) => file.seek(pos),
            Input::Object(obj) => obj.seek(pos),
        }
    }
}

/// An output: a reopened file or the object's `write`.
pub enum Output<'a> {
    File(File),
    Object(BufWriter<PyWriter<'a>>),
}

impl<'a> Output<'a> {
    /// `file` (reopened) if there is one, else `obj`.
    pub fn new(obj: &'a Py<PyAny>, file: Option<(File, u64)>, slot: &'a Slot) -> Output<'a> {
        match file {
            Some((file, _)) => Output::File(file),
            None => Output::Object(BufWriter::with_capacity(
                PY_IO_BUFFER,
                PyWriter::new(obj, slot),
            )),
        }
    }

    pub fn is_file(&self) -> bool {
        matches!(self, Output::File(_))
    }

    /// Ends the output: the file's offset (None for an object). After a
    /// failure nothing more reaches the object.
    pub fn end(self) -> Option<u64> {
        match self {
            Output::File(mut file) => file.stream_position().ok(),
            Output::Object(writer) => {
                let _ = writer.into_parts();
                None
            }
        }
    }
}

impl Write for Output<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::File(file) => file.write(buf),
            Output::Object(obj) => obj.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::File(file) => file.flush(),
            Output::Object(obj) => obj.flush(),
        }
    }
}

/// Runs `work` with the GIL released: on a worker thread, interruptible by
/// Ctrl-C, when a file is involved (no Python call would see the signal);
/// else on this thread, where the object's calls handle signals.
pub fn run<T: Send>(
    py: Python<'_>,
    any_file: bool,
    cancel: &Cancel,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    if any_file {
        crate::run::scoped(py, cancel, work)
    } else {
        Ok(py.detach(work))
    }
}
