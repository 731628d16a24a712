//! rsync's rollsum, librsync's Adler-like weak sum (`ROLLSUM_CHAR_OFFSET`
//! 31). Raw sums without the offset: s1 = sum b_i, s2 = sum (n-i) b_i, in
//! [`LANES`] interleaved lanes; [`with_offsets`] adds the offsets as one
//! `RollsumUpdate` of the whole length does, and [`digest`] forms
//! `RollsumDigest`. Only the low 16 bits of each sum reach the digest, so
//! u32 wrapping arithmetic is exact.

/// Added to every byte (librsync's `ROLLSUM_CHAR_OFFSET`).
pub(crate) const CHAR_OFFSET: u32 = 31;
/// Interleaved lanes of [`raw`].
const LANES: usize = 32;

/// The raw sums `(s1, s2)` of `data`, without the offsets.
#[inline]
pub(crate) fn raw(data: &[u8]) -> (u32, u32) {
    // Per lane j over groups g: l1[j] = sum_g b, l2[j] = sum_g (q-1-g) b.
    let mut l1 = [0u32; LANES];
    let mut l2 = [0u32; LANES];
    let mut groups = data.chunks_exact(LANES);
    for g in &mut groups {
        let g: &[u8; LANES] = g.try_into().unwrap();
        for j in 0..LANES {
            l2[j] = l2[j].wrapping_add(l1[j]);
            l1[j] = l1[j].wrapping_add(g[j] as u32);
        }
    }
    // Over the main part (n' bytes): s2 = sum_j K*l2[j] + (K-j)*l1[j].
    let mut s1: u32 = 0;
    let mut s2: u32 = 0;
    for j in 0..LANES {
        s1 = s1.wrapping_add(l1[j]);
        s2 = s2
            .wrapping_add((LANES as u32).wrapping_mul(l2[j]))
            .wrapping_add(((LANES - j) as u32).wrapping_mul(l1[j]));
    }
    for &b in groups.remainder() {
        s1 = s1.wrapping_add(b as u32);
        s2 = s2.wrapping_add(s1);
    }
    (s1, s2)
}

/// Combine raw sums of A then B: (s1, s2) of A||B given B's length.
#[inline]
pub(crate) fn concat(a: (u32, u32), b: (u32, u32), b_len: u64) -> (u32, u32) {
    (
        a.0.wrapping_add(b.0),
        a.1.wrapping_add((b_len as u32).wrapping_mul(a.0))
            .wrapping_add(b.1),
    )
}

/// Adds the character offsets to raw sums of `len` bytes (as `RollsumUpdate`
/// does for one call of `len` bytes): the sums a rolling rollsum carries.
#[inline]
pub(crate) fn with_offsets((s1, s2): (u32, u32), len: u64) -> (u32, u32) {
    let offset = CHAR_OFFSET as u64;
    let s1 = (s1 as u64).wrapping_add(len.wrapping_mul(offset));
    // As C computes `(len * (len + 1)) / 2` in 64-bit size_t (exact below 2^32).
    let tri = len.wrapping_mul(len.wrapping_add(1)) / 2;
    let s2 = (s2 as u64).wrapping_add(tri.wrapping_mul(offset));
    (s1 as u32, s2 as u32)
}

/// `RollsumDigest` of sums with their offsets.
#[inline(always)]
pub(crate) fn digest(s1: u32, s2: u32) -> u32 {
    (s2 << 16) | (s1 & 0xffff)
}

/// The rollsum of `data`: a signature's block sum.
#[inline]
pub(crate) fn sum(data: &[u8]) -> u32 {
    finish(raw(data), data.len() as u64)
}

/// The digest of raw sums of `len` bytes.
#[inline]
pub(crate) fn finish(raw: (u32, u32), len: u64) -> u32 {
    let (s1, s2) = with_offsets(raw, len);
    digest(s1, s2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::gen_bytes;

    /// Straightforward rollsum (librsync's loop with 64-bit sums).
    fn reference(block: &[u8]) -> u32 {
        let offset = CHAR_OFFSET as u64;
        let (mut s1, mut s2) = (0u64, 0u64);
        for &b in block {
            s1 = s1.wrapping_add(b as u64);
            s2 = s2.wrapping_add(s1);
        }
        let len = block.len() as u64;
        s1 = s1.wrapping_add(len * offset);
        s2 = s2.wrapping_add(((len * (len + 1)) / 2) * offset);
        ((s2 as u32) << 16) | (s1 as u32 & 0xffff)
    }

    #[test]
    fn rollsum_lanes_match_reference() {
        for n in (0..300).chain([1023, 1024, 1025, 4096, 16384, 16385, 100_000]) {
            for seed in 1..4 {
                let d = gen_bytes(seed, n);
                assert_eq!(sum(&d), reference(&d), "n={n}");
            }
        }
        let d = vec![0xffu8; 300_000];
        assert_eq!(sum(&d), reference(&d));
        let d = gen_bytes(9, 50_000);
        for split in [0, 1, 31, 32, 33, 1000, 49_999, 50_000] {
            let (a, b) = d.split_at(split);
            let joined = concat(raw(a), raw(b), b.len() as u64);
            assert_eq!(finish(joined, d.len() as u64), reference(&d));
        }
    }
}
