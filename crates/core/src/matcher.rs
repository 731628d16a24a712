//! The native delta engine: searches NEW for the blocks of a signature and
//! writes an rdiff delta, streaming with bounded memory, on one thread (any
//! reader) or several (a file read by position).
//!
//! Semantics follow librsync 2.3's `delta.c` so that deltas stay the size of
//! rdiff's (or smaller):
//!
//! - At each position of NEW with a whole block ahead, the weak sum of that
//!   window (RabinKarp or rsync's rollsum, as the signature says) is looked up;
//!   on a weak hit the window's strong sum (BLAKE2b-256 or MD4, truncated) is
//!   compared with the candidates'. A match is a COPY of that block and the
//!   scan jumps a block ahead; a miss makes the byte literal and the window
//!   rolls one byte.
//! - Of equal blocks the first wins (librsync keeps only the first of blocks
//!   with equal weak and strong sums), except right after a match, where the
//!   block following the matched one is tried first: identical or shifted data
//!   then gives COPYs that merge into one (librsync has no such preference,
//!   which only ever makes its deltas longer, on repetitive bases).
//! - At the end of NEW the window shrinks, as in librsync's flush state: only
//!   the basis's short last block can match a window shorter than a block.
//! - COPYs of contiguous basis ranges merge; literal runs are written as
//!   single commands of any length (rdiff cuts them every 32 KiB).
//!
//! Speed comes from the miss path: per byte one rolling update (RabinKarp
//! two positions per step, to halve the multiplier's dependency chain) and
//! one probe of a bit filter of the weak sums (one bit per block, ~128 bits
//! per block: ~1% false hits), in a loop without calls or bounds checks; only
//! on a filter hit the hash table, only on a weak hit the strong sum. Right
//! after a match, the following blocks are compared by strong sum directly,
//! BLAKE2b hashing up to 4 at once.
//!
//! The parallel path ([`delta_file`]) splits NEW into chunks of 4 MiB
//! (aligned to blocks, independent of the thread count, so the delta is the
//! same for every `jobs`); each thread scans a chunk (reading up to a block
//! past its end so that matches may run across it) from a fresh state, and
//! the chunks are joined in order. Where the delta so far does not end where
//! the next chunk's scan began in the same state (a match ran across the
//! seam, or ended right at it), that chunk is scanned again from there until
//! both scans reach a position in the same state, from which on they agree:
//! the result is the sequential scan's. Repetitive data can keep two scans
//! from meeting; after 32 blocks the chunk's own commands are taken from
//! there on (a COPY straddling that point is shortened: any part of a matched
//! block is a valid COPY), which costs a COPY command or so. Joined COPYs and
//! literals merge, so identical files still give a single COPY.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use crate::error::{Error, Result, Role, Status};
use crate::params::{DELTA_MAGIC, SignatureParams, StrongHash, WeakSum};
use crate::stats::{MatchStats, Op, Stats};

// ---------------------------------------------------------------- weak sums

/// RabinKarp multiplier (librsync's `RABINKARP_MULT`).
const RK_MULT: u32 = 0x0810_4225;
/// `RABINKARP_MULT - 1`: rolling out with it also removes the seed's factor.
const RK_ADJ: u32 = 0x0810_4224;
/// rsync rollsum's per-byte offset (librsync's `ROLLSUM_CHAR_OFFSET`).
const RS_OFFSET: u32 = 31;

/// `base^exp` modulo 2^32.
const fn pow32(mut base: u32, mut exp: u64) -> u32 {
    let mut acc: u32 = 1;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        exp >>= 1;
    }
    acc
}

