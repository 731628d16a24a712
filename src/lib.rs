//! rsync-style file synchronisation over librsync, with rdiff's file formats.
//!
//! Syncing a file takes three steps: make a **signature** of the old copy,
//! make a **delta** of the new file against that signature, **patch** the old
//! copy with the delta. Each step streams from a [`Read`] to a [`Write`] with
//! bounded memory (a delta holds the signature in memory, nothing more), and
//! the files are byte-compatible with librsync 2.3's `rdiff`.
//!
//! ```
//! use std::io::Cursor;
//! use rsync_tool::{delta, patch, signature, DeltaOptions, PatchOptions, SignatureOptions};
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
//! # Ok::<(), rsync_tool::Error>(())
//! ```

use std::io::{Read, Seek, SeekFrom, Write};

mod apply;
mod engine;
mod error;
pub mod format;
mod matcher;
pub mod params;
mod stats;

pub use error::{Error, Result, Role, Status};
pub use params::{SignatureParams, StrongHash, StrongLen, WeakSum};
pub use stats::{DeltaStats, MatchStats, Op, Stats};

use engine::{Buffers, PlainInput};
use format::SignatureInput;

/// Default I/O buffer size of each step.
pub const DEFAULT_BUFFER_LEN: usize = 256 * 1024;

/// I/O buffer sizes (rdiff's `-I` and `-O`); any size of at least 1 byte works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferSizes {
    /// Bytes read from the input at a time.
    pub input: usize,
    /// Bytes written to the output at a time.
    pub output: usize,
}

impl Default for BufferSizes {
    fn default() -> Self {
        BufferSizes {
            input: DEFAULT_BUFFER_LEN,
            output: DEFAULT_BUFFER_LEN,
        }
    }
}

impl BufferSizes {
    fn engine(self) -> Buffers {
        Buffers {
            input: self.input.max(1),
            output: self.output.max(1),
        }
    }
}

/// How to make a signature. The default is rdiff 2.3's: RabinKarp + BLAKE2b,
/// full-length strong sums, block length for a basis of unknown size.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureOptions {
    /// Bytes per block; 0 picks rdiff's recommendation for `basis_size`.
    pub block_len: u32,
    /// Length of each block's strong sum.
    pub strong_len: StrongLen,
    /// The strong hash.
    pub hash: StrongHash,
    /// The weak rolling checksum.
    pub rollsum: WeakSum,
    /// The basis size when known (a regular file): it decides the default
    /// block length as in rdiff; `None` (a pipe) gives 2048.
    pub basis_size: Option<u64>,
    /// I/O buffer sizes.
    pub buffers: BufferSizes,
}

impl SignatureOptions {
    /// rdiff's defaults for a basis of `size` bytes.
    pub fn for_size(size: u64) -> SignatureOptions {
        SignatureOptions {
            basis_size: Some(size),
            ..SignatureOptions::default()
        }
    }

    /// The signature parameters these options give, and rdiff's warning when
    /// the strong sum is shorter than recommended.
    pub fn params(&self) -> Result<(SignatureParams, Option<String>)> {
        SignatureParams::choose(
            self.rollsum,
            self.hash,
            self.block_len,
            self.strong_len,
            self.basis_size,
        )
    }
}

/// Writes the signature of `basis` to `out`.
pub fn signature<R: Read, W: Write>(
    basis: R,
    mut out: W,
    options: &SignatureOptions,
) -> Result<Stats> {
    let (params, _warning) = options.params()?;
    let mut input = PlainInput {
        reader: basis,
        role: Role::Basis,
    };
    let stats = engine::signature(&params, &mut input, &mut out, options.buffers.engine())?;
    flush(&mut out)?;
    Ok(stats)
}

/// How to make a delta.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeltaOptions {
    /// I/O buffer sizes.
    pub buffers: BufferSizes,
}

/// A signature loaded into memory, ready to make deltas against.
pub struct Signature {
    params: SignatureParams,
    loaded: engine::LoadedSignature,
    stats: Stats,
}

impl Signature {
    /// Reads and checks a whole signature file.
    pub fn load<R: Read>(mut reader: R, buffers: BufferSizes) -> Result<Signature> {
        let params = format::read_signature_header(&mut reader)?;
        let mut input = SignatureInput::new(reader, &params);
        let (loaded, mut stats) = engine::load_signature(&mut input, buffers.engine())?;
        stats.block_len = params.block_len as u64;
        stats.sig_blocks = input.body_len() / params.entry_len() as u64;
        Ok(Signature {
            params,
            loaded,
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

    /// Writes the delta of `new` against this signature to `out`.
    pub fn delta<R: Read, W: Write>(
        &mut self,
        new: R,
        mut out: W,
        options: &DeltaOptions,
    ) -> Result<(Stats, MatchStats)> {
        let mut input = PlainInput {
            reader: new,
            role: Role::New,
        };
        let (stats, matching) = engine::delta(
            &mut self.loaded,
            &mut input,
            &mut out,
            options.buffers.engine(),
        )?;
        flush(&mut out)?;
        Ok((stats, matching))
    }
}

/// Reads the signature `sig` and writes the delta of `new` against it to `out`.
pub fn delta<S: Read, R: Read, W: Write>(
    sig: S,
    new: R,
    out: W,
    options: &DeltaOptions,
) -> Result<DeltaStats> {
    let mut signature = Signature::load(sig, options.buffers)?;
    let (delta, matching) = signature.delta(new, out, options)?;
    Ok(DeltaStats {
        loadsig: signature.stats,
        matching,
        delta,
    })
}

/// How to apply a delta.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchOptions {
    /// I/O buffer sizes.
    pub buffers: BufferSizes,
}

/// Applies `delta` to `basis` and writes the result to `out`. The basis must
/// be seekable: COPY commands read it by position.
pub fn patch<B: Read + Seek, D: Read, W: Write>(
    mut basis: B,
    delta: D,
    mut out: W,
    options: &PatchOptions,
) -> Result<Stats> {
    let basis_len = basis
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::io(Role::Basis, "basis is not seekable", e))?;
    let buffers = options.buffers.engine();
    apply::apply(
        &mut basis,
        basis_len,
        delta,
        &mut out,
        buffers.input,
        buffers.output,
    )
}

fn flush(out: &mut dyn Write) -> Result<()> {
    out.flush()
        .map_err(|e| Error::io(Role::Output, "write failed", e))
}
