//! `rsync_tool._native`: rsync-tool's engine for Python.
//!
//! The pure-Python package `rsync_tool` wraps this module: python-librsync's
//! API, the exception classes and the stream readers live there. Here are
//! the calls that do the work, each with the GIL released: on bytes
//! (read in place; other buffers are copied once), on file objects (read and written through their
//! methods), on paths (atomic outputs, the CLI's fast paths), on a loaded
//! signature, and as streams.

#![deny(unsafe_code)]

use std::io::Cursor;

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rsync_tool_core::Error;
use rsync_tool_core::format::{Command, DeltaParser};

mod data;
mod errors;
mod fileio;
mod paths;
mod pyio;
mod run;
mod sig;
mod stream;

use data::{borrow, patch_options, signature_options};
use errors::Slot;
use fileio::{FdSpec, Input, Output, reopen};
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
    let (params, _) = options
        .params()
        .map_err(|e| errors::from_core(py, &e, None))?;
    let len = usize::try_from(params.signature_len(basis.len() as u64))
        .map_err(|_| errors::from_core(py, &too_big(), None))?;
    let cancel = Cancel::default();
    // Written straight into the result: no growing buffer, no final copy.
    let bytes = PyBytes::new_with(py, len, |buf| {
        let result = run::scoped(py, &cancel, || {
            let reader = Cancellable {
                inner: basis,
                cancel: cancel.clone(),
            };
            fill(buf, |out| rsync_tool_core::signature(reader, out, &options))
        })?;
        result.map_err(|e| errors::from_core(py, &e, None))
    })?;
    Ok(bytes.unbind())
}

/// An output larger than memory can address.
fn too_big() -> Error {
    Error::new(
        rsync_tool_core::Status::Memory,
        "the result is too large for a bytes object",
    )
}

/// Runs `work` writing into `buf`, which it must fill exactly.
fn fill<T>(
    buf: &mut [u8],
    work: impl FnOnce(&mut &mut [u8]) -> Result<T, Error>,
) -> Result<(), Error> {
    let mut rest: &mut [u8] = buf;
    work(&mut rest)?;
    if !rest.is_empty() {
        return Err(Error::new(
            rsync_tool_core::Status::Internal,
            "internal error: the result is shorter than its computed length",
        ));
    }
    Ok(())
}

/// The length of `basis` patched with `delta`, from a pass over the delta's
/// commands; None if the delta is not well-formed against this basis (the
/// patch itself then reports why).
fn patched_len(basis_len: u64, delta: &[u8]) -> Option<u64> {
    let mut parser = DeltaParser::new(Some(basis_len));
    let mut data = delta;
    let mut total = 0u64;
    while !parser.is_done() {
        let (n, command) = parser.advance(data).ok()?;
        if n == 0 && command.is_none() {
            return None;
        }
        data = &data[n..];
        match command {
            Some(Command::Literal { len }) | Some(Command::Copy { len, .. }) => {
                total = total.checked_add(len)?;
            }
            _ => {}
        }
    }
    Some(total)
}

/// The delta of the bytes-like `new` against `signature` (bytes-like, or a
/// loaded Signature), with the verification trailer if `trailer`.
#[pyfunction]
#[pyo3(signature = (signature, new, *, trailer=true))]
fn delta_bytes(
    py: Python<'_>,
    signature: &Bound<'_, PyAny>,
    new: &Bound<'_, PyAny>,
    trailer: bool,
) -> PyResult<Py<PyBytes>> {
    let loaded = match signature.cast::<PySignature>() {
        Ok(loaded) => loaded.get().shared.clone(),
        Err(_) => sig::load(py, signature)?.shared,
    };
    let bytes = sig::delta_any(py, &loaded, new, None, trailer)?;
    Ok(bytes.unwrap_or_else(|| PyBytes::new(py, b"").unbind()))
}