/// The inverse of an odd number modulo 2^32 (Newton's iteration).
const fn inverse32(a: u32) -> u32 {
    let mut x = a; // correct to 3 bits for odd a
    let mut i = 0;
    while i < 5 {
        x = x.wrapping_mul(2u32.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

const RK_INV: u32 = inverse32(RK_MULT);
/// Chunk of the vectorisable from-scratch sums.
const LANES: usize = 64;
/// `64 - j`: byte j's weight in the rollsum's s2 within a 64-byte chunk.
const RS_W64: [u32; LANES] = {
    let mut t = [0u32; LANES];
    let mut j = 0;
    while j < LANES {
        t[j] = (LANES - j) as u32;
        j += 1;
    }
    t
};

/// RabinKarp sum of `data` (librsync's `rabinkarp_update` from the seed):
/// the signature's own block sum.
fn rk_sum(data: &[u8]) -> u32 {
    crate::blocksums::weak_sum(data, WeakSum::RabinKarp)
}

/// rsync rollsum of `data` as `(s1, s2)`, whose low 16 bits are exact.
fn rs_parts(data: &[u8]) -> (u32, u32) {
    let n = data.len() as u64;
    let (mut s1, mut s2) = (0u32, 0u32);
    let mut chunks = data.chunks_exact(LANES);
    let mut after = n; // bytes from this chunk's start to the end
    for c in &mut chunks {
        let (mut sum, mut wsum) = (0u32, 0u32);
        for (&x, &w) in c.iter().zip(RS_W64.iter()) {
            sum = sum.wrapping_add(x as u32);
            wsum = wsum.wrapping_add((x as u32).wrapping_mul(w));
        }
        after -= LANES as u64;
        s1 = s1.wrapping_add(sum);
        s2 = s2
            .wrapping_add((after as u32).wrapping_mul(sum))
            .wrapping_add(wsum);
    }
    // The last bytes: byte j counts n - j times in s2, as above.
    let mut tail = 0u32;
    for &x in chunks.remainder() {
        tail = tail.wrapping_add(x as u32);
        s2 = s2.wrapping_add(tail);
    }
    s1 = s1.wrapping_add(tail);
    s1 = s1.wrapping_add((n as u32).wrapping_mul(RS_OFFSET));
    s2 = s2.wrapping_add(((n.wrapping_mul(n + 1) / 2) as u32).wrapping_mul(RS_OFFSET));
    (s1, s2)
}

fn rs_digest(s1: u32, s2: u32) -> u32 {
    (s2 << 16) | (s1 & 0xffff)
}

/// The weak sum of `data` as a signature stores it.
pub(crate) fn weak_sum(kind: WeakSum, data: &[u8]) -> u32 {
    crate::blocksums::weak_sum(data, kind)
}

/// A weak sum rolling over a window of fixed length.
trait Roller {
    type State: Copy;
    fn start(&self, window: &[u8]) -> Self::State;
    fn roll(&self, s: Self::State, out: u8, inp: u8) -> Self::State;
    fn digest(s: Self::State) -> u32;
    /// The filter key of a weak sum: RabinKarp sums as they are (their top
    /// bits are well mixed, as librsync's bloom filter assumes), rollsums
    /// mixed first.
    fn key(weak: u32) -> u32;

    /// Rolls from the window at `p` (state `st`) until a position whose weak
    /// sum passes the index's filter, checking positions `p..end` (`end > p`,
    /// `end - 1 + block_len <= data.len()`). Returns that position and its
    /// state, or the last position and `false` when none passes.
    #[inline(never)]
    fn roll_to_hit<const F: u32>(
        &self,
        index: &BlockIndex,
        mut st: Self::State,
        data: &[u8],
        p: usize,
        end: usize,
    ) -> (usize, Self::State, bool) {
        let b = index.block_len;
        let filter = index.filter::<F>();
        let outs = &data[p..end - 1];
        let ins = &data[p + b..end - 1 + b];
        for (k, (&o, &i)) in outs.iter().zip(ins).enumerate() {
            if BlockIndex::hit(&filter, Self::key(Self::digest(st))) {
                return (p + k, st, true);
            }
            st = self.roll(st, o, i);
        }
        (
            end - 1,
            st,
            BlockIndex::hit(&filter, Self::key(Self::digest(st))),
        )
    }
}

/// RabinKarp: `h = h * MULT + in - MULT^len * (out + ADJ)`, the second term
/// from a 256-entry table.
struct RkRoller {
    out_term: [u32; 256],
}

impl RkRoller {
    fn new(block_len: usize) -> RkRoller {
        let mult = pow32(RK_MULT, block_len as u64);
        let mut out_term = [0u32; 256];
        for (c, t) in out_term.iter_mut().enumerate() {
            *t = mult.wrapping_mul((c as u32).wrapping_add(RK_ADJ));
        }
        RkRoller { out_term }
    }
}

const RK_MULT2: u32 = RK_MULT.wrapping_mul(RK_MULT);

impl Roller for RkRoller {
    type State = u32;
    #[inline(always)]
    fn start(&self, window: &[u8]) -> u32 {
        rk_sum(window)
    }
    #[inline(always)]
    fn roll(&self, h: u32, out: u8, inp: u8) -> u32 {
        h.wrapping_mul(RK_MULT)
            .wrapping_add((inp as u32).wrapping_sub(self.out_term[out as usize]))
    }
    #[inline(always)]
    fn digest(h: u32) -> u32 {
        h
    }
    #[inline(always)]
    fn key(weak: u32) -> u32 {
        weak
    }

    /// Two positions per step: `h(p + 2)` comes from `h(p)` directly
    /// (`MULT^2 * h + MULT * d0 + d1`), so the dependency chain through the
    /// multiplier is half as long as one roll per byte.
    #[inline(never)]
    fn roll_to_hit<const F: u32>(
        &self,
        index: &BlockIndex,
        mut h: u32,
        data: &[u8],
        p: usize,
        end: usize,
    ) -> (usize, u32, bool) {
        let b = index.block_len;
        let filter = index.filter::<F>();
        let pairs = (end - p - 1) / 2;
        let outs = &data[p..p + 2 * pairs];
        let ins = &data[p + b..p + b + 2 * pairs];
        for (k, (o, i)) in outs.chunks_exact(2).zip(ins.chunks_exact(2)).enumerate() {
            if BlockIndex::hit(&filter, Self::key(h)) {
                return (p + 2 * k, h, true);
            }
            let d0 = (i[0] as u32).wrapping_sub(self.out_term[o[0] as usize]);
            let d1 = (i[1] as u32).wrapping_sub(self.out_term[o[1] as usize]);
            let h1 = h.wrapping_mul(RK_MULT).wrapping_add(d0);
            if BlockIndex::hit(&filter, Self::key(h1)) {
                return (p + 2 * k + 1, h1, true);
            }
            h = h
                .wrapping_mul(RK_MULT2)
                .wrapping_add(d0.wrapping_mul(RK_MULT).wrapping_add(d1));
        }
        let mut q = p + 2 * pairs;
        loop {
            if BlockIndex::hit(&filter, Self::key(h)) {
                return (q, h, true);
            }
            if q + 1 >= end {
                return (q, h, false);
            }
            h = self.roll(h, data[q], data[q + b]);
            q += 1;
        }
    }
}

/// rsync's rollsum: `s1 += in - out; s2 += s1 - len * (out + 31)`.
struct RsRoller {
    len: u32,
}

impl Roller for RsRoller {
    type State = (u32, u32);
    #[inline(always)]
    fn start(&self, window: &[u8]) -> (u32, u32) {
        rs_parts(window)
    }
    #[inline(always)]
    fn roll(&self, (s1, s2): (u32, u32), out: u8, inp: u8) -> (u32, u32) {
        let s1 = s1.wrapping_add(inp as u32).wrapping_sub(out as u32);
        let s2 = s2
            .wrapping_add(s1)
            .wrapping_sub(self.len.wrapping_mul(out as u32 + RS_OFFSET));
        (s1, s2)
    }
    #[inline(always)]
    fn digest((s1, s2): (u32, u32)) -> u32 {
        rs_digest(s1, s2)
    }
    #[inline(always)]
    fn key(weak: u32) -> u32 {
        weak.wrapping_mul(FILTER_MIX)
    }
}

/// The weak sum of a window shrinking from the front (the end of NEW).
enum Shrinking {
    Rk { hash: u32, mult: u32 },
    Rs { s1: u32, s2: u32, count: u32 },
}

impl Shrinking {
    fn new(kind: WeakSum, window: &[u8]) -> Shrinking {
        match kind {
            WeakSum::RabinKarp => Shrinking::Rk {
                hash: rk_sum(window),
                mult: pow32(RK_MULT, window.len() as u64),
            },
            WeakSum::Rollsum => {
                let (s1, s2) = rs_parts(window);
                Shrinking::Rs {
                    s1,
                    s2,
                    count: window.len() as u32,
                }
            }
        }
    }

    fn digest(&self) -> u32 {
        match *self {
            Shrinking::Rk { hash, .. } => hash,
            Shrinking::Rs { s1, s2, .. } => rs_digest(s1, s2),
        }
    }

    /// Drops the window's first byte `out` (librsync's `*_rollout`).
    fn rollout(&mut self, out: u8) {
        match self {
            Shrinking::Rk { hash, mult } => {
                *mult = mult.wrapping_mul(RK_INV);
                *hash = hash.wrapping_sub(mult.wrapping_mul((out as u32).wrapping_add(RK_ADJ)));
            }
            Shrinking::Rs { s1, s2, count } => {
                let o = out as u32 + RS_OFFSET;
                *s1 = s1.wrapping_sub(o);
                *s2 = s2.wrapping_sub(count.wrapping_mul(o));
                *count -= 1;
            }
        }
    }
}

// -------------------------------------------------------------- strong sums

/// The longest strong sum (BLAKE2b-256).
const MAX_STRONG: usize = 32;
/// Blocks tried at once when following a run of matching blocks.
const SPECULATE: usize = 4;
/// Strong sums at least this long are trusted without the weak sum when
/// following a run (a false match is then a 2^-64 event).
const TRUSTED_STRONG_LEN: usize = 8;

enum Strong {
    Blake2(blake2b_simd::Params),
    Md4,
}

impl Strong {
    fn new(kind: StrongHash) -> Strong {
        match kind {
            StrongHash::Blake2 => {
                let mut p = blake2b_simd::Params::new();
                p.hash_length(32);
                Strong::Blake2(p)
            }
            StrongHash::Md4 => Strong::Md4,
        }
    }

    /// Strong sums of up to `SPECULATE` windows: BLAKE2b hashes them side
    /// by side (about twice the throughput of one at a time, with AVX2).
    fn sums(&self, windows: &[&[u8]], out: &mut [[u8; MAX_STRONG]; SPECULATE]) {
        match self {
            Strong::Blake2(p) if windows.len() > 1 => {
                let mut jobs: [blake2b_simd::many::HashManyJob; SPECULATE] =
                    std::array::from_fn(|i| {
                        blake2b_simd::many::HashManyJob::new(
                            p,
                            windows.get(i).copied().unwrap_or(&[]),
                        )
                    });
                blake2b_simd::many::hash_many(jobs[..windows.len()].iter_mut());
                for (o, job) in out.iter_mut().zip(&jobs[..windows.len()]) {
                    o.copy_from_slice(job.to_hash().as_bytes());
                }
            }
            _ => {
                for (o, w) in out.iter_mut().zip(windows) {
                    self.sum(w, o);
                }
            }
        }
    }

    fn sum(&self, data: &[u8], out: &mut [u8; MAX_STRONG]) {
        match self {
            Strong::Blake2(p) => out.copy_from_slice(p.hash(data).as_bytes()),
            Strong::Md4 => out[..16].copy_from_slice(&crate::blocksums::md4(data)),
        }
    }
}

/// The strong sum of `data` as a signature stores it (before truncation).
#[cfg(test)]
pub(crate) fn strong_sum(kind: StrongHash, data: &[u8]) -> Vec<u8> {
    let mut out = [0u8; MAX_STRONG];
    Strong::new(kind).sum(data, &mut out);
    out[..kind.digest_len() as usize].to_vec()
}

// ---------------------------------------------------------------- the index

/// The filter of `2^F` bits, as a slice of exactly `2^(F - 6)` words.
#[derive(Clone, Copy)]
struct Filter<'a, const F: u32>(&'a [u64]);

/// One slot of the open-addressing table: a weak sum and its candidates
/// (`order[start..start + len]`, distinct strong sums, lowest block first).
#[derive(Clone, Copy, Default)]
struct Slot {
    weak: u32,
    start: u32,
    len: u32,
}

const FILTER_MIX: u32 = 0x9E37_79B1;
/// Filter bits per block: about 1% false hits on random data (fewer
/// mispredicted branches and table probes) for a filter that still stays in
/// L2 for a few tens of thousands of blocks (a 256 MiB basis has 16,384).
const FILTER_BITS_PER_BLOCK: usize = 128;
/// Filter sizes, log2 of bits: 4 KiB to 4 MiB.
const FILTER_LOG_MIN: u32 = 15;
const FILTER_LOG_MAX: u32 = 25;
const TABLE_MIX: u32 = 0x85EB_CA6B;

/// A signature's blocks, indexed for searching; immutable, so one index is
/// shared by all threads.
pub(crate) struct BlockIndex {
    params: SignatureParams,
    block_len: usize,
    strong_len: usize,
    entry_len: usize,
    /// Blocks searched (all of them unless there are more than `u32::MAX - 1`).
    count: usize,
    /// The raw signature entries: weak sum (BE) then strong sum, per block.
    entries: Vec<u8>,
    /// Each block's weak sum.
    weak: Vec<u32>,
    /// Bit filter of the weak sums (their filter keys, `Roller::key`): one
    /// bit per block, indexed by the key's top `filter_log` bits.
    filter: Vec<u64>,
    /// log2 of the filter's size in bits.
    filter_log: u32,
    /// Open-addressing hash table of the distinct weak sums.
    table: Vec<Slot>,
    table_shift: u32,
    table_mask: usize,
    /// Block numbers grouped by weak sum, one per distinct strong sum.
    order: Vec<u32>,
    strong: Strong,
}

impl BlockIndex {
    /// Builds the index from a checked header and the raw block entries
    /// (weak u32 BE + `strong_len` bytes each; `entries.len()` is a multiple
    /// of `params.entry_len()`; a partial entry at the end is ignored).
    /// Parameters a checked header cannot have (a block length of 0, a strong
    /// sum longer than the hash) give an index that matches nothing.
    pub(crate) fn new(params: SignatureParams, entries: Vec<u8>) -> BlockIndex {
        let entry_len = params.entry_len();
        let strong_len = params.strong_len as usize;
        let block_len = (params.block_len as usize).max(1);
        let sane = params.block_len > 0 && params.strong_len <= params.strong.digest_len();
        let count = if sane {
            (entries.len() / entry_len).min(u32::MAX as usize - 1)
        } else {
            0
        };
        let weak: Vec<u32> = entries
            .chunks_exact(entry_len)
            .take(count)
            .map(|e| u32::from_be_bytes([e[0], e[1], e[2], e[3]]))
            .collect();
        let strong_of = |j: u32| {
            let at = j as usize * entry_len + 4;
            &entries[at..at + strong_len]
        };

        // Candidates: distinct (weak, strong) pairs, the lowest block of each,
        // grouped by weak sum, in block order within a group (librsync's
        // table keeps the first of equal blocks and probes in insertion order).
        let mut keyed: Vec<u64> = weak
            .iter()
            .enumerate()
            .map(|(j, &w)| (w as u64) << 32 | j as u64)
            .collect();
        keyed.sort_unstable();
        let mut order: Vec<u32> = Vec::with_capacity(count);
        let mut groups: Vec<(u32, u32, u32)> = Vec::new(); // weak, start, len
        let mut i = 0;
        while i < keyed.len() {
            let w = (keyed[i] >> 32) as u32;
            let mut j = i + 1;
            while j < keyed.len() && (keyed[j] >> 32) as u32 == w {
                j += 1;
            }
            let start = order.len();
            if j - i == 1 {
                order.push(keyed[i] as u32);
            } else {
                // equal weak sums: keep the first block of each strong sum
                let mut same: Vec<u32> = keyed[i..j].iter().map(|&k| k as u32).collect();
                same.sort_by(|&a, &b| strong_of(a).cmp(strong_of(b)).then(a.cmp(&b)));
                same.dedup_by(|later, first| strong_of(*later) == strong_of(*first));
                same.sort_unstable();
                order.extend_from_slice(&same);
            }
            groups.push((w, start as u32, (order.len() - start) as u32));
            i = j;
        }

        let table_bits = (groups.len() * 2)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let table_mask = (1usize << table_bits) - 1;
        let table_shift = 32 - table_bits;
        let mut table = vec![Slot::default(); table_mask + 1];
        for &(w, start, len) in &groups {
            let mut s = (w.wrapping_mul(TABLE_MIX) >> table_shift) as usize;
            while table[s].len != 0 {
                s = (s + 1) & table_mask;
            }
            table[s] = Slot {
                weak: w,
                start,
                len,
            };
        }

        let filter_log = (count * FILTER_BITS_PER_BLOCK)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(FILTER_LOG_MIN, FILTER_LOG_MAX);
        let mut filter = vec![0u64; 1usize << (filter_log - 6)];
        for &w in &weak {
            let key = match params.weak {
                WeakSum::RabinKarp => RkRoller::key(w),
                WeakSum::Rollsum => RsRoller::key(w),
            };
            let i = (key >> (32 - filter_log)) as usize;
            filter[i >> 6] |= 1u64 << (i & 63);
        }
        BlockIndex {
            params,
            block_len,
            strong_len,
            entry_len,
            count,
            entries,
            weak,
            filter,
            filter_log,
            table,
            table_shift,
            table_mask,
            order,
            strong: Strong::new(params.strong),
        }
    }

    /// Blocks in the signature.
    #[cfg(test)]
    pub(crate) fn block_count(&self) -> u64 {
        self.count as u64
    }

    /// The signature's parameters.
    #[cfg(test)]
    pub(crate) fn params(&self) -> &SignatureParams {
        &self.params
    }

    fn strong_of(&self, j: usize) -> &[u8] {
        let at = j * self.entry_len + 4;
        &self.entries[at..at + self.strong_len]
    }

    /// How many bytes from basis offset `pos` (up to `len`) are whole blocks
    /// equal, one for one, to the blocks from offset `at`: both offsets must
    /// be block boundaries; blocks are equal when their weak and strong sums are.
    fn equal_blocks(&self, at: u64, pos: u64, len: u64) -> u64 {
        let b = self.block_len as u64;
        if !at.is_multiple_of(b) || !pos.is_multiple_of(b) || at == pos {
            return 0;
        }
        let (i, j) = ((pos / b) as usize, (at / b) as usize);
        let mut t = 0;
        while (t + 1) * b <= len
            && j + (t as usize) < self.count
            && i + (t as usize) < self.count
            && self.weak[i + t as usize] == self.weak[j + t as usize]
            && self.strong_of(i + t as usize) == self.strong_of(j + t as usize)
        {
            t += 1;
        }
        t * b
    }

    /// Whether a filter key (`Roller::key`) passes the filter: a blocked
    /// Bloom filter, two bits in one 64-bit word.
    /// Whether a filter key (`Roller::key`) passes the filter of `2^F` bits
    /// (`F == self.filter_log`; a constant, so the index is a constant shift).
    #[inline(always)]
    fn hit<const F: u32>(filter: &Filter<F>, key: u32) -> bool {
        let i = (key >> (32 - F)) as usize;
        // `filter.0` has exactly `2^(F - 6)` words: no bounds check here
        (filter.0[i >> 6] >> (i & 63)) & 1 != 0
    }

    /// The filter as `2^F` bits (`F == self.filter_log`).
    #[inline(always)]
    fn filter<const F: u32>(&self) -> Filter<'_, F> {
        Filter(&self.filter[..1 << (F - 6)])
    }

    /// Tries the blocks following block `j` at `p`, `p + block_len`, ...
    /// (positions before `roll_end`, windows within `data`). Returns how
    /// many matched and whether the window after them was tried and
    /// differs (its strong sum then is in `sum`). `run` counts the blocks
    /// matched so: after a few, several are hashed at once.
    #[allow(clippy::too_many_arguments)]
    fn follow(
        &self,
        data: &[u8],
        p: usize,
        roll_end: usize,
        j: usize,
        run: &mut usize,
        sum: &mut StrongCache,
        ms: &mut MatchStats,
    ) -> (usize, bool) {
        let b = self.block_len;
        let sl = self.strong_len;
        let mut sums = [[0u8; MAX_STRONG]; SPECULATE];
        let mut n = 0;
        loop {
            let (next, q) = (j + 1 + n, p + n * b);
            let fit = |i: usize| {
                next + i < self.count && q + i * b < roll_end && q + (i + 1) * b <= data.len()
            };
            if !fit(0) {
                return (n, false);
            }
            // MD4 gains nothing from hashing several at once
            let most = match self.strong {
                Strong::Blake2(_) => SPECULATE,
                Strong::Md4 => 1,
            };
            let mut k = 1;
            while k < most && k <= *run && fit(k) {
                k += 1;
            }
            let windows: [&[u8]; SPECULATE] = std::array::from_fn(|i| {
                if i < k {
                    &data[q + i * b..q + (i + 1) * b]
                } else {
                    &[]
                }
            });
            self.strong.sums(&windows[..k], &mut sums);
            for (i, strong) in sums[..k].iter().enumerate() {
                ms.searches += 1;
                ms.weak_compares += 1;
                ms.strong_calcs += 1;
                ms.strong_compares += 1;
                let same = strong[..sl] == *self.strong_of(next + i)
                    && (sl >= TRUSTED_STRONG_LEN
                        || self.weak[next + i] == weak_sum(self.params.weak, windows[i]));
                if !same {
                    *run = 0;
                    sum.set(strong);
                    return (n, true);
                }
                ms.matches += 1;
                n += 1;
                *run += 1;
            }
        }
    }

    /// Looks `weak` up for `window`; returns the matching block.
    fn lookup(
        &self,
        weak: u32,
        window: &[u8],
        sum: &mut StrongCache,
        ms: &mut MatchStats,
    ) -> Option<usize> {
        let mut s = (weak.wrapping_mul(TABLE_MIX) >> self.table_shift) as usize;
        loop {
            let slot = self.table[s];
            ms.weak_compares += 1;
            if slot.len == 0 {
                return None;
            }
            if slot.weak == weak {
                let start = slot.start as usize;
                for &j in &self.order[start..start + slot.len as usize] {
                    let j = j as usize;
                    ms.strong_compares += 1;
                    if sum.get(self, window, ms)[..self.strong_len] == *self.strong_of(j) {
                        ms.matches += 1;
                        return Some(j);
                    }
                }
                return None;
            }
            s = (s + 1) & self.table_mask;
        }
    }

    /// Scans `data` (NEW from offset `base`) from `*pos`, deciding positions
    /// up to `stop` (exclusive); a match may run past `stop` but not past
    /// `data.len()`. Positions before `stop` need a whole block in `data`
    /// unless `at_eof` (then `data` ends where NEW does, `stop == data.len()`,
    /// and the shrinking window is checked against the last block). `prev`
    /// is the block matched just before `*pos`, if any. Literal data up to
    /// the end position goes to the sink before returning.
    #[allow(clippy::too_many_arguments)]
    fn scan<R: Roller, S: Sink>(
        &self,
        roller: &R,
        data: &[u8],
        pos: &mut usize,
        stop: usize,
        at_eof: bool,
        prev: &mut Option<usize>,
        ms: &mut MatchStats,
        sink: &mut S,
    ) -> Result<()> {
        let b = self.block_len;
        let mut p = *pos;
        let mut lit = p;
        let full_end = if data.len() >= b {
            data.len() - b + 1
        } else {
            0
        };
        let roll_end = stop.min(full_end);
        let mut sum = StrongCache::default();
        if self.count == 0 {
            p = p.max(stop);
        }
        let mut run = 0;
        'fresh: while p < roll_end {
            sum.reset();
            if let Some(j) = *prev {
                // Right after a match: try the following blocks first.
                let (n, failed) = self.follow(data, p, roll_end, j, &mut run, &mut sum, ms);
                if n > 0 {
                    sink.literal(data, lit, p)?;
                    sink.copy(((j + 1) * b) as u64, (n * b) as u64)?;
                    p += n * b;
                    lit = p;
                    *prev = Some(j + n);
                }
                if !failed {
                    if n == 0 {
                        *prev = None;
                    }
                    continue 'fresh;
                }
                // the window at p is not the next block: search it
                *prev = None;
            }
            let mut st = roller.start(&data[p..p + b]);
            loop {
                let (q, s, hit) = roll_any(roller, self, st, data, p, roll_end);
                ms.searches += (q - p + 1) as u64;
                if q != p {
                    sum.reset();
                }
                p = q;
                st = s;
                if hit {
                    let window = &data[p..p + b];
                    if let Some(j) = self.lookup(R::digest(st), window, &mut sum, ms) {
                        sink.literal(data, lit, p)?;
                        sink.copy((j * b) as u64, b as u64)?;
                        p += b;
                        lit = p;
                        *prev = Some(j);
                        continue 'fresh;
                    }
                }
                p += 1;
                if p >= roll_end {
                    break 'fresh;
                }
                st = roller.roll(st, data[p - 1], data[p - 1 + b]);
                sum.reset();
            }
        }
        if at_eof && p < data.len() {
            // The end of NEW: windows shorter than a block, shrinking; only
            // the basis's (short) last block can match one.
            p = p.max(full_end).max(*pos);
            if self.count > 0 && p < data.len() {
                let last = self.count - 1;
                let target = self.weak[last];
                let mut w = Shrinking::new(self.params.weak, &data[p..]);
                while p < data.len() {
                    ms.searches += 1;
                    if w.digest() == target {
                        ms.weak_compares += 1;
                        ms.strong_compares += 1;
                        sum.reset();
                        if sum.get(self, &data[p..], ms)[..self.strong_len] == *self.strong_of(last)
                        {
                            ms.matches += 1;
                            sink.literal(data, lit, p)?;
                            sink.copy((last * b) as u64, (data.len() - p) as u64)?;
                            p = data.len();
                            lit = p;
                            *prev = Some(last);
                            break;
                        }
                    }
                    w.rollout(data[p]);
                    p += 1;
                }
            }
            p = data.len();
        }
        sink.literal(data, lit, p.max(lit))?;
        *pos = p.max(lit);
        Ok(())
    }
}

