//! The weak sums as the search rolls them: over a window of one block
//! ([`Roller`]: RabinKarp four positions per step, rsync's rollsum one), and
//! over the shrinking window at the end of NEW ([`Shrinking`]). Their
//! from-scratch sums are the signature's own ([`crate::hash`]).

use super::index::{BlockIndex, FILTER_MIX};
use crate::format::params::WeakSum;
use crate::hash::{rabinkarp, rollsum};

/// A weak sum rolling over a window of fixed length.
pub(super) trait Roller {
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
pub(super) struct RkRoller {
    out_term: [u32; 256],
}

impl RkRoller {
    pub(super) fn new(block_len: usize) -> RkRoller {
        let mult = rabinkarp::pow(block_len as u64);
        let mut out_term = [0u32; 256];
        for (c, t) in out_term.iter_mut().enumerate() {
            *t = mult.wrapping_mul((c as u32).wrapping_add(rabinkarp::ADJ));
        }
        RkRoller { out_term }
    }
}

/// M^2, M^3, M^4, for four RabinKarp positions per step.
const MULT2: u32 = rabinkarp::pow(2);
const MULT3: u32 = rabinkarp::pow(3);
const MULT4: u32 = rabinkarp::pow(4);

impl Roller for RkRoller {
    type State = u32;
    #[inline(always)]
    fn start(&self, window: &[u8]) -> u32 {
        rabinkarp::sum(window)
    }
    #[inline(always)]
    fn roll(&self, h: u32, out: u8, inp: u8) -> u32 {
        h.wrapping_mul(rabinkarp::MULT)
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

    /// Four positions per step: `h(p + k)` for k = 1..4 come from `h(p)`
    /// directly (`MULT^k * h + MULT^(k-1) * d0 + ... + d(k-1)`), so the
    /// dependency chain through the multiplier is one multiply-add per four
    /// bytes, and the sums in between are computed side by side, off it.
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
        const M: u32 = rabinkarp::MULT;
        let quads = (end - p - 1) / 4;
        let outs = &data[p..p + 4 * quads];
        let ins = &data[p + b..p + b + 4 * quads];
        for (k, (o, i)) in outs.chunks_exact(4).zip(ins.chunks_exact(4)).enumerate() {
            if BlockIndex::hit(&filter, Self::key(h)) {
                return (p + 4 * k, h, true);
            }
            let d0 = (i[0] as u32).wrapping_sub(self.out_term[o[0] as usize]);
            let d1 = (i[1] as u32).wrapping_sub(self.out_term[o[1] as usize]);
            let d2 = (i[2] as u32).wrapping_sub(self.out_term[o[2] as usize]);
            let d3 = (i[3] as u32).wrapping_sub(self.out_term[o[3] as usize]);
            // t_k = MULT^(k-1) * d0 + ... + d(k-1): independent of h
            let t2 = d0.wrapping_mul(M).wrapping_add(d1);
            let t3 = t2.wrapping_mul(M).wrapping_add(d2);
            let t4 = t3.wrapping_mul(M).wrapping_add(d3);
            let h1 = h.wrapping_mul(M).wrapping_add(d0);
            if BlockIndex::hit(&filter, Self::key(h1)) {
                return (p + 4 * k + 1, h1, true);
            }
            let h2 = h.wrapping_mul(MULT2).wrapping_add(t2);
            if BlockIndex::hit(&filter, Self::key(h2)) {
                return (p + 4 * k + 2, h2, true);
            }
            let h3 = h.wrapping_mul(MULT3).wrapping_add(t3);
            if BlockIndex::hit(&filter, Self::key(h3)) {
                return (p + 4 * k + 3, h3, true);
            }
            h = h.wrapping_mul(MULT4).wrapping_add(t4);
        }
        let mut q = p + 4 * quads;
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
pub(super) struct RsRoller {
    pub(super) len: u32,
}

impl Roller for RsRoller {
    type State = (u32, u32);
    #[inline(always)]
    fn start(&self, window: &[u8]) -> (u32, u32) {
        rollsum::with_offsets(rollsum::raw(window), window.len() as u64)
    }
    #[inline(always)]
    fn roll(&self, (s1, s2): (u32, u32), out: u8, inp: u8) -> (u32, u32) {
        let s1 = s1.wrapping_add(inp as u32).wrapping_sub(out as u32);
        let s2 = s2
            .wrapping_add(s1)
            .wrapping_sub(self.len.wrapping_mul(out as u32 + rollsum::CHAR_OFFSET));
        (s1, s2)
    }
    #[inline(always)]
    fn digest((s1, s2): (u32, u32)) -> u32 {
        rollsum::digest(s1, s2)
    }
    #[inline(always)]
    fn key(weak: u32) -> u32 {
        weak.wrapping_mul(FILTER_MIX)
    }
}

/// The weak sum of a window shrinking from the front (the end of NEW).
pub(super) enum Shrinking {
    Rk { hash: u32, mult: u32 },
    Rs { s1: u32, s2: u32, count: u32 },
}

impl Shrinking {
    pub(super) fn new(kind: WeakSum, window: &[u8]) -> Shrinking {
        match kind {
            WeakSum::RabinKarp => Shrinking::Rk {
                hash: rabinkarp::sum(window),
                mult: rabinkarp::pow(window.len() as u64),
            },
            WeakSum::Rollsum => {
                let (s1, s2) = rollsum::with_offsets(rollsum::raw(window), window.len() as u64);
                Shrinking::Rs {
                    s1,
                    s2,
                    count: window.len() as u32,
                }
            }
        }
    }

    pub(super) fn digest(&self) -> u32 {
        match *self {
            Shrinking::Rk { hash, .. } => hash,
            Shrinking::Rs { s1, s2, .. } => rollsum::digest(s1, s2),
        }
    }

    /// Drops the window's first byte `out` (librsync's `*_rollout`).
    pub(super) fn rollout(&mut self, out: u8) {
        match self {
            Shrinking::Rk { hash, mult } => {
                *mult = mult.wrapping_mul(rabinkarp::INV);
                *hash =
                    hash.wrapping_sub(mult.wrapping_mul((out as u32).wrapping_add(rabinkarp::ADJ)));
            }
            Shrinking::Rs { s1, s2, count } => {
                let o = out as u32 + rollsum::CHAR_OFFSET;
                *s1 = s1.wrapping_sub(o);
                *s2 = s2.wrapping_sub(count.wrapping_mul(o));
                *count -= 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::weak_sum;
    use crate::testdata::gen_bytes;

    #[test]
    fn weak_sums_roll_like_from_scratch() {
        let data = gen_bytes(5, 3000);
        for b in [1usize, 7, 64, 65, 200] {
            let rk = RkRoller::new(b);
            let rs = RsRoller { len: b as u32 };
            let (mut h, mut s) = (rk.start(&data[..b]), rs.start(&data[..b]));
            for p in 0..data.len() - b {
                assert_eq!(h, weak_sum(WeakSum::RabinKarp, &data[p..p + b]));
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
            h = h.wrapping_mul(rabinkarp::MULT).wrapping_add(x as u32);
            s1 = s1.wrapping_add(x as u32 + 31);
            s2 = s2.wrapping_add(s1);
        }
        assert_eq!(weak_sum(WeakSum::RabinKarp, &data[..777]), h);
        assert_eq!(
            weak_sum(WeakSum::Rollsum, &data[..777]),
            (s2 << 16) | (s1 & 0xffff)
        );
    }
}
