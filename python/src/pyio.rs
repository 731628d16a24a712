//! Python file objects as Rust readers and writers.
//!
//! Each call attaches to the interpreter only for the Python call itself, so
//! the engine works with the GIL released; after each call pending signals
//! are handled, so Ctrl-C stops a long run at the next read or write. An
//! exception raised by the object goes to a [`Slot`] and is re-raised
//! unchanged once the engine has unwound.

use std::io::{self, Read, Seek, SeekFrom, Write};

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};

use crate::errors::Slot;

/// Buffer between the engine and a Python object: few calls, bounded memory.
pub const PY_IO_BUFFER: usize = 1024 * 1024;

/// An object with `read(n)` (and `seek`/`tell` when seeked).
pub struct PyReader<'a> {
    obj: &'a Py<PyAny>,
    slot: &'a Slot,
}

impl<'a> PyReader<'a> {
    pub fn new(obj: &'a Py<PyAny>, slot: &'a Slot) -> Self {
        PyReader { obj, slot }
    }

    fn call<T>(&self, f: impl FnOnce(Python<'_>) -> PyResult<T>) -> io::Result<T> {
        Python::attach(|py| {
            let result = f(py)?;
            py.check_signals()?;
            Ok(result)
        })
        .map_err(|e| self.slot.store(e))
    }
}

/// Copies what `read` returned into `buf`; a `str` or an over-long answer is
/// a `TypeError`/`ValueError`, not silent corruption.
fn copy_read(got: &Bound<'_, PyAny>, buf: &mut [u8]) -> PyResult<usize> {
    if got.is_none() {
        return Err(PyValueError::new_err(
            "read() returned None: non-blocking streams are not supported",
        ));
    }
    let copy = |data: &[u8], buf: &mut [u8]| {
        if data.len() > buf.len() {
            return Err(PyValueError::new_err(format!(
                "read({}) returned {} bytes",
                buf.len(),
                data.len()
            )));
        }
        buf[..data.len()].copy_from_slice(data);
        Ok(data.len())
    };
    if let Ok(bytes) = got.cast::<PyBytes>() {
        return copy(bytes.as_bytes(), buf);
    }
    if let Ok(array) = got.cast::<PyByteArray>() {
        return copy(&array.to_vec(), buf);
    }
    if got.hasattr("tobytes")? {
        let bytes = got.call_method0("tobytes")?;
        let bytes = bytes.cast::<PyBytes>()?;
        return copy(bytes.as_bytes(), buf);
    }
    Err(PyTypeError::new_err(format!(
        "read() must return bytes, not {}",
        got.get_type().name()?
    )))
}

impl Read for PyReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.call(|py| {
            let got = self.obj.bind(py).call_method1("read", (buf.len(),))?;
            copy_read(&got, buf)
        })
    }
}

impl Seek for PyReader<'_> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let (offset, whence) = match pos {
            SeekFrom::Start(n) => (i128::from(n), 0),
            SeekFrom::Current(n) => (i128::from(n), 1),
            SeekFrom::End(n) => (i128::from(n), 2),
        };
        self.call(|py| {
            let obj = self.obj.bind(py);
            let got = obj.call_method1("seek", (offset, whence))?;
            // Some file-likes return None from seek: ask tell().
            if got.is_none() {
                obj.call_method0("tell")?.extract::<u64>()
            } else {
                got.extract::<u64>()
            }
        })
    }
}

/// An object with `write(data)`.
pub struct PyWriter<'a> {
    obj: &'a Py<PyAny>,
    slot: &'a Slot,
}

impl<'a> PyWriter<'a> {
    pub fn new(obj: &'a Py<PyAny>, slot: &'a Slot) -> Self {
        PyWriter { obj, slot }
    }
}

impl Write for PyWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        Python::attach(|py| {
            let obj = self.obj.bind(py);
            let mut done = 0;
            while done < buf.len() {
                let got = obj.call_method1("write", (PyBytes::new(py, &buf[done..]),))?;
                // None: a buffered writer that took everything.
                let n = if got.is_none() {
                    buf.len() - done
                } else {
                    got.extract::<usize>()?
                };
                if n == 0 {
                    return Err(PyValueError::new_err("write() wrote nothing"));
                }
                done += n.min(buf.len() - done);
            }
            py.check_signals()?;
            Ok(done)
        })
        .map_err(|e| self.slot.store(e))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
