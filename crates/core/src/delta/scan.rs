//! The scan of NEW: roll the weak sum to a filter hit, look the window up,
//! follow runs of matching blocks, and tell a [`Sink`] what was decided.

use std::collections::HashMap;

use super::emit::Sink;
use super::index::{BlockIndex, FILTER_LOG_MAX, SPECULATE};
use super::roll::{RkRoller, Roller, RsRoller, Shrinking};
use crate::error::Result;
use crate::format::params::WeakSum;
use crate::hash::{self, MAX_STRONG, weak_sum};
use crate::stats::MatchStats;

/// Strong-sum misses (a window whose weak sum is in the signature, but not
/// its strong sum) allowed per weak sum in one scan: a signature whose blocks
/// share a weak sum that NEW keeps hitting (a flood) costs at most this many
/// strong sums for it, not one per position (fast_rsync's `MAX_CRC_COLLISIONS`
/// idea). Its windows are literal after that: the delta stays right, and may
/// be larger.
const MAX_MISSES_PER_WEAK: u32 = 64;
/// Strong sums at least this long decide alone inside a run of matching
/// blocks (a false match is then a 2^-64 event); shorter ones need the weak
/// sum too.
const TRUSTED_STRONG_LEN: usize = 8;
/// Misses allowed in one scan whatever the weak sums: this many plus four times
/// the false weak hits random data gives (positions x blocks / 2^32).
const MISS_BASE: u64 = 256;