/// `basis` (bytes-like) patched with `delta` (bytes-like), checked against
/// the delta's trailer if `verify`.
#[pyfunction]
#[pyo3(signature = (basis, delta, *, verify=true))]
fn patch_bytes(
    py: Python<'_>,
    basis: &Bound<'_, PyAny>,
    delta: &Bound<'_, PyAny>,
    verify: bool,
) -> PyResult<Py<PyBytes>> {
    let basis = borrow(py, basis)?;
    let delta = borrow(py, delta)?;
    let (basis, delta) = (basis.as_slice(), delta.as_slice());
    let cancel = Cancel::default();
    let options = patch_options(verify);
    let run_patch = |out: &mut dyn std::io::Write| {
        let reader = Cancellable {
            inner: delta,
            cancel: cancel.clone(),
        };
        let writer = Cancellable {
            inner: out,
            cancel: cancel.clone(),
        };
        rsync_tool_core::patch(Cursor::new(basis), reader, writer, &options)
    };
    let len = patched_len(basis.len() as u64, delta).and_then(|n| usize::try_from(n).ok());
    let Some(len) = len else {
        // A bad delta: the patch says why.
        let result = run::scoped(py, &cancel, || {
            let mut out = Vec::new();
            run_patch(&mut out).map(|_| out)
        })?;
        return to_bytes(py, result);
    };
    // Written straight into the result: peak memory is the result's size.
    let bytes = PyBytes::new_with(py, len, |buf| {
        let result = run::scoped(py, &cancel, || fill(buf, |out| run_patch(out)))?;
        result.map_err(|e| errors::from_core(py, &e, None))
    })?;
    Ok(bytes.unbind())
}

/// End positions of the file objects that took the file fast path.
type Ends = (Option<u64>, Option<u64>);

/// Writes the signature of the file object `basis` (read from its position
/// to its end) into the file object `out`. `basis_fd`/`out_fd` are
/// `(fd, position)` of objects that are plain files: those are read or
/// written directly. Returns where each of those ended (None for the others).
#[pyfunction]
#[pyo3(signature = (basis, out, *, block_size=0, strong_len=0, hash="blake2",
                    rollsum="rabinkarp", jobs=0, size=None, basis_fd=None, out_fd=None))]
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
    basis_fd: FdSpec,
    out_fd: FdSpec,
) -> PyResult<Ends> {
    let mut options = signature_options(py, block_size, strong_len, hash, rollsum, jobs, size)?;
    let slot = Slot::default();
    let cancel = Cancel::default();
    options.cancel = Some(cancel.core());
    let (mut input, in_start) = Input::new(&basis, reopen(basis_fd, false), &slot);
    let output = Output::new(&out, reopen(out_fd, true), &slot);
    let any_file = input.is_file() || output.is_file();
    let result = fileio::run(py, any_file, &cancel, || {
        let mut output = output;
        let writer = Cancellable {
            inner: &mut output,
            cancel: cancel.clone(),
        };
        let result = if let Input::File(file) = &input {
            // By position, on every core, as the CLI reads BASIS.
            rsync_tool_core::signature_file(file, writer, &options)
        } else {
            let reader = Cancellable {
                inner: &mut input,
                cancel: cancel.clone(),
            };
            rsync_tool_core::signature(reader, writer, &options)
        };
        let out_end = output.end();
        // signature_file reads by position: the input ends after what it signed.
        result.map(|stats| (in_start.map(|start| start + stats.in_bytes), out_end))
    })?;
    result.map_err(|e| slot.failure(py, &e, None))
}

