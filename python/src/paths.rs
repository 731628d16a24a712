//! Paths in, atomic file out: the CLI's work and safety for Python callers.

use std::fs::{self, File};
use std::io::{self, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pyo3::prelude::*;
use rsync_tool_core::{DeltaOptions, Error, PatchOptions, Role, Signature, Status};
use rsync_tool_output::{
    self as output, FileId, HashingWriter, NoHooks, Output, SameFile, Sha256Digest, sha256_of_file,
    sha256sum_line,
};

use crate::data::{bad_parameter, patch_options, signature_options};
use crate::errors;
use crate::pyio::PY_IO_BUFFER;
use crate::run::{self, Cancel, Cancellable};
use crate::sig::{self, PySignature, Shared, delta_options};

/// The display names of one call's files, to say which one is at fault.
#[derive(Default)]
struct Names {
    basis: String,
    signature: String,
    new: String,
    delta: String,
    output: String,
}

impl Names {
    fn of(&self, role: Option<Role>) -> Option<&str> {
        Some(match role? {
            Role::Basis => &self.basis,
            Role::Signature => &self.signature,
            Role::New => &self.new,
            Role::Delta => &self.delta,
            Role::Output => &self.output,
        })
    }
}

/// What a worker thread reports: done, an engine error, or an output error.
enum Failure {
    Engine(Error),
    Output(output::Error),
    Write {
        name: String,
        err: io::Error,
    },
    Mismatch(String),
    /// Ctrl-C: nothing was committed.
    Cancelled,
}

impl Failure {
    fn raise(self, py: Python<'_>, names: &Names) -> PyErr {
        match self {
            Failure::Engine(err) => errors::from_core(py, &err, names.of(err.role())),
            Failure::Output(e) => errors::output_error(py, &e),
            Failure::Write { name, err } => errors::io_error(py, "write failed", &name, &err),
            Failure::Mismatch(message) => errors::raise(
                py,
                "CorruptError",
                format!("{}: {message}", names.output),
                Status::Corrupt.code(),
            ),
            Failure::Cancelled => errors::interrupted(),
        }
    }
}

/// Puts `outputs` in place (all or none) unless the call was interrupted:
/// once the caller has been told so, nothing is committed.
fn commit(cancel: &Cancel, outputs: Vec<Output>) -> Result<(), Failure> {
    match cancel.commit(|| output::commit(outputs)) {
        Some(result) => result.map_err(Failure::Output),
        None => Err(Failure::Cancelled),
    }
}

fn name(path: &Path) -> String {
    path.display().to_string()
}

/// Opens an input file; a directory is refused here (reading it would fail
/// later with a less clear message).
fn open_input(py: Python<'_>, path: &Path) -> PyResult<File> {
    let display = name(path);
    let file = File::open(path).map_err(|e| errors::io_error(py, "cannot open", &display, &e))?;
    let meta = file
        .metadata()
        .map_err(|e| errors::io_error(py, "cannot read", &display, &e))?;
    if meta.is_dir() {
        let err = io::Error::from(io::ErrorKind::IsADirectory);
        return Err(errors::io_error(py, "cannot read", &display, &err));
    }
    Ok(file)
}

/// Opens an output as the CLI does (the same crate): a temporary file put
/// in place by [`output::commit`], never over a file that exists (or
/// appears meanwhile) unless `force`; with it, the replaced file's owner,
/// group, mode and extended attributes are kept, and where nothing can be
/// made beside it (or nothing made there could have its owner and group)
/// the result is built elsewhere and written into it at the end. Python needs no signal hooks: Ctrl-C comes as an exception, and a
/// dropped output removes its temporary file.
fn open_output(py: Python<'_>, path: &Path, force: bool) -> PyResult<Output> {
    let options = output::Options {
        force,
        inplace: false,
        overwrite_hint: "pass force=True to overwrite",
        hooks: &NoHooks,
    };
    Output::open(path, options).map_err(|e| errors::output_error(py, &e))
}

/// The id of an open input (device and inode of a regular file; two pipes
/// or devices are not compared, as in the CLI).
fn file_id(file: &File) -> Option<FileId> {
    output::file_id(&file.metadata().ok()?)
}

/// The id of the file an output path names (symlinks followed), if it
/// exists.
fn path_id(path: &Path) -> Option<FileId> {
    output::file_id(&fs::metadata(path).ok()?)
}

/// `SameFileError` (a `ParameterError`, status 101 as the CLI's usage
/// error): two paths of one call are the same file.
fn same_file(py: Python<'_>, message: String) -> PyErr {
    errors::raise(py, "SameFileError", message, Status::Syntax.code())
}

/// Refuses, before any work, an output path that is one of the call's
/// open inputs (device and inode, whatever the spelling: `./x`, a symlink,
/// a hard link), as the CLI does.
fn refuse_input(py: Python<'_>, output: &Path, inputs: &[(&Path, &File)]) -> PyResult<()> {
    let ids: Vec<_> = inputs.iter().map(|(_, file)| file_id(file)).collect();
    match output::same_files(&ids, &[path_id(output)]).first() {
        Some(&SameFile::Input { input, .. }) => Err(same_file(
            py,
            format!(
                "{} and {} are the same file; name another output",
                inputs[input].0.display(),
                output.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// True when two output paths name one file: the same file if both exist,
/// else the same place once resolved (`./d`, `d` and a symlink to `d`).
fn same_output(a: &Path, b: &Path) -> bool {
    a == b
        || path_id(a).is_some_and(|id| path_id(b) == Some(id))
        || output::where_written(a).is_some_and(|w| Some(w) == output::where_written(b))
}

/// The size of a regular file, `None` for a pipe or device.
fn regular_size(file: &File) -> Option<u64> {
    file.metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len())
}

/// Writes the signature of the file `basis` to the file `signature`.
#[pyfunction]
#[pyo3(signature = (basis, signature, *, force=false, block_size=0, strong_len=0,
                    hash="blake2", rollsum="rabinkarp", jobs=0))]
#[allow(clippy::too_many_arguments)]
pub fn signature_file(
    py: Python<'_>,
    basis: PathBuf,
    signature: PathBuf,
    force: bool,
    block_size: i64,
    strong_len: i64,
    hash: &str,
    rollsum: &str,
    jobs: usize,
) -> PyResult<()> {
    let names = Names {
        basis: name(&basis),
        signature: name(&signature),
        output: name(&signature),
        ..Names::default()
    };
    let input = open_input(py, &basis)?;
    refuse_input(py, &signature, &[(&basis, &input)])?;
    let mut options = signature_options(
        py,
        block_size,
        strong_len,
        hash,
        rollsum,
        jobs,
        regular_size(&input),
    )?;
    let out = open_output(py, &signature, force)?;
    let cancel = Cancel::default();
    options.cancel = Some(cancel.core());
    let worker_cancel = cancel.clone();
    let result = run::detached(py, &cancel, move || {
        let writer = Cancellable {
            inner: out.as_file(),
            cancel: worker_cancel.clone(),
        };
        // A regular file is read by position on every thread.
        rsync_tool_core::signature_file(&input, writer, &options).map_err(Failure::Engine)?;
        commit(&worker_cancel, vec![out])
    })?;
    result.map_err(|f| f.raise(py, &names))
}

/// Writes the delta of the file `new` against `signature` (a path or a
/// loaded Signature) to the file `delta`, with the verification trailer if
/// `trailer`.
#[pyfunction]
#[pyo3(signature = (signature, new, delta, *, force=false, jobs=0, sha256_file=None, trailer=true))]
#[allow(clippy::too_many_arguments)]
pub fn delta_file(
    py: Python<'_>,
    signature: &Bound<'_, PyAny>,
    new: PathBuf,
    delta: PathBuf,
    force: bool,
    jobs: usize,
    sha256_file: Option<PathBuf>,
    trailer: bool,
) -> PyResult<()> {
    let mut names = Names {
        new: name(&new),
        delta: name(&delta),
        output: name(&delta),
        ..Names::default()
    };
    if sha256_file
        .as_deref()
        .is_some_and(|s| same_output(s, &delta))
    {
        return Err(same_file(
            py,
            "sha256_file is the delta output; name another file".to_string(),
        ));
    }
    // A path is loaded in the worker (interruptible); a Signature is shared.
    let (sig_file, loaded, sig_path): (Option<File>, Option<Shared>, Option<PathBuf>) =
        if let Ok(loaded) = signature.cast::<PySignature>() {
            (None, Some(loaded.get().shared.clone()), None)
        } else {
            let path: PathBuf = signature.extract()?;
            names.signature = name(&path);
            (Some(open_input(py, &path)?), None, Some(path))
        };
    let new_file = open_input(py, &new)?;
    let mut inputs = vec![(new.as_path(), &new_file)];
    if let (Some(path), Some(file)) = (&sig_path, &sig_file) {
        inputs.insert(0, (path.as_path(), file));
    }
    refuse_input(py, &delta, &inputs)?;
    if let Some(path) = &sha256_file {
        refuse_input(py, path, &inputs)?;
    }
    let out = open_output(py, &delta, force)?;
    let sha_out = match &sha256_file {
        Some(path) => Some(open_output(py, path, force)?),
        None => None,
    };
    let cancel = Cancel::default();
    let options = DeltaOptions {
        jobs,
        cancel: Some(cancel.core()),
        ..delta_options(trailer)
    };
    let worker_cancel = cancel.clone();
    let new_name = new.as_os_str().as_bytes().to_vec();
    let result = run::detached(py, &cancel, move || {
        let shared = match (loaded, sig_file) {
            (Some(shared), _) => shared,
            (None, Some(file)) => {
                let reader = Cancellable {
                    inner: BufReader::with_capacity(PY_IO_BUFFER, file),
                    cancel: worker_cancel.clone(),
                };
                let sig = Signature::load(reader, &options)
                    .map_err(|e| Failure::Engine(e.about(Role::Signature)))?;
                Arc::new(std::sync::Mutex::new(sig))
            }
            (None, None) => unreachable!("a signature is either loaded or a file"),
        };
        let writer = Cancellable {
            inner: out.as_file(),
            cancel: worker_cancel.clone(),
        };
        // As the CLI: the delta covers `new` as long as it is when the work
        // starts; a file still growing is hashed as far as the delta went
        // (that size, or again after the delta if it saw another).
        let len = new_file
            .metadata()
            .map_err(|e| Failure::Engine(Error::io(Role::New, "cannot read", e)))?
            .len();
        let (result, hashed) = std::thread::scope(|scope| {
            let hash = || sha256_of_file(&new_file, 0, len, worker_cancel.flag());
            // Beside the delta on a thread of its own, or after it where the
            // system refuses one.
            let hashing = sha_out.is_some().then(|| {
                std::thread::Builder::new()
                    .name("rsync-tool".to_string())
                    .spawn_scoped(scope, hash)
            });
            let result = sig::with(&shared, |sig| sig.delta_file(&new_file, writer, &options));
            if result.is_err() {
                // The call fails: stop hashing too.
                worker_cancel.set();
            }
            let hashed = hashing.map(|h| match h {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => hash(),
            });
            (result, hashed)
        });
        let (stats, _) = result.map_err(Failure::Engine)?;
        let (Some(sha_out), Some(hashed)) = (sha_out, hashed) else {
            return commit(&worker_cancel, vec![out]);
        };
        let hashed = if stats.in_bytes == len {
            hashed
        } else {
            sha256_of_file(&new_file, 0, stats.in_bytes, worker_cancel.flag())
        };
        let digest = hashed
            .map_err(|e| Failure::Engine(Error::io(Role::New, "read failed", e)))?
            .ok_or(Failure::Cancelled)?;
        sha_out
            .as_file()
            .write_all(&sha256sum_line(&digest, &new_name))
            .map_err(|err| Failure::Write {
                name: sha_out.name().to_string(),
                err,
            })?;
        // Both in place, or neither.
        commit(&worker_cancel, vec![out, sha_out])
    })?;
    result.map_err(|f| f.raise(py, &names))
}

/// 64 hex digits, in either case, as sha256sum prints them.
fn parse_sha256(py: Python<'_>, text: &str) -> PyResult<Sha256Digest> {
    Sha256Digest::from_hex(text).map_err(|_| {
        bad_parameter(
            py,
            format!("expect_sha256 must be 64 hex digits, got {text:?}"),
        )
    })
}

/// Applies the delta file `delta` to the file `basis`, writing the file `out`
/// (which may be `basis` itself, with `force`), checked against the delta's
/// trailer if `verify`.
#[pyfunction]
#[pyo3(signature = (basis, delta, out, *, force=false, expect_sha256=None, verify=true))]
pub fn patch_file(
    py: Python<'_>,
    basis: PathBuf,
    delta: PathBuf,
    out: PathBuf,
    force: bool,
    expect_sha256: Option<&str>,
    verify: bool,
) -> PyResult<()> {
    let names = Names {
        basis: name(&basis),
        delta: name(&delta),
        new: name(&out),
        output: name(&out),
        ..Names::default()
    };
    let expected = expect_sha256.map(|t| parse_sha256(py, t)).transpose()?;
    let basis_file = open_input(py, &basis)?;
    let delta_file = open_input(py, &delta)?;
    // The output may be the basis (replaced once the result is complete),
    // never the delta.
    refuse_input(py, &out, &[(&delta, &delta_file)])?;
    let output = open_output(py, &out, force)?;
    let cancel = Cancel::default();
    let worker_cancel = cancel.clone();
    let result = run::detached(py, &cancel, move || {
        let options = PatchOptions {
            cancel: Some(worker_cancel.core()),
            ..patch_options(verify)
        };
        match expected {
            None => {
                rsync_tool_core::patch_file(&basis_file, &delta_file, output.as_file(), &options)
                    .map_err(Failure::Engine)?;
            }
            Some(expected) => {
                let written_through = output.is_written_through();
                let mut writer = HashingWriter::new(Cancellable {
                    inner: output.as_file(),
                    cancel: worker_cancel.clone(),
                });
                let delta_reader = Cancellable {
                    inner: &delta_file,
                    cancel: worker_cancel.clone(),
                };
                rsync_tool_core::patch(&basis_file, delta_reader, &mut writer, &options)
                    .map_err(Failure::Engine)?;
                let got = writer.finish();
                if got != expected {
                    let fate = if written_through {
                        "it was written through already"
                    } else {
                        "nothing was written"
                    };
                    return Err(Failure::Mismatch(format!(
                        "the result's SHA-256 is {got}, not the expected {expected}; {fate}"
                    )));
                }
            }
        }
        commit(&worker_cancel, vec![output])
    })?;
    result.map_err(|f| f.raise(py, &names))
}
