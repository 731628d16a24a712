//! Fast, parallel, streaming generation of librsync / `rdiff` signature files.
//!
//! The output is byte-identical to `rdiff signature` (librsync 2.3.2) for all
//! four signature kinds (rollsum or RabinKarp weak sum, MD4 or BLAKE2b strong
//! sum).  Format: a 12-byte big-endian header `magic, block_len, strong_len`,
//! then for each block of the input (the last one may be short) the weak sum
//! as a big-endian `u32` followed by the first `strong_len` bytes of the
//! strong sum (BLAKE2b with a 32-byte digest length, or MD4).
//!
//! Design: the calling thread reads the input into recycled chunk buffers
//! (each a whole number of blocks, filled completely before hashing, so short
//! reads from pipes are fine) and writes results in order; `jobs` worker
//! threads hash the chunks.  A worker takes a chunk in batches of ~256 KiB:
//! first the weak sums of the batch's blocks (one sequential pass, which also
//! pulls the batch into cache), then their strong sums (BLAKE2b: all blocks of
//! the batch at once with `blake2b_simd::many`, 4-way AVX2; MD4: 4 blocks at a
//! time in interleaved lanes).  Doing the sequential weak pass first halves
//! the BLAKE2b time on file input here: the 4-way strided BLAKE2b reads miss
//! the cache badly otherwise.  RabinKarp runs in 32 interleaved lanes (the
//! plain Horner loop is one serial multiply-add chain per byte).
//!
//! Memory is bounded by about `(jobs + 2) x chunk` where a chunk is ~4 MiB
//! (at most 65,536 blocks).  Block lengths above 4 MiB are processed
//! incrementally in 1 MiB pieces (blocks dealt round-robin to the workers),
//! so memory stays bounded whatever the block length; buffer pages become
//! resident only as the input fills them.
//!
//! Only safe Rust; dependencies: `std` and `blake2b_simd`.  MD4 is
//! implemented here (RFC 1320, identical to librsync's `rs_mdfour`).

#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use std::time::Instant;

use crate::error::{Error, Result, Role};
use crate::params::{SignatureParams, StrongHash, WeakSum, magic_for as magic};
use crate::stats::{Op, Stats};

/// A reader whose errors carry the crate's error, blamed on the basis, so
/// that they can be told apart from write errors after the pipeline.
struct BasisReader<R>(R);

impl<R: Read> Read for BasisReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted {
                e
            } else {
                io::Error::other(Error::io(Role::Basis, "read failed", e))
            }
        })
    }
}

/// Writes the signature of `basis` with `jobs` threads and returns rdiff's
/// statistics for it.
pub(crate) fn signature<R: Read, W: Write>(
    params: &SignatureParams,
    basis: R,
    out: W,
    jobs: usize,
) -> Result<Stats> {
    let started = Instant::now();
    let read = write_signature(
        BasisReader(basis),
        out,
        params.block_len,
        params.strong_len,
        params.weak,
        params.strong,
        jobs,
    )
    .map_err(
        |e| match e.get_ref().and_then(|inner| inner.downcast_ref::<Error>()) {
            Some(_) => *e
                .into_inner()
                .and_then(|inner| inner.downcast::<Error>().ok())
                .expect("checked above"),
            None => Error::io(Role::Output, "write failed", e),
        },
    )?;
    let mut stats = Stats::new(Op::Signature);
    stats.sig_blocks = read.div_ceil(params.block_len as u64);
    stats.block_len = params.block_len as u64;
    stats.in_bytes = read;
    stats.out_bytes = params.signature_len(read);
    stats.elapsed = started.elapsed();
    Ok(stats)
}

/// The MD4 digest of `data` (RFC 1320, as librsync's `rs_mdfour`).
pub(crate) fn md4(data: &[u8]) -> [u8; 16] {
    let mut m = Md4::new();
    m.update(data);
    m.finish()
}

/// One block's weak sum, exactly as librsync's `rs_calc_weak_sum`.
pub(crate) fn weak_sum(block: &[u8], weak: WeakSum) -> u32 {
    match weak {
        WeakSum::RabinKarp => rk_update(RK_SEED, block, rk_pow(block.len() as u64)),
        WeakSum::Rollsum => {
            let (s1, s2) = rollsum_raw(block);
            rollsum_finish(s1, s2, block.len() as u64)
        }
    }
}

/// One block's full strong sum (MD4: 16 bytes, then zeros; BLAKE2b: 32 bytes).
/// A signature entry holds its first `strong_len` bytes.
#[cfg(test)]
pub(crate) fn strong_sum(block: &[u8], strong: StrongHash) -> [u8; 32] {
    let mut out = [0u8; 32];
    match strong {
        StrongHash::Md4 => {
            let mut m = Md4::new();
            m.update(block);
            out[..16].copy_from_slice(&m.finish());
        }
        StrongHash::Blake2 => {
            out.copy_from_slice(blake2_params().hash(block).as_bytes());
        }
    }
    out
}

