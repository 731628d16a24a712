//! BLAKE2b as librsync uses it: `blake2b_init(&ctx, RS_MAX_STRONG_SUM_LENGTH
//! = 32)`, a 32-byte digest truncated to the signature's strong length after.
//!
//! Two implementations of the one hash: blake2b_simd (AVX2, several blocks
//! side by side) once [`super::simd`] says the run is big enough to ask the
//! CPU for its features, RustCrypto's portable `blake2` before. A test holds
//! them equal.

use blake2::Digest;

use super::MAX_STRONG;

/// A BLAKE2b-256 digest.
pub(crate) type Sum = [u8; MAX_STRONG];

/// The parameters of every strong sum, for blake2b_simd. Making them asks
/// the CPU for its features: only where [`super::simd`] said yes.
pub(crate) fn params() -> blake2b_simd::Params {
    let mut p = blake2b_simd::Params::new();
    p.hash_length(MAX_STRONG);
    p
}

/// The portable BLAKE2b-256 of `data`.
fn portable(data: &[u8]) -> Sum {
    blake2::Blake2b::<blake2::digest::consts::U32>::digest(data).into()
}

/// The BLAKE2b-256 of `data`.
pub(crate) fn hash(data: &[u8]) -> Sum {
    if super::simd(data.len()) {
        let mut out = [0u8; MAX_STRONG];
        out.copy_from_slice(params().hash(data).as_bytes());
        out
    } else {
        portable(data)
    }
}

/// The BLAKE2b-256 of each of `blocks`, in order, into `out` (which holds at
/// least as many): side by side with SIMD.
pub(crate) fn hash_many(blocks: &[&[u8]], out: &mut [Sum]) {
    let total = blocks.iter().map(|b| b.len()).sum();
    if !super::simd(total) {
        for (o, b) in out.iter_mut().zip(blocks) {
            *o = portable(b);
        }
        return;
    }
    let params = params();
    for (group, out) in blocks.chunks(GROUP).zip(out.chunks_mut(GROUP)) {
        let mut jobs: [blake2b_simd::many::HashManyJob; GROUP] = std::array::from_fn(|i| {
            blake2b_simd::many::HashManyJob::new(&params, group.get(i).copied().unwrap_or(&[]))
        });
        blake2b_simd::many::hash_many(jobs[..group.len()].iter_mut());
        for (o, job) in out.iter_mut().zip(&jobs[..group.len()]) {
            o.copy_from_slice(job.to_hash().as_bytes());
        }
    }
}

/// Blocks handed to blake2b_simd at once (it hashes 4 side by side with
/// AVX2): a fixed array, no allocation per call.
const GROUP: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::gen_bytes;

    #[test]
    fn both_implementations_give_the_same_sums() {
        for n in (0..260).chain([1023, 1024, 1025, 4096, 65_537]) {
            let d = gen_bytes(n as u64 + 1, n);
            assert_eq!(portable(&d)[..], *params().hash(&d).as_bytes(), "n={n}");
            assert_eq!(hash(&d), portable(&d), "n={n}");
        }
        // librsync's BLAKE2b-256 of "abc" (RFC 7693's test vector, 256-bit)
        assert_eq!(
            portable(b"abc")[..4],
            [0xbd, 0xdd, 0x81, 0x3c],
            "{:02x?}",
            portable(b"abc")
        );
        let blocks: Vec<Vec<u8>> = (1..10).map(|i| gen_bytes(i, 100 * i as usize)).collect();
        let refs: Vec<&[u8]> = blocks.iter().map(|b| &b[..]).collect();
        let mut out = vec![[0u8; MAX_STRONG]; refs.len()];
        hash_many(&refs, &mut out);
        for (o, b) in out.iter().zip(&refs) {
            assert_eq!(*o, portable(b));
        }
    }
}