/// `Roller::roll_to_hit` for the index's filter size.
#[inline(always)]
fn roll_any<R: Roller>(
    roller: &R,
    index: &BlockIndex,
    st: R::State,
    data: &[u8],
    p: usize,
    end: usize,
) -> (usize, R::State, bool) {
    match index.filter_log {
        15 => roller.roll_to_hit::<15>(index, st, data, p, end),
        16 => roller.roll_to_hit::<16>(index, st, data, p, end),
        17 => roller.roll_to_hit::<17>(index, st, data, p, end),
        18 => roller.roll_to_hit::<18>(index, st, data, p, end),
        19 => roller.roll_to_hit::<19>(index, st, data, p, end),
        20 => roller.roll_to_hit::<20>(index, st, data, p, end),
        21 => roller.roll_to_hit::<21>(index, st, data, p, end),
        22 => roller.roll_to_hit::<22>(index, st, data, p, end),
        23 => roller.roll_to_hit::<23>(index, st, data, p, end),
        24 => roller.roll_to_hit::<24>(index, st, data, p, end),
        _ => roller.roll_to_hit::<FILTER_LOG_MAX>(index, st, data, p, end),
    }
}

/// The strong sum of the window at the current position, computed at most once.
#[derive(Default)]
struct StrongCache {
    valid: bool,
    sum: [u8; MAX_STRONG],
}

impl StrongCache {
    fn reset(&mut self) {
        self.valid = false;
    }

    fn set(&mut self, sum: &[u8; MAX_STRONG]) {
        self.sum = *sum;
        self.valid = true;
    }

    fn get(&mut self, index: &BlockIndex, window: &[u8], ms: &mut MatchStats) -> &[u8; MAX_STRONG] {
        if !self.valid {
            ms.strong_calcs += 1;
            index.strong.sum(window, &mut self.sum);
            self.valid = true;
        }
        &self.sum
    }
}

fn add_match_stats(a: &mut MatchStats, b: &MatchStats) {
    a.searches += b.searches;
    a.matches += b.matches;
    a.weak_compares += b.weak_compares;
    a.strong_compares += b.strong_compares;
    a.strong_calcs += b.strong_calcs;
}

/// Runs `scan` with the roller the signature's weak sum needs.
#[allow(clippy::too_many_arguments)]
fn scan_with<S: Sink>(
    index: &BlockIndex,
    rollers: &Rollers,
    data: &[u8],
    pos: &mut usize,
    stop: usize,
    at_eof: bool,
    prev: &mut Option<usize>,
    ms: &mut MatchStats,
    sink: &mut S,
) -> Result<()> {
    match rollers {
        Rollers::Rk(r) => index.scan(&**r, data, pos, stop, at_eof, prev, ms, sink),
        Rollers::Rs(r) => index.scan(r, data, pos, stop, at_eof, prev, ms, sink),
    }
}

enum Rollers {
    Rk(Box<RkRoller>),
    Rs(RsRoller),
}

impl Rollers {
    fn new(index: &BlockIndex) -> Rollers {
        match index.params.weak {
            WeakSum::RabinKarp => Rollers::Rk(Box::new(RkRoller::new(index.block_len))),
            WeakSum::Rollsum => Rollers::Rs(RsRoller {
                len: index.block_len as u32,
            }),
        }
    }
}

// ----------------------------------------------------------------- commands

/// Where the scan's decisions go: literal ranges of the scanned data, COPYs.
trait Sink {
    fn literal(&mut self, data: &[u8], start: usize, end: usize) -> Result<()>;
    fn copy(&mut self, pos: u64, len: u64) -> Result<()>;
}

/// Bytes needed for `v` in librsync's encoding (`rs_int_len`): 1, 2, 4 or 8.
fn int_len(v: u64) -> usize {
    if v <= 0xff {
        1
    } else if v <= 0xffff {
        2
    } else if v <= 0xffff_ffff {
        4
    } else {
        8
    }
}

fn width_index(w: usize) -> u8 {
    match w {
        1 => 0,
        2 => 1,
        4 => 2,
        _ => 3,
    }
}

