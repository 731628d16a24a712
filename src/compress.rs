//! Compressed deltas: `delta -z/--gzip` and `--zstd` wrap the delta's
//! writer, `patch` recognises gzip and zstd by their magic numbers and reads
//! through a decompressing reader.
//!
//! The delta's bytes (the verification trailer included) stay the core's:
//! compression is a property of the file, as `gzip -c` of rdiff's delta is,
//! so it lives here, around the core's `Read`/`Write`.

use std::fs::File;
use std::io::{self, Chain, Cursor, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use flate2::Compression as GzLevel;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::error::{Error, ExitStatus, Result, plain_io_message};
use crate::fs::Input;

/// Decompressed bytes [`Decompressor::finish`] reads after the delta's END.
const AFTER_END_LIMIT: u64 = 1 << 20;

/// The first bytes of a gzip stream (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The first bytes of a zstd frame (RFC 8878), little-endian 0xFD2FB528.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Enough of a delta's start to tell a compressed one from a plain one.
const PEEK_LEN: usize = ZSTD_MAGIC.len();

/// A compression format of deltas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// gzip (deflate), as rdiff-backup's `.diff.gz` increments.
    Gzip,
    /// Zstandard.
    Zstd,
}

impl Format {
    /// The format whose magic number `start` begins with; `None` for a
    /// plain delta (or anything else, which the delta parser judges).
    pub fn detect(start: &[u8]) -> Option<Format> {
        if start.starts_with(&GZIP_MAGIC) {
            Some(Format::Gzip)
        } else if start.starts_with(&ZSTD_MAGIC) {
            Some(Format::Zstd)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Gzip => "gzip",
            Format::Zstd => "zstd",
        }
    }
}

/// How `delta` compresses its output, from `-z/--gzip[=LEVEL]` or `--zstd[=LEVEL]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// gzip at a level of 1 to 9.
    Gzip(u32),
    /// zstd at a level of 1 to 22, on `threads` worker threads.
    Zstd { level: i32, threads: u32 },
}

/// The delta's writer: plain, or a compressor in front of it.
pub enum Encoder<W: Write> {
    Plain(W),
    Gzip(GzEncoder<W>),
    Zstd(zstd::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// Wraps `out` in the compressor `compression` names (none for `None`).
    pub fn new(out: W, compression: Option<Compression>) -> io::Result<Encoder<W>> {
        Ok(match compression {
            None => Encoder::Plain(out),
            Some(Compression::Gzip(level)) => Encoder::Gzip(gzip_encoder(out, level)),
            Some(Compression::Zstd { level, threads }) => {
                let mut encoder = zstd::Encoder::new(out, level)?;
                if threads > 1 {
                    encoder.multithread(threads)?;
                }
                Encoder::Zstd(encoder)
            }
        })
    }

    /// Ends the compressed stream (its checksum and end mark) and flushes.
    pub fn finish(self) -> io::Result<W> {
        let mut out = match self {
            Encoder::Plain(out) => out,
            Encoder::Gzip(encoder) => encoder.finish()?,
            Encoder::Zstd(encoder) => encoder.finish()?,
        };
        out.flush()?;
        Ok(out)
    }
}

/// flate2 builds its 64 KiB state on the stack: kept out of
/// [`Encoder::new`], whose stack frame every plain delta pays for (a page
/// fault per 4 KiB).
#[inline(never)]
fn gzip_encoder<W: Write>(out: W, level: u32) -> GzEncoder<W> {
    GzEncoder::new(out, GzLevel::new(level))
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Encoder::Plain(out) => out.write(buf),
            Encoder::Gzip(encoder) => encoder.write(buf),
            Encoder::Zstd(encoder) => encoder.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Plain(out) => out.write_all(buf),
            Encoder::Gzip(encoder) => encoder.write_all(buf),
            Encoder::Zstd(encoder) => encoder.write_all(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Encoder::Plain(out) => out.flush(),
            // A flush in the middle would end a deflate block or a zstd
            // job early and cost compression; `finish` flushes everything.
            Encoder::Gzip(_) | Encoder::Zstd(_) => Ok(()),
        }
    }
}

/// A compressed delta's bytes, in order: those peeked from a pipe, then
/// the rest of it.
pub type Source<'a> = Chain<Cursor<Vec<u8>>, &'a File>;

/// Reads a compressed delta's content, keeping apart why a read failed: the
/// file itself (an I/O error) or the compressed data (truncated, corrupt).
pub struct Decompressor<'a> {
    format: Format,
    name: String,
    inner: Box<dyn Read + 'a>,
    source_failed: Arc<AtomicBool>,
    failure: Option<Error>,
}

