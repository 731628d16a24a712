//! rsync-style file synchronisation with rdiff's file formats: rsync-tool's
//! engine, with librsync 2.2 as the reference (feature `librsync`, on by
//! default).
//!
//! Syncing a file takes three steps: make a **signature** of the old copy,
//! make a **delta** of the new file against that signature, **patch** the old
//! copy with the delta. Each step streams from a [`Read`] to a [`Write`] with
//! bounded memory (a delta holds the signature in memory, nothing more), and
//! the files are byte-compatible with librsync 2.3's `rdiff`.
//!
//! The modules follow the pipeline: [`format`](mod@format) (magic numbers, headers, the
//! delta command stream), `hash` (each block sum once), `signature` (the
//! parallel signature pipelines), `delta` (index, scan, emit, the streaming
//! and parallel paths), `patch` (apply, window, splice), and `engine`, the
//! one place an [`Engine`] is chosen. No `unsafe` here: librsync's lives in
//! the `rsync-tool-librsync` crate.
//!
//! ```
//! use std::io::Cursor;
//! use rsync_tool_core::{delta, patch, signature, DeltaOptions, PatchOptions, SignatureOptions};
//!
//! let old = b"The quick brown fox jumps over the lazy dog.\n".repeat(200);
//! let mut new = old.clone();
//! new.splice(4000..4000, b"A new sentence in the middle. ".iter().copied());
//!
//! // On the machine with the old copy: its signature.
//! let mut sig = Vec::new();
//! signature(&old[..], &mut sig, &SignatureOptions::for_size(old.len() as u64))?;
//!
//! // On the machine with the new file: a delta against that signature.
//! let mut dlt = Vec::new();
//! delta(&sig[..], &new[..], &mut dlt, &DeltaOptions::default())?;
//! assert!(dlt.len() < new.len() / 4);
//!
//! // Back on the first machine: patch the old copy into the new one.
//! let mut synced = Vec::new();
//! patch(Cursor::new(&old), &dlt[..], &mut synced, &PatchOptions::default())?;
//! assert_eq!(synced, new);
//! # Ok::<(), rsync_tool_core::Error>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fs::File;
use std::io::{Read, Write};
use std::time::Instant;

mod delta;
mod engine;
mod error;
pub mod format;
mod hash;
mod io;
mod options;
mod patch;
mod signature;
mod stats;
#[cfg(any(test, feature = "testdata"))]
#[doc(hidden)]
pub mod testdata;
mod workers;

pub use error::{Error, Result, Role, Status};
pub use format::params;
pub use format::params::{SignatureParams, StrongHash, StrongLen, WeakSum};
pub use options::{
    BufferSizes, Cancel, DEFAULT_BUFFER_LEN, DEFAULT_OUTPUT_BUFFER_LEN, DeltaOptions, Engine,
    PatchOptions, SignatureOptions,
};
pub use patch::{patch, patch_file};
pub use stats::{DeltaStats, MatchStats, Op, Stats};

use engine::{Searcher, backend};
use format::{NewHasher, SignatureInput, TRAILER_LEN, Trailer};
use io::{Counted, Hashing};

/// Writes the signature of `basis`, read sequentially, to `out`.
pub fn signature<R: Read, W: Write>(
    basis: R,
    mut out: W,
    options: &SignatureOptions,
) -> Result<Stats> {
    let (params, _warning) = options.params()?;
    let mut basis = Counted {
        reader: basis,
        counter: options.progress.as_deref(),
        cancel: options.cancel.as_ref(),
    };
    let stats = backend(options.engine).signature(&params, &mut basis, &mut out, options)?;
    flush(&mut out)?;
    Ok(stats)
}

/// Writes the signature of the rest of `basis` (from its current offset to
/// its end when the work starts) to `out`. With the native engine, a
/// regular file is read by position on [`SignatureOptions::jobs`] threads,
/// each hashing the pieces it reads, and its offset is not moved; anything
/// else (a pipe, a device, a file that reports no size, as in `/proc`), and
/// any file with the librsync engine, is read in order as [`signature`]
/// reads it. The signature is the same either way. A regular file that
/// shrinks while it is read by position is a read error.
pub fn signature_file<W: Write>(
    basis: &File,
    mut out: W,
    options: &SignatureOptions,
) -> Result<Stats> {
    let (params, _warning) = options.params()?;
    let stats = backend(options.engine).signature_file(&params, basis, &mut out, options)?;
    flush(&mut out)?;
    Ok(stats)
}

/// A signature loaded into memory, ready to make deltas against.
pub struct Signature {
    params: SignatureParams,
    searcher: Box<dyn Searcher>,
    stats: Stats,
}