/// Appends a LITERAL command header for `len` bytes; returns its size.
fn encode_literal(buf: &mut Vec<u8>, len: u64) -> usize {
    if len <= 64 {
        buf.push(len as u8);
        1
    } else {
        let w = int_len(len);
        buf.push(0x41 + width_index(w));
        buf.extend_from_slice(&len.to_be_bytes()[8 - w..]);
        1 + w
    }
}

/// Appends a COPY command; returns its size.
fn encode_copy(buf: &mut Vec<u8>, pos: u64, len: u64) -> usize {
    let (wp, wl) = (int_len(pos), int_len(len));
    buf.push(0x45 + 4 * width_index(wp) + width_index(wl));
    buf.extend_from_slice(&pos.to_be_bytes()[8 - wp..]);
    buf.extend_from_slice(&len.to_be_bytes()[8 - wl..]);
    1 + wp + wl
}

/// The most written to the output at once.
const WRITE_PIECE: usize = 256 * 1024;

/// Literal runs up to this long are held back so that a run continued by
/// the next buffer or chunk still becomes one command.
const LITERAL_CARRY: usize = 64 * 1024;

/// Encodes commands as librsync does and writes them, merging contiguous
/// COPYs and adjacent literals.
struct Emitter<'w, W: Write> {
    out: &'w mut W,
    buf: Vec<u8>,
    buf_cap: usize,
    copy: Option<(u64, u64)>,
    lit: Vec<u8>,
    stats: Stats,
}

impl<'w, W: Write> Emitter<'w, W> {
    fn new(out: &'w mut W, out_buf: usize) -> Result<Emitter<'w, W>> {
        let buf_cap = out_buf.clamp(64 * 1024, WRITE_PIECE);
        let mut e = Emitter {
            out,
            buf: Vec::with_capacity(buf_cap),
            buf_cap,
            copy: None,
            lit: Vec::new(),
            stats: Stats::new(Op::Delta),
        };
        e.buf.extend_from_slice(&DELTA_MAGIC.to_be_bytes());
        e.stats.out_bytes = 4;
        Ok(e)
    }

    fn flush_buf(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.out
                .write_all(&self.buf)
                .map_err(|e| Error::io(Role::Output, "write failed", e))?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Makes room for a small command in the buffer.
    fn room(&mut self, n: usize) -> Result<()> {
        if self.buf.len() + n > self.buf_cap {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn put_data(&mut self, data: &[u8]) -> Result<()> {
        self.stats.out_bytes += data.len() as u64;
        if self.buf.len() + data.len() <= self.buf_cap {
            self.buf.extend_from_slice(data);
            return Ok(());
        }
        self.flush_buf()?;
        if data.len() < self.buf_cap / 2 {
            self.buf.extend_from_slice(data);
            return Ok(());
        }
        // Big literal runs go straight from NEW's buffer, in pieces: single
        // writes of several MiB were several times slower here (Linux 6,
        // page cache) than the same bytes in 256 KiB writes.
        for piece in data.chunks(WRITE_PIECE) {
            self.out
                .write_all(piece)
                .map_err(|e| Error::io(Role::Output, "write failed", e))?;
        }
        Ok(())
    }

    fn literal_header(&mut self, len: u64) -> Result<()> {
        self.room(9)?;
        let n = encode_literal(&mut self.buf, len);
        self.stats.lit_cmds += 1;
        self.stats.lit_bytes += len;
        self.stats.lit_cmdbytes += n as u64;
        self.stats.out_bytes += n as u64;
        Ok(())
    }

    fn flush_copy(&mut self) -> Result<()> {
        if let Some((pos, len)) = self.copy.take() {
            self.room(17)?;
            let n = encode_copy(&mut self.buf, pos, len);
            self.stats.copy_cmds += 1;
            self.stats.copy_bytes += len;
            self.stats.copy_cmdbytes += n as u64;
            self.stats.out_bytes += n as u64;
        }
        Ok(())
    }

    fn flush_literal(&mut self) -> Result<()> {
        if !self.lit.is_empty() {
            let lit = std::mem::take(&mut self.lit);
            self.literal_header(lit.len() as u64)?;
            self.put_data(&lit)?;
            self.lit = lit;
            self.lit.clear();
        }
        Ok(())
    }

    fn literal_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.flush_copy()?;
        if self.lit.len() + bytes.len() <= LITERAL_CARRY {
            self.lit.extend_from_slice(bytes);
            return Ok(());
        }
        let lit = std::mem::take(&mut self.lit);
        self.literal_header((lit.len() + bytes.len()) as u64)?;
        self.put_data(&lit)?;
        self.put_data(bytes)?;
        self.lit = lit;
        self.lit.clear();
        Ok(())
    }

    fn copy_range(&mut self, pos: u64, len: u64) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.flush_literal()?;
        if let Some((p, l)) = self.copy {
            if p + l == pos {
                self.copy = Some((p, l + len));
                return Ok(());
            }
            self.flush_copy()?;
        }
        self.copy = Some((pos, len));
        Ok(())
    }

    /// Where the pending COPY ends in the basis, if a COPY is pending.
    fn copy_end(&self) -> Option<u64> {
        self.copy.map(|(p, l)| p + l)
    }

    /// Writes what is pending and the END command; returns the statistics.
    fn finish(mut self) -> Result<Stats> {
        self.flush_copy()?;
        self.flush_literal()?;
        self.room(1)?;
        self.buf.push(0);
        self.stats.out_bytes += 1;
        self.flush_buf()?;
        Ok(self.stats)
    }
}

impl<W: Write> Sink for Emitter<'_, W> {
    fn literal(&mut self, data: &[u8], start: usize, end: usize) -> Result<()> {
        if end > start {
            self.literal_bytes(&data[start..end])?;
        }
        Ok(())
    }

    fn copy(&mut self, pos: u64, len: u64) -> Result<()> {
        self.copy_range(pos, len)
    }
}

/// A command of a chunk scanned by a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmd {
    /// Literal bytes `start..end` of the chunk's buffer.
    Literal { start: usize, end: usize },
    /// `len` bytes of the basis from `pos`.
    Copy { pos: u64, len: u64 },
}

impl Cmd {
    fn len(&self) -> u64 {
        match *self {
            Cmd::Literal { start, end } => (end - start) as u64,
            Cmd::Copy { len, .. } => len,
        }
    }
}

#[derive(Default)]
struct Recorder {
    cmds: Vec<Cmd>,
}

impl Sink for Recorder {
    fn literal(&mut self, _data: &[u8], start: usize, end: usize) -> Result<()> {
        if end > start {
            if let Some(Cmd::Literal { end: e, .. }) = self.cmds.last_mut()
                && *e == start
            {
                *e = end;
                return Ok(());
            }
            self.cmds.push(Cmd::Literal { start, end });
        }
        Ok(())
    }

    fn copy(&mut self, pos: u64, len: u64) -> Result<()> {
        if let Some(Cmd::Copy { pos: p, len: l }) = self.cmds.last_mut()
            && *p + *l == pos
        {
            *l += len;
            return Ok(());
        }
        self.cmds.push(Cmd::Copy { pos, len });
        Ok(())
    }
}

// ---------------------------------------------------------------- streaming

fn read_error(e: io::Error) -> Error {
    Error::io(Role::New, "read failed", e)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn fill<R: Read>(new: &mut R, buf: &mut [u8]) -> Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match new.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_error(e)),
        }
    }
    Ok(n)
}

/// Threads and buffer sizes of a delta.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tuning {
    /// Threads searching NEW (the parallel path also has a writer thread).
    pub jobs: usize,
    /// Bytes read from NEW at a time (rdiff's `-I`); raised to at least 1 MiB.
    pub in_buf: usize,
    /// Bytes written at a time (rdiff's `-O`); kept within 64..256 KiB.
    pub out_buf: usize,
    /// Counts the bytes of NEW searched so far, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
}

/// Bytes read from NEW at a time by the streaming path.
fn read_len(in_buf: usize) -> usize {
    in_buf.clamp(1 << 20, 16 << 20)
}

/// Writes the delta of `new` against `index` to `out` on this thread, reading
/// `new` sequentially (a pipe, or any reader; `tuning.jobs` is not used).
/// Memory: about one block plus the read buffer (`in_buf`, at least 1 MiB)
/// plus the write buffer (`out_buf`, 64 to 256 KiB). Does not flush `out`.
pub(crate) fn delta_stream<R: Read, W: Write>(
    index: &BlockIndex,
    mut new: R,
    out: &mut W,
    tuning: &Tuning,
) -> Result<(Stats, MatchStats)> {
    let Tuning {
        in_buf, out_buf, ..
    } = *tuning;
    let started = Instant::now();
    let b = index.block_len;
    let rollers = Rollers::new(index);
    let mut em = Emitter::new(out, out_buf)?;
    let mut ms = MatchStats::default();
    // Start small (a small NEW costs no big zeroed buffer) and grow to the
    // read length while NEW goes on.
    let full = read_len(in_buf);
    let mut buf = vec![0u8; b + full.min(64 * 1024)];
    let mut filled = 0;
    let mut pos = 0;
    let mut prev = None;
    let mut in_bytes = 0u64;
    loop {
        let n = fill(&mut new, &mut buf[filled..])?;
        filled += n;
        in_bytes += n as u64;
        let eof = filled < buf.len();
        let data = &buf[..filled];
        let stop = if eof {
            filled
        } else {
            filled + 1 - b // positions with a whole block ahead
        };
        scan_with(
            index, &rollers, data, &mut pos, stop, eof, &mut prev, &mut ms, &mut em,
        )?;
        if eof {
            break;
        }
        // Keep the bytes not yet decided (less than a block) and read on.
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        pos = 0;
        if buf.len() < b + full {
            buf.resize(b + full.min(4 * (buf.len() - b)), 0);
        }
    }
    let mut stats = em.finish()?;
    stats.in_bytes = in_bytes;
    stats.elapsed = started.elapsed();
    Ok((stats, ms))
}

// ----------------------------------------------------------------- parallel

/// Target length of the chunks the parallel path splits NEW into.
const CHUNK_LEN: usize = 2 << 20;
/// Blocks longer than this are searched by the streaming path.
const MAX_PARALLEL_BLOCK: usize = 4 << 20;

/// Reads a file by position, as a sequential reader.
struct FileAt<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
    progress: Option<&'f AtomicU64>,
}

impl Read for FileAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        let k = self.file.read_at(&mut buf[..n], self.pos)?;
        if k == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was read",
            ));
        }
        self.pos += k as u64;
        if let Some(counter) = self.progress {
            counter.fetch_add(k as u64, Ordering::Relaxed);
        }
        Ok(k)
    }
}

/// Writes the delta of the `len` bytes of `file` from offset `start` against
/// `index` to `out`, using up to `tuning.jobs` threads (this one included).
/// Chunks of NEW are read by position (`read_at`), so the file's offset is
/// neither used nor moved: for stdin redirected from a file, pass its current
/// offset as `start` and the bytes after it as `len`, as rdiff reads it.
/// Memory: about (jobs + 2) x (4 MiB + block length) plus the write buffer.
/// The delta is byte-identical for every `jobs`: the chunks do not depend on
/// it. A file that ends before `start + len` is a read error; bytes after it
/// are not read.
pub(crate) fn delta_file<W: Write>(
    index: &BlockIndex,
    file: &File,
    start: u64,
    len: u64,
    out: &mut W,
    tuning: &Tuning,
) -> Result<(Stats, MatchStats)> {
    let b = index.block_len;
    // A chunk's commands take up to ~48 / block_len bytes per byte of NEW:
    // tiny blocks get shorter chunks, so that memory stays bounded.
    let chunk = CHUNK_LEN.min(b * 64 * 1024).max(4 * b).div_ceil(b) * b;
    delta_file_chunked(index, file, start, len, out, tuning, chunk)
}

