//! A signature's blocks indexed for the search: a bit filter of the weak
//! sums, a hash table of the distinct ones, and the strong sums; immutable,
//! so one index is shared by all threads.

use super::roll::{RkRoller, Roller, RsRoller};
use super::scan::{MissBudget, StrongCache};
use crate::error::{Error, Result, Role, Status};
use crate::format::params::{SignatureParams, WeakSum};
use crate::stats::MatchStats;

/// Blocks tried at once when following a run of matching blocks: their weak
/// sums first, then the strong sums of those that agree, BLAKE2b 4 at a time.
pub(super) const SPECULATE: usize = 8;

// ---------------------------------------------------------------- the index

/// An empty vector with room for `n` items, or an out-of-memory error.
fn reserved<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::new(
            Status::Memory,
            format!(
                "out of memory indexing the signature ({n} x {} bytes)",
                size_of::<T>()
            ),
        )
        .about(Role::Signature)
    })?;
    Ok(v)
}

/// The filter of `2^F` bits, as a slice of exactly `2^(F - 6)` words.
#[derive(Clone, Copy)]
pub(super) struct Filter<'a, const F: u32>(&'a [u64]);

/// One slot of the open-addressing table: a weak sum and its candidates
/// (`order[start..start + len]`: distinct strong sums, each the lowest block
/// with it, sorted by strong sum so that a flooded weak sum is searched in
/// log time).
#[derive(Clone, Copy, Default)]
pub(super) struct Slot {
    weak: u32,
    start: u32,
    len: u32,
}

/// Mixes rollsums into filter keys.
pub(super) const FILTER_MIX: u32 = 0x9E37_79B1;
/// Mixes filter keys into the second bit each block sets.
const FILTER_MIX2: u32 = 0x2C1B_3C6D;
/// Filter bits per block (two of them set per block): about 1.5% of random
/// keys pass the first bit, 0.02% both (each pass of both is a return to the
/// scan and a table probe), for a filter that still stays in L2 for a few tens of
/// thousands of blocks (a 256 MiB basis has 16,384).
const FILTER_BITS_PER_BLOCK: usize = 128;
/// Filter sizes, log2 of bits: 4 KiB to 4 MiB.
const FILTER_LOG_MIN: u32 = 15;
pub(super) const FILTER_LOG_MAX: u32 = 25;
/// Mixes weak sums into hash table slots.
const TABLE_MIX: u32 = 0x85EB_CA6B;

/// The two filter bits of a key in a filter of `2^filter_log` bits.
#[inline(always)]
fn filter_bits(key: u32, filter_log: u32) -> [usize; 2] {
    [
        (key >> (32 - filter_log)) as usize,
        (key.wrapping_mul(FILTER_MIX2) >> (32 - filter_log)) as usize,
    ]
}

/// A signature's blocks, indexed for searching; immutable, so one index is
/// shared by all threads.
pub(crate) struct BlockIndex {
    pub(super) params: SignatureParams,
    pub(super) block_len: usize,
    pub(super) strong_len: usize,
    pub(super) entry_len: usize,
    /// Blocks searched (all of them unless there are more than `u32::MAX - 1`).
    pub(super) count: usize,
    /// The raw signature entries: weak sum (BE) then strong sum, per block.
    pub(super) entries: Vec<u8>,
    /// Each block's weak sum.
    pub(super) weak: Vec<u32>,
    /// Bit filter of the weak sums (their filter keys, `Roller::key`): two
    /// bits per block (`filter_bits`).
    pub(super) filter: Vec<u64>,
    /// log2 of the filter's size in bits.
    pub(super) filter_log: u32,
    /// Open-addressing hash table of the distinct weak sums.
    pub(super) table: Vec<Slot>,
    pub(super) table_shift: u32,
    pub(super) table_mask: usize,
    /// Block numbers grouped by weak sum, one per distinct strong sum.
    pub(super) order: Vec<u32>,
}

