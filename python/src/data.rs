//! Bytes-like arguments and the signature options.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rsync_tool_core::{PatchOptions, SignatureOptions, Status, StrongHash, StrongLen, WeakSum};

use crate::errors;

/// A bytes-like argument's contents, as a `bytes` object: immutable, so it
/// can be read on a worker thread with the GIL released while no Python
/// thread can change it.
pub struct Data<'py>(Bound<'py, PyBytes>);

impl Data<'_> {
    pub fn as_slice(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// The contents of any object with the buffer protocol. `bytes` (and a
/// read-only view spanning a whole `bytes` object) are read in place; any
/// other buffer (`bytearray`, `mmap`, `array`, a NumPy array, a
/// `memoryview` of one) is copied once, with the GIL held, into a `bytes`
/// object only this call holds: another thread writing into the buffer
/// during the call changes nothing read. The limited C API of Python 3.9
/// (abi3) has no buffer protocol, so `rsync_tool._buffers` makes the copy.
pub fn borrow<'py>(py: Python<'py>, obj: &Bound<'py, PyAny>) -> PyResult<Data<'py>> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(Data(bytes.clone()));
    }
    let contents = py
        .import("rsync_tool._buffers")?
        .getattr("contents")?
        .call1((obj,))?;
    Ok(Data(contents.cast_into::<PyBytes>()?))
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