fn delta_file_chunked<W: Write>(
    index: &BlockIndex,
    file: &File,
    start: u64,
    len: u64,
    out: &mut W,
    tuning: &Tuning,
    chunk: usize,
) -> Result<(Stats, MatchStats)> {
    let Tuning { jobs, out_buf, .. } = *tuning;
    let progress = tuning.progress.as_deref();
    let b = index.block_len;
    let chunk = chunk.max(b);
    let chunks = (len / chunk as u64).max(1);
    if chunks < 2 || b > MAX_PARALLEL_BLOCK || index.count == 0 {
        let reader = FileAt {
            file,
            pos: start,
            end: start + len,
            progress,
        };
        return delta_stream(index, reader, out, tuning);
    }
    let started = Instant::now();
    // Chunk k covers [k * chunk, (k + 1) * chunk), the last one the rest
    // (at least `chunk` bytes, so the end of NEW is in one chunk).
    let chunks = chunks as usize;
    let chunk_range = |k: usize| {
        let a = k as u64 * chunk as u64;
        let e = if k + 1 == chunks {
            len
        } else {
            a + chunk as u64
        };
        (a, e)
    };
    let rollers = Rollers::new(index);
    // `jobs - 1` helper threads scan chunks; this thread writes them in
    // order and scans too whenever the next chunk to write is not ready (a
    // dedicated writer thread would compete with the scanners for cores).
    let helpers = jobs.clamp(1, chunks) - 1;
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..helpers + 3 {
        let _ = free_tx.send(Vec::new());
    }
    let free_rx = Mutex::new(free_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Result<Scanned>)>();
    // Scans the next unclaimed chunk into `buf`; None when all are claimed.
    let scan_next = |buf: Vec<u8>| -> Option<(usize, Result<Scanned>)> {
        let k = next.fetch_add(1, Ordering::SeqCst);
        if k >= chunks || abort.load(Ordering::SeqCst) {
            return None;
        }
        let (a, e) = chunk_range(k);
        let last = k + 1 == chunks;
        let read_end = if last {
            len
        } else {
            (e + b as u64 - 1).min(len)
        };
        let scanned = scan_chunk(index, &rollers, file, start, a, e, read_end, last, buf);
        if let Some(counter) = progress {
            counter.fetch_add(e - a, Ordering::Relaxed);
        }
        Some((k, scanned))
    };

    std::thread::scope(|scope| {
        for _ in 0..helpers {
            let done_tx = done_tx.clone();
            let (free_rx, scan_next) = (&free_rx, &scan_next);
            scope.spawn(move || {
                loop {
                    // A buffer first, then a chunk number: the chunk the
                    // writer waits for is always being scanned.
                    let buf = match free_rx.lock() {
                        Ok(rx) => match rx.recv() {
                            Ok(buf) => buf,
                            Err(_) => return,
                        },
                        Err(_) => return,
                    };
                    match scan_next(buf) {
                        Some(done) => {
                            if done_tx.send(done).is_err() {
                                return;
                            }
                        }
                        None => return,
                    }
                }
            });
        }
        drop(done_tx);

        let result = (|| -> Result<(Stats, MatchStats)> {
            let mut join = Joiner {
                index,
                rollers: &rollers,
                em: Emitter::new(out, out_buf)?,
                ms: MatchStats::default(),
                covered: 0,
                prev: None,
            };
            let mut waiting: BTreeMap<usize, Scanned> = BTreeMap::new();
            let mut k = 0;
            while k < chunks {
                if let Some(scanned) = waiting.remove(&k) {
                    join.join(&scanned)?;
                    let _ = free_tx.send(scanned.buf);
                    k += 1;
                    continue;
                }
                if let Ok((i, r)) = done_rx.try_recv() {
                    waiting.insert(i, r?);
                    continue;
                }
                // Nothing to write: scan a chunk here, if a buffer is free
                // (a helper waiting for one holds the lock: then there is none).
                let free = free_rx.try_lock().ok().and_then(|rx| rx.try_recv().ok());
                if let Some(buf) = free {
                    // (all chunks claimed: the loop ends up waiting below)
                    if let Some((i, r)) = scan_next(buf) {
                        waiting.insert(i, r?);
                    }
                    continue;
                }
                match done_rx.recv() {
                    Ok((i, r)) => {
                        waiting.insert(i, r?);
                    }
                    Err(_) => {
                        return Err(Error::new(Status::Internal, "a delta worker stopped"));
                    }
                }
            }
            if join.covered != len {
                return Err(Error::new(
                    Status::Internal,
                    "delta chunks do not cover NEW",
                ));
            }
            let mut stats = join.em.finish()?;
            stats.in_bytes = len;
            stats.elapsed = started.elapsed();
            Ok((stats, join.ms))
        })();
        if result.is_err() {
            abort.store(true, Ordering::SeqCst);
        }
        drop(free_tx);
        result
    })
}

/// A chunk scanned by a worker: its data and commands.
struct Scanned {
    /// NEW offset of `buf[0]` and of the first command.
    base: u64,
    buf: Vec<u8>,
    /// Positions `0..stop` of `buf` were decided by the scan.
    stop: usize,
    /// Where the commands end (a match may run past `stop`).
    end: usize,
    /// The block matched just before `end`, if any.
    end_prev: Option<usize>,
    /// The last chunk: `buf` ends where NEW does.
    last: bool,
    cmds: Vec<Cmd>,
    ms: MatchStats,
}

/// The states a scan passed through: the positions where it looked a window
/// up without a preferred block (inclusive ranges), and the positions right
/// after a match with the block matched. Two scans in the same state at the
/// same position go on identically.
#[derive(Default)]
struct Trajectory {
    fresh: Vec<(u64, u64)>,
    after: Vec<(u64, usize)>,
}

impl Trajectory {
    fn of(block_len: usize, start: u64, prev: Option<usize>, cmds: &[Cmd]) -> Trajectory {
        let b = block_len as u64;
        let mut t = Trajectory::default();
        let mut x = start;
        let mut after = prev.is_some();
        if let Some(j) = prev {
            t.after.push((x, j));
        }
        for cmd in cmds {
            match *cmd {
                Cmd::Literal { start, end } => {
                    let n = (end - start) as u64;
                    t.add_fresh(if after { x + 1 } else { x }, x + n);
                    after = false;
                    x += n;
                }
                Cmd::Copy { pos, len } => {
                    if !after {
                        t.add_fresh(x, x);
                    }
                    for k in 1..=len / b {
                        t.after.push((x + k * b, (pos / b + k - 1) as usize));
                    }
                    if len % b != 0 {
                        t.after.push((x + len, ((pos + len - 1) / b) as usize));
                    }
                    after = true;
                    x += len;
                }
            }
        }
        t
    }

    fn add_fresh(&mut self, s: u64, e: u64) {
        if s > e {
            return;
        }
        if let Some(last) = self.fresh.last_mut()
            && last.1 + 1 >= s
        {
            last.1 = last.1.max(e);
            return;
        }
        self.fresh.push((s, e));
    }

    /// The first position where `self` and `other` are in the same state.
    fn first_common(&self, other: &Trajectory) -> Option<u64> {
        let mut best: Option<u64> = None;
        for &(s, e) in &self.fresh {
            let i = other.fresh.partition_point(|r| r.1 < s);
            if let Some(&(os, _)) = other.fresh.get(i)
                && os <= e
            {
                best = Some(s.max(os));
                break;
            }
        }
        for &(x, j) in &self.after {
            if best.is_some_and(|b| b <= x) {
                break;
            }
            let i = other.after.partition_point(|a| a.0 < x);
            if other.after.get(i) == Some(&(x, j)) {
                best = Some(x);
                break;
            }
        }
        best
    }
}

/// The writer's side of the parallel path: joins scanned chunks in order.
struct Joiner<'a, 'w, W: Write> {
    index: &'a BlockIndex,
    rollers: &'a Rollers,
    em: Emitter<'w, W>,
    ms: MatchStats,
    /// NEW bytes described so far.
    covered: u64,
    /// The block matched just before `covered`, if any.
    prev: Option<usize>,
}

impl<W: Write> Joiner<'_, '_, W> {
    /// Appends chunk `s`. It was scanned from its start without a preferred
    /// block; where the delta so far ends elsewhere or right after a match,
    /// the chunk is scanned again from there as the sequential scan would,
    /// until that scan reaches a position and state the chunk's own scan
    /// went through; from there on the chunk's commands are the sequential
    /// scan's. Should that take long (repetitive data can keep two scans
    /// apart), the chunk's commands are cut where the new scan stopped.
    fn join(&mut self, s: &Scanned) -> Result<()> {
        let a = s.base;
        let end = a + s.end as u64;
        add_match_stats(&mut self.ms, &s.ms);
        if self.covered < a {
            return Err(Error::new(Status::Internal, "delta chunks leave a gap"));
        }
        if self.covered >= end {
            return Ok(());
        }
        if self.covered == a && self.prev.is_none() {
            self.emit(s, a, &s.cmds, a, end)?;
            self.covered = end;
            self.prev = s.end_prev;
            return Ok(());
        }
        let b = self.index.block_len;
        let own = Trajectory::of(b, a, None, &s.cmds);
        let from = self.covered;
        let mut rec = Recorder::default();
        let mut pos = (from - a) as usize;
        let mut prev = self.prev;
        let limit = pos + (32 * b).max(64 * 1024);
        let mut step = 2 * b;
        loop {
            let mut stop = (pos + step).min(s.stop);
            let mut eof = false;
            if s.last && stop + b > s.buf.len() {
                stop = s.stop;
                eof = true;
            }
            scan_with(
                self.index,
                self.rollers,
                &s.buf,
                &mut pos,
                stop,
                eof,
                &mut prev,
                &mut self.ms,
                &mut rec,
            )?;
            let again = Trajectory::of(b, from, self.prev, &rec.cmds);
            let reach = a + pos as u64;
            if let Some(x) = again.first_common(&own).filter(|&x| x <= reach) {
                self.emit(s, from, &rec.cmds, from, x)?;
                self.emit(s, a, &s.cmds, x, end)?;
                self.covered = end;
                self.prev = s.end_prev;
                return Ok(());
            }
            if pos >= s.stop || eof {
                // the whole chunk scanned again
                self.emit(s, from, &rec.cmds, from, reach)?;
                self.covered = reach;
                self.prev = prev;
                return Ok(());
            }
            if pos >= limit || reach >= end {
                self.emit(s, from, &rec.cmds, from, reach)?;
                self.emit(s, a, &s.cmds, reach, end)?;
                self.covered = end.max(reach);
                self.prev = if reach >= end { prev } else { s.end_prev };
                return Ok(());
            }
            step *= 2;
        }
    }

