//! BLAKE2b as librsync uses it: `blake2b_init(&ctx, RS_MAX_STRONG_SUM_LENGTH
//! = 32)`, a 32-byte digest truncated to the signature's strong length after.

/// The one set of BLAKE2b parameters of every strong sum.
pub(crate) fn params() -> blake2b_simd::Params {
    let mut p = blake2b_simd::Params::new();
    p.hash_length(super::MAX_STRONG);
    p
}
