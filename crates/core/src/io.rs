//! Reading the inputs: the one read loop that retries on EINTR, the source a
//! step reads validated bytes from, and the one reader that counts what
//! passes through it.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result, Role};
use crate::format::NewHasher;

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

/// Where a job reads its input from: a source of already-validated bytes.
pub(crate) trait Input {
    /// Reads up to `buf.len()` bytes; 0 means the end of the input.
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize>;
}

/// A reader that adds what it reads to a progress counter, if there is one.
pub(crate) struct Counted<'a, R> {
    pub reader: R,
    pub counter: Option<&'a AtomicU64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        if let Some(counter) = self.counter {
            counter.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
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