    /// Emits the part `from..upto` of NEW that `cmds` (starting at `base`,
    /// literal data in `s.buf`) describe.
    fn emit(&mut self, s: &Scanned, base: u64, cmds: &[Cmd], from: u64, upto: u64) -> Result<()> {
        let mut at = base;
        for cmd in cmds {
            if at >= upto {
                break;
            }
            let end = at + cmd.len();
            let (lo, hi) = (at.max(from), end.min(upto));
            if lo < hi {
                let (skip, take) = (lo - at, hi - lo);
                match *cmd {
                    Cmd::Literal { start, .. } => {
                        let start = start + skip as usize;
                        self.em
                            .literal_bytes(&s.buf[start..start + take as usize])?;
                    }
                    Cmd::Copy { pos, .. } => {
                        let pos = pos + skip;
                        // Where a chunk chose a block equal to the one
                        // following the previous COPY, take that one so the
                        // COPYs merge.
                        let same = self
                            .em
                            .copy_end()
                            .map_or(0, |e| self.index.equal_blocks(e, pos, take));
                        if same > 0 {
                            let e = self.em.copy_end().unwrap_or(0);
                            self.em.copy_range(e, same)?;
                        }
                        self.em.copy_range(pos + same, take - same)?;
                    }
                }
            }
            at = end;
        }
        Ok(())
    }
}