/// The compressed source, noting when reading the file itself fails.
struct Watched<'a> {
    source: Box<dyn Read + 'a>,
    failed: Arc<AtomicBool>,
}

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.source.read(buf);
        if result
            .as_ref()
            .is_err_and(|e| e.kind() != io::ErrorKind::Interrupted)
        {
            self.failed.store(true, Ordering::Relaxed);
        }
        result
    }
}

impl<'a> Decompressor<'a> {
    fn new(format: Format, name: &str, source: Box<dyn Read + 'a>) -> io::Result<Decompressor<'a>> {
        let source_failed = Arc::new(AtomicBool::new(false));
        let watched = Watched {
            source,
            failed: Arc::clone(&source_failed),
        };
        let inner: Box<dyn Read + 'a> = match format {
            Format::Gzip => Box::new(MultiGzDecoder::new(watched)),
            Format::Zstd => Box::new(zstd::Decoder::new(watched)?),
        };
        Ok(Decompressor {
            format,
            name: name.to_string(),
            inner,
            source_failed,
            failure: None,
        })
    }

    /// The compressed data's own failure, if a read failed because of it:
    /// this, not the delta parser's view of it, is the error to report.
    pub fn failure(&mut self) -> Option<Error> {
        self.failure.take()
    }

    /// Reads the compressed stream to its end, so that its checksum and end
    /// are checked even where the delta's END came before them; past
    /// [`AFTER_END_LIMIT`] decompressed bytes the rest is left unread, as
    /// rdiff leaves whatever follows END (so a small file that inflates to
    /// gigabytes of padding costs no more).
    pub fn finish(&mut self) -> Result<()> {
        io::copy(
            &mut Read::take(&mut *self, AFTER_END_LIMIT),
            &mut io::sink(),
        )
        .map(drop)
        .map_err(|e| {
            self.failure()
                .unwrap_or_else(|| Error::io(format_args!("{}: read failed", self.name), e))
        })
    }

    fn judge(&self, err: &io::Error) -> Option<Error> {
        if self.source_failed.load(Ordering::Relaxed) {
            // the file's own error: the core reports it (status 100)
            return None;
        }
        let format = self.format.name();
        Some(if err.kind() == io::ErrorKind::UnexpectedEof {
            Error::new(
                ExitStatus::InputEnded,
                format!(
                    "{}: {format} data ends early: the delta is truncated",
                    self.name
                ),
            )
        } else {
            let mut detail = plain_io_message(err);
            if let Some(first) = detail.get_mut(..1) {
                first.make_ascii_lowercase();
            }
            Error::new(
                ExitStatus::Corrupt,
                format!(
                    "{}: the delta's {format} data is corrupt ({detail})",
                    self.name
                ),
            )
        })
    }
}

impl Read for Decompressor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let result = self.inner.read(buf);
        if let Err(err) = &result
            && err.kind() != io::ErrorKind::Interrupted
            && self.failure.is_none()
        {
            self.failure = self.judge(err);
        }
        result
    }
}

/// A delta opened for patching, by what its first bytes say.
pub enum Delta<'a> {
    /// A plain delta in a regular file, its position unchanged: patched
    /// from the file as before (with `splice(2)` where it can).
    File,
    /// A plain delta from a pipe: the peeked bytes, then the rest.
    Replayed(Source<'a>),
    /// A gzip or zstd delta, through its decompressor.
    Compressed(Decompressor<'a>),
}

/// Opens the delta `input` for patching. A regular file is peeked by
/// position; from a pipe the peeked bytes are replayed in front of the rest.
pub fn open_delta(input: &Input) -> Result<Delta<'_>> {
    let cannot_read = |e| Error::io(format_args!("{}: cannot read", input.name), e);
    let mut start = Vec::with_capacity(PEEK_LEN);
    let format = if input.size().is_some() {
        let offset = (&input.file).stream_position().map_err(cannot_read)?;
        let mut buf = [0; PEEK_LEN];
        let mut got = 0;
        while got < PEEK_LEN {
            match input.file.read_at(&mut buf[got..], offset + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(cannot_read(e)),
            }
        }
        // the file is read from its position again: nothing to replay
        match Format::detect(&buf[..got]) {
            None => return Ok(Delta::File),
            format => format,
        }
    } else {
        (&input.file)
            .take(PEEK_LEN as u64)
            .read_to_end(&mut start)
            .map_err(cannot_read)?;
        Format::detect(&start)
    };
    let source = Cursor::new(start).chain(&input.file);
    match format {
        None => Ok(Delta::Replayed(source)),
        Some(format) => Decompressor::new(format, &input.name, Box::new(source))
            .map(Delta::Compressed)
            .map_err(cannot_read),
    }
}
