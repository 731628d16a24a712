//! Applying a delta: every command checked by [`DeltaParser`], literal data
//! written straight from the read buffer, COPY read from the basis by
//! position.

use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::window::{SHORT_COPY, Window};
use crate::error::{Error, Result, Role};
use crate::format::{Command, DeltaParser, NewHasher, TRAILER_LEN, TRAILER_MAGIC, copy_past_end};
use crate::io;
use crate::stats::{Op, Stats};

/// LITERAL data at least this long is copied from the delta to the output
/// directly, not through the read buffer.
const DIRECT_COPY_MIN: u64 = 16 * 1024;

/// A reader io::copy cannot see through, so that it copies through the
/// output's buffer rather than with a system call per piece. It remembers
/// whether a read failed, so that a failed copy blames the right file.
struct Buffered<R> {
    inner: R,
    failed: bool,
}

impl<R> Buffered<R> {
    fn new(inner: R) -> Buffered<R> {
        Buffered {
            inner,
            failed: false,
        }
    }

    /// The error of a copy from this reader: the reader's, or the output's.
    fn blame(&self, role: Role, e: std::io::Error) -> Error {
        if self.failed {
            Error::io(role, "read failed", e)
        } else {
            Error::io(Role::Output, "write failed", e)
        }
    }
}

impl<R: Read> Read for Buffered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let result = self.inner.read(buf);
        self.failed |= result
            .as_ref()
            .is_err_and(|e| e.kind() != std::io::ErrorKind::Interrupted);
        result
    }
}

