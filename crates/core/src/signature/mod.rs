//! The native signature engine: fast, parallel, streaming generation of
//! librsync / `rdiff` signature files.
//!
//! The output is byte-identical to `rdiff signature` (librsync 2.3.2) for all
//! four signature kinds (rollsum or RabinKarp weak sum, MD4 or BLAKE2b strong
//! sum).  Format: the 12-byte header ([`SignatureParams::header`]), then for
//! each block of the input (the last one may be short) the weak sum as a
//! big-endian `u32` followed by the first `strong_len` bytes of the strong sum.
//!
//! Design: from a stream, the calling thread reads the input into recycled
//! chunk buffers (each a whole number of blocks, filled completely before
//! hashing, so short reads from pipes are fine) and writes results in order;
//! `jobs - 1` worker threads hash the chunks, and the calling thread those
//! the workers have no room for ([`chunked`]).  From a regular file, every
//! thread reads the chunks it hashes by position ([`positional`]): the
//! kernel's copy is shared out too, and each chunk is hashed while it is in
//! the cache of the core that copied it (256 MiB, 2 cores: 86 ms against
//! 97-139 ms reading on one thread, 15 runs each).  A chunk is hashed in batches
//! of ~256 KiB: first the weak sums of the batch's blocks (one sequential
//! pass, which also pulls the batch into cache), then their strong sums
//! (BLAKE2b: all blocks of the batch at once with `blake2b_simd::many`, 4-way
//! AVX2; MD4: 4 blocks at a time in interleaved lanes).  Doing the sequential
//! weak pass first halves the BLAKE2b time on file input here: the 4-way
//! strided BLAKE2b reads miss the cache badly otherwise.  RabinKarp runs in
//! 32 interleaved lanes (the plain Horner loop is one serial multiply-add
//! chain per byte).
//!
//! Memory is bounded by about `(jobs + 2) x chunk` where a chunk is ~512 KiB
//! (at most 65,536 blocks).  Block lengths above 4 MiB are processed
//! incrementally in 1 MiB pieces, blocks dealt round-robin to the workers
//! ([`large`]), so memory stays bounded whatever the block length; buffer
//! pages become resident only as the input fills them.

mod chunked;
mod large;
pub(crate) mod positional;

use std::io::{self, Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use crate::error::{Error, Result, Role};
use crate::format::params::{SignatureParams, StrongHash, WeakSum};
use crate::hash::{MAX_STRONG, blake2, md4, rabinkarp, rollsum};
use crate::stats::{Op, Stats};

/// Writes the signature of `basis` with `jobs` threads and returns rdiff's
/// statistics for it.
pub(crate) fn signature<R: Read, W: Write>(
    params: &SignatureParams,
    basis: R,
    out: W,
    jobs: usize,
) -> Result<Stats> {
    let started = Instant::now();
    let read = write_signature(basis, out, params, jobs)?;
    Ok(stats(params, read, started))
}

/// rdiff's statistics of a signature of `read` bytes begun at `started`.
fn stats(params: &SignatureParams, read: u64, started: Instant) -> Stats {
    let mut stats = Stats::new(Op::Signature);
    stats.sig_blocks = read.div_ceil(params.block_len as u64);
    stats.block_len = params.block_len as u64;
    stats.in_bytes = read;
    stats.out_bytes = params.signature_len(read);
    stats.elapsed = started.elapsed();
    stats
}

/// Writes the 12-byte header then one entry per block of everything `basis`
/// yields, streaming: memory is bounded by about `(jobs + 2)` chunks of ~512 KiB,
/// never the whole input.  Returns the number of input bytes read.
/// Up to `jobs` threads in all (0: one per core; at most
/// [`MAX_WORKERS`](crate::workers::MAX_WORKERS)): this one and workers
/// started as chunks come, only as many as the system allows (none: the
/// calling thread hashes); the output bytes are identical for every `jobs`.
/// Inputs smaller than one chunk, and `jobs == 1`, are hashed on the calling
/// thread without spawning workers.
fn write_signature<R: Read, W: Write>(
    mut basis: R,
    mut out: W,
    params: &SignatureParams,
    jobs: usize,
) -> Result<u64> {
    let cfg = begin(params, &mut out)?;
    let total = match chunk_len(&cfg) {
        Some(chunk_len) => chunked::run(&mut basis, &mut out, &cfg, jobs, chunk_len)?,
        None => large::run(&mut basis, &mut out, &cfg, workers(jobs))?,
    };
    out.flush().map_err(write_failed)?;
    Ok(total)
}

/// Writes the signature of the `len` bytes of `file` from offset `start`,
/// read by position on up to `jobs` threads (0: one per core), each hashing
/// the chunks it reads ([`positional`]); blocks longer than `LARGE_BLOCK` are
/// read in order as from a stream. The file's offset is neither used nor
/// moved. A file that ends before `start + len` is a read error; bytes
/// after it are not read. The output is [`signature`]'s for the same bytes.
pub(crate) fn signature_file<W: Write>(
    params: &SignatureParams,
    src: &positional::Source<'_>,
    mut out: W,
    jobs: usize,
) -> Result<Stats> {
    let started = Instant::now();
    let cfg = begin(params, &mut out)?;
    let read = match chunk_len(&cfg) {
        Some(chunk_len) => {
            let chunks = usize::try_from(src.len.div_ceil(chunk_len as u64)).unwrap_or(usize::MAX);
            let threads = if chunks > 1 { workers(jobs) } else { 1 };
            positional::run(src, &mut out, &cfg, threads, chunk_len)?
        }
        None => {
            let mut reader = crate::io::Counted {
                reader: crate::io::FileAt::new(src.file, src.start, src.len),
                counter: src.progress,
                cancel: src.cancel,
            };
            large::run(&mut reader, &mut out, &cfg, workers(jobs))?
        }
    };
    out.flush().map_err(write_failed)?;
    Ok(stats(params, read, started))
}

/// Checks `params` and writes the signature's header.
fn begin<W: Write>(params: &SignatureParams, out: &mut W) -> Result<Cfg> {
    let SignatureParams {
        block_len,
        strong_len,
        weak,
        strong,
    } = *params;
    if block_len == 0 {
        return Err(write_failed(io::Error::new(
            io::ErrorKind::InvalidInput,
            "block length must be at least 1",
        )));
    }
    if strong_len == 0 || strong_len as usize > strong.digest_len() as usize {
        return Err(write_failed(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "strong sum length {strong_len} out of range 1..={}",
                strong.digest_len() as usize
            ),
        )));
    }
    out.write_all(&params.header()).map_err(write_failed)?;
    Ok(Cfg::new(
        block_len as usize,
        strong_len as usize,
        weak,
        strong,
    ))
}

