//! The block sums of a signature, each defined once and used by the
//! signature pipelines and the delta search alike: the weak sums
//! ([`rabinkarp`], [`rollsum`]) and the strong ones ([`md4`], [`blake2`]).

pub(crate) mod blake2;
pub(crate) mod md4;
pub(crate) mod rabinkarp;
pub(crate) mod rollsum;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::format::params::{StrongHash, WeakSum};

/// Bytes summed with the portable code before the SIMD code is chosen.
/// Choosing it asks the CPU for its features once (`cpuid`, about 35 µs in
/// a VM, where each question traps to the hypervisor): more than the SIMD
/// code saves on this many bytes, and a tenth of a run on a small file.
const PORTABLE_BUDGET: u64 = 16 * 1024;

/// Bytes summed so far with the portable code.
static PORTABLE_USED: AtomicU64 = AtomicU64::new(0);

/// Set once the portable budget is spent: from then on, SIMD.
static SIMD: AtomicBool = AtomicBool::new(false);

/// Whether to sum the next `len` bytes with the SIMD code (RabinKarp's
/// lanes, BLAKE2b): once the run has summed more than [`PORTABLE_BUDGET`]
/// bytes. Both codes give the same sums.
#[inline]
pub(crate) fn simd(len: usize) -> bool {
    if SIMD.load(Ordering::Relaxed) {
        return true;
    }
    let used = PORTABLE_USED.fetch_add(len as u64, Ordering::Relaxed) + len as u64;
    if used > PORTABLE_BUDGET {
        SIMD.store(true, Ordering::Relaxed);
    }
    used > PORTABLE_BUDGET
}

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
pub(crate) fn strong_sum(kind: StrongHash, block: &[u8]) -> [u8; MAX_STRONG] {
    let mut out = [0u8; MAX_STRONG];
    match kind {
        StrongHash::Md4 => out[..16].copy_from_slice(&md4::md4(block)),
        StrongHash::Blake2 => out = blake2::hash(block),
    }
    out
}

/// The full strong sums of `blocks`, in order, into `out` (which holds at
/// least as many): BLAKE2b side by side (about twice the throughput of one
/// at a time, with AVX2), MD4 in groups of equal-length blocks in
/// `md4::LANES` interleaved lanes.
pub(crate) fn strong_sums(kind: StrongHash, blocks: &[&[u8]], out: &mut [[u8; MAX_STRONG]]) {
    match kind {
        StrongHash::Blake2 => blake2::hash_many(blocks, out),
        StrongHash::Md4 => {
            let mut done = 0;
            for g in blocks.chunks_exact(md4::LANES) {
                let msgs: &[&[u8]; md4::LANES] = g.try_into().expect("a whole group");
                if msgs.iter().any(|m| m.len() != msgs[0].len()) {
                    break;
                }
                for (o, h) in out[done..].iter_mut().zip(md4::md4_lanes(msgs)) {
                    *o = [0; MAX_STRONG];
                    o[..16].copy_from_slice(&h);
                }
                done += md4::LANES;
            }
            for (o, b) in out[done..].iter_mut().zip(&blocks[done..]) {
                *o = strong_sum(kind, b);
            }
        }
    }
}
