//! Bytes-like arguments, borrowed without copying, and the signature options.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rsync_tool_core::{PatchOptions, SignatureOptions, Status, StrongHash, StrongLen, WeakSum};

use crate::errors;

/// A bytes-like argument's contents, kept alive and unmoved while borrowed.
pub enum Data<'py> {
    /// A `bytes` object: immutable, read in place.
    Bytes(Bound<'py, PyBytes>),
    /// A writable contiguous buffer (`bytearray`, `mmap`, a NumPy array...),
    /// read in place through the ctypes array `_export` that pins it.
    Pinned {
        address: usize,
        len: usize,
        _export: Bound<'py, PyAny>,
    },
}

impl Data<'_> {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Data::Bytes(bytes) => bytes.as_bytes(),
            // SAFETY: `_export` is a ctypes array made with `from_buffer`: it
            // holds a buffer export of the object, which keeps these `len`
            // bytes at `address` allocated and unmoved (a `bytearray` with an
            // export refuses to resize) until it is dropped, and it lives as
            // long as `self`. Another Python thread writing into the buffer
            // during a call changes the bytes read, as with any reader; the
            // documentation asks callers not to.
            Data::Pinned { address, len, .. } => unsafe {
                std::slice::from_raw_parts(*address as *const u8, *len)
            },
        }
    }
}

/// Borrows any object with the buffer protocol: `bytes` and writable
/// contiguous buffers in place; anything else (a read-only `memoryview`
/// slice, a non-contiguous array) is copied once. The limited C API of
/// Python 3.9 (abi3) has no buffer protocol, so `rsync_tool._buffers` asks
/// ctypes for the address.
pub fn borrow<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(Data::Bytes(bytes.clone()));
    }
    let helper = py.import("rsync_tool._buffers")?.getattr("pin")?;
    let pinned = helper.call1((obj,))?;
    if let Ok(bytes) = pinned.cast::<PyBytes>() {
        return Ok(Data::Bytes(bytes.clone()));
    }
    let (address, len, export): (usize, usize, Bound<'py, PyAny>) = pinned.extract()?;
    Ok(Data::Pinned {
        address,
        len,
        _export: export,
    })
}

/// A `ParameterError` with rdiff's status for a bad option value.
pub fn bad_parameter(py: Python<'_>, message: String) -> PyErr {
    errors::raise(py, "ParameterError", message, Status::Param.code())
}

/// Signature options from the keyword arguments every signature function takes.
pub fn signature_options(
    py: Python<'_>,
    block_size: i64,
    strong_len: i64,
    hash: &str,
    rollsum: &str,
    jobs: usize,
    basis_size: Option<u64>,
) -> PyResult<SignatureOptions> {
    let block_len = u32::try_from(block_size).map_err(|_| {
        bad_parameter(
            py,
            format!(
                "invalid block_size {block_size}: use a positive length, or 0 for the recommended one"
            ),
        )
    })?;
    let strong_len =
        StrongLen::from_arg(strong_len).map_err(|e| errors::from_core(py, &e, None))?;
    let hash = match hash.to_ascii_lowercase().as_str() {
        "blake2" | "blake2b" => StrongHash::Blake2,
        "md4" => StrongHash::Md4,
        other => {
            return Err(bad_parameter(
                py,
                format!("unknown hash {other:?}: use \"blake2\" or \"md4\""),
            ));
        }
    };
    let rollsum = match rollsum.to_ascii_lowercase().as_str() {
        "rabinkarp" => WeakSum::RabinKarp,
        "rollsum" => WeakSum::Rollsum,
        other => {
            return Err(bad_parameter(
                py,
                format!("unknown rollsum {other:?}: use \"rabinkarp\" or \"rollsum\""),
            ));
        }
    };
    let options = SignatureOptions {
        block_len,
        strong_len,
        hash,
        rollsum,
        basis_size,
        jobs,
        ..SignatureOptions::default()
    };
    // Refuse bad combinations (a strong sum longer than the hash) before any
    // output is touched.
    options
        .params()
        .map_err(|e| errors::from_core(py, &e, None))?;
    Ok(options)
}

/// Patch options for Python: `verify` checks the result against the
/// delta's verification trailer, when it has one.
pub fn patch_options(verify: bool) -> PatchOptions {
    PatchOptions {
        verify,
        ..PatchOptions::default()
    }
}