/// A writer that hashes what passes through it, and counts it for a
/// progress display, if asked. It sits under the output buffer, so the count
/// is of bytes written out, and moves during a long COPY. (It also keeps
/// io::copy from copying in the kernel past it: between files, patch_file
/// splices instead.)
struct HashingWriter<'h, W> {
    inner: W,
    hasher: Option<&'h mut NewHasher>,
    written: Option<&'h AtomicU64>,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(hasher) = self.hasher.as_deref_mut() {
            hasher.update(&buf[..n]);
        }
        if let Some(written) = self.written {
            written.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the result of applying `delta` to `basis` (of `basis_len` bytes).
/// With a `hasher`, the result is hashed as it is written, and the bytes
/// after END (up to a trailer's length) are returned for checking; bytes
/// written are added to `written`, if given.
pub(crate) fn apply<B: Read + Seek, D: Read, W: Write>(
    basis: &mut B,
    basis_len: u64,
    mut delta: D,
    out: W,
    (in_len, out_len): (usize, usize),
    hasher: Option<&mut NewHasher>,
    written: Option<&AtomicU64>,
) -> Result<(Stats, Vec<u8>)> {
    let started = Instant::now();
    let mut stats = Stats::new(Op::Patch);
    let mut parser = DeltaParser::new(None);
    let verifying = hasher.is_some();
    let mut after_end = Vec::new();
    let out = HashingWriter {
        inner: out,
        hasher,
        written,
    };
    let mut out = BufWriter::with_capacity(out_len, out);
    let mut inbuf = vec![0u8; in_len];
    let mut window = Window::default();
    let mut header_len = 0u64;
    while !parser.is_done() {
        let rest = parser.literal_remaining();
        if rest >= DIRECT_COPY_MIN {
            // The rest of a long LITERAL goes from the delta to the output
            // without passing through the read buffer.
            let mut source = Buffered::new(&mut delta);
            let copied = std::io::copy(&mut Read::take(&mut source, rest), &mut out)
                .map_err(|e| source.blame(Role::Delta, e))?;
            parser.skip_literal(copied);
            stats.in_bytes += copied;
            stats.out_bytes += copied;
            if copied < rest {
                parser.finish()?;
            }
            continue;
        }
        let got = io::read(&mut delta, &mut inbuf, Role::Delta)?;
        if got == 0 {
            parser.finish()?;
            break;
        }
        let mut data = &inbuf[..got];
        while !data.is_empty() && !parser.is_done() {
            let literal = parser.in_literal_data();
            let magic = parser.in_magic();
            let (n, command) = parser.advance(data)?;
            stats.in_bytes += n as u64;
            if literal {
                write(&mut out, &data[..n])?;
                stats.out_bytes += n as u64;
            } else if !magic {
                header_len += n as u64;
            }
            data = &data[n..];
            if let Some(command) = command {
                count_command(&mut stats, command, &mut header_len);
            }
            if let Some(Command::Copy { pos, len }) = command {
                check_copy(basis, basis_len, pos, len)?;
                if len < SHORT_COPY {
                    let piece = window.get(pos, len as usize, |buf, at| {
                        basis.seek(SeekFrom::Start(at))?;
                        basis.read(buf)
                    })?;
                    if (piece.len() as u64) < len {
                        return Err(basis_ended());
                    }
                    write(&mut out, piece)?;
                } else {
                    copy(basis, pos, len, &mut out)?;
                }
                stats.out_bytes += len;
            }
        }
        if parser.is_done() && verifying {
            let trailer = &data[..data.len().min(TRAILER_LEN)];
            after_end.extend_from_slice(trailer);
            stats.in_bytes += trailer.len() as u64;
        }
    }
    out.flush()
        .map_err(|e| Error::io(Role::Output, "write failed", e))?;
    // A trailer may follow END: read up to its length (rdiff stops at END),
    // and no further once the bytes read cannot begin one.
    let magic = TRAILER_MAGIC.to_be_bytes();
    while verifying
        && after_end.len() < TRAILER_LEN
        && magic.starts_with(&after_end[..after_end.len().min(magic.len())])
    {
        let start = after_end.len();
        after_end.resize(TRAILER_LEN, 0);
        let got = io::read(&mut delta, &mut after_end[start..], Role::Delta)?;
        after_end.truncate(start + got);
        stats.in_bytes += got as u64;
        if got == 0 {
            break;
        }
    }
    stats.elapsed = started.elapsed();
    Ok((stats, after_end))
}

/// Adds a command read to the statistics; `header_len` is the length of its
/// header, reset for the next.
pub(crate) fn count_command(stats: &mut Stats, command: Command, header_len: &mut u64) {
    match command {
        Command::Literal { len } => {
            stats.lit_cmds += 1;
            stats.lit_bytes += len;
            stats.lit_cmdbytes += *header_len;
        }
        Command::Copy { len, .. } => {
            stats.copy_cmds += 1;
            stats.copy_bytes += len;
            stats.copy_cmdbytes += *header_len;
        }
        Command::End => return,
    }
    *header_len = 0;
}

fn write(out: &mut impl Write, data: &[u8]) -> Result<()> {
    out.write_all(data)
        .map_err(|e| Error::io(Role::Output, "write failed", e))
}

/// A COPY must lie inside the basis. Outside it, the error is rdiff's: the
/// seek's own error (100) where the file system cannot seek that far, else
/// "ended early" (103).
pub(crate) fn check_copy<B: Seek>(basis: &mut B, basis_len: u64, pos: u64, len: u64) -> Result<()> {
    if pos.checked_add(len).is_some_and(|end| end <= basis_len) {
        return Ok(());
    }
    basis.seek(SeekFrom::Start(pos)).map_err(|e| {
        Error::io(
            Role::Delta,
            &format!("COPY command at offset {pos}: cannot seek the basis there"),
            e,
        )
    })?;
    Err(copy_past_end(pos, len, basis_len))
}

/// Copies `len` bytes of the basis from `pos`; the caller has checked that
/// they lie inside it, so a short copy means the basis shrank under us.
fn copy<B: Read + Seek>(basis: &mut B, pos: u64, len: u64, out: &mut impl Write) -> Result<()> {
    basis
        .seek(SeekFrom::Start(pos))
        .map_err(|e| Error::io(Role::Basis, "seek failed", e))?;
    let mut source = Buffered::new(basis);
    let copied = std::io::copy(&mut Read::take(&mut source, len), out)
        .map_err(|e| source.blame(Role::Basis, e))?;
    if copied < len {
        return Err(basis_ended());
    }
    Ok(())
}

pub(crate) fn basis_ended() -> Error {
    Error::new(
        crate::Status::InputEnded,
        "the basis ended early: it changed while being read",
    )
    .about(Role::Basis)
}