/// The chunk length for `cfg`'s blocks: whole blocks, about
/// [`CHUNK_TARGET`]; `None` for blocks hashed piece by piece ([`large`]).
fn chunk_len(cfg: &Cfg) -> Option<usize> {
    (cfg.block_len <= LARGE_BLOCK)
        .then(|| (CHUNK_TARGET / cfg.block_len).clamp(1, MAX_CHUNK_BLOCKS) * cfg.block_len)
}

// Tuning constants.

/// Target size of a chunk handed to a worker: small enough that the chunk
/// the kernel copies into stays in cache for the worker that hashes it (a
/// recycled buffer that fits L2 costs no trip to memory each way). On a
/// 256 MiB basis, -j 2, 9 alternating runs on a shared 2-core machine:
/// 3 MiB 637 ms median (175 ms CPU), 1 MiB 439 (162), 512 KiB 257 (157),
/// 256 KiB 224 (164); peak RSS falls with it.
const CHUNK_TARGET: usize = 512 << 10;
/// The first read of an input: a small input needs no chunk-sized buffer.
const FIRST_READ: usize = 16 << 10;
/// Most blocks in one chunk (bounds the per-chunk output for tiny blocks).
const MAX_CHUNK_BLOCKS: usize = 1 << 16;
/// Blocks longer than this are hashed incrementally, piece by piece.
const LARGE_BLOCK: usize = 4 << 20;
/// Piece size in the large-block mode.
const PIECE: usize = 1 << 20;
/// Bytes per batch of blocks hashed together (kept cache-resident).
const BATCH_BYTES: usize = 256 << 10;
/// Most blocks per batch.
const MAX_BATCH: usize = 64;

// Per-chunk hashing.

struct Cfg {
    block_len: usize,
    strong_len: usize,
    weak: WeakSum,
    strong: StrongHash,
    /// M^block_len, for RabinKarp of full blocks.
    rk_full_pow: u32,
    /// Blocks per hashing batch.
    batch: usize,
}

impl Cfg {
    fn new(block_len: usize, strong_len: usize, weak: WeakSum, strong: StrongHash) -> Self {
        Cfg {
            block_len,
            strong_len,
            weak,
            strong,
            rk_full_pow: rabinkarp::pow(block_len as u64),
            batch: (BATCH_BYTES / block_len).clamp(4, MAX_BATCH),
        }
    }

    fn entry_len(&self) -> usize {
        4 + self.strong_len
    }