impl BlockIndex {
    /// Tries the blocks following block `j` at `p`, `p + block_len`, ...
    /// (positions before `roll_end`, windows within `data`). Returns how
    /// many matched and whether the window after them was tried and
    /// differs (its strong sum then is in `sum`, if it was computed).
    /// The weak sums of up to `SPECULATE` following windows are compared
    /// first (a block equal to the expected one has its weak sum; a few
    /// times cheaper than a strong sum); only the windows whose weak sums
    /// agree get strong sums, several at once, so that the strong sums spent
    /// on a run are the run's own, hashed side by side, with no guess wasted
    /// at its end. After a whole group matched, only the next group's last
    /// weak sum is compared before its strong sums.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn follow(
        &self,
        data: &[u8],
        p: usize,
        roll_end: usize,
        j: usize,
        sum: &mut StrongCache,
        ms: &mut MatchStats,
    ) -> (usize, bool) {
        let b = self.block_len;
        let sl = self.strong_len;
        let mut sums = [[0u8; MAX_STRONG]; SPECULATE];
        let mut n = 0;
        let mut full_group = false;
        loop {
            let (next, q) = (j + 1 + n, p + n * b);
            let fit = |i: usize| {
                next + i < self.count && q + i * b < roll_end && q + (i + 1) * b <= data.len()
            };
            if !fit(0) {
                return (n, false);
            }
            let window = |i: usize| &data[q + i * b..q + (i + 1) * b];
            let mut most = 1;
            while most < SPECULATE && fit(most) {
                most += 1;
            }
            let weak_ok = |i: usize| self.weak[next + i] == weak_sum(self.params.weak, window(i));
            ms.searches += most as u64;
            let (k, weak_differs) = if full_group && sl >= TRUSTED_STRONG_LEN && weak_ok(most - 1) {
                // Inside a long run: the group's last window has its weak sum,
                // so the run most likely goes on through it; the strong sums
                // decide (identical data costs one weak sum per group).
                ms.weak_compares += 1;
                (most, false)
            } else {
                // Windows with the expected weak sums, up to the first that differs.
                let mut k = 0;
                while k < most {
                    ms.weak_compares += 1;
                    if !weak_ok(k) {
                        break;
                    }
                    k += 1;
                }
                (k, k < most)
            };
            full_group = k == SPECULATE;
            let windows: [&[u8]; SPECULATE] =
                std::array::from_fn(|i| if i < k { window(i) } else { &[] });
            hash::strong_sums(self.params.strong, &windows[..k], &mut sums);
            for (i, strong) in sums[..k].iter().enumerate() {
                ms.strong_calcs += 1;
                ms.strong_compares += 1;
                if strong[..sl] != *self.strong_of(next + i) {
                    sum.set(strong);
                    return (n, true);
                }
                ms.matches += 1;
                n += 1;
            }
            if weak_differs {
                return (n, true);
            }
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
    pub(super) fn scan<R: Roller, S: Sink>(
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
        let mut misses = MissBudget::new(self, stop.saturating_sub(p));
        if self.count == 0 {
            p = p.max(stop);
        }
        'fresh: while p < roll_end {
            sum.reset();
            if let Some(j) = *prev {
                // Right after a match: try the following blocks first.
                let (n, failed) = self.follow(data, p, roll_end, j, &mut sum, ms);
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
                    if let Some(j) = self.lookup(R::digest(st), window, &mut sum, &mut misses, ms) {
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
                    if w.digest() == target && misses.may_try(target) {
                        ms.weak_compares += 1;
                        ms.strong_compares += 1;
                        sum.reset();
                        if sum.get(self, &data[p..], ms)[..self.strong_len] != *self.strong_of(last)
                        {
                            misses.missed(target);
                        } else {
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

/// What one scan may still spend on strong sums that miss: bounds the work a
/// flooded weak sum can cause to a constant per scan plus a small share per
/// position.
pub(super) struct MissBudget {
    per_weak: HashMap<u32, u32>,
    left: u64,
    /// The last weak sum refused (a flood hits the same one again and again).
    refused: Option<u32>,
}

impl MissBudget {
    /// The budget of a scan of `positions` positions.
    pub(super) fn new(index: &BlockIndex, positions: usize) -> MissBudget {
        let expected = (positions as u64).saturating_mul(index.count as u64) >> 30;
        MissBudget {
            per_weak: HashMap::new(),
            left: MISS_BASE.saturating_add(expected),
            refused: None,
        }
    }

    /// Whether a window with weak sum `weak` may still be hashed.
    #[inline]
    pub(super) fn may_try(&self, weak: u32) -> bool {
        self.left > 0
            && self.refused != Some(weak)
            && (self.per_weak.is_empty()
                || self
                    .per_weak
                    .get(&weak)
                    .is_none_or(|&n| n < MAX_MISSES_PER_WEAK))
    }

    /// A window with weak sum `weak` matched no block.
    pub(super) fn missed(&mut self, weak: u32) {
        self.left = self.left.saturating_sub(1);
        let n = self.per_weak.entry(weak).or_default();
        *n += 1;
        if *n >= MAX_MISSES_PER_WEAK {
            self.refused = Some(weak);
        }
    }
}

/// The strong sum of the window at the current position, computed at most once.
#[derive(Default)]
pub(super) struct StrongCache {
    valid: bool,
    sum: [u8; MAX_STRONG],
}

impl StrongCache {
    pub(super) fn reset(&mut self) {
        self.valid = false;
    }

    pub(super) fn set(&mut self, sum: &[u8; MAX_STRONG]) {
        self.sum = *sum;
        self.valid = true;
    }

    pub(super) fn get(
        &mut self,
        index: &BlockIndex,
        window: &[u8],
        ms: &mut MatchStats,
    ) -> &[u8; MAX_STRONG] {
        if !self.valid {
            ms.strong_calcs += 1;
            self.sum = hash::strong_sum(index.params.strong, window);
            self.valid = true;
        }
        &self.sum
    }
}

pub(super) fn add_match_stats(a: &mut MatchStats, b: &MatchStats) {
    a.searches += b.searches;
    a.matches += b.matches;
    a.weak_compares += b.weak_compares;
    a.strong_compares += b.strong_compares;
    a.strong_calcs += b.strong_calcs;
}

/// Runs `scan` with the roller the signature's weak sum needs.
#[allow(clippy::too_many_arguments)]
pub(super) fn scan_with<S: Sink>(
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

pub(super) enum Rollers {
    Rk(Box<RkRoller>),
    Rs(RsRoller),
}

impl Rollers {
    pub(super) fn new(index: &BlockIndex) -> Rollers {
        match index.params.weak {
            WeakSum::RabinKarp => Rollers::Rk(Box::new(RkRoller::new(index.block_len))),
            WeakSum::Rollsum => Rollers::Rs(RsRoller {
                len: index.block_len as u32,
            }),
        }
    }
}