/// Reads NEW's bytes `a..read_end` (file offsets from `start`) into `buf` and
/// scans positions `a..e`.
#[allow(clippy::too_many_arguments)]
fn scan_chunk(
    index: &BlockIndex,
    rollers: &Rollers,
    file: &File,
    start: u64,
    a: u64,
    e: u64,
    read_end: u64,
    last: bool,
    mut buf: Vec<u8>,
) -> Result<Scanned> {
    let n = (read_end - a) as usize;
    buf.resize(n, 0);
    file.read_exact_at(&mut buf, start + a).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            read_error(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was read",
            ))
        } else {
            read_error(e)
        }
    })?;
    let mut rec = Recorder::default();
    let mut ms = MatchStats::default();
    let mut pos = 0;
    let mut prev = None;
    let stop = if last { n } else { (e - a) as usize };
    scan_with(
        index, rollers, &buf, &mut pos, stop, last, &mut prev, &mut ms, &mut rec,
    )?;
    Ok(Scanned {
        base: a,
        buf,
        stop,
        end: pos,
        end_prev: prev,
        last,
        cmds: rec.cmds,
        ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{SIG_HEADER_LEN, kind_of_magic, magic_for};
    use std::io::Cursor;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::OnceLock;

    // ------------------------------------------------------------ helpers

    /// xorshift64 bytes.
    fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        let mut v = Vec::with_capacity(len + 8);
        while v.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.truncate(len);
        v
    }

    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    /// `count` overwrites of 1..=len bytes at random places.
    fn scatter(base: &[u8], seed: u64, count: usize, len: usize) -> Vec<u8> {
        let mut v = base.to_vec();
        let mut r = Rng(seed | 1);
        for _ in 0..count {
            if v.is_empty() {
                break;
            }
            let n = 1 + r.below(len);
            let at = r.below(v.len());
            for i in at..(at + n).min(v.len()) {
                v[i] = r.below(256) as u8;
            }
        }
        v
    }

    /// `count` inserts and deletes of 1..=len bytes at random places.
    fn shift(base: &[u8], seed: u64, count: usize, len: usize) -> Vec<u8> {
        let mut v = base.to_vec();
        let mut r = Rng(seed | 1);
        for k in 0..count {
            let n = 1 + r.below(len);
            let at = r.below(v.len() + 1);
            if k % 2 == 0 {
                let ins = random_bytes(seed + k as u64 + 7, n);
                v.splice(at..at, ins);
            } else {
                let end = (at + n).min(v.len());
                v.drain(at..end);
            }
        }
        v
    }

    /// A signature file made here (checked against librsync's in a test).
    fn make_sig(
        basis: &[u8],
        weak: WeakSum,
        strong: StrongHash,
        block_len: u32,
        strong_len: u32,
    ) -> Vec<u8> {
        let params = SignatureParams {
            weak,
            strong,
            block_len,
            strong_len,
        };
        let mut sig = params.header().to_vec();
        for block in basis.chunks(block_len as usize) {
            sig.extend_from_slice(&weak_sum(weak, block).to_be_bytes());
            sig.extend_from_slice(&strong_sum(strong, block)[..strong_len as usize]);
        }
        sig
    }

    fn index_of(sig: &[u8]) -> BlockIndex {
        let word = |i: usize| u32::from_be_bytes(sig[i..i + 4].try_into().unwrap());
        let (weak, strong) = kind_of_magic(word(0)).unwrap();
        let params = SignatureParams {
            weak,
            strong,
            block_len: word(4),
            strong_len: word(8),
        };
        let body = &sig[SIG_HEADER_LEN..];
        let whole = body.len() / params.entry_len() * params.entry_len();
        BlockIndex::new(params, body[..whole].to_vec())
    }

    /// Our delta: jobs 0 = the streaming path; else the chunked file path.
    fn our_delta(
        index: &BlockIndex,
        new: &[u8],
        jobs: usize,
        chunk: usize,
    ) -> (Vec<u8>, Stats, MatchStats) {
        let mut out = Vec::new();
        let (stats, ms) = if jobs == 0 {
            delta_stream(index, new, &mut out, &tuning(0)).unwrap()
        } else {
            let mut f = tempfile::tempfile().unwrap();
            // a prefix that is not NEW, to exercise `start`
            f.write_all(b"xyz").unwrap();
            f.write_all(new).unwrap();
            delta_file_chunked(
                index,
                &f,
                3,
                new.len() as u64,
                &mut out,
                &tuning(jobs),
                chunk,
            )
            .unwrap()
        };
        assert_eq!(stats.out_bytes, out.len() as u64, "out_bytes");
        assert_eq!(stats.in_bytes, new.len() as u64, "in_bytes");
        assert_eq!(
            stats.lit_bytes + stats.copy_bytes,
            new.len() as u64,
            "lit + copy bytes"
        );
        (out, stats, ms)
    }

    /// Smallest buffers, as `-I 1 -O 1` give.
    fn tuning(jobs: usize) -> Tuning {
        Tuning {
            jobs,
            in_buf: 1,
            out_buf: 1,
            progress: None,
        }
    }

    fn patched(basis: &[u8], delta: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        crate::patch(
            Cursor::new(basis),
            delta,
            &mut out,
            &crate::PatchOptions::default(),
        )
        .expect("our delta must patch");
        out
    }

    /// Walks a delta's commands; checks the encoding is the narrowest.
    fn commands(delta: &[u8]) -> Vec<(u8, u64, u64)> {
        assert_eq!(&delta[..4], &DELTA_MAGIC.to_be_bytes());
        let mut i = 4;
        let mut cmds = Vec::new();
        let be = |b: &[u8]| b.iter().fold(0u64, |a, &x| a << 8 | x as u64);
        loop {
            let op = delta[i];
            i += 1;
            match op {
                0 => break,
                1..=0x40 => {
                    cmds.push((b'L', op as u64, 0));
                    i += op as usize;
                }
                0x41..=0x44 => {
                    let w = 1 << (op - 0x41);
                    let len = be(&delta[i..i + w]);
                    assert!(len > 64 && int_len(len) == w, "literal {len} in {w} bytes");
                    cmds.push((b'L', len, 0));
                    i += w + len as usize;
                }
                0x45..=0x54 => {
                    let (wp, wl) = (1 << ((op - 0x45) / 4), 1 << ((op - 0x45) % 4));
                    let pos = be(&delta[i..i + wp]);
                    let len = be(&delta[i + wp..i + wp + wl]);
                    assert!(int_len(pos) == wp && int_len(len) == wl, "copy widths");
                    cmds.push((b'C', pos, len));
                    i += wp + wl;
                }
                _ => panic!("bad opcode {op:#x}"),
            }
        }
        assert_eq!(i, delta.len(), "bytes after END");
        cmds
    }

    fn is_ci() -> bool {
        std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
    }

    /// The installed rdiff 2.3.x; None (with a loud warning) when missing,
    /// a failure under CI=true.
    fn rdiff() -> Option<PathBuf> {
        static RDIFF: OnceLock<Option<PathBuf>> = OnceLock::new();
        RDIFF
            .get_or_init(|| {
                let candidates: Vec<PathBuf> = match std::env::var_os("RDIFF") {
                    Some(p) => vec![PathBuf::from(p)],
                    None => std::env::var_os("PATH")
                        .map(|p| std::env::split_paths(&p).map(|d| d.join("rdiff")).collect::<Vec<_>>())
                        .unwrap_or_default()
                        .into_iter()
                        .chain([PathBuf::from("/usr/bin/rdiff")])
                        .collect(),
                };
                let found = candidates
                    .into_iter()
                    .find(|p| p.is_file())
                    .filter(|p| {
                        Command::new(p).arg("--version").output().is_ok_and(|o| {
                            String::from_utf8_lossy(&o.stdout).contains("librsync 2.3.")
                        })
                    });
                if found.is_none() {
                    assert!(!is_ci(), "CI=true and rdiff 2.3.x is not installed");
                    let _ = io::stderr().write_all(
                        b"\n** WARNING: rdiff 2.3.x not found: delta sizes are NOT compared with rdiff's **\n",
                    );
                }
                found
            })
            .clone()
    }

    /// rdiff's patch of `basis` with `delta`.
    fn rdiff_patch(rdiff: &Path, basis: &[u8], delta: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let (b, d, n) = (
            dir.path().join("basis"),
            dir.path().join("delta"),
            dir.path().join("new"),
        );
        std::fs::write(&b, basis).unwrap();
        std::fs::write(&d, delta).unwrap();
        let st = Command::new(rdiff)
            .arg("patch")
            .args([&b, &d, &n])
            .status()
            .unwrap();
        assert!(st.success(), "rdiff patch failed");
        std::fs::read(&n).unwrap()
    }

    fn rdiff_delta(rdiff: &Path, sig: &[u8], new: &[u8]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let (s, n, d) = (
            dir.path().join("sig"),
            dir.path().join("new"),
            dir.path().join("delta"),
        );
        std::fs::write(&s, sig).unwrap();
        std::fs::write(&n, new).unwrap();
        let st = Command::new(rdiff)
            .arg("delta")
            .args([&s, &n, &d])
            .status()
            .unwrap();
        assert!(st.success(), "rdiff delta failed");
        std::fs::read(&d).unwrap()
    }

    /// Our delta for every path and `jobs` patches to `new`; its size is
    /// within rdiff's x 1.01 + 64.
    fn check(name: &str, basis: &[u8], new: &[u8], sig: &[u8]) -> usize {
        let index = index_of(sig);
        let b = index.block_len;
        let reference = rdiff().map(|r| rdiff_delta(&r, sig, new).len());
        let mut first_file: Option<Vec<u8>> = None;
        let mut largest = 0;
        // (jobs, chunk length): the production chunks are 64+ blocks,
        // aligned; tiny or unaligned ones test the seams harder.
        let configs = [
            (0, 0),
            (1, 64 * b),
            (2, 64 * b),
            (3, 64 * b + 13),
            (2, 4 * b + 13),
            (3, b),
        ];
        for (jobs, chunk) in configs {
            let (delta, stats, _) = our_delta(&index, new, jobs, chunk);
            commands(&delta);
            assert!(
                patched(basis, &delta) == new,
                "{name}: jobs {jobs} chunk {chunk}: patch differs"
            );
            if let Some(r) = reference {
                assert!(
                    delta.len() as u64 * 100 <= r as u64 * 101 + 6400,
                    "{name}: jobs {jobs} chunk {chunk}: {} bytes, rdiff {r}",
                    delta.len()
                );
            }
            if let (Some(r), 2) = (rdiff(), jobs)
                && chunk == 64 * b
            {
                assert!(
                    rdiff_patch(&r, basis, &delta) == new,
                    "{name}: rdiff patch differs"
                );
            }
            if jobs > 0 && chunk == 64 * b {
                // same chunks: byte-identical for every jobs
                match &first_file {
                    None => first_file = Some(delta.clone()),
                    Some(f) => assert!(*f == delta, "{name}: jobs 1 and 2 differ"),
                }
            }
            assert_eq!(stats.lit_bytes + stats.copy_bytes, new.len() as u64);
            largest = largest.max(delta.len());
        }
        largest
    }

    /// (hash, rollsum, strong_len, block_len) option sets.
    const OPTIONS: [(StrongHash, WeakSum, u32, u32); 7] = [
        (StrongHash::Blake2, WeakSum::RabinKarp, 32, 64),
        (StrongHash::Blake2, WeakSum::Rollsum, 8, 256),
        (StrongHash::Md4, WeakSum::RabinKarp, 16, 1000),
        (StrongHash::Md4, WeakSum::Rollsum, 8, 4096),
        (StrongHash::Blake2, WeakSum::RabinKarp, 16, 512),
        (StrongHash::Md4, WeakSum::Rollsum, 16, 128),
        (StrongHash::Blake2, WeakSum::RabinKarp, 5, 300),
    ];

    // -------------------------------------------------------------- tests

    #[test]
    fn encoding_uses_narrowest_widths() {
        let enc_l = |len| {
            let mut v = Vec::new();
            let n = encode_literal(&mut v, len);
            assert_eq!(n, v.len());
            v
        };
        assert_eq!(enc_l(1), [1]);
        assert_eq!(enc_l(64), [64]);
        assert_eq!(enc_l(65), [0x41, 65]);
        assert_eq!(enc_l(255), [0x41, 255]);
        assert_eq!(enc_l(256), [0x42, 1, 0]);
        assert_eq!(enc_l(70_000), [0x43, 0, 1, 0x11, 0x70]);
        assert_eq!(enc_l(1 << 32), [0x44, 0, 0, 0, 1, 0, 0, 0, 0]);
        let enc_c = |pos, len| {
            let mut v = Vec::new();
            let n = encode_copy(&mut v, pos, len);
            assert_eq!(n, v.len());
            v
        };
        assert_eq!(enc_c(0, 300_000), [0x47, 0, 0, 0x04, 0x93, 0xe0]);
        assert_eq!(enc_c(0, 1), [0x45, 0, 1]);
        assert_eq!(enc_c(256, 255), [0x49, 1, 0, 255]);
        assert_eq!(enc_c(65_536, 65_535), [0x4e, 0, 1, 0, 0, 0xff, 0xff]);
        assert_eq!(
            enc_c(1 << 32, 1 << 32),
            [0x54, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        );
    }

    #[test]
    fn weak_sums_roll_like_from_scratch() {
        let data = random_bytes(5, 3000);
        for b in [1usize, 7, 64, 65, 200] {
            let rk = RkRoller::new(b);
            let rs = RsRoller { len: b as u32 };
            let (mut h, mut s) = (rk.start(&data[..b]), rs.start(&data[..b]));
            for p in 0..data.len() - b {
                assert_eq!(h, rk_sum(&data[p..p + b]));
                assert_eq!(
                    RsRoller::digest(s),
                    weak_sum(WeakSum::Rollsum, &data[p..p + b])
                );
                h = rk.roll(h, data[p], data[p + b]);
                s = rs.roll(s, data[p], data[p + b]);
            }
            for kind in [WeakSum::RabinKarp, WeakSum::Rollsum] {
                let mut w = Shrinking::new(kind, &data[..b]);
                for p in 0..b {
                    assert_eq!(
                        w.digest(),
                        weak_sum(kind, &data[p..b]),
                        "{kind:?} shrink {b} at {p}"
                    );
                    w.rollout(data[p]);
                }
            }
        }
        // librsync's sequential definitions
        let mut h = 1u32;
        let (mut s1, mut s2) = (0u32, 0u32);
        for &x in &data[..777] {
            h = h.wrapping_mul(RK_MULT).wrapping_add(x as u32);
            s1 = s1.wrapping_add(x as u32 + 31);
            s2 = s2.wrapping_add(s1);
        }
        assert_eq!(rk_sum(&data[..777]), h);
        assert_eq!(
            weak_sum(WeakSum::Rollsum, &data[..777]),
            (s2 << 16) | (s1 & 0xffff)
        );
        assert_eq!(RK_MULT.wrapping_mul(RK_INV), 1);
    }

    /// Our sums and the signature layout equal librsync's (the crate's
    /// signature engine), for every weak and strong kind.
    #[test]
    fn sums_match_librsync_signatures() {
        let basis = random_bytes(11, 20_000 + 77);
        for (strong, weak, strong_len, block_len) in OPTIONS {
            let opts = crate::SignatureOptions {
                block_len,
                strong_len: crate::StrongLen::Bytes(strong_len),
                hash: strong,
                rollsum: weak,
                basis_size: Some(basis.len() as u64),
                ..Default::default()
            };
            let mut theirs = Vec::new();
            crate::signature(&basis[..], &mut theirs, &opts).unwrap();
            let ours = make_sig(&basis, weak, strong, block_len, strong_len);
            assert!(
                ours == theirs,
                "{strong:?} {weak:?} {strong_len} {block_len}"
            );
            assert_eq!(&ours[..4], &magic_for(weak, strong).to_be_bytes());
        }
    }

    /// MD4 and BLAKE2 against rdiff's own signatures, when rdiff is here.
    #[test]
    fn sums_match_rdiff_signatures() {
        let Some(rdiff) = rdiff() else { return };
        let basis = random_bytes(12, 10_000 + 5);
        let dir = tempfile::tempdir().unwrap();
        let (b, s) = (dir.path().join("basis"), dir.path().join("sig"));
        std::fs::write(&b, &basis).unwrap();
        for (h, r, strong, weak) in [
            ("md4", "rollsum", StrongHash::Md4, WeakSum::Rollsum),
            ("md4", "rabinkarp", StrongHash::Md4, WeakSum::RabinKarp),
            ("blake2", "rollsum", StrongHash::Blake2, WeakSum::Rollsum),
            (
                "blake2",
                "rabinkarp",
                StrongHash::Blake2,
                WeakSum::RabinKarp,
            ),
        ] {
            let _ = std::fs::remove_file(&s);
            let st = Command::new(&rdiff)
                .args(["-H", h, "-R", r, "-b", "300", "signature"])
                .args([&b, &s])
                .status()
                .unwrap();
            assert!(st.success());
            let theirs = std::fs::read(&s).unwrap();
            let ours = make_sig(&basis, weak, strong, 300, strong.digest_len());
            assert!(ours == theirs, "{h} {r}");
        }
    }

    #[test]
    fn identical_is_one_copy() {
        let basis = random_bytes(1, 300_000);
        let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 512, 32);
        let index = index_of(&sig);
        assert_eq!(index.block_count(), 586);
        assert_eq!(index.params().block_len, 512);
        for (jobs, chunk) in [(0, 0), (1, 4096), (2, 4096 + 100), (3, 512)] {
            let (delta, stats, ms) = our_delta(&index, &basis, jobs, chunk);
            assert_eq!(
                delta,
                [
                    0x72, 0x73, 0x02, 0x36, 0x47, 0x00, 0x00, 0x04, 0x93, 0xe0, 0x00
                ],
                "jobs {jobs} chunk {chunk}"
            );
            assert_eq!(
                (stats.copy_cmds, stats.copy_bytes, stats.copy_cmdbytes),
                (1, 300_000, 6)
            );
            assert_eq!(stats.lit_cmds, 0);
            if jobs == 0 {
                assert_eq!(ms.matches, 586);
                assert_eq!(ms.strong_calcs, 586);
            }
        }
    }

    #[test]
    fn empty_new_is_magic_and_end() {
        let basis = random_bytes(2, 5000);
        let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
        for jobs in [0, 2] {
            let (delta, stats, _) = our_delta(&index_of(&sig), &[], jobs, 256);
            assert_eq!(delta, [0x72, 0x73, 0x02, 0x36, 0x00]);
            assert_eq!(stats.lit_cmds + stats.copy_cmds, 0);
        }
        // empty basis too
        let sig = make_sig(&[], WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
        let (delta, _, _) = our_delta(&index_of(&sig), &[], 0, 0);
        assert_eq!(delta, [0x72, 0x73, 0x02, 0x36, 0x00]);
    }

    #[test]
    fn empty_signature_gives_literals() {
        let new = random_bytes(3, 50_000);
        let sig = make_sig(&[], WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
        for jobs in [0, 2] {
            let (delta, stats, _) = our_delta(&index_of(&sig), &new, jobs, 1000);
            assert_eq!(commands(&delta), [(b'L', 50_000, 0)]);
            assert_eq!(
                (stats.lit_cmds, stats.lit_bytes, stats.lit_cmdbytes),
                (1, 50_000, 3)
            );
            assert_eq!(patched(&[], &delta), new);
        }
        // longer: a few commands (cut where the read buffer is refilled)
        let new = random_bytes(3, 3_000_000);
        let (delta, stats, _) = our_delta(&index_of(&sig), &new, 0, 0);
        assert!(
            commands(&delta)
                .iter()
                .all(|c| c.0 == b'L' && c.1 >= 64 * 1024)
        );
        assert!(stats.lit_cmds <= 5);
        assert_eq!(patched(&[], &delta), new);
    }

    #[test]
    fn tail_matches_the_short_last_block() {
        let basis = random_bytes(4, 10 * 1000 + 321);
        let mut new = basis.clone();
        new[3000] ^= 1; // block 3 becomes literal
        for (strong, weak, strong_len, _) in OPTIONS {
            let sig = make_sig(&basis, weak, strong, 1000, strong_len);
            let index = index_of(&sig);
            for jobs in [0, 1, 2] {
                let (delta, ..) = our_delta(&index, &new, jobs, 3000);
                assert_eq!(
                    commands(&delta),
                    [(b'C', 0, 3000), (b'L', 1000, 0), (b'C', 4000, 6321)],
                    "{strong:?} {weak:?} jobs {jobs}"
                );
            }
            // NEW shorter than a block, equal to the whole (one short block) basis
            let sig = make_sig(&basis[..321], weak, strong, 1000, strong_len);
            let (delta, ..) = our_delta(&index_of(&sig), &basis[..321], 0, 0);
            assert_eq!(commands(&delta), [(b'C', 0, 321)]);
            // shifted: the tail still matches
            let mut shifted = b"12345".to_vec();
            shifted.extend_from_slice(&basis[..321]);
            let (delta, ..) = our_delta(&index_of(&sig), &shifted, 0, 0);
            assert_eq!(commands(&delta), [(b'L', 5, 0), (b'C', 0, 321)]);
        }
    }

    #[test]
    fn repetitive_basis_gives_merged_copies() {
        let basis = vec![0u8; 64 * 1024 + 100];
        let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 1024, 32);
        let index = index_of(&sig);
        for (jobs, chunk) in [(0, 0), (1, 8192), (3, 8192), (2, 1024)] {
            let (delta, ..) = our_delta(&index, &basis, jobs, chunk);
            assert_eq!(
                commands(&delta),
                [(b'C', 0, basis.len() as u64)],
                "jobs {jobs} chunk {chunk}"
            );
        }
        // chunks not aligned to blocks: one more COPY per chunk at most
        let (delta, ..) = our_delta(&index, &basis, 2, 3000);
        assert_eq!(patched(&basis, &delta), basis);
        assert!(
            commands(&delta).len() <= 3 + basis.len() / 3000,
            "{:?}",
            commands(&delta)
        );
        let mut new = basis.clone();
        new.splice(10_000..10_000, *b"hello");
        let (delta, ..) = our_delta(&index, &new, 0, 0);
        // the blocks holding "hello" are literal, the rest copies
        assert_eq!(
            commands(&delta),
            [
                (b'C', 0, 9216),
                (b'L', 789, 0),
                (b'C', 0, 55296),
                (b'L', 240, 0),
                (b'C', 65536, 100)
            ]
        );
        for (jobs, chunk) in [(1, 8192), (3, 8192), (2, 3000)] {
            let (delta, ..) = our_delta(&index, &new, jobs, chunk);
            assert_eq!(patched(&basis, &delta), new);
            assert!(
                commands(&delta).len() <= 6 + new.len() / chunk,
                "jobs {jobs}: {:?}",
                commands(&delta)
            );
        }
    }

    /// Several shapes of NEW with option set `k`: every path and `jobs`
    /// patches back to NEW, within rdiff's size x 1.01 + 64.
    fn shapes(k: usize) {
        let (strong, weak, strong_len, block_len) = OPTIONS[k];
        let n = (block_len as usize * 80).clamp(24_000, 60_000);
        let basis = random_bytes(7, n);
        let text: Vec<u8> = (0..n)
            .map(|i| b"the quick brown fox "[i % 20] ^ (i / 977 % 2) as u8)
            .collect();
        let seed = 100 + k as u64;
        let zeros = vec![0u8; n / 2 + 33];
        let cases: Vec<(&str, &[u8], Vec<u8>)> = vec![
            ("scattered", &basis, scatter(&basis, seed, 12, 40)),
            ("shifted", &basis, shift(&basis, seed, 8, 300)),
            ("identical", &basis, basis.clone()),
            ("unrelated", &basis, random_bytes(seed, n + 555)),
            ("empty", &basis, Vec::new()),
            ("prefix", &basis, basis[..n / 3 + 17].to_vec()),
            ("suffix", &basis, basis[n / 3 + 17..].to_vec()),
            (
                "repetitive",
                &text,
                shift(&scatter(&text, seed, 5, 10), seed, 6, 50),
            ),
            ("zeros", &zeros, shift(&vec![0u8; n / 2], seed, 4, 9)),
            ("doubled", &basis, [&basis[..], &basis[..]].concat()),
            ("tiny", &basis[..100], basis[..99].to_vec()),
        ];
        for (name, old, new) in cases {
            let sig = make_sig(old, weak, strong, block_len, strong_len);
            let name = format!("{name} {strong:?}/{weak:?}/S{strong_len}/b{block_len}");
            check(&name, old, &new, &sig);
        }
    }

    #[test]
    fn shapes_blake2_rabinkarp_32_b64() {
        shapes(0);
    }

    #[test]
    fn shapes_blake2_rollsum_8_b256() {
        shapes(1);
    }

    #[test]
    fn shapes_md4_rabinkarp_16_b1000() {
        shapes(2);
    }

    #[test]
    fn shapes_md4_rollsum_8_b4096() {
        shapes(3);
    }

    #[test]
    fn shapes_blake2_rabinkarp_16_b512() {
        shapes(4);
    }

    #[test]
    fn shapes_md4_rollsum_16_b128() {
        shapes(5);
    }

    #[test]
    fn shapes_blake2_rabinkarp_5_b300() {
        shapes(6);
    }

    /// Random mixes of edits, shifts, repeats and chunk lengths: every delta
    /// patches back, and the chunked delta does not depend on `jobs`.
    #[test]
    fn random_seams_patch_back() {
        let mut r = Rng(0x5eed);
        let rounds = std::env::var("MATCHER_ROUNDS").map_or(24, |v| v.parse().unwrap_or(24));
        for round in 0..rounds {
            let b = [16, 33, 64, 100][r.below(4)];
            let n = 2000 + r.below(20_000);
            let mut basis = random_bytes(round + 1, n);
            if round % 3 == 0 {
                // repeats inside the basis
                let piece = basis[..b * 3 + 5].to_vec();
                for k in 0..n / piece.len() / 2 {
                    let at = k * 2 * piece.len();
                    basis[at..at + piece.len()].copy_from_slice(&piece);
                }
            }
            let mut new = shift(
                &scatter(&basis, round + 7, r.below(20), 30),
                round + 9,
                r.below(10),
                200,
            );
            if round % 4 == 1 {
                new.extend_from_slice(&basis[n - (n % b)..]); // the short last block again
            }
            let (weak, strong) = if round % 2 == 0 {
                (WeakSum::RabinKarp, StrongHash::Blake2)
            } else {
                (WeakSum::Rollsum, StrongHash::Md4)
            };
            let sig = make_sig(&basis, weak, strong, b as u32, 8);
            let index = index_of(&sig);
            let chunk = b + r.below(8 * b);
            let (d1, ..) = our_delta(&index, &new, 1, chunk);
            let (d3, ..) = our_delta(&index, &new, 3, chunk);
            let (d0, ..) = our_delta(&index, &new, 0, 0);
            assert!(d1 == d3, "round {round}: jobs 1 and 3 differ");
            assert!(patched(&basis, &d1) == new, "round {round}: chunked delta");
            assert!(patched(&basis, &d0) == new, "round {round}: streamed delta");
        }
    }

    #[test]
    fn stats_count_commands_as_librsync() {
        let basis = random_bytes(9, 50_000);
        let new = scatter(&basis, 3, 10, 30);
        let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 500, 32);
        let (delta, stats, ms) = our_delta(&index_of(&sig), &new, 0, 0);
        let cmds = commands(&delta);
        let lits: Vec<_> = cmds.iter().filter(|c| c.0 == b'L').collect();
        let copies: Vec<_> = cmds.iter().filter(|c| c.0 == b'C').collect();
        assert_eq!(stats.lit_cmds, lits.len() as u64);
        assert_eq!(stats.copy_cmds, copies.len() as u64);
        assert_eq!(stats.lit_bytes, lits.iter().map(|c| c.1).sum::<u64>());
        assert_eq!(stats.copy_bytes, copies.iter().map(|c| c.2).sum::<u64>());
        let cmdbytes: u64 = lits
            .iter()
            .map(|c| {
                if c.1 <= 64 {
                    1
                } else {
                    1 + int_len(c.1) as u64
                }
            })
            .sum();
        assert_eq!(stats.lit_cmdbytes, cmdbytes);
        let cmdbytes: u64 = copies
            .iter()
            .map(|c| 1 + (int_len(c.1) + int_len(c.2)) as u64)
            .sum();
        assert_eq!(stats.copy_cmdbytes, cmdbytes);
        assert_eq!(stats.op, Op::Delta);
        assert!(ms.searches >= 10 * 500 && ms.matches >= 80 && ms.strong_calcs >= ms.matches);
    }

    #[test]
    fn impossible_parameters_match_nothing() {
        let basis = random_bytes(1, 1000);
        let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Md4, 100, 16);
        let mut params = index_of(&sig).params;
        params.strong_len = 20; // longer than MD4
        let entries = vec![0u8; 10 * params.entry_len()];
        let index = BlockIndex::new(params, entries);
        assert_eq!(index.block_count(), 0);
        let (delta, ..) = our_delta(&index, &basis, 0, 0);
        assert_eq!(commands(&delta), [(b'L', 1000, 0)]);
    }

    #[test]
    fn read_errors_are_new_errors() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        let sig = make_sig(
            &random_bytes(1, 1000),
            WeakSum::RabinKarp,
            StrongHash::Blake2,
            256,
            32,
        );
        let err = delta_stream(&index_of(&sig), Failing, &mut Vec::new(), &tuning(1)).unwrap_err();
        assert_eq!(err.role(), Some(Role::New));
        // a file shorter than promised
        let f = tempfile::tempfile().unwrap();
        let err = delta_file_chunked(
            &index_of(&sig),
            &f,
            0,
            10_000,
            &mut Vec::new(),
            &tuning(2),
            1000,
        )
        .unwrap_err();
        assert_eq!(err.role(), Some(Role::New));
    }

    #[test]
    fn write_errors_are_output_errors() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(28))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let basis = random_bytes(1, 100_000);
        let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
        let new = random_bytes(2, 3_000_000);
        let err = delta_stream(&index_of(&sig), &new[..], &mut Full, &tuning(1)).unwrap_err();
        assert_eq!(err.role(), Some(Role::Output));
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&new).unwrap();
        let err = delta_file_chunked(
            &index_of(&sig),
            &f,
            0,
            new.len() as u64,
            &mut Full,
            &tuning(2),
            4096,
        )
        .unwrap_err();
        assert_eq!(err.role(), Some(Role::Output));
    }

    /// Scan speed on in-memory data (not a test): `MATCHER_SIG=...
    /// MATCHER_NEW=... cargo test --release --lib scan_speed -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn scan_speed() {
        let (Ok(sig), Ok(new)) = (std::env::var("MATCHER_SIG"), std::env::var("MATCHER_NEW"))
        else {
            return;
        };
        struct Null;
        impl Sink for Null {
            fn literal(&mut self, _: &[u8], _: usize, _: usize) -> Result<()> {
                Ok(())
            }
            fn copy(&mut self, _: u64, _: u64) -> Result<()> {
                Ok(())
            }
        }
        let index = index_of(&std::fs::read(sig).unwrap());
        let mut data = vec![0u8; 64 << 20];
        File::open(new).unwrap().read_exact(&mut data).unwrap();
        let rollers = Rollers::new(&index);
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let mut ms = MatchStats::default();
            let (mut pos, mut prev) = (0, None);
            scan_with(
                &index,
                &rollers,
                &data,
                &mut pos,
                data.len(),
                true,
                &mut prev,
                &mut ms,
                &mut Null,
            )
            .unwrap();
            best = best.min(t.elapsed().as_secs_f64());
        }
        eprintln!(
            "scan: {:.3} ns/byte ({:.0} MB/s)",
            best * 1e9 / data.len() as f64,
            data.len() as f64 / best / 1e6
        );
    }

    /// Timing harness (not a test): `MATCHER_SIG=... MATCHER_NEW=...
    /// [MATCHER_OUT=...] [MATCHER_JOBS=2] cargo test --release --lib
    /// bench_files -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn bench_files() {
        let (Ok(sig), Ok(new)) = (std::env::var("MATCHER_SIG"), std::env::var("MATCHER_NEW"))
        else {
            return;
        };
        let jobs: usize = std::env::var("MATCHER_JOBS")
            .ok()
            .and_then(|j| j.parse().ok())
            .unwrap_or(2);
        let out_path = std::env::var("MATCHER_OUT").unwrap_or_else(|_| "/dev/null".into());
        let t0 = Instant::now();
        let index = index_of(&std::fs::read(sig).unwrap());
        let t1 = Instant::now();
        let f = File::open(new).unwrap();
        let len = f.metadata().unwrap().len();
        let mut out = File::create(out_path).unwrap();
        let t = Tuning {
            jobs,
            in_buf: 1 << 20,
            out_buf: 1 << 20,
            progress: None,
        };
        let (stats, ms) = if jobs == 0 {
            delta_stream(&index, &f, &mut out, &t).unwrap()
        } else {
            delta_file(&index, &f, 0, len, &mut out, &t).unwrap()
        };
        let t2 = Instant::now();
        eprintln!(
            "load {:.3}s delta {:.3}s: {} bytes out; {}; {}",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            stats.out_bytes,
            stats.rdiff_line(),
            ms.rdiff_line()
        );
    }
}