impl BlockIndex {
    /// Builds the index from a checked header and the raw block entries
    /// (weak u32 BE + `strong_len` bytes each; `entries.len()` is a multiple
    /// of `params.entry_len()`; a partial entry at the end is ignored).
    /// Parameters a checked header cannot have (a block length of 0, a strong
    /// sum longer than the hash) give an index that matches nothing.
    /// Out of memory is an error (status 102), not an abort: the tables are
    /// a few times the entries' size, reserved before they are filled.
    pub(crate) fn new(params: SignatureParams, entries: Vec<u8>) -> Result<BlockIndex> {
        let entry_len = params.entry_len();
        let strong_len = params.strong_len as usize;
        let block_len = (params.block_len as usize).max(1);
        let sane = params.block_len > 0 && params.strong_len <= params.strong.digest_len();
        let count = if sane {
            (entries.len() / entry_len).min(u32::MAX as usize - 1)
        } else {
            0
        };
        let mut weak: Vec<u32> = reserved(count)?;
        weak.extend(
            entries
                .chunks_exact(entry_len)
                .take(count)
                .map(|e| u32::from_be_bytes([e[0], e[1], e[2], e[3]])),
        );
        let strong_of = |j: u32| {
            let at = j as usize * entry_len + 4;
            &entries[at..at + strong_len]
        };

        // Candidates: distinct (weak, strong) pairs, the lowest block of each
        // (librsync's table keeps the first of equal blocks), grouped by weak
        // sum and sorted by strong sum within a group: at most one candidate
        // can match a window, so the order is free and binary search finds it.
        let mut keyed: Vec<u64> = reserved(count)?;
        keyed.extend(
            weak.iter()
                .enumerate()
                .map(|(j, &w)| (w as u64) << 32 | j as u64),
        );
        keyed.sort_unstable();
        let mut order: Vec<u32> = reserved(count)?;
        let mut groups: Vec<(u32, u32, u32)> = reserved(count)?; // weak, start, len
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
                order.extend_from_slice(&same);
            }
            groups.push((w, start as u32, (order.len() - start) as u32));
            i = j;
        }

        // Load factor 0.375 to 0.75: the table is probed only on a filter
        // hit, and twice the slots cost peak RSS (tar -b 512: 26.2 -> 23.5
        // MiB with 1.5x, at the same speed).
        let table_bits = (groups.len() * 3 / 2)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let table_mask = (1usize << table_bits) - 1;
        let table_shift = 32 - table_bits;
        drop(keyed);
        let mut table: Vec<Slot> = reserved(table_mask + 1)?;
        table.resize(table_mask + 1, Slot::default());
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
        let mut filter: Vec<u64> = reserved(1 << (filter_log - 6))?;
        filter.resize(1 << (filter_log - 6), 0);
        for &w in &weak {
            let key = match params.weak {
                WeakSum::RabinKarp => RkRoller::key(w),
                WeakSum::Rollsum => RsRoller::key(w),
            };
            for i in filter_bits(key, filter_log) {
                filter[i >> 6] |= 1u64 << (i & 63);
            }
        }
        Ok(BlockIndex {
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
        })
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

    pub(super) fn strong_of(&self, j: usize) -> &[u8] {
        let at = j * self.entry_len + 4;
        &self.entries[at..at + self.strong_len]
    }

    /// How many bytes from basis offset `pos` (up to `len`) are whole blocks
    /// equal, one for one, to the blocks from offset `at`: both offsets must
    /// be block boundaries; blocks are equal when their weak and strong sums are.
    pub(super) fn equal_blocks(&self, at: u64, pos: u64, len: u64) -> u64 {
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

    /// Whether a filter key (`Roller::key`) passes the filter of `2^F` bits
    /// (`F == self.filter_log`; a constant, so the index is a constant shift):
    /// both of its bits are set, the second looked at only when the first is.
    #[inline(always)]
    pub(super) fn hit<const F: u32>(filter: &Filter<F>, key: u32) -> bool {
        // `filter.0` has exactly `2^(F - 6)` words: no bounds check here
        let set = |i: usize| (filter.0[i >> 6] >> (i & 63)) & 1 != 0;
        let [first, second] = filter_bits(key, F);
        set(first) && set(second)
    }

    /// The filter as `2^F` bits (`F == self.filter_log`).
    #[inline(always)]
    pub(super) fn filter<const F: u32>(&self) -> Filter<'_, F> {
        Filter(&self.filter[..1 << (F - 6)])
    }

    /// Looks `weak` up for `window`; returns the matching block. A weak sum
    /// whose windows keep missing spends `misses`' budget and is then no
    /// longer tried (its strong sums are not computed).
    pub(super) fn lookup(
        &self,
        weak: u32,
        window: &[u8],
        sum: &mut StrongCache,
        misses: &mut MissBudget,
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
                if !misses.may_try(weak) {
                    return None;
                }
                let start = slot.start as usize;
                let cands = &self.order[start..start + slot.len as usize];
                let key = &sum.get(self, window, ms)[..self.strong_len];
                // distinct strong sums, sorted: the one that can match
                let i = cands.partition_point(|&j| self.strong_of(j as usize) < key);
                ms.strong_compares += 1 + u64::from(usize::BITS - cands.len().leading_zeros());
                if let Some(&j) = cands.get(i)
                    && self.strong_of(j as usize) == key
                {
                    ms.matches += 1;
                    return Some(j as usize);
                }
                misses.missed(weak);
                return None;
            }
            s = (s + 1) & self.table_mask;
        }
    }
}
