//! The block sums of a signature, each defined once and used by the
//! signature pipelines and the delta search alike: the weak sums
//! ([`rabinkarp`], [`rollsum`]) and the strong ones ([`md4`], [`blake2`]).

pub(crate) mod blake2;
pub(crate) mod md4;
pub(crate) mod rabinkarp;
pub(crate) mod rollsum;

use crate::format::params::WeakSum;

/// The longest strong sum (BLAKE2b-256).
pub(crate) const MAX_STRONG: usize = 32;

/// One block's weak sum, exactly as librsync's `rs_calc_weak_sum`.
#[inline]
pub(crate) fn weak_sum(kind: WeakSum, block: &[u8]) -> u32 {
    match kind {
        WeakSum::RabinKarp => rabinkarp::sum(block),
        WeakSum::Rollsum => rollsum::sum(block),
    }
}

/// One block's full strong sum (MD4: 16 bytes, then zeros; BLAKE2b: 32
/// bytes). A signature entry holds its first `strong_len` bytes.
#[cfg(test)]
pub(crate) fn strong_sum(
    kind: crate::format::params::StrongHash,
    block: &[u8],
) -> [u8; MAX_STRONG] {
    let mut out = [0u8; MAX_STRONG];
    match kind {
        crate::format::params::StrongHash::Md4 => out[..16].copy_from_slice(&md4::md4(block)),
        crate::format::params::StrongHash::Blake2 => {
            out.copy_from_slice(blake2::params().hash(block).as_bytes())
        }
    }
    out
}
