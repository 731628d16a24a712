//! Hostile signatures and resource limits: a weak sum shared by every block
//! (a flood), block lengths up to rdiff's 2^31 - 1, threads the system
//! refuses.

use super::*;

/// A signature of `count` blocks of `block_len` bytes that all have the weak
/// sum of `block_len` zero bytes and random strong sums (the flood:
/// 10,000 such blocks make every window of a run of zeros a weak hit).
fn flooded_sig(weak: WeakSum, block_len: u32, count: usize) -> Vec<u8> {
    let params = SignatureParams {
        weak,
        strong: StrongHash::Blake2,
        block_len,
        strong_len: 32,
    };
    let w = weak_sum(weak, &vec![0u8; block_len as usize]);
    let mut sig = params.header().to_vec();
    let mut rng = Rng::new(14);
    for _ in 0..count {
        sig.extend_from_slice(&w.to_be_bytes());
        for _ in 0..4 {
            sig.extend_from_slice(&rng.next_u64().to_le_bytes());
        }
    }
    sig
}

/// The case 14: 10 MiB of zeros against 10,000 blocks sharing the
/// zeros' weak sum cost one BLAKE2b of 2 KiB per position (~20 GB of
/// hashing, minutes); now a budget of misses per weak sum bounds the strong
/// sums to a small constant per scan, and the delta still patches back.
#[test]
fn flooded_weak_sum_costs_a_bounded_number_of_strong_sums() {
    // the 10 MiB, streamed and by file; rollsum on less (debug speed)
    for (weak, len, jobs) in [
        (WeakSum::RabinKarp, 10 << 20, 0),
        (WeakSum::RabinKarp, 4 << 20, 2),
        (WeakSum::Rollsum, 2 << 20, 1),
    ] {
        let new = vec![0u8; len];
        let index = index_of(&flooded_sig(weak, 2048, 10_000));
        {
            let (delta, stats, ms) = our_delta(&index, &new, jobs, 2 << 20);
            assert_eq!(
                stats.copy_bytes, 0,
                "{weak:?} jobs {jobs}: nothing can match"
            );
            assert!(
                ms.strong_calcs <= 4096,
                "{weak:?} jobs {jobs}: {} strong sums for {} positions",
                ms.strong_calcs,
                new.len()
            );
            assert!(ms.strong_compares <= 4096 * 20, "{weak:?} jobs {jobs}");
            assert!(patched(&[], &delta) == new, "{weak:?} jobs {jobs}");
        }
    }
}

/// A flood does not hide a block that really matches: the zeros' own block,
/// among 10,000 impostors with its weak sum, is found by its strong sum.
#[test]
fn flooded_weak_sum_still_finds_the_real_block() {
    let mut sig = flooded_sig(WeakSum::RabinKarp, 2048, 10_000);
    sig.extend_from_slice(&weak_sum(WeakSum::RabinKarp, &[0u8; 2048]).to_be_bytes());
    sig.extend_from_slice(&strong_sum(StrongHash::Blake2, &[0u8; 2048])[..32]);
    let index = index_of(&sig);
    let new = vec![0u8; 3 << 20];
    for jobs in [0, 2] {
        let (delta, stats, ms) = our_delta(&index, &new, jobs, 1 << 20);
        assert_eq!(stats.lit_bytes, 0, "jobs {jobs}");
        assert!(ms.strong_compares < 100_000, "jobs {jobs}: {ms:?}");
        let basis: Vec<u8> = [vec![1u8; 10_000 * 2048], vec![0u8; 2048]].concat();
        assert!(patched(&basis, &delta) == new, "jobs {jobs}");
    }
}

/// The case 11: a thread the system refuses (`ulimit -u`, a PID
/// limit) made delta panic; now it goes on with the threads it has, down to
/// the calling thread alone, and the delta is byte-identical.
#[test]
fn refused_threads_give_the_same_delta() {
    use crate::workers::hook;
    let basis = random_bytes(111, 400_000);
    let new = scatter(&basis, 112, 40, 300);
    let index = index_of(&make_sig(
        &basis,
        WeakSum::RabinKarp,
        StrongHash::Blake2,
        512,
        32,
    ));
    hook::allow(None);
    let (want, ..) = our_delta(&index, &new, 1, 8192);
    assert_eq!(hook::started(), 0, "jobs 1 starts no thread");
    for allowed in [0, 1, 2] {
        hook::allow(Some(allowed));
        let (got, ..) = our_delta(&index, &new, 4, 8192);
        assert_eq!(hook::started(), allowed, "{allowed} allowed");
        assert!(got == want, "{allowed} threads allowed: the delta differs");
    }
    hook::allow(None);
}

/// `-j 65535` starts no more threads than there are chunks (it started one
/// per chunk of a 4 GiB file before: 2,047 threads, 4.3 GB).
#[test]
fn threads_are_capped_by_the_work() {
    use crate::workers::{MAX_WORKERS, hook};
    let basis = random_bytes(113, 100_000);
    let index = index_of(&make_sig(
        &basis,
        WeakSum::RabinKarp,
        StrongHash::Blake2,
        512,
        32,
    ));
    for (chunks, chunk) in [(1, 100_000), (3, 100_000 / 3), (195, 512)] {
        hook::allow(None);
        let (delta, ..) = our_delta(&index, &basis, 65535, chunk);
        assert!(
            hook::started() < chunks.min(MAX_WORKERS),
            "{} threads for {chunks} chunks",
            hook::started()
        );
        assert_eq!(commands(&delta), [(b'C', 0, 100_000)]);
    }
    hook::allow(None);
}
