//! RabinKarp, librsync's default weak sum: `hash = SEED * M^n + sum b_i *
//! M^(n-1-i)` (mod 2^32), `rabinkarp_update` evaluated by Horner's rule.
//!
//! The Horner chain is a serial multiply-add per byte, so [`update`] splits
//! the input into [`LANES`] interleaved lanes (lane j takes bytes j,
//! j+LANES, ...), runs Horner with multiplier M^LANES in each lane
//! independently (vectorisable), and combines the lanes with powers of M.
//! The delta's rolling form (in `delta::roll`) uses [`ADJ`] and [`INV`].

/// The hash of no bytes (librsync's `RABINKARP_SEED`).
pub(crate) const SEED: u32 = 1;
/// The multiplier M (librsync's `RABINKARP_MULT`).
pub(crate) const MULT: u32 = 0x0810_4225;
/// `MULT - 1`: rolling out with it also removes the seed's factor.
pub(crate) const ADJ: u32 = 0x0810_4224;
/// The inverse of [`MULT`] modulo 2^32, for rolling a window's start out.
pub(crate) const INV: u32 = inverse(MULT);
/// Interleaved lanes of [`update`].
const LANES: usize = 32;

/// M^n modulo 2^32.
#[inline]
pub(crate) const fn pow(n: u64) -> u32 {
    let (mut m, mut p) = (MULT, n);
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

/// The inverse of an odd number modulo 2^32 (Newton's iteration).
const fn inverse(a: u32) -> u32 {
    let mut x = a; // correct to 3 bits for odd a
    let mut i = 0;
    while i < 5 {
        x = x.wrapping_mul(2u32.wrapping_sub(a.wrapping_mul(x)));
        i += 1;
    }
    x
}

const MULT_LANES: u32 = pow(LANES as u64);

/// LANE_POW[j] = M^(LANES-1-j).
const LANE_POW: [u32; LANES] = {
    let mut t = [0u32; LANES];
    let mut j = 0;
    while j < LANES {
        t[j] = pow((LANES - 1 - j) as u64);
        j += 1;
    }
    t
};

/// The RabinKarp sum of `data` from the seed: a signature's block sum.
#[inline]
pub(crate) fn sum(data: &[u8]) -> u32 {
    update(SEED, data, pow(data.len() as u64))
}

/// Returns `h * M^len + poly(data)`, i.e. librsync's `rabinkarp_update`
/// applied to a running hash `h`.  `pow_len` must be `M^data.len()`.
/// The baseline code until [`super::simd`] says the run is big enough to
/// ask the CPU for its features.
#[inline]
pub(crate) fn update(h: u32, data: &[u8], pow_len: u32) -> u32 {
    if super::simd(data.len()) {
        update_simd(h, data, pow_len)
    } else {
        update_lanes(h, data, pow_len)
    }
}

/// [`update_lanes`] compiled twice: for AVX-512 CPUs, where the lanes
/// vectorise fully (3x the baseline's speed; LLVM's AVX2 code for this loop
/// is slower than SSE2's), and for the baseline.
#[multiversion::multiversion(targets("x86_64+avx+avx2+avx512f+avx512vl+avx512bw"))]
fn update_simd(h: u32, data: &[u8], pow_len: u32) -> u32 {
    update_lanes(h, data, pow_len)
}

/// [`update`] in [`LANES`] interleaved lanes.
#[inline(always)]
fn update_lanes(h: u32, data: &[u8], pow_len: u32) -> u32 {
    let mut lanes = [0u32; LANES];
    let mut groups = data.chunks_exact(LANES);
    for g in &mut groups {
        let g: &[u8; LANES] = g.try_into().unwrap();
        for j in 0..LANES {
            lanes[j] = lanes[j].wrapping_mul(MULT_LANES).wrapping_add(g[j] as u32);
        }
    }
    let rem = groups.remainder();
    // poly(main part) = sum_j lanes[j] * M^(LANES-1-j)
    let mut p: u32 = 0;
    for j in 0..LANES {
        p = p.wrapping_add(lanes[j].wrapping_mul(LANE_POW[j]));
    }
    // poly(data) = poly(main) * M^r + poly(rem), by Horner over the r remaining bytes.
    let mut acc = p;
    for &b in rem {
        acc = acc.wrapping_mul(MULT).wrapping_add(b as u32);
    }
    h.wrapping_mul(pow_len).wrapping_add(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::gen_bytes;

    /// Straightforward serial RabinKarp (librsync's loop).
    fn reference(block: &[u8]) -> u32 {
        let mut h = SEED;
        for &b in block {
            h = h.wrapping_mul(MULT).wrapping_add(b as u32);
        }
        h
    }

    #[test]
    fn rabinkarp_lanes_match_reference() {
        for n in (0..300).chain([1023, 1024, 1025, 4096, 16384, 16385, 100_000]) {
            for seed in 1..4 {
                let d = gen_bytes(seed, n);
                assert_eq!(sum(&d), reference(&d), "n={n}");
                let pow = pow(n as u64);
                assert_eq!(update_lanes(SEED, &d, pow), reference(&d), "n={n}");
                assert_eq!(update_simd(SEED, &d, pow), reference(&d), "n={n}");
            }
        }
        let d = vec![0xffu8; 70_000];
        assert_eq!(sum(&d), reference(&d));
    }

    #[test]
    fn rabinkarp_incremental_matches() {
        let d = gen_bytes(7, 50_000);
        for split in [0, 1, 31, 32, 33, 1000, 49_999, 50_000] {
            let (a, b) = d.split_at(split);
            let h = update(SEED, a, pow(a.len() as u64));
            let h = update(h, b, pow(b.len() as u64));
            assert_eq!(h, reference(&d));
        }
        assert_eq!(MULT.wrapping_mul(INV), 1);
    }
}
