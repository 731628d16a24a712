//! Patching: a delta applied to a seekable basis ([`apply`](self)), through
//! a window for short COPYs, or between files with `splice(2)` on Linux.

mod apply;
#[cfg(target_os = "linux")]
mod splice;
mod window;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result, Role};
use crate::io::Counted;
use crate::options::PatchOptions;
use crate::stats::Stats;

/// Applies `delta` to `basis` and writes the result to `out`. The basis must
/// be seekable: COPY commands read it by position.
pub fn patch<B: Read + Seek, D: Read, W: Write>(
    mut basis: B,
    delta: D,
    out: W,
    options: &PatchOptions,
) -> Result<Stats> {
    let basis_len = basis
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io(Role::Basis, "basis is not seekable", e))?;
    let buffers = options.buffers.at_least_one();
    let delta = Counted {
        reader: delta,
        counter: options.progress.as_deref(),
    };
    apply::apply(
        &mut basis,
        basis_len,
        delta,
        out,
        buffers.input,
        buffers.output,
    )
}

/// [`patch`] between open files: the basis, the delta (read from its current
/// position) and the output (written at its current position). Where the
/// kernel can (Linux, all three regular files, the output not opened for
/// appending), long pieces go from the inputs to the output with `splice(2)`,
/// never through our memory; otherwise as [`patch`] does.
pub fn patch_file(basis: &File, delta: &File, out: &File, options: &PatchOptions) -> Result<Stats> {
    #[cfg(target_os = "linux")]
    if let Some(files) = splice_files(basis, delta, out)? {
        let progress = options.progress.as_deref();
        let counted = progress.map(|p| p.load(std::sync::atomic::Ordering::Relaxed));
        if let Some(stats) = splice::apply(&files, progress)? {
            return Ok(stats);
        }
        // Nothing was written: start again, from the delta's start.
        if let (Some(p), Some(counted)) = (progress, counted) {
            p.store(counted, std::sync::atomic::Ordering::Relaxed);
        }
        (&*delta)
            .seek(SeekFrom::Start(files.delta_start))
            .map_err(|e| Error::io(Role::Delta, "cannot seek back to its start", e))?;
    }
    patch(basis, delta, out, options)
}

/// The files to patch with splice(2), or `None` where it cannot be used.
#[cfg(target_os = "linux")]
fn splice_files<'a>(
    basis: &'a File,
    delta: &'a File,
    out: &'a File,
) -> Result<Option<splice::Files<'a>>> {
    let meta = |file: &File, role| {
        file.metadata()
            .map_err(|e| Error::io(role, "cannot read its type and size", e))
    };
    let basis_meta = meta(basis, Role::Basis)?;
    let delta_meta = meta(delta, Role::Delta)?;
    // Not into a pipe: its reader would get references to the inputs' pages,
    // and see what is written to them after we are done.
    let out_meta = meta(out, Role::Output)?;
    let appending =
        rustix::fs::fcntl_getfl(out).is_ok_and(|flags| flags.contains(rustix::fs::OFlags::APPEND));
    if !basis_meta.is_file() || !delta_meta.is_file() || !out_meta.is_file() || appending {
        return Ok(None);
    }
    let delta_start = (&*delta)
        .stream_position()
        .map_err(|e| Error::io(Role::Delta, "cannot find the read position", e))?;
    Ok(Some(splice::Files {
        basis,
        basis_len: basis_meta.len(),
        delta,
        delta_start,
        out,
    }))
}
