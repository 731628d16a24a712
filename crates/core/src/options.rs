//! The options of each step, and the engine that does the work.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::Result;
use crate::format::params::{SignatureParams, StrongHash, StrongLen, WeakSum};

/// Default I/O buffer size of each step.
pub const DEFAULT_BUFFER_LEN: usize = 256 * 1024;
/// Default output buffer size: patch writes fastest in 1 MiB pieces (0.70x
/// rdiff's time against 0.78x with 256 KiB, measured on a 256 MiB patch).
pub const DEFAULT_OUTPUT_BUFFER_LEN: usize = 1024 * 1024;

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
            output: DEFAULT_OUTPUT_BUFFER_LEN,
        }
    }
}

impl BufferSizes {
    /// The sizes with each raised to at least 1 byte.
    pub(crate) fn at_least_one(self) -> BufferSizes {
        BufferSizes {
            input: self.input.max(1),
            output: self.output.max(1),
        }
    }
}

/// A flag a caller sets (from another thread, a signal handler's flag) to
/// stop a run early: the run checks it once per buffer read or written and
/// then fails with an I/O error "interrupted" ([`Error::is_cancelled`](crate::Error::is_cancelled)).
/// Clones share the flag; two are equal when they share it.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag not set yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Sets the flag: the runs that check it stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl From<Arc<AtomicBool>> for Cancel {
    fn from(flag: Arc<AtomicBool>) -> Cancel {
        Cancel(flag)
    }
}

impl PartialEq for Cancel {
    fn eq(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Cancel {}

/// How to make a signature. The default is rdiff 2.3's: RabinKarp + BLAKE2b,
/// full-length strong sums, block length for a basis of unknown size.
#[derive(Clone, Debug, Default)]
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
    /// Worker threads; 0 means one per core. The output is the same for any.
    pub jobs: usize,
    /// The engine that computes the block sums.
    pub engine: Engine,
    /// Counts the bytes of the basis read so far, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Stops the run early when set.
    pub cancel: Option<Cancel>,
}

/// Which implementation does the work. Both write the same bytes; the
/// default is faster, librsync is the reference it is tested against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// rsync-tool's own: parallel, SIMD hashing, prefiltered block search.
    #[default]
    Native,
    /// librsync 2.2's jobs, one thread.
    #[cfg(feature = "librsync")]
    Librsync,
}

/// The number of worker threads `jobs` asks for: 0 means one per core.
pub(crate) fn threads(jobs: usize) -> usize {
    if jobs > 0 {
        jobs
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
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

/// How to make a delta.
#[derive(Clone, Debug)]
pub struct DeltaOptions {
    /// I/O buffer sizes.
    pub buffers: BufferSizes,
    /// Worker threads for [`Signature::delta_file`](crate::Signature::delta_file); 0 means one per core.
    /// The delta is the same for any number.
    pub jobs: usize,
    /// The engine that searches for matching blocks.
    pub engine: Engine,
    /// Counts the bytes of NEW read so far, for a progress display, where the
    /// library reads NEW itself ([`Signature::delta_file`](crate::Signature::delta_file)).
    pub progress: Option<Arc<AtomicU64>>,
    /// Write the verification [`Trailer`](crate::format::Trailer) (NEW's
    /// length and BLAKE3) after the delta's END; rdiff ignores it. Off, the
    /// delta is byte for byte what rdiff would write. Default: on.
    pub trailer: bool,
    /// Stops the run early when set.
    pub cancel: Option<Cancel>,
}

impl Default for DeltaOptions {
    fn default() -> Self {
        DeltaOptions {
            buffers: BufferSizes::default(),
            jobs: 0,
            engine: Engine::default(),
            progress: None,
            trailer: true,
            cancel: None,
        }
    }
}

/// How to apply a delta.
#[derive(Clone, Debug)]
pub struct PatchOptions {
    /// I/O buffer sizes.
    pub buffers: BufferSizes,
    /// Counts the bytes of the result written so far, for a progress
    /// display (a delta's commands tell the total: the sum of the LITERAL
    /// and COPY lengths). It moves during a long COPY too.
    pub progress: Option<Arc<AtomicU64>>,
    /// Check the result against the delta's
    /// [`Trailer`](crate::format::Trailer) when it has one: a wrong length
    /// or hash is [`Status::Corrupt`](crate::Status::Corrupt). Default: on.
    pub verify: bool,
    /// Stops the run early when set.
    pub cancel: Option<Cancel>,
}

impl Default for PatchOptions {
    fn default() -> Self {
        PatchOptions {
            buffers: BufferSizes::default(),
            progress: None,
            verify: true,
            cancel: None,
        }
    }
}