/// Writes the 12-byte header then one entry per block of everything `basis`
/// yields, streaming: memory is bounded by about `(jobs + 2)` chunks of ~4 MiB,
/// never the whole input.  Returns the number of input bytes read.
/// `jobs` >= 1 worker threads (0 is taken as 1, more than 256 as 256); the
/// output bytes are identical for every `jobs`.  Inputs smaller than one chunk
/// are hashed on the calling thread without spawning workers.
pub fn write_signature<R: Read, W: Write>(
    basis: R,
    mut out: W,
    block_len: u32,
    strong_len: u32,
    weak: WeakSum,
    strong: StrongHash,
    jobs: usize,
) -> io::Result<u64> {
    write_signature_tuned(
        basis,
        &mut out,
        block_len,
        strong_len,
        weak,
        strong,
        jobs,
        CHUNK_TARGET,
    )
}

/// `write_signature` with an explicit target chunk size in bytes (rounded to
/// whole blocks; at least one block, at most 65,536 blocks).  Output bytes do
/// not depend on it; exposed for tests and tuning.
#[allow(clippy::too_many_arguments)]
pub fn write_signature_tuned<R: Read, W: Write>(
    mut basis: R,
    mut out: W,
    block_len: u32,
    strong_len: u32,
    weak: WeakSum,
    strong: StrongHash,
    jobs: usize,
    chunk_target: usize,
) -> io::Result<u64> {
    if block_len == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "block length must be at least 1",
        ));
    }
    if strong_len == 0 || strong_len as usize > strong.digest_len() as usize {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "strong sum length {strong_len} out of range 1..={}",
                strong.digest_len() as usize
            ),
        ));
    }
    let jobs = jobs.clamp(1, MAX_JOBS);
    let mut header = [0u8; 12];
    header[0..4].copy_from_slice(&magic(weak, strong).to_be_bytes());
    header[4..8].copy_from_slice(&block_len.to_be_bytes());
    header[8..12].copy_from_slice(&strong_len.to_be_bytes());
    out.write_all(&header)?;

    let cfg = Cfg::new(block_len as usize, strong_len as usize, weak, strong);
    let total = if cfg.block_len <= LARGE_BLOCK {
        let blocks = (chunk_target.max(1) / cfg.block_len).clamp(1, MAX_CHUNK_BLOCKS);
        run_chunked(&mut basis, &mut out, &cfg, jobs, blocks * cfg.block_len)?
    } else {
        run_large(&mut basis, &mut out, &cfg, jobs)?
    };
    out.flush()?;
    Ok(total)
}

// ---------------------------------------------------------------------------
// Tuning constants.

/// Most worker threads (larger `jobs` values are clamped to this).
const MAX_JOBS: usize = 256;
/// Target size of a chunk handed to a worker: 3 MiB measured as fast as 4 MiB
/// with peak RSS 16 MiB instead of 20 (rdiff's is 2).
const CHUNK_TARGET: usize = 3 << 20;
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

// ---------------------------------------------------------------------------
// RabinKarp: hash = SEED * M^n + sum b_i * M^(n-1-i)  (mod 2^32), librsync's
// `rabinkarp_update` evaluated by Horner's rule.  The Horner chain is a serial
// multiply-add per byte, so we split the input into LANES interleaved lanes
// (lane j takes bytes j, j+LANES, ...), run Horner with multiplier M^LANES in
// each lane independently (vectorisable), and combine the lanes with powers
// of M.

const RK_SEED: u32 = 1;
const RK_MULT: u32 = 0x0810_4225;
const LANES: usize = 32;

const fn pow_u32(mut m: u32, mut p: u64) -> u32 {
    let mut ans: u32 = 1;
    while p != 0 {
        if p & 1 != 0 {
            ans = ans.wrapping_mul(m);
        }
        m = m.wrapping_mul(m);
        p >>= 1;
    }
    ans
}

const RK_MULT_LANES: u32 = pow_u32(RK_MULT, LANES as u64);

/// RK_LANE_POW[j] = M^(LANES-1-j).
const RK_LANE_POW: [u32; LANES] = {
    let mut t = [0u32; LANES];
    let mut j = 0;
    while j < LANES {
        t[j] = pow_u32(RK_MULT, (LANES - 1 - j) as u64);
        j += 1;
    }
    t
};

/// M^n mod 2^32.
#[inline]
fn rk_pow(n: u64) -> u32 {
    pow_u32(RK_MULT, n)
}

/// Returns `h * M^len + poly(data)`, i.e. librsync's `rabinkarp_update`
/// applied to a running hash `h`.  `pow_len` must be `M^data.len()`.
/// Compiled twice: for AVX-512 CPUs, where the lanes vectorise fully (3x the
/// baseline's speed; LLVM's AVX2 code for this loop is slower than SSE2's),
/// and for the baseline.
#[multiversion::multiversion(targets("x86_64+avx+avx2+avx512f+avx512vl+avx512bw"))]
fn rk_update(h: u32, data: &[u8], pow_len: u32) -> u32 {
    let mut lanes = [0u32; LANES];
    let mut groups = data.chunks_exact(LANES);
    for g in &mut groups {
        let g: &[u8; LANES] = g.try_into().unwrap();
        for j in 0..LANES {
            lanes[j] = lanes[j]
                .wrapping_mul(RK_MULT_LANES)
                .wrapping_add(g[j] as u32);
        }
    }
    let rem = groups.remainder();
    // poly(main part) = sum_j lanes[j] * M^(LANES-1-j)
    let mut p: u32 = 0;
    for j in 0..LANES {
        p = p.wrapping_add(lanes[j].wrapping_mul(RK_LANE_POW[j]));
    }
    // poly(data) = poly(main) * M^r + poly(rem), by Horner over the r remaining bytes.
    let mut acc = p;
    for &b in rem {
        acc = acc.wrapping_mul(RK_MULT).wrapping_add(b as u32);
    }
    h.wrapping_mul(pow_len).wrapping_add(acc)
}