impl Signature {
    /// Reads and checks a whole signature file, for the engine `options` name.
    pub fn load<R: Read>(reader: R, options: &DeltaOptions) -> Result<Signature> {
        let started = Instant::now();
        let mut reader = Counted {
            reader,
            counter: None,
            cancel: options.cancel.as_ref(),
        };
        let params = format::read_signature_header(&mut reader)?;
        let mut input = SignatureInput::new(&mut reader as &mut dyn Read, &params);
        let (searcher, mut stats) = backend(options.engine).load(params, &mut input, options)?;
        stats.block_len = params.block_len as u64;
        stats.sig_blocks = input.body_len() / params.entry_len() as u64;
        stats.elapsed = started.elapsed();
        Ok(Signature {
            params,
            searcher,
            stats,
        })
    }

    /// The parameters in the signature's header.
    pub fn params(&self) -> &SignatureParams {
        &self.params
    }

    /// Statistics of loading the signature.
    pub fn load_stats(&self) -> &Stats {
        &self.stats
    }

    /// Writes the delta of `new`, read sequentially on one thread, against
    /// this signature to `out`, then (if [`DeltaOptions::trailer`]) the
    /// verification [`Trailer`], hashed in the same pass.
    pub fn delta<R: Read, W: Write>(
        &mut self,
        new: R,
        mut out: W,
        options: &DeltaOptions,
    ) -> Result<(Stats, MatchStats)> {
        let mut hasher = options.trailer.then(NewHasher::default);
        let new = Counted {
            reader: new,
            counter: None,
            cancel: options.cancel.as_ref(),
        };
        let mut reader = Hashing {
            reader: new,
            hasher: hasher.as_mut(),
        };
        let result = self.searcher.delta(&mut reader, &mut out, options)?;
        end_delta(&mut out, hasher, result)
    }

    /// Writes the delta of the rest of `new` (from its current offset to its
    /// end) against this signature to `out`, reading it by position on
    /// [`DeltaOptions::jobs`] threads. The delta is the same as
    /// [`Signature::delta`]'s for every number of threads, trailer included.
    pub fn delta_file<W: Write>(
        &mut self,
        new: &File,
        mut out: W,
        options: &DeltaOptions,
    ) -> Result<(Stats, MatchStats)> {
        let mut hasher = options.trailer.then(NewHasher::default);
        let result = self
            .searcher
            .delta_file(new, &mut out, options, hasher.as_mut())?;
        end_delta(&mut out, hasher, result)
    }
}

/// Reads the signature `sig` and writes the delta of `new` against it to `out`.
pub fn delta<S: Read, R: Read, W: Write>(
    sig: S,
    new: R,
    out: W,
    options: &DeltaOptions,
) -> Result<DeltaStats> {
    let mut signature = Signature::load(sig, options)?;
    let (delta, matching) = signature.delta(new, out, options)?;
    Ok(DeltaStats {
        loadsig: signature.stats,
        matching,
        delta,
    })
}

/// Flushes a delta up to its END command, then writes its trailer if NEW
/// was hashed. A reader that went away after END (rdiff from a pipe stops
/// reading there) is no error: the delta is whole without its trailer.
fn end_delta(
    out: &mut dyn Write,
    hasher: Option<NewHasher>,
    (mut stats, matching): (Stats, MatchStats),
) -> Result<(Stats, MatchStats)> {
    flush(out)?;
    if let Some(hasher) = hasher {
        let trailer = Trailer::of(&hasher).encode();
        match out.write_all(&trailer).and_then(|()| out.flush()) {
            Ok(()) => stats.out_bytes += TRAILER_LEN as u64,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(Error::io(Role::Output, "write failed", e)),
        }
    }
    Ok((stats, matching))
}

/// Flushes the output of a step.
pub(crate) fn flush(out: &mut dyn Write) -> Result<()> {
    out.flush()
        .map_err(|e| Error::io(Role::Output, "write failed", e))
}

#[cfg(test)]
mod trailer_tests {
    use super::*;
    use crate::format::{Command, DeltaParser};
    use crate::testdata::gen_bytes;
    use std::io::Cursor;

    /// A writer whose reader goes away after `limit` bytes.
    struct Closing {
        got: Vec<u8>,
        limit: usize,
    }

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.got.len() >= self.limit {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.limit - self.got.len());
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn engines() -> Vec<Engine> {
        #[cfg(feature = "librsync")]
        return vec![Engine::Native, Engine::Librsync];
        #[cfg(not(feature = "librsync"))]
        return vec![Engine::Native];
    }

