//! Patching: a delta applied to a seekable basis ([`apply`](self)), through
//! a window for short COPYs, or between files with `splice(2)` on Linux.

mod apply;
#[cfg(target_os = "linux")]
mod splice;
mod window;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result, Role, Status};
use crate::format::{AfterEnd, NewHasher, TRAILER_VERSION, Trailer};
use crate::io::{Checked, Counted};
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
    let mut hasher = options.verify.then(NewHasher::default);
    let cancel = options.cancel.as_ref();
    let delta = Counted {
        reader: delta,
        counter: None,
        cancel,
    };
    // Under the output buffer: checked once per buffer written, so that a
    // long COPY stops too.
    let out = Checked { inner: out, cancel };
    let (mut stats, after_end) = apply::apply(
        &mut basis,
        basis_len,
        delta,
        out,
        (buffers.input, buffers.output),
        hasher.as_mut(),
        options.progress.as_deref(),
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
        AfterEnd::UnknownVersion(version) => {
            return Err(Error::new(
                Status::Corrupt,
                format!(
                    "verification trailer of version {version}, which this rsync-tool cannot check (it reads version {TRAILER_VERSION}; --no-verify patches without checking)"
                ),
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
    if let Some(files) = splice_files(basis, delta, out, options.verify, options.cancel.as_ref())? {
        let progress = options.progress.as_deref();
        if let Some(done) = splice::apply(&files, progress, options.verify)? {
            let mut stats = done.stats;
            check_trailer(&mut stats, done.hashed.as_ref(), &done.after_end)?;
            return Ok(stats);
        }
        // Nothing was written (nor counted): start again, from the delta's start.
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
    cancel: Option<&'a crate::options::Cancel>,
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
        cancel,
    }))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;
    use crate::format::params::DELTA_MAGIC;
    use crate::format::{OP_END, encode_copy, encode_literal};
    use crate::testdata::gen_bytes;

    #[test]
    fn progress_counts_the_bytes_of_the_result_written() {
        let basis = gen_bytes(1, 4 << 20);
        let literal = gen_bytes(2, 100_000);
        let mut delta = DELTA_MAGIC.to_be_bytes().to_vec();
        let mut expected = Vec::new();
        for (lit, (pos, len)) in [(&literal[..], (5, 3 << 20)), (&literal[..10], (7, 20))] {
            encode_literal(&mut delta, lit.len() as u64);
            delta.extend_from_slice(lit);
            expected.extend_from_slice(lit);
            encode_copy(&mut delta, pos, len);
            expected.extend_from_slice(&basis[pos as usize..(pos + len) as usize]);
        }
        delta.push(OP_END);
        let file = |data: &[u8]| {
            let mut f = tempfile::tempfile().unwrap();
            f.write_all(data).unwrap();
            f.seek(SeekFrom::Start(0)).unwrap();
            f
        };
        for verify in [false, true] {
            let counter = Arc::new(AtomicU64::new(0));
            let options = PatchOptions {
                progress: Some(Arc::clone(&counter)),
                verify,
                ..PatchOptions::default()
            };
            let mut out = Vec::new();
            patch(std::io::Cursor::new(&basis), &delta[..], &mut out, &options).unwrap();
            assert_eq!(out, expected);
            assert_eq!(counter.load(Ordering::Relaxed), expected.len() as u64);

            // between files (splice(2) on Linux)
            counter.store(0, Ordering::Relaxed);
            let out = tempfile::tempfile().unwrap();
            patch_file(&file(&basis), &file(&delta), &out, &options).unwrap();
            assert_eq!(counter.load(Ordering::Relaxed), expected.len() as u64);
        }
    }
}
