//! A signature loaded once and reused for many deltas.

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};
use rsync_tool_core::{DeltaOptions, Error, Signature, SignatureParams};

use crate::data::borrow;
use crate::errors::{self, Slot};
use crate::pyio::{PY_IO_BUFFER, PyReader, PyWriter};
use crate::run::{self, Cancel, Cancellable};

/// The engine's signature, shared with worker threads; one delta at a time.
pub type Shared = Arc<Mutex<Signature>>;

/// Runs `f` on the locked signature (a panic elsewhere does not poison it
/// for good: the index is read-only apart from its counters).
pub fn with<T>(shared: &Shared, f: impl FnOnce(&mut Signature) -> T) -> T {
    let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

/// True for `str` and `os.PathLike` arguments.
pub fn is_path(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")?)
}

/// True for objects read with `read(n)`.
pub fn is_reader(obj: &Bound<'_, PyAny>) -> PyResult<bool> {
    Ok(!obj.is_instance_of::<PyBytes>() && obj.hasattr("read")?)
}

/// A signature loaded into memory, ready to make deltas against.
#[pyclass(module = "rsync_tool._native", name = "Signature", frozen)]
pub struct PySignature {
    pub shared: Shared,
    params: SignatureParams,
    blocks: u64,
}

impl PySignature {
    fn new(signature: Signature) -> PySignature {
        PySignature {
            params: *signature.params(),
            blocks: signature.load_stats().sig_blocks,
            shared: Arc::new(Mutex::new(signature)),
        }
    }

    fn loaded(py: Python<'_>, result: Result<Signature, Error>, slot: &Slot) -> PyResult<Self> {
        result
            .map(PySignature::new)
            .map_err(|e| slot.failure(py, &e, None))
    }
}

/// Loads a signature from a path, a file object or bytes.
pub fn load(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<PySignature> {
    let options = DeltaOptions::default();
    let slot = Slot::default();
    if is_path(source)? {
        let path: PathBuf = source.extract()?;
        let name = path.display().to_string();
        let file = File::open(&path).map_err(|e| errors::io_error(py, "cannot open", &name, &e))?;
        let cancel = Cancel::default();
        let reader = Cancellable {
            inner: BufReader::with_capacity(PY_IO_BUFFER, file),
            cancel: cancel.clone(),
        };
        let result = run::detached(py, &cancel, move || Signature::load(reader, &options))?;
        return result
            .map(PySignature::new)
            .map_err(|e| errors::from_core(py, &e, Some(&name)));
    }
    if is_reader(source)? {
        let obj = source.clone().unbind();
        let result = py.detach(|| {
            let reader = BufReader::with_capacity(PY_IO_BUFFER, PyReader::new(&obj, &slot));
            Signature::load(reader, &options)
        });
        return PySignature::loaded(py, result, &slot);
    }
    let data = borrow(py, source)?;
    let bytes = data.as_slice();
    let cancel = Cancel::default();
    let result = run::scoped(py, &cancel, || {
        let reader = Cancellable {
            inner: bytes,
            cancel: cancel.clone(),
        };
        Signature::load(reader, &options)
    })?;
    PySignature::loaded(py, result, &slot)
}

/// Loads a signature from a file read from its offset (reopened from a
/// file object); returns it and where the file ended.
pub fn load_file(py: Python<'_>, file: File) -> PyResult<(Shared, Option<u64>)> {
    let options = DeltaOptions::default();
    let cancel = Cancel::default();
    let result = run::scoped(py, &cancel, || {
        let reader = Cancellable {
            inner: BufReader::with_capacity(PY_IO_BUFFER, &file),
            cancel: cancel.clone(),
        };
        Signature::load(reader, &options)
    })?;
    let signature = result.map_err(|e| errors::from_core(py, &e, None))?;
    let end = (&file).stream_position().ok();
    Ok((Arc::new(Mutex::new(signature)), end))
}

/// The options of a delta made for Python: with the verification trailer
/// after END, or (`trailer=False`) exactly what rdiff writes.
pub fn delta_options(trailer: bool) -> DeltaOptions {
    DeltaOptions {
        trailer,
        ..DeltaOptions::default()
    }
}

/// Writes the delta of a file object or bytes `new` against `shared` into
/// the file object `out`, or returns it as bytes when `out` is None; with
/// the verification trailer if `trailer`.
pub fn delta_any(
    py: Python<'_>,
    shared: &Shared,
    new: &Bound<'_, PyAny>,
    out: Option<&Bound<'_, PyAny>>,
    trailer: bool,
) -> PyResult<Option<Py<PyBytes>>> {
    let options = delta_options(trailer);
    let slot = Slot::default();
    let out_obj = out.map(|o| o.clone().unbind());
    if is_reader(new)? {
        let new_obj = new.clone().unbind();
        let result = py.detach(|| {
            let reader = BufReader::with_capacity(PY_IO_BUFFER, PyReader::new(&new_obj, &slot));
            with(shared, |sig| match &out_obj {
                Some(out_obj) => {
                    let writer = PyWriter::new(out_obj, &slot);
                    let mut writer = BufWriter::with_capacity(PY_IO_BUFFER, writer);
                    let result = sig.delta(reader, &mut writer, &options);
                    // Nothing more reaches a writer that failed.
                    let _ = writer.into_parts();
                    result.map(|_| Vec::new())
                }
                None => {
                    let mut vec = Vec::new();
                    sig.delta(reader, &mut vec, &options).map(|_| vec)
                }
            })
        });
        let bytes = result.map_err(|e| slot.failure(py, &e, None))?;
        return Ok(out_obj.is_none().then(|| PyBytes::new(py, &bytes).unbind()));
    }
    let data = borrow(py, new)?;
    let new_bytes = data.as_slice();
    let cancel = Cancel::default();
    let result = run::scoped(py, &cancel, || {
        let reader = Cancellable {
            inner: new_bytes,
            cancel: cancel.clone(),
        };
        let mut vec = Vec::new();
        with(shared, |sig| sig.delta(reader, &mut vec, &options)).map(|_| vec)
    })?;
    let bytes = result.map_err(|e| slot.failure(py, &e, None))?;
    match out_obj {
        None => Ok(Some(PyBytes::new(py, &bytes).unbind())),
        Some(out_obj) => {
            let written = py.detach(|| PyWriter::new(&out_obj, &slot).write_all(&bytes));
            match written {
                Ok(()) => Ok(None),
                Err(_) => Err(slot.take().unwrap_or_else(errors::interrupted)),
            }
        }
    }
}

#[pymethods]
impl PySignature {
    /// Loads a signature from a path (`str` or `os.PathLike`), a binary file
    /// object or a bytes-like object.
    #[staticmethod]
    fn load(py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<PySignature> {
        load(py, source)
    }

    /// The delta of `new` (a binary file object or a bytes-like object)
    /// against this signature: written to `out` if given (returns None),
    /// else returned as bytes. `trailer=False` leaves out the verification
    /// trailer: the delta is then byte for byte rdiff's.
    #[pyo3(signature = (new, out=None, *, trailer=true))]
    fn delta(
        &self,
        py: Python<'_>,
        new: &Bound<'_, PyAny>,
        out: Option<&Bound<'_, PyAny>>,
        trailer: bool,
    ) -> PyResult<Option<Py<PyBytes>>> {
        delta_any(py, &self.shared, new, out, trailer)
    }

    /// Bytes per block.
    #[getter]
    fn block_size(&self) -> u32 {
        self.params.block_len
    }

    /// Bytes of each block's strong sum.
    #[getter]
    fn strong_len(&self) -> u32 {
        self.params.strong_len
    }

    /// The strong hash: "blake2" or "md4".
    #[getter]
    fn hash(&self) -> &'static str {
        self.params.strong.name()
    }

    /// The weak rolling sum: "rabinkarp" or "rollsum".
    #[getter]
    fn rollsum(&self) -> &'static str {
        self.params.weak.name()
    }

    /// The signature's magic number.
    #[getter]
    fn magic(&self) -> u32 {
        self.params.magic()
    }

    /// Number of blocks of the basis the signature describes.
    #[getter]
    fn block_count(&self) -> u64 {
        self.blocks
    }

    fn __len__(&self) -> usize {
        usize::try_from(self.blocks).unwrap_or(usize::MAX)
    }

    fn __repr__(&self) -> String {
        format!(
            "<rsync_tool.Signature {} + {}, block_size={}, strong_len={}, {} blocks>",
            self.params.weak.name(),
            self.params.strong.name(),
            self.params.block_len,
            self.params.strong_len,
            self.blocks
        )
    }
}