    /// Every engine's delta, from a reader and from a file on 1 and 2
    /// threads, ends with the same trailer right after END (where the
    /// parser stops), and patch verifies it.
    #[test]
    fn deltas_of_every_path_end_with_a_verified_trailer() {
        let old = gen_bytes(5, 3 << 20);
        let mut new = old.clone();
        new[100_000..100_010].copy_from_slice(b"0123456789");
        new.splice(2 << 20..2 << 20, gen_bytes(6, 5000));
        let mut sig = Vec::new();
        signature(
            &old[..],
            &mut sig,
            &SignatureOptions::for_size(old.len() as u64),
        )
        .unwrap();
        let mut new_file = tempfile::tempfile().unwrap();
        new_file.write_all(&new).unwrap();
        for engine in engines() {
            for jobs in [1, 2] {
                let options = DeltaOptions {
                    engine,
                    jobs,
                    ..DeltaOptions::default()
                };
                let mut loaded = Signature::load(&sig[..], &options).unwrap();
                let (mut streamed, mut filed) = (Vec::new(), Vec::new());
                let (stats, _) = loaded.delta(&new[..], &mut streamed, &options).unwrap();
                assert_eq!(stats.out_bytes, streamed.len() as u64);
                std::io::Seek::rewind(&mut new_file).unwrap();
                loaded.delta_file(&new_file, &mut filed, &options).unwrap();
                assert!(streamed == filed, "{engine:?} {jobs}");
                let mut parser = DeltaParser::new(None);
                let mut at = 0;
                while !parser.is_done() {
                    let (n, cmd) = parser.advance(&filed[at..]).unwrap();
                    at += n;
                    assert!(cmd != Some(Command::End) || parser.is_done());
                }
                assert_eq!(at + format::TRAILER_LEN, filed.len());
                let expected = Trailer {
                    new_len: new.len() as u64,
                    hash: *blake3::hash(&new).as_bytes(),
                };
                assert_eq!(
                    Trailer::parse(&filed[at..]),
                    format::AfterEnd::Trailer(expected)
                );
                let mut out = Vec::new();
                let stats = patch(
                    Cursor::new(&old),
                    &filed[..],
                    &mut out,
                    &PatchOptions::default(),
                )
                .unwrap();
                assert!(stats.verified && out == new);
                let mut out = Vec::new();
                let mut wrong = old.clone();
                wrong[5] ^= 1;
                let e = patch(
                    Cursor::new(&wrong),
                    &filed[..],
                    &mut out,
                    &PatchOptions::default(),
                )
                .unwrap_err();
                assert_eq!((e.status(), e.role()), (Status::Corrupt, Some(Role::Basis)));
                let no_verify = PatchOptions {
                    verify: false,
                    ..PatchOptions::default()
                };
                let stats = patch(Cursor::new(&wrong), &filed[..], &mut out, &no_verify).unwrap();
                assert!(!stats.verified);
            }
        }
    }

    #[test]
    fn a_reader_gone_after_end_is_no_error_before_it_is() {
        let old = gen_bytes(7, 100_000);
        let new = gen_bytes(8, 120_000);
        let mut sig = Vec::new();
        signature(
            &old[..],
            &mut sig,
            &SignatureOptions::for_size(old.len() as u64),
        )
        .unwrap();
        let plain = DeltaOptions {
            trailer: false,
            ..DeltaOptions::default()
        };
        let mut body = Vec::new();
        delta(&sig[..], &new[..], &mut body, &plain).unwrap();
        let mut out = Closing {
            got: Vec::new(),
            limit: body.len(),
        };
        delta(&sig[..], &new[..], &mut out, &DeltaOptions::default()).unwrap();
        assert!(out.got == body);
        let mut out = Closing {
            got: Vec::new(),
            limit: body.len() - 1,
        };
        let e = delta(&sig[..], &new[..], &mut out, &DeltaOptions::default()).unwrap_err();
        assert!(e.is_broken_pipe());
    }
}

#[cfg(all(test, feature = "librsync"))]
mod tests {
    use super::*;
    use crate::testdata::gen_bytes;

    /// The native signature writes librsync's bytes for every kind, length
    /// and thread count: librsync is the reference.
    #[test]
    fn native_signatures_equal_librsyncs() {
        for (len, block_len) in [
            (0, 0),
            (1, 0),
            (256, 0),
            (257, 64),
            (70_000, 0),
            (100_003, 999),
        ] {
            let basis = gen_bytes(len as u64 + 7, len);
            for hash in [StrongHash::Blake2, StrongHash::Md4] {
                for rollsum in [WeakSum::RabinKarp, WeakSum::Rollsum] {
                    for strong_len in [StrongLen::Full, StrongLen::Minimum, StrongLen::Bytes(5)] {
                        let mut options = SignatureOptions {
                            block_len,
                            strong_len,
                            hash,
                            rollsum,
                            basis_size: Some(len as u64),
                            engine: Engine::Librsync,
                            ..SignatureOptions::default()
                        };
                        let mut reference = Vec::new();
                        signature(&basis[..], &mut reference, &options).unwrap();
                        options.engine = Engine::Native;
                        for jobs in [1, 2, 3] {
                            options.jobs = jobs;
                            let mut ours = Vec::new();
                            let stats = signature(&basis[..], &mut ours, &options).unwrap();
                            assert!(ours == reference, "{options:?}, {len} bytes");
                            assert_eq!(stats.out_bytes, ours.len() as u64);
                        }
                    }
                }
            }
        }
    }
}