    #[inline]
    fn weak_of(&self, block: &[u8]) -> u32 {
        match self.weak {
            WeakSum::RabinKarp => {
                let pow = if block.len() == self.block_len {
                    self.rk_full_pow
                } else {
                    rabinkarp::pow(block.len() as u64)
                };
                rabinkarp::update(rabinkarp::SEED, block, pow)
            }
            WeakSum::Rollsum => rollsum::sum(block),
        }
    }
}

/// Appends the entries of all blocks of `data` (whole blocks except maybe the last).
fn sign_chunk(data: &[u8], cfg: &Cfg, out: &mut Vec<u8>) {
    let nblocks = data.len().div_ceil(cfg.block_len);
    out.reserve(nblocks * cfg.entry_len());
    let sl = cfg.strong_len;
    let batch_bytes = cfg.batch * cfg.block_len;
    match cfg.strong {
        StrongHash::Blake2 => {
            let mut blocks: Vec<&[u8]> = Vec::with_capacity(cfg.batch);
            let mut weak = Vec::with_capacity(cfg.batch);
            let mut strong = vec![[0u8; MAX_STRONG]; cfg.batch];
            for batch in data.chunks(batch_bytes) {
                // Weak sums first: one sequential pass that also pulls the batch into
                // cache for the strided, several-blocks-at-once BLAKE2b pass.
                weak.clear();
                weak.extend(batch.chunks(cfg.block_len).map(|b| cfg.weak_of(b)));
                blocks.clear();
                blocks.extend(batch.chunks(cfg.block_len));
                blake2::hash_many(&blocks, &mut strong);
                for (w, s) in weak.iter().zip(&strong) {
                    out.extend_from_slice(&w.to_be_bytes());
                    out.extend_from_slice(&s[..sl]);
                }
            }
        }
        StrongHash::Md4 => {
            // Groups of md4::LANES full blocks are hashed together; the rest one by one.
            let group = md4::LANES * cfg.block_len;
            let mut groups = data.chunks_exact(group);
            for g in &mut groups {
                let mut msgs: [&[u8]; md4::LANES] = [&[]; md4::LANES];
                let mut weak = [0u32; md4::LANES];
                for (l, block) in g.chunks_exact(cfg.block_len).enumerate() {
                    msgs[l] = block;
                    weak[l] = cfg.weak_of(block);
                }
                let sums = md4::md4_lanes(&msgs);
                for (w, sum) in weak.iter().zip(&sums) {
                    out.extend_from_slice(&w.to_be_bytes());
                    out.extend_from_slice(&sum[..sl]);
                }
            }
            for block in groups.remainder().chunks(cfg.block_len) {
                out.extend_from_slice(&cfg.weak_of(block).to_be_bytes());
                out.extend_from_slice(&md4::md4(block)[..sl]);
            }
        }
    }
}

/// Reads into `buf[..n]` until `n == want` or end of input and returns `n`.
/// A buffer too small for `want` is replaced by a zeroed one from the
/// allocator (`calloc`: large ones are fresh mappings whose pages become
/// resident only as the reader writes them, so memory follows the input).
/// Note: growing buffers with `read_to_end` instead measured 2x slower hashing
/// afterwards on this machine, for reasons not pinned down.
fn fill<R: Read + ?Sized>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> Result<usize> {
    if buf.len() < want {
        *buf = vec![0u8; want];
    }
    crate::io::read_full(r, &mut buf[..want], Role::Basis)
}

/// [`fill`] for the first chunk: reads [`FIRST_READ`] bytes into a buffer of
/// that size first, and grows it to `want` only if the input goes on, so a
/// small input costs a small buffer (no chunk-sized allocation).
fn fill_first<R: Read + ?Sized>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> Result<usize> {
    let first = FIRST_READ.min(want);
    let n = fill(r, buf, first)?;
    if n < first {
        return Ok(n);
    }
    buf.resize(want, 0);
    Ok(n + crate::io::read_full(r, &mut buf[n..want], Role::Basis)?)
}

/// Worker threads for `jobs` (0: one per core): asked only once an input
/// needs threads, so a small one does not read the cgroup's CPU quota.
fn workers(jobs: usize) -> usize {
    crate::workers::workers(jobs, usize::MAX)
}

/// A failed write of the signature.
fn write_failed(e: io::Error) -> Error {
    Error::io(Role::Output, "write failed", e)
}

fn worker_died() -> Error {
    write_failed(io::Error::other("signature worker thread failed"))
}

/// Sends `None` on the result channel if the worker unwinds, so the reader
/// stops waiting (the scope then propagates the panic).
struct PanicGuard<T> {
    tx: mpsc::Sender<Option<T>>,
}

impl<T> Drop for PanicGuard<T> {
    fn drop(&mut self) {
        if thread::panicking() {
            let _ = self.tx.send(None);
        }
    }
}