/// Writes the delta of the file object `new` against `signature` (a file
/// object holding one, or a loaded Signature) into the file object `out`.
/// `*_fd` as for `signature_io`; with the verification trailer if
/// `trailer`. Returns the end positions of the signature, `new` and `out`
/// where they took the fast path.
#[pyfunction]
#[pyo3(signature = (signature, new, out, *, sig_fd=None, new_fd=None, out_fd=None, trailer=true))]
#[allow(clippy::too_many_arguments)]
fn delta_io(
    py: Python<'_>,
    signature: &Bound<'_, PyAny>,
    new: &Bound<'_, PyAny>,
    out: &Bound<'_, PyAny>,
    sig_fd: FdSpec,
    new_fd: FdSpec,
    out_fd: FdSpec,
    trailer: bool,
) -> PyResult<(Option<u64>, Option<u64>, Option<u64>)> {
    let mut sig_end = None;
    let loaded = match signature.cast::<PySignature>() {
        Ok(loaded) => loaded.get().shared.clone(),
        Err(_) => match reopen(sig_fd, false) {
            Some((file, _)) => {
                let (shared, end) = sig::load_file(py, file)?;
                sig_end = end;
                shared
            }
            None => sig::load(py, signature)?.shared,
        },
    };
    let new_file = reopen(new_fd, false);
    let out_file = reopen(out_fd, true);
    if new_file.is_none() && out_file.is_none() {
        sig::delta_any(py, &loaded, new, Some(out), trailer)?;
        return Ok((sig_end, None, None));
    }
    let slot = Slot::default();
    let cancel = Cancel::default();
    let (new_obj, out_obj) = (new.clone().unbind(), out.clone().unbind());
    let (mut input, new_start) = Input::new(&new_obj, new_file, &slot);
    let output = Output::new(&out_obj, out_file, &slot);
    let options = sig::delta_options(trailer);
    let result = fileio::run(py, true, &cancel, || {
        let mut output = output;
        let writer = Cancellable {
            inner: &mut output,
            cancel: cancel.clone(),
        };
        let result = sig::with(&loaded, |sig| {
            if let Input::File(file) = &input {
                // By position, on every core, as the CLI reads NEW.
                sig.delta_file(file, writer, &options)
            } else {
                let reader = Cancellable {
                    inner: &mut input,
                    cancel: cancel.clone(),
                };
                sig.delta(reader, writer, &options)
            }
        });
        let out_end = output.end();
        // delta_file reads by position: the input ends after what it read.
        result.map(|(stats, _)| (new_start.map(|start| start + stats.in_bytes), out_end))
    })?;
    let (new_end, out_end) = result.map_err(|e| slot.failure(py, &e, None))?;
    Ok((sig_end, new_end, out_end))
}

/// Writes the file object `basis` (seekable) patched with the file object
/// `delta` into the file object `out`. `*_fd` as for `signature_io`; with
/// all three plain files the CLI's `patch_file` (splice) runs; checked
/// against the delta's trailer if `verify`. Returns the end positions of
/// `delta` and `out` where they took the fast path.
#[pyfunction]
#[pyo3(signature = (basis, delta, out, *, basis_fd=None, delta_fd=None, out_fd=None, verify=true))]
#[allow(clippy::too_many_arguments)]
fn patch_io(
    py: Python<'_>,
    basis: Py<PyAny>,
    delta: Py<PyAny>,
    out: Py<PyAny>,
    basis_fd: FdSpec,
    delta_fd: FdSpec,
    out_fd: FdSpec,
    verify: bool,
) -> PyResult<Ends> {
    let slot = Slot::default();
    let cancel = Cancel::default();
    let options = patch_options(verify);
    let files = (
        reopen(basis_fd, false),
        reopen(delta_fd, false),
        reopen(out_fd, true),
    );
    if let (Some((basis, _)), Some((delta, delta_pos)), Some((out, out_pos))) = &files {
        let result = fileio::run(py, true, &cancel, || {
            rsync_tool_core::patch_file(basis, delta, out, &options)
        })?;
        let stats = result.map_err(|e| errors::from_core(py, &e, None))?;
        return Ok((
            Some(delta_pos + stats.in_bytes),
            Some(out_pos + stats.out_bytes),
        ));
    }
    let (basis_file, delta_file, out_file) = files;
    let (mut basis, _) = Input::new(&basis, basis_file, &slot);
    let (mut input, delta_pos) = Input::new(&delta, delta_file, &slot);
    let output = Output::new(&out, out_file, &slot);
    let any_file = basis.is_file() || input.is_file() || output.is_file();
    let result = fileio::run(py, any_file, &cancel, || {
        let mut output = output;
        let reader = Cancellable {
            inner: &mut input,
            cancel: cancel.clone(),
        };
        let writer = Cancellable {
            inner: &mut output,
            cancel: cancel.clone(),
        };
        let result = rsync_tool_core::patch(&mut basis, reader, writer, &options);
        let out_end = output.end();
        result.map(|stats| (delta_pos.map(|p| p + stats.in_bytes), out_end))
    })?;
    result.map_err(|e| slot.failure(py, &e, None))
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
