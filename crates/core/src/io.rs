//! Reading the inputs: the one read loop that retries on EINTR, the source a
//! step reads validated bytes from, and the one reader that counts what
//! passes through it.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result, Role};
use crate::format::NewHasher;
use crate::options::Cancel;

/// What a cancelled run's I/O fails with: [`Error::is_cancelled`] finds it.
#[derive(Debug)]
pub(crate) struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Cancelled {}

/// Fails (not with `Interrupted`, which [`retry`] retries) once `cancel` is set.
#[inline]
pub(crate) fn check_cancel(cancel: Option<&Cancel>) -> io::Result<()> {
    match cancel {
        Some(cancel) if cancel.is_cancelled() => Err(io::Error::other(Cancelled)),
        _ => Ok(()),
    }
}

/// Runs an I/O call again for as long as a signal interrupts it (EINTR):
/// every read of the crate goes through here.
#[inline]
pub(crate) fn retry<T>(mut call: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match call() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            done => return done,
        }
    }
}

/// One read of up to `buf.len()` bytes; a failure is blamed on `role`.
pub(crate) fn read<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8], role: Role) -> Result<usize> {
    retry(|| reader.read(buf)).map_err(|e| Error::io(role, "read failed", e))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full<R: Read + ?Sized>(
    reader: &mut R,
    buf: &mut [u8],
    role: Role,
) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match read(reader, &mut buf[got..], role)? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Fills `buf` from `file` at offset `pos` (retrying on EINTR); a file that
/// ends first "shrank while it was read".
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<()> {
    file.read_exact_at(buf, pos).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            io::Error::new(e.kind(), "the file shrank while it was read")
        } else {
            e
        }
    })
}

/// Reads `len` bytes of a file from offset `start` by position, as a
/// sequential reader: the file's offset is neither used nor moved.
pub(crate) struct FileAt<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
}

impl<'f> FileAt<'f> {
    pub(crate) fn new(file: &'f File, start: u64, len: u64) -> FileAt<'f> {
        FileAt {
            file,
            pos: start,
            end: start.saturating_add(len),
        }
    }
}

impl Read for FileAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.end.saturating_sub(self.pos)) as usize;
        if n == 0 {
            return Ok(0);
        }
        // A whole read: a file that ends early is reported, not cut short.
        read_exact_at(self.file, &mut buf[..n], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// Where a job reads its input from: a source of already-validated bytes.
pub(crate) trait Input {
    /// Reads up to `buf.len()` bytes; 0 means the end of the input.
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize>;
}

/// A reader that adds what it reads to a progress counter, if there is one,
/// and stops once its [`Cancel`] is set.
pub(crate) struct Counted<'a, R> {
    pub reader: R,
    pub counter: Option<&'a AtomicU64>,
    pub cancel: Option<&'a Cancel>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        check_cancel(self.cancel)?;
        let n = self.reader.read(buf)?;
        if let Some(counter) = self.counter {
            counter.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// A writer that stops once its [`Cancel`] is set.
pub(crate) struct Checked<'a, W> {
    pub inner: W,
    pub cancel: Option<&'a Cancel>,
}

impl<W: io::Write> io::Write for Checked<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        check_cancel(self.cancel)?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what it reads for a delta's trailer, if asked:
/// each read buffer as it arrives, with no copy.
pub(crate) struct Hashing<'h, R> {
    pub reader: R,
    pub hasher: Option<&'h mut NewHasher>,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        if let Some(hasher) = self.hasher.as_deref_mut() {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Cancel, DeltaOptions, PatchOptions, Signature, SignatureOptions};

    #[test]
    fn a_cancelled_run_stops_with_an_interrupted_error() {
        let data = vec![7u8; 1 << 20];
        let mut sig = Vec::new();
        crate::signature(&data[..], &mut sig, &SignatureOptions::default()).unwrap();
        let cancel = Cancel::new();
        let options = DeltaOptions {
            cancel: Some(cancel.clone()),
            ..DeltaOptions::default()
        };
        let mut signature = Signature::load(&sig[..], &options).unwrap();
        let mut delta = Vec::new();
        signature.delta(&data[..], &mut delta, &options).unwrap();
        cancel.cancel();
        let err = signature
            .delta(&data[..], &mut Vec::new(), &options)
            .unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert_eq!(err.status(), crate::Status::Io);
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &data).unwrap();
        let err = signature
            .delta_file(&file, &mut Vec::new(), &options)
            .unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        let options = PatchOptions {
            cancel: Some(cancel),
            ..PatchOptions::default()
        };
        let basis = std::io::Cursor::new(&data[..]);
        let err = crate::patch(basis, &delta[..], &mut Vec::new(), &options).unwrap_err();
        assert!(err.is_cancelled(), "{err}");
        assert!(!crate::Error::new(crate::Status::Io, "x").is_cancelled());
    }
}
