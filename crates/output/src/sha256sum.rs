//! SHA-256 of what a command reads or writes, and the line a
//! `--sha256-file` (or Python's `sha256_file=`) holds: one implementation
//! for the command line and the Python package.
//!
//! The digest is computed in the same pass as the work, by wrapping the
//! reader (or writer) the library is handed, or on a thread of its own
//! reading the file by position ([`sha256_of_file`]).

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest as _, Sha256};

/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;

/// A SHA-256 digest; shown (`Display`) in lower-case hex, as `sha256sum`
/// prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sha256Digest([u8; SHA256_LEN]);

impl Sha256Digest {
    fn of(hasher: Sha256) -> Sha256Digest {
        let mut bytes = [0; SHA256_LEN];
        bytes.copy_from_slice(&hasher.finalize());
        Sha256Digest(bytes)
    }

    /// The digest's bytes.
    pub fn as_bytes(&self) -> &[u8; SHA256_LEN] {
        &self.0
    }

    /// Reads 64 hex digits, in either case, as `sha256sum` prints them; the
    /// error says what is wrong.
    pub fn from_hex(text: &str) -> Result<Sha256Digest, String> {
        let malformed = || {
            format!(
                "expected 64 hex digits (as sha256sum prints), got {} characters",
                text.chars().count()
            )
        };
        if text.len() != 2 * SHA256_LEN || !text.is_ascii() {
            return Err(malformed());
        }
        let mut bytes = [0; SHA256_LEN];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| malformed())?;
            *byte = u8::from_str_radix(pair, 16)
                .map_err(|_| format!("'{pair}' is not a pair of hex digits"))?;
        }
        Ok(Sha256Digest(bytes))
    }
}

impl From<[u8; SHA256_LEN]> for Sha256Digest {
    fn from(bytes: [u8; SHA256_LEN]) -> Sha256Digest {
        Sha256Digest(bytes)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// One line of `sha256sum` output for `name`: `HEX  NAME`. A name holding a
/// backslash, newline or carriage return is escaped as coreutils does (a
/// leading `\` and `\\`, `\n`, `\r`), so that `sha256sum -c` reads it back.
pub fn sha256sum_line(digest: &Sha256Digest, name: &[u8]) -> Vec<u8> {
    let hex = digest.to_string();
    let escape = name.iter().any(|b| matches!(b, b'\\' | b'\n' | b'\r'));
    let mut line = Vec::with_capacity(name.len() + hex.len() + 4);
    if escape {
        line.push(b'\\');
    }
    line.extend_from_slice(hex.as_bytes());
    line.extend_from_slice(b"  ");
    for &b in name {
        match b {
            b'\\' if escape => line.extend_from_slice(b"\\\\"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            _ => line.push(b),
        }
    }
    line.push(b'\n');
    line
}

/// The SHA-256 of `len` bytes of `file` from `start` (fewer if it ends
/// first), read by position so that it can run beside other readers of the
/// file. `None` if `stop` was set before the end.
pub fn sha256_of_file(
    file: &File,
    start: u64,
    len: u64,
    stop: &AtomicBool,
) -> io::Result<Option<Sha256Digest>> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut pos = start;
    let end = start.saturating_add(len);
    while !stop.load(Ordering::Relaxed) {
        let want = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if want == 0 {
            return Ok(Some(Sha256Digest::of(hasher)));
        }
        match file.read_at(&mut buf[..want], pos) {
            Ok(0) => return Ok(Some(Sha256Digest::of(hasher))),
            Ok(n) => {
                hasher.update(&buf[..n]);
                pos += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// A reader that hashes what passes through it, when asked to.
pub struct HashingReader<R> {
    inner: R,
    hasher: Option<Sha256>,
}

impl<R: Read> HashingReader<R> {
    /// Hashes the bytes read from `inner` if `hash` is set.
    pub fn new(inner: R, hash: bool) -> HashingReader<R> {
        HashingReader {
            inner,
            hasher: hash.then(Sha256::new),
        }
    }

    /// Reads whatever the work left unread, then gives the digest of all the
    /// bytes, so that it covers the whole input.
    pub fn finish(mut self) -> io::Result<Option<Sha256Digest>> {
        if self.hasher.is_some() {
            io::copy(&mut self, &mut io::sink())?;
        }
        Ok(self.hasher.map(Sha256Digest::of))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        Ok(n)
    }
}

/// A writer that hashes what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> HashingWriter<W> {
    /// Hashes the bytes written to `inner`.
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// The digest of all the bytes written.
    pub fn finish(self) -> Sha256Digest {
        Sha256Digest::of(self.hasher)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = self.inner.write_vectored(bufs)?;
        let mut left = n;
        for buf in bufs {
            let take = left.min(buf.len());
            self.hasher.update(&buf[..take]);
            left -= take;
            if left == 0 {
                break;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf abc | sha256sum`
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn readers_and_writers_hash_what_passes() {
        let mut r = HashingReader::new(&b"abc"[..], true);
        let mut first = [0; 1];
        r.read_exact(&mut first).unwrap();
        assert_eq!(r.finish().unwrap().unwrap().to_string(), ABC);
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        assert_eq!(w.finish().to_string(), ABC);
        // A vectored write that takes only part of the slices hashes that
        // part.
        struct TwoAtATime(Vec<u8>);
        impl Write for TwoAtATime {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                let n = buf.len().min(2);
                self.0.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
                let joined: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
                self.write(&joined)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w = HashingWriter::new(TwoAtATime(Vec::new()));
        let slices = [io::IoSlice::new(b"a"), io::IoSlice::new(b"bc")];
        assert_eq!(w.write_vectored(&slices).unwrap(), 2);
        assert_eq!(w.write_vectored(&[io::IoSlice::new(b"c")]).unwrap(), 1);
        assert_eq!(w.inner.0, b"abc");
        assert_eq!(w.finish().to_string(), ABC);
    }

    #[test]
    fn files_hash_from_a_position_to_a_limit() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"--abc").unwrap();
        let go = AtomicBool::new(false);
        let digest = sha256_of_file(&file, 2, u64::MAX, &go).unwrap().unwrap();
        assert_eq!(digest.to_string(), ABC);
        file.write_all(b"def").unwrap();
        let digest = sha256_of_file(&file, 2, 3, &go).unwrap().unwrap();
        assert_eq!(digest.to_string(), ABC, "a limit stops at it");
        let stop = AtomicBool::new(true);
        assert!(sha256_of_file(&file, 2, u64::MAX, &stop).unwrap().is_none());
    }

    #[test]
    fn hex_reads_back_in_either_case() {
        let d = Sha256Digest::from_hex(ABC).unwrap();
        assert_eq!(d.to_string(), ABC);
        assert_eq!(Sha256Digest::from_hex(&ABC.to_uppercase()), Ok(d));
        assert_eq!(d.as_bytes()[0], 0xba);
        for bad in ["", &ABC[1..], &format!("{ABC}0"), &ABC.replace('b', "g")] {
            assert!(Sha256Digest::from_hex(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn lines_are_escaped_as_sha256sum_does() {
        let d = Sha256Digest::from_hex(ABC).unwrap();
        assert_eq!(
            sha256sum_line(&d, b"new.img"),
            format!("{ABC}  new.img\n").into_bytes()
        );
        assert_eq!(sha256sum_line(&d, b"-"), format!("{ABC}  -\n").into_bytes());
        assert_eq!(
            sha256sum_line(&d, b"a\\b\nc\rd"),
            format!("\\{ABC}  a\\\\b\\nc\\rd\n").into_bytes()
        );
    }
}