/// Straightforward serial RabinKarp (librsync's loop), for tests.
#[cfg(test)]
pub(crate) fn rabinkarp_reference(block: &[u8]) -> u32 {
    let mut h = RK_SEED;
    for &b in block {
        h = h.wrapping_mul(RK_MULT).wrapping_add(b as u32);
    }
    h
}

// ---------------------------------------------------------------------------
// Rollsum (librsync's adler-like checksum, ROLLSUM_CHAR_OFFSET 31).
// Raw sums without the offset: s1 = sum b_i, s2 = sum (n-i) b_i.  Only the low
// 16 bits of each matter for the digest, so u32 wrapping arithmetic is exact.

const ROLLSUM_CHAR_OFFSET: u64 = 31;
const RS_LANES: usize = 32;

#[inline]
fn rollsum_raw(data: &[u8]) -> (u32, u32) {
    // Per lane j over groups g: l1[j] = sum_g b, l2[j] = sum_g (q-1-g) b.
    let mut l1 = [0u32; RS_LANES];
    let mut l2 = [0u32; RS_LANES];
    let mut groups = data.chunks_exact(RS_LANES);
    for g in &mut groups {
        let g: &[u8; RS_LANES] = g.try_into().unwrap();
        for j in 0..RS_LANES {
            l2[j] = l2[j].wrapping_add(l1[j]);
            l1[j] = l1[j].wrapping_add(g[j] as u32);
        }
    }
    // Over the main part (n' bytes): s2 = sum_j K*l2[j] + (K-j)*l1[j].
    let mut s1: u32 = 0;
    let mut s2: u32 = 0;
    for j in 0..RS_LANES {
        s1 = s1.wrapping_add(l1[j]);
        s2 = s2
            .wrapping_add((RS_LANES as u32).wrapping_mul(l2[j]))
            .wrapping_add(((RS_LANES - j) as u32).wrapping_mul(l1[j]));
    }
    for &b in groups.remainder() {
        s1 = s1.wrapping_add(b as u32);
        s2 = s2.wrapping_add(s1);
    }
    (s1, s2)
}

/// Combine raw sums of A then B: (s1, s2) of A||B given B's length.
#[inline]
fn rollsum_concat(a: (u32, u32), b: (u32, u32), b_len: u64) -> (u32, u32) {
    (
        a.0.wrapping_add(b.0),
        a.1.wrapping_add((b_len as u32).wrapping_mul(a.0))
            .wrapping_add(b.1),
    )
}

/// Adds the character offsets (as `RollsumUpdate` does for one call of `len`
/// bytes) and forms `RollsumDigest`.
#[inline]
fn rollsum_finish(s1: u32, s2: u32, len: u64) -> u32 {
    let s1 = (s1 as u64).wrapping_add(len.wrapping_mul(ROLLSUM_CHAR_OFFSET));
    // As C computes `(len * (len + 1)) / 2` in 64-bit size_t (exact below 2^32).
    let tri = len.wrapping_mul(len.wrapping_add(1)) / 2;
    let s2 = (s2 as u64).wrapping_add(tri.wrapping_mul(ROLLSUM_CHAR_OFFSET));
    ((s2 as u32) << 16) | (s1 as u32 & 0xffff)
}

/// Straightforward rollsum (librsync's loop with 64-bit sums), for tests.
#[cfg(test)]
pub(crate) fn rollsum_reference(block: &[u8]) -> u32 {
    let (mut s1, mut s2) = (0u64, 0u64);
    for &b in block {
        s1 = s1.wrapping_add(b as u64);
        s2 = s2.wrapping_add(s1);
    }
    let len = block.len() as u64;
    s1 = s1.wrapping_add(len * ROLLSUM_CHAR_OFFSET);
    s2 = s2.wrapping_add(((len * (len + 1)) / 2) * ROLLSUM_CHAR_OFFSET);
    ((s2 as u32) << 16) | (s1 as u32 & 0xffff)
}

// ---------------------------------------------------------------------------
// MD4 (RFC 1320), as librsync's rs_mdfour: 64-bit little-endian bit count.

#[derive(Clone)]
struct Md4 {
    state: [u32; 4],
    tail: [u8; 64],
    tail_len: usize,
    total: u64,
}

