//! Patching: a delta applied to a seekable basis ([`apply`](self)), through
//! a window for short COPYs, or between files with `splice(2)` on Linux.

mod apply;
#[cfg(target_os = "linux")]
mod splice;
mod window;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result, Role, Status};
use crate::format::{AfterEnd, NewHasher, Trailer};
use crate::io::Counted;
use crate::options::PatchOptions;
use crate::stats::Stats;

/// Applies `delta` to `basis` and writes the result to `out`. The basis must
/// be seekable: COPY commands read it by position.
///
/// With [`PatchOptions::verify`] (the default), the result is hashed as it
/// is written and checked against the delta's [`Trailer`] if it has one
/// ([`Stats::verified`] tells): a wrong length or hash is
/// [`Status::Corrupt`], reported once the whole result has been written
/// (a caller that writes to a temporary file then keeps it out of place).
/// Bytes after END that are no trailer are ignored, as rdiff does.
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
    let mut hasher = options.verify.then(NewHasher::default);
    let (mut stats, after_end) = apply::apply(
        &mut basis,
        basis_len,
        delta,
        out,
        (buffers.input, buffers.output),
        hasher.as_mut(),
    )?;
    check_trailer(&mut stats, hasher.as_ref(), &after_end)?;
    Ok(stats)
}

/// Checks the result, hashed into `hasher`, against the trailer at the
/// start of `after_end` (the bytes after the delta's END), if there is one.
fn check_trailer(stats: &mut Stats, hasher: Option<&NewHasher>, after_end: &[u8]) -> Result<()> {
    let Some(hasher) = hasher else {
        return Ok(());
    };
    let expected = match Trailer::parse(after_end) {
        AfterEnd::Nothing => return Ok(()),
        AfterEnd::Truncated => {
            return Err(Error::new(
                Status::InputEnded,
                "delta is truncated inside its verification trailer",
            )
            .about(Role::Delta));
        }
        AfterEnd::Trailer(trailer) => trailer,
    };
    let got = Trailer::of(hasher);
    let what = if got.new_len != expected.new_len {
        format!(
            "the result has {} bytes where the delta's trailer says {}",
            got.new_len, expected.new_len
        )
    } else if got.hash != expected.hash {
        "the result's BLAKE3 hash differs from the delta's trailer".to_string()
    } else {
        stats.verified = true;
        return Ok(());
    };
    Err(Error::new(
        Status::Corrupt,
        format!(
            "{what}: the basis is probably not the one the signature was made from (or the delta is damaged)"
        ),
    )
    .about(Role::Basis))
}

/// [`patch`] between open files: the basis, the delta (read from its current
/// position) and the output (written at its current position). Where the
/// kernel can (Linux, all three regular files, the output not opened for
/// appending), long pieces go from the inputs to the output with `splice(2)`,
/// never through our memory (verified by a second thread that reads the
/// output back behind the writer and hashes it); otherwise as [`patch`] does.
pub fn patch_file(basis: &File, delta: &File, out: &File, options: &PatchOptions) -> Result<Stats> {
    #[cfg(target_os = "linux")]
    if let Some(files) = splice_files(basis, delta, out, options.verify)? {
        let progress = options.progress.as_deref();
        let counted = progress.map(|p| p.load(std::sync::atomic::Ordering::Relaxed));
        if let Some(done) = splice::apply(&files, progress, options.verify)? {
            let mut stats = done.stats;
            check_trailer(&mut stats, done.hashed.as_ref(), &done.after_end)?;
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
    verify: bool,
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
    let flags = rustix::fs::fcntl_getfl(out).ok();
    let appending = flags.is_some_and(|flags| flags.contains(rustix::fs::OFlags::APPEND));
    // Verifying reads the output back: it must be open for reading too
    // (`> file` in a shell is not; the streaming path hashes as it writes).
    let readable = flags.is_some_and(|flags| {
        let mode = flags & rustix::fs::OFlags::RWMODE;
        mode == rustix::fs::OFlags::RDWR || mode == rustix::fs::OFlags::RDONLY
    });
    if !basis_meta.is_file()
        || !delta_meta.is_file()
        || !out_meta.is_file()
        || appending
        || (verify && !readable)
    {
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
        delta_len: delta_meta.len(),
        out,
    }))
}
