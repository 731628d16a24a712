//! `rsync_tool._native`: rsync-tool's engine for Python.
//!
//! The pure-Python package `rsync_tool` wraps this module: python-librsync's
//! API, the exception classes and the stream readers live there. Here are
//! the calls that do the work, each with the GIL released: on bytes
//! (borrowed, not copied), on file objects (read and written through their
//! methods), on paths (atomic outputs, the CLI's fast paths), on a loaded
//! signature, and as streams.

use std::io::{BufReader, BufWriter, Cursor};

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rsync_tool_core::{Error, PatchOptions};

mod data;
mod errors;
mod output;
mod paths;
mod pyio;
mod run;
mod sig;
mod stream;

use data::{borrow, signature_options};
use errors::Slot;
use pyio::{PY_IO_BUFFER, PyReader, PyWriter};
use run::{Cancel, Cancellable};
use sig::PySignature;

/// Turns an engine result into bytes or the right exception.
fn to_bytes(py: Python<'_>, result: Result<Vec<u8>, Error>) -> PyResult<Py<PyBytes>> {
    match result {
        Ok(bytes) => Ok(PyBytes::new(py, &bytes).unbind()),
        Err(err) => Err(errors::from_core(py, &err, None)),
    }
}

/// The signature of a bytes-like object.
#[pyfunction]
#[pyo3(signature = (data, *, block_size=0, strong_len=0, hash="blake2", rollsum="rabinkarp", jobs=0))]
fn signature_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyAny>,
    block_size: i64,
    strong_len: i64,
    hash: &str,
    rollsum: &str,
    jobs: usize,
) -> PyResult<Py<PyBytes>> {
    let data = borrow(py, data)?;
    let basis = data.as_slice();
    let size = Some(basis.len() as u64);
    let options = signature_options(py, block_size, strong_len, hash, rollsum, jobs, size)?;
    let cancel = Cancel::default();
    let result = run::scoped(py, &cancel, || {
        let reader = Cancellable {
            inner: basis,
            cancel: cancel.clone(),
        };
        let mut out = Vec::new();
        rsync_tool_core::signature(reader, &mut out, &options).map(|_| out)
    })?;
    to_bytes(py, result)
}

/// The delta of the bytes-like `new` against `signature` (bytes-like, or a
/// loaded Signature).
#[pyfunction]
fn delta_bytes(
    py: Python<'_>,
    signature: &Bound<'_, PyAny>,
    new: &Bound<'_, PyAny>,
) -> PyResult<Py<PyBytes>> {
    let loaded = match signature.cast::<PySignature>() {
        Ok(loaded) => loaded.get().shared.clone(),
        Err(_) => sig::load(py, signature)?.shared,
    };
    let bytes = sig::delta_any(py, &loaded, new, None)?;
    Ok(bytes.unwrap_or_else(|| PyBytes::new(py, b"").unbind()))
}

/// `basis` (bytes-like) patched with `delta` (bytes-like).
#[pyfunction]
fn patch_bytes(
    py: Python<'_>,
    basis: &Bound<'_, PyAny>,
    delta: &Bound<'_, PyAny>,
) -> PyResult<Py<PyBytes>> {
    let basis = borrow(py, basis)?;
    let delta = borrow(py, delta)?;
    let (basis, delta) = (basis.as_slice(), delta.as_slice());
    let cancel = Cancel::default();
    let result = run::scoped(py, &cancel, || {
        let reader = Cancellable {
            inner: delta,
            cancel: cancel.clone(),
        };
        let mut out = Vec::new();
        let writer = Cancellable {
            inner: &mut out,
            cancel: cancel.clone(),
        };
        rsync_tool_core::patch(Cursor::new(basis), reader, writer, &PatchOptions::default())
            .map(|_| out)
    })?;
    to_bytes(py, result)
}

/// Writes the signature of the file object `basis` (read from its position
/// to its end) into the file object `out`.
#[pyfunction]
#[pyo3(signature = (basis, out, *, block_size=0, strong_len=0, hash="blake2",
                    rollsum="rabinkarp", jobs=0, size=None))]
#[allow(clippy::too_many_arguments)]
fn signature_io(
    py: Python<'_>,
    basis: Py<PyAny>,
    out: Py<PyAny>,
    block_size: i64,
    strong_len: i64,
    hash: &str,
    rollsum: &str,
    jobs: usize,
    size: Option<u64>,
) -> PyResult<()> {
    let options = signature_options(py, block_size, strong_len, hash, rollsum, jobs, size)?;
    let slot = Slot::default();
    let result = py.detach(|| {
        let reader = BufReader::with_capacity(PY_IO_BUFFER, PyReader::new(&basis, &slot));
        let mut writer = BufWriter::with_capacity(PY_IO_BUFFER, PyWriter::new(&out, &slot));
        let result = rsync_tool_core::signature(reader, &mut writer, &options);
        // Nothing more reaches a writer after a failure.
        let _ = writer.into_parts();
        result
    });
    result.map(drop).map_err(|e| slot.failure(py, &e, None))
}

/// Writes the delta of the file object `new` against `signature` (a file
/// object holding one, or a loaded Signature) into the file object `out`.
#[pyfunction]
fn delta_io(
    py: Python<'_>,
    signature: &Bound<'_, PyAny>,
    new: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let loaded = match signature.cast::<PySignature>() {
        Ok(loaded) => loaded.get().shared.clone(),
        Err(_) => sig::load(py, signature)?.shared,
    };
    sig::delta_any(py, &loaded, new, Some(out)).map(drop)
}

/// Writes the file object `basis` (seekable) patched with the file object
/// `delta` into the file object `out`.
#[pyfunction]
fn patch_io(py: Python<'_>, basis: Py<PyAny>, delta: Py<PyAny>, out: Py<PyAny>) -> PyResult<()> {
    let slot = Slot::default();
    let result = py.detach(|| {
        let basis = BufReader::with_capacity(PY_IO_BUFFER, PyReader::new(&basis, &slot));
        let delta = BufReader::with_capacity(PY_IO_BUFFER, PyReader::new(&delta, &slot));
        let mut writer = BufWriter::with_capacity(PY_IO_BUFFER, PyWriter::new(&out, &slot));
        let result = rsync_tool_core::patch(basis, delta, &mut writer, &PatchOptions::default());
        let _ = writer.into_parts();
        result
    });
    result.map(drop).map_err(|e| slot.failure(py, &e, None))
}

/// A signature loaded from a path, a file object or bytes.
#[pyfunction]
fn load_signature(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<PySignature> {
    sig::load(py, source)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PySignature>()?;
    m.add_class::<stream::Stream>()?;
    m.add_function(wrap_pyfunction!(signature_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(delta_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(patch_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(signature_io, m)?)?;
    m.add_function(wrap_pyfunction!(delta_io, m)?)?;
    m.add_function(wrap_pyfunction!(patch_io, m)?)?;
    m.add_function(wrap_pyfunction!(load_signature, m)?)?;
    m.add_function(wrap_pyfunction!(paths::signature_file, m)?)?;
    m.add_function(wrap_pyfunction!(paths::delta_file, m)?)?;
    m.add_function(wrap_pyfunction!(paths::patch_file, m)?)?;
    m.add_function(wrap_pyfunction!(stream::signature_stream, m)?)?;
    m.add_function(wrap_pyfunction!(stream::delta_stream, m)?)?;
    m.add_function(wrap_pyfunction!(stream::patch_stream, m)?)?;
    Ok(())
}