impl Md4 {
    fn new() -> Self {
        Md4 {
            state: [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476],
            tail: [0; 64],
            tail_len: 0,
            total: 0,
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.tail_len > 0 {
            let take = (64 - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < 64 {
                return;
            }
            let t = self.tail;
            md4_compress(&mut self.state, &t);
            self.tail_len = 0;
        }
        let mut blocks = data.chunks_exact(64);
        for b in &mut blocks {
            md4_compress(&mut self.state, b.try_into().unwrap());
        }
        let rem = blocks.remainder();
        self.tail[..rem.len()].copy_from_slice(rem);
        self.tail_len = rem.len();
    }

    fn finish(mut self) -> [u8; 16] {
        let bits = self.total.wrapping_mul(8);
        let mut pad = [0u8; 128];
        pad[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        pad[self.tail_len] = 0x80;
        let end = if self.tail_len < 56 { 64 } else { 128 };
        pad[end - 8..end].copy_from_slice(&bits.to_le_bytes());
        for b in pad[..end].chunks_exact(64) {
            md4_compress(&mut self.state, b.try_into().unwrap());
        }
        let mut out = [0u8; 16];
        for (o, w) in out.chunks_exact_mut(4).zip(self.state) {
            o.copy_from_slice(&w.to_le_bytes());
        }
        out
    }
}

#[inline(always)]
fn md4_compress(st: &mut [u32; 4], block: &[u8; 64]) {
    let mut x = [0u32; 16];
    for (i, w) in x.iter_mut().enumerate() {
        *w = u32::from_le_bytes(block[4 * i..4 * i + 4].try_into().unwrap());
    }
    md4_rounds(st, &x);
}

/// Number of equal-length blocks hashed together by `md4_lanes`.
const MD4_LANES: usize = 4;

/// MD4 state of MD4_LANES independent messages, one per lane.  The lanes are
/// independent dependency chains, so the CPU overlaps them (about 2.2x the
/// one-message speed here; LLVM does not turn this into SIMD code, and with 8
/// lanes register pressure makes it slower again).
#[derive(Clone, Copy)]
struct Lanes([u32; MD4_LANES]);

/// What MD4's rounds need of a word: one message's `u32`, or a lane of
/// several messages' words ([`Lanes`]).
trait Word: Copy {
    fn splat(v: u32) -> Self;
    fn add(self, o: Self) -> Self;
    fn and(self, o: Self) -> Self;
    fn or(self, o: Self) -> Self;
    fn xor(self, o: Self) -> Self;
    /// `!self & o`
    fn andnot(self, o: Self) -> Self;
    fn rotl(self, s: u32) -> Self;
}

impl Word for u32 {
    #[inline(always)]
    fn splat(v: u32) -> Self {
        v
    }
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        self.wrapping_add(o)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        self & o
    }
    #[inline(always)]
    fn or(self, o: Self) -> Self {
        self | o
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        self ^ o
    }
    #[inline(always)]
    fn andnot(self, o: Self) -> Self {
        !self & o
    }
    #[inline(always)]
    fn rotl(self, s: u32) -> Self {
        self.rotate_left(s)
    }
}

macro_rules! lanes_op {
    ($name:ident, |$x:ident, $y:ident| $e:expr) => {
        #[inline(always)]
        fn $name(self, o: Self) -> Self {
            let (a, b) = (self.0, o.0);
            let mut r = [0u32; MD4_LANES];
            for l in 0..MD4_LANES {
                let ($x, $y) = (a[l], b[l]);
                r[l] = $e;
            }
            Lanes(r)
        }
    };
}

impl Word for Lanes {
    #[inline(always)]
    fn splat(v: u32) -> Self {
        Lanes([v; MD4_LANES])
    }
    lanes_op!(add, |x, y| x.wrapping_add(y));
    lanes_op!(and, |x, y| x & y);
    lanes_op!(or, |x, y| x | y);
    lanes_op!(xor, |x, y| x ^ y);
    lanes_op!(andnot, |x, y| !x & y);
    #[inline(always)]
    fn rotl(self, s: u32) -> Self {
        let a = self.0;
        let mut r = [0u32; MD4_LANES];
        for l in 0..MD4_LANES {
            r[l] = a[l].rotate_left(s);
        }
        Lanes(r)
    }
}

/// MD4's three rounds over one 64-byte block, `x`, as words.
#[inline(always)]
fn md4_rounds<W: Word>(st: &mut [W; 4], x: &[W; 16]) {
    let [mut a, mut b, mut c, mut d] = *st;
    let k2 = W::splat(0x5A82_7999);
    let k3 = W::splat(0x6ED9_EBA1);
    macro_rules! r1 {
        ($a:ident, $b:ident, $c:ident, $d:ident, $k:expr, $s:expr) => {
            $a = $a.add($b.and($c).or($b.andnot($d))).add(x[$k]).rotl($s)
        };
    }
    macro_rules! r2 {
        ($a:ident, $b:ident, $c:ident, $d:ident, $k:expr, $s:expr) => {
            // majority(b, c, d) = (b & c) | (d & (b | c))
            $a = $a
                .add($b.and($c).or($d.and($b.or($c))))
                .add(x[$k])
                .add(k2)
                .rotl($s)
        };
    }
    macro_rules! r3 {
        ($a:ident, $b:ident, $c:ident, $d:ident, $k:expr, $s:expr) => {
            $a = $a.add($b.xor($c).xor($d)).add(x[$k]).add(k3).rotl($s)
        };
    }
    r1!(a, b, c, d, 0, 3);
    r1!(d, a, b, c, 1, 7);
    r1!(c, d, a, b, 2, 11);
    r1!(b, c, d, a, 3, 19);
    r1!(a, b, c, d, 4, 3);
    r1!(d, a, b, c, 5, 7);
    r1!(c, d, a, b, 6, 11);
    r1!(b, c, d, a, 7, 19);
    r1!(a, b, c, d, 8, 3);
    r1!(d, a, b, c, 9, 7);
    r1!(c, d, a, b, 10, 11);
    r1!(b, c, d, a, 11, 19);
    r1!(a, b, c, d, 12, 3);
    r1!(d, a, b, c, 13, 7);
    r1!(c, d, a, b, 14, 11);
    r1!(b, c, d, a, 15, 19);

    r2!(a, b, c, d, 0, 3);
    r2!(d, a, b, c, 4, 5);
    r2!(c, d, a, b, 8, 9);
    r2!(b, c, d, a, 12, 13);
    r2!(a, b, c, d, 1, 3);
    r2!(d, a, b, c, 5, 5);
    r2!(c, d, a, b, 9, 9);
    r2!(b, c, d, a, 13, 13);
    r2!(a, b, c, d, 2, 3);
    r2!(d, a, b, c, 6, 5);
    r2!(c, d, a, b, 10, 9);
    r2!(b, c, d, a, 14, 13);
    r2!(a, b, c, d, 3, 3);
    r2!(d, a, b, c, 7, 5);
    r2!(c, d, a, b, 11, 9);
    r2!(b, c, d, a, 15, 13);

    r3!(a, b, c, d, 0, 3);
    r3!(d, a, b, c, 8, 9);
    r3!(c, d, a, b, 4, 11);
    r3!(b, c, d, a, 12, 15);
    r3!(a, b, c, d, 2, 3);
    r3!(d, a, b, c, 10, 9);
    r3!(c, d, a, b, 6, 11);
    r3!(b, c, d, a, 14, 15);
    r3!(a, b, c, d, 1, 3);
    r3!(d, a, b, c, 9, 9);
    r3!(c, d, a, b, 5, 11);
    r3!(b, c, d, a, 13, 15);
    r3!(a, b, c, d, 3, 3);
    r3!(d, a, b, c, 11, 9);
    r3!(c, d, a, b, 7, 11);
    r3!(b, c, d, a, 15, 15);

    st[0] = st[0].add(a);
    st[1] = st[1].add(b);
    st[2] = st[2].add(c);
    st[3] = st[3].add(d);
}

/// MD4 of MD4_LANES messages of the same length at once.
fn md4_lanes(msgs: &[&[u8]; MD4_LANES]) -> [[u8; 16]; MD4_LANES] {
    let len = msgs[0].len();
    debug_assert!(msgs.iter().all(|m| m.len() == len));
    let mut st = [
        Lanes::splat(0x6745_2301),
        Lanes::splat(0xefcd_ab89),
        Lanes::splat(0x98ba_dcfe),
        Lanes::splat(0x1032_5476),
    ];
    let full = len / 64;
    let mut x = [Lanes::splat(0); 16];
    for i in 0..full {
        for (l, m) in msgs.iter().enumerate() {
            let blk: &[u8; 64] = m[i * 64..i * 64 + 64].try_into().unwrap();
            for (k, w) in x.iter_mut().enumerate() {
                w.0[l] = u32::from_le_bytes(blk[4 * k..4 * k + 4].try_into().unwrap());
            }
        }
        md4_rounds(&mut st, &x);
    }
    // Padding: the same shape for every lane (same length).
    let rem = len - full * 64;
    let end = if rem < 56 { 64 } else { 128 };
    let bits = (len as u64).wrapping_mul(8);
    let mut pads = [[0u8; 128]; MD4_LANES];
    for (pad, m) in pads.iter_mut().zip(msgs) {
        pad[..rem].copy_from_slice(&m[full * 64..]);
        pad[rem] = 0x80;
        pad[end - 8..end].copy_from_slice(&bits.to_le_bytes());
    }
    for off in (0..end).step_by(64) {
        for (l, pad) in pads.iter().enumerate() {
            for (k, w) in x.iter_mut().enumerate() {
                w.0[l] = u32::from_le_bytes(pad[off + 4 * k..off + 4 * k + 4].try_into().unwrap());
            }
        }
        md4_rounds(&mut st, &x);
    }
    let mut out = [[0u8; 16]; MD4_LANES];
    for (l, o) in out.iter_mut().enumerate() {
        for (j, s) in st.iter().enumerate() {
            o[4 * j..4 * j + 4].copy_from_slice(&s.0[l].to_le_bytes());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Per-chunk hashing.

fn blake2_params() -> blake2b_simd::Params {
    let mut p = blake2b_simd::Params::new();
    // librsync: blake2b_init(&ctx, RS_MAX_STRONG_SUM_LENGTH = 32), truncated after.
    p.hash_length(32);
    p
}

struct Cfg {
    block_len: usize,
    strong_len: usize,
    weak: WeakSum,
    strong: StrongHash,
    params: blake2b_simd::Params,
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
            params: blake2_params(),
            rk_full_pow: rk_pow(block_len as u64),
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
                    rk_pow(block.len() as u64)
                };
                rk_update(RK_SEED, block, pow)
            }
            WeakSum::Rollsum => {
                let (s1, s2) = rollsum_raw(block);
                rollsum_finish(s1, s2, block.len() as u64)
            }
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
            let mut jobs: Vec<blake2b_simd::many::HashManyJob> = Vec::with_capacity(cfg.batch);
            let mut weak = Vec::with_capacity(cfg.batch);
            for batch in data.chunks(batch_bytes) {
                // Weak sums first: one sequential pass that also pulls the batch into
                // cache for the strided, several-blocks-at-once BLAKE2b pass.
                weak.clear();
                weak.extend(batch.chunks(cfg.block_len).map(|b| cfg.weak_of(b)));
                jobs.clear();
                jobs.extend(
                    batch
                        .chunks(cfg.block_len)
                        .map(|b| blake2b_simd::many::HashManyJob::new(&cfg.params, b)),
                );
                blake2b_simd::many::hash_many(jobs.iter_mut());
                for (w, job) in weak.iter().zip(&jobs) {
                    out.extend_from_slice(&w.to_be_bytes());
                    out.extend_from_slice(&job.to_hash().as_bytes()[..sl]);
                }
            }
        }
        StrongHash::Md4 => {
            // Groups of MD4_LANES full blocks are hashed together; the rest one by one.
            let group = MD4_LANES * cfg.block_len;
            let mut groups = data.chunks_exact(group);
            for g in &mut groups {
                let mut msgs: [&[u8]; MD4_LANES] = [&[]; MD4_LANES];
                let mut weak = [0u32; MD4_LANES];
                for (l, block) in g.chunks_exact(cfg.block_len).enumerate() {
                    msgs[l] = block;
                    weak[l] = cfg.weak_of(block);
                }
                let sums = md4_lanes(&msgs);
                for (w, sum) in weak.iter().zip(&sums) {
                    out.extend_from_slice(&w.to_be_bytes());
                    out.extend_from_slice(&sum[..sl]);
                }
            }
            for block in groups.remainder().chunks(cfg.block_len) {
                let mut m = Md4::new();
                m.update(block);
                out.extend_from_slice(&cfg.weak_of(block).to_be_bytes());
                out.extend_from_slice(&m.finish()[..sl]);
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
fn fill<R: Read + ?Sized>(r: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<usize> {
    if buf.len() < want {
        *buf = vec![0u8; want];
    }
    let mut filled = 0;
    while filled < want {
        match r.read(&mut buf[filled..want]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn worker_died() -> io::Error {
    io::Error::other("signature worker thread failed")
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

// ---------------------------------------------------------------------------
// Chunked mode: block_len <= LARGE_BLOCK.

struct ChunkJob {
    seq: u64,
    buf: Vec<u8>,
    len: usize,
    out: Vec<u8>,
}

fn run_chunked<R: Read + ?Sized, W: Write + ?Sized>(
    r: &mut R,
    w: &mut W,
    cfg: &Cfg,
    jobs: usize,
    chunk_len: usize,
) -> io::Result<u64> {
    let mut first = Vec::new();
    let n = fill(r, &mut first, chunk_len)?;
    let mut total = n as u64;
    if n < chunk_len {
        // Whole input in one chunk: no threads needed.
        let mut out = Vec::new();
        sign_chunk(&first[..n], cfg, &mut out);
        w.write_all(&out)?;
        return Ok(total);
    }
    let max_inflight = (jobs + 2) as u64;

    let (job_tx, job_rx) = mpsc::channel::<ChunkJob>();
    let job_rx = Mutex::new(job_rx);
    thread::scope(|s| -> io::Result<u64> {
        // Owned by this closure: dropped on any early return, which stops the workers.
        let job_tx = job_tx;
        let (done_tx, done_rx) = mpsc::channel::<Option<ChunkJob>>();
        for _ in 0..jobs {
            let job_rx = &job_rx;
            let guard = PanicGuard {
                tx: done_tx.clone(),
            };
            s.spawn(move || {
                loop {
                    let next = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(mut job) = next else { return };
                    job.out.clear();
                    sign_chunk(&job.buf[..job.len], cfg, &mut job.out);
                    if guard.tx.send(Some(job)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done_tx);

        let mut free_bufs: Vec<Vec<u8>> = Vec::new();
        let mut free_outs: Vec<Vec<u8>> = Vec::new();
        // pending[i] holds the finished chunk seq next_write + i.
        let mut pending: VecDeque<Option<ChunkJob>> = VecDeque::new();
        let mut next_seq: u64 = 0;
        let mut next_write: u64 = 0;
        let mut eof = false;

        job_tx
            .send(ChunkJob {
                seq: 0,
                buf: first,
                len: n,
                out: Vec::new(),
            })
            .map_err(|_| worker_died())?;
        next_seq += 1;

        let absorb =
            |job: Option<ChunkJob>, pending: &mut VecDeque<Option<ChunkJob>>, next_write: u64| {
                let job = job.ok_or_else(worker_died)?;
                let idx = (job.seq - next_write) as usize;
                if pending.len() <= idx {
                    pending.resize_with(idx + 1, || None);
                }
                pending[idx] = Some(job);
                Ok::<(), io::Error>(())
            };

        loop {
            while let Ok(job) = done_rx.try_recv() {
                absorb(job, &mut pending, next_write)?;
            }
            while let Some(Some(_)) = pending.front() {
                let job = pending.pop_front().unwrap().unwrap();
                w.write_all(&job.out)?;
                next_write += 1;
                free_bufs.push(job.buf);
                free_outs.push(job.out);
            }
            if !eof && next_seq - next_write < max_inflight {
                let mut buf = free_bufs.pop().unwrap_or_default();
                let n = fill(r, &mut buf, chunk_len)?;
                total += n as u64;
                if n < chunk_len {
                    eof = true;
                }
                if n > 0 {
                    let out = free_outs.pop().unwrap_or_default();
                    job_tx
                        .send(ChunkJob {
                            seq: next_seq,
                            buf,
                            len: n,
                            out,
                        })
                        .map_err(|_| worker_died())?;
                    next_seq += 1;
                }
                continue;
            }
            if next_write == next_seq {
                break;
            }
            let job = done_rx.recv().map_err(|_| worker_died())?;
            absorb(job, &mut pending, next_write)?;
        }
        drop(job_tx);
        Ok(total)
    })
}

// ---------------------------------------------------------------------------
// Large-block mode: block_len > LARGE_BLOCK.  Blocks are dealt round-robin to
// workers; each block streams to its worker in PIECE-sized pieces and is hashed
// incrementally, so memory is bounded by the pieces in flight.

enum StrongState {
    Blake2(Box<blake2b_simd::State>),
    Md4(Box<Md4>),
}

struct BlockState {
    rk: u32,
    rs: (u32, u32),
    len: u64,
    strong: StrongState,
}

impl BlockState {
    fn new(cfg: &Cfg) -> Self {
        BlockState {
            rk: RK_SEED,
            rs: (0, 0),
            len: 0,
            strong: match cfg.strong {
                StrongHash::Blake2 => StrongState::Blake2(Box::new(cfg.params.to_state())),
                StrongHash::Md4 => StrongState::Md4(Box::new(Md4::new())),
            },
        }
    }

    fn update(&mut self, cfg: &Cfg, data: &[u8]) {
        match cfg.weak {
            WeakSum::RabinKarp => self.rk = rk_update(self.rk, data, rk_pow(data.len() as u64)),
            WeakSum::Rollsum => {
                self.rs = rollsum_concat(self.rs, rollsum_raw(data), data.len() as u64)
            }
        }
        match &mut self.strong {
            StrongState::Blake2(st) => {
                st.update(data);
            }
            StrongState::Md4(m) => m.update(data),
        }
        self.len += data.len() as u64;
    }

    fn finish(self, cfg: &Cfg) -> Vec<u8> {
        let weak = match cfg.weak {
            WeakSum::RabinKarp => self.rk,
            WeakSum::Rollsum => rollsum_finish(self.rs.0, self.rs.1, self.len),
        };
        let mut e = Vec::with_capacity(cfg.entry_len());
        e.extend_from_slice(&weak.to_be_bytes());
        match self.strong {
            StrongState::Blake2(st) => {
                e.extend_from_slice(&st.finalize().as_bytes()[..cfg.strong_len])
            }
            StrongState::Md4(m) => e.extend_from_slice(&m.finish()[..cfg.strong_len]),
        }
        e
    }
}

struct Piece {
    block: u64,
    buf: Vec<u8>,
    len: usize,
    last: bool,
}

struct PieceDone {
    buf: Vec<u8>,
    entry: Option<(u64, Vec<u8>)>,
}

fn run_large<R: Read + ?Sized, W: Write + ?Sized>(
    r: &mut R,
    w: &mut W,
    cfg: &Cfg,
    jobs: usize,
) -> io::Result<u64> {
    let block_len = cfg.block_len as u64;
    let max_inflight = 4 * jobs + 4;
    thread::scope(|s| -> io::Result<u64> {
        let (done_tx, done_rx) = mpsc::channel::<Option<PieceDone>>();
        let mut txs = Vec::with_capacity(jobs);
        for _ in 0..jobs {
            let (tx, rx) = mpsc::channel::<Piece>();
            txs.push(tx);
            let guard = PanicGuard {
                tx: done_tx.clone(),
            };
            s.spawn(move || {
                let mut state: Option<BlockState> = None;
                while let Ok(p) = rx.recv() {
                    let st = state.get_or_insert_with(|| BlockState::new(cfg));
                    st.update(cfg, &p.buf[..p.len]);
                    let entry = if p.last {
                        Some((p.block, state.take().unwrap().finish(cfg)))
                    } else {
                        None
                    };
                    if guard
                        .tx
                        .send(Some(PieceDone { buf: p.buf, entry }))
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(done_tx);

        let mut total: u64 = 0;
        let mut free_bufs: Vec<Vec<u8>> = Vec::new();
        let mut pending: VecDeque<Option<Vec<u8>>> = VecDeque::new();
        let mut next_write: u64 = 0;
        let mut inflight = 0usize;
        let mut block: u64 = 0;
        let mut in_block: u64 = 0;
        let mut eof = false;

        let absorb = |d: Option<PieceDone>,
                      pending: &mut VecDeque<Option<Vec<u8>>>,
                      free_bufs: &mut Vec<Vec<u8>>,
                      next_write: u64| {
            let d = d.ok_or_else(worker_died)?;
            free_bufs.push(d.buf);
            if let Some((b, e)) = d.entry {
                let idx = (b - next_write) as usize;
                if pending.len() <= idx {
                    pending.resize_with(idx + 1, || None);
                }
                pending[idx] = Some(e);
            }
            Ok::<(), io::Error>(())
        };

        loop {
            while let Ok(d) = done_rx.try_recv() {
                absorb(d, &mut pending, &mut free_bufs, next_write)?;
                inflight -= 1;
            }
            while let Some(Some(_)) = pending.front() {
                w.write_all(&pending.pop_front().unwrap().unwrap())?;
                next_write += 1;
            }
            if !eof && inflight < max_inflight {
                let mut buf = free_bufs.pop().unwrap_or_default();
                let want = (block_len - in_block).min(PIECE as u64) as usize;
                let n = fill(r, &mut buf, want)?;
                total += n as u64;
                in_block += n as u64;
                if n < want {
                    eof = true;
                }
                if in_block == 0 {
                    free_bufs.push(buf);
                    continue;
                }
                let last = eof || in_block == block_len;
                let worker = (block % jobs as u64) as usize;
                txs[worker]
                    .send(Piece {
                        block,
                        buf,
                        len: n,
                        last,
                    })
                    .map_err(|_| worker_died())?;
                inflight += 1;
                if last {
                    block += 1;
                    in_block = 0;
                }
                continue;
            }
            if eof && inflight == 0 {
                break;
            }
            let d = done_rx.recv().map_err(|_| worker_died())?;
            absorb(d, &mut pending, &mut free_bufs, next_write)?;
            inflight -= 1;
        }
        while let Some(Some(e)) = pending.pop_front() {
            w.write_all(&e)?;
        }
        drop(txs);
        Ok(total)
    })
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn rabinkarp_lanes_match_reference() {
        for n in (0..300).chain([1023, 1024, 1025, 4096, 16384, 16385, 100_000]) {
            for seed in 0..3 {
                let d = data(n, seed);
                assert_eq!(
                    weak_sum(&d, WeakSum::RabinKarp),
                    rabinkarp_reference(&d),
                    "n={n}"
                );
            }
        }
        let d = vec![0xffu8; 70_000];
        assert_eq!(weak_sum(&d, WeakSum::RabinKarp), rabinkarp_reference(&d));
    }

    #[test]
    fn rabinkarp_incremental_matches() {
        let d = data(50_000, 7);
        for split in [0, 1, 31, 32, 33, 1000, 49_999, 50_000] {
            let (a, b) = d.split_at(split);
            let h = rk_update(RK_SEED, a, rk_pow(a.len() as u64));
            let h = rk_update(h, b, rk_pow(b.len() as u64));
            assert_eq!(h, rabinkarp_reference(&d));
        }
    }

    #[test]
    fn rollsum_lanes_match_reference() {
        for n in (0..300).chain([1023, 1024, 1025, 4096, 16384, 16385, 100_000]) {
            for seed in 0..3 {
                let d = data(n, seed);
                assert_eq!(
                    weak_sum(&d, WeakSum::Rollsum),
                    rollsum_reference(&d),
                    "n={n}"
                );
            }
        }
        let d = vec![0xffu8; 300_000];
        assert_eq!(weak_sum(&d, WeakSum::Rollsum), rollsum_reference(&d));
        let d = data(50_000, 9);
        for split in [0, 1, 31, 32, 33, 1000, 49_999, 50_000] {
            let (a, b) = d.split_at(split);
            let (s1, s2) = rollsum_concat(rollsum_raw(a), rollsum_raw(b), b.len() as u64);
            assert_eq!(
                rollsum_finish(s1, s2, d.len() as u64),
                rollsum_reference(&d)
            );
        }
    }

    #[test]
    fn md4_known_answers() {
        // RFC 1320 test suite.
        let cases: [(&str, &str); 7] = [
            ("", "31d6cfe0d16ae931b73c59d7e0c089c0"),
            ("a", "bde52cb31de33e46245e05fbdbd6fb24"),
            ("abc", "a448017aaf21d8525fc10ae87aa6729d"),
            ("message digest", "d9130a8164549fe818874806e1c7014b"),
            (
                "abcdefghijklmnopqrstuvwxyz",
                "d79e1c308aa5bbcdeea8ed63df412da9",
            ),
            (
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                "043f8582f241db351ce627e153e7f0e4",
            ),
            (
                "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
                "e33b4ddc9c38f2199c3e7b164fcc0536",
            ),
        ];
        for (input, hex) in cases {
            let got = strong_sum(input.as_bytes(), StrongHash::Md4);
            let got: String = got[..16].iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(got, hex, "{input:?}");
        }
        // Lane-parallel == one at a time, for lengths around the padding edges.
        for len in [
            0usize, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 16384,
        ] {
            let ds: Vec<Vec<u8>> = (0..MD4_LANES as u64).map(|i| data(len, 100 + i)).collect();
            let msgs: [&[u8]; MD4_LANES] = std::array::from_fn(|i| &ds[i][..]);
            let got = md4_lanes(&msgs);
            for (d, g) in ds.iter().zip(&got) {
                assert_eq!(strong_sum(d, StrongHash::Md4)[..16], g[..], "len {len}");
            }
        }
        // Incremental == one-shot, across odd splits.
        let d = data(1000, 3);
        let whole = strong_sum(&d, StrongHash::Md4);
        for step in [1, 7, 63, 64, 65, 200] {
            let mut m = Md4::new();
            for c in d.chunks(step) {
                m.update(c);
            }
            assert_eq!(m.finish(), whole[..16]);
        }
    }
}
