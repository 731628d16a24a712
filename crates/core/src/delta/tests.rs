//! The native delta engine's unit tests: every path and thread count, on
//! signatures made here.

use std::io::{self, Cursor, Read, Write};

use super::index::BlockIndex;
use super::parallel::delta_file_chunked;
use super::stream::delta_stream;
use crate::error::Role;
use crate::format::int_len;
use crate::format::params::{
    SIG_HEADER_LEN, SignatureParams, StrongHash, WeakSum, kind_of_magic, magic_for,
};
use crate::hash::{strong_sum, weak_sum};
use crate::options::{BufferSizes, DeltaOptions};
use crate::stats::{MatchStats, Op, Stats};
use crate::testdata::{OPTIONS, Rng, commands, gen_bytes as random_bytes, scatter, shift};

/// Hostile signatures and limits: floods, huge blocks, thread fallbacks.
mod limits;

// ------------------------------------------------------------ helpers

/// A signature file made here (checked against librsync's in a test).
fn make_sig(
    basis: &[u8],
    weak: WeakSum,
    strong: StrongHash,
    block_len: u32,
    strong_len: u32,
) -> Vec<u8> {
    let params = SignatureParams {
        weak,
        strong,
        block_len,
        strong_len,
    };
    let mut sig = params.header().to_vec();
    for block in basis.chunks(block_len as usize) {
        sig.extend_from_slice(&weak_sum(weak, block).to_be_bytes());
        sig.extend_from_slice(&strong_sum(strong, block)[..strong_len as usize]);
    }
    sig
}

fn index_of(sig: &[u8]) -> BlockIndex {
    let word = |i: usize| u32::from_be_bytes(sig[i..i + 4].try_into().unwrap());
    let (weak, strong) = kind_of_magic(word(0)).unwrap();
    let params = SignatureParams {
        weak,
        strong,
        block_len: word(4),
        strong_len: word(8),
    };
    let body = &sig[SIG_HEADER_LEN..];
    let whole = body.len() / params.entry_len() * params.entry_len();
    BlockIndex::new(params, body[..whole].to_vec()).unwrap()
}

/// Our delta: jobs 0 = the streaming path; else the chunked file path.
fn our_delta(
    index: &BlockIndex,
    new: &[u8],
    jobs: usize,
    chunk: usize,
) -> (Vec<u8>, Stats, MatchStats) {
    let mut out = Vec::new();
    let (stats, ms) = if jobs == 0 {
        delta_stream(index, new, &mut out, &tuning(0)).unwrap()
    } else {
        let mut f = tempfile::tempfile().unwrap();
        // a prefix that is not NEW, to exercise `start`
        f.write_all(b"xyz").unwrap();
        f.write_all(new).unwrap();
        delta_file_chunked(
            index,
            &f,
            3,
            new.len() as u64,
            &mut out,
            &tuning(jobs),
            chunk,
        )
        .unwrap()
    };
    assert_eq!(stats.out_bytes, out.len() as u64, "out_bytes");
    assert_eq!(stats.in_bytes, new.len() as u64, "in_bytes");
    assert_eq!(
        stats.lit_bytes + stats.copy_bytes,
        new.len() as u64,
        "lit + copy bytes"
    );
    (out, stats, ms)
}

/// Smallest buffers, as `-I 1 -O 1` give.
fn tuning(jobs: usize) -> DeltaOptions {
    DeltaOptions {
        buffers: BufferSizes {
            input: 1,
            output: 1,
        },
        jobs,
        ..DeltaOptions::default()
    }
}

fn patched(basis: &[u8], delta: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::patch(
        Cursor::new(basis),
        delta,
        &mut out,
        &crate::PatchOptions::default(),
    )
    .expect("our delta must patch");
    out
}

// -------------------------------------------------------------- tests

/// Our sums and the signature layout equal librsync's (the crate's
/// signature engine), for every weak and strong kind.
#[test]
fn sums_match_librsync_signatures() {
    let basis = random_bytes(11, 20_000 + 77);
    for (strong, weak, strong_len, block_len) in OPTIONS {
        let opts = crate::SignatureOptions {
            block_len,
            strong_len: crate::StrongLen::Bytes(strong_len),
            hash: strong,
            rollsum: weak,
            basis_size: Some(basis.len() as u64),
            ..Default::default()
        };
        let mut theirs = Vec::new();
        crate::signature(&basis[..], &mut theirs, &opts).unwrap();
        let ours = make_sig(&basis, weak, strong, block_len, strong_len);
        assert!(
            ours == theirs,
            "{strong:?} {weak:?} {strong_len} {block_len}"
        );
        assert_eq!(&ours[..4], &magic_for(weak, strong).to_be_bytes());
    }
}

#[test]
fn identical_is_one_copy() {
    let basis = random_bytes(1, 300_000);
    let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 512, 32);
    let index = index_of(&sig);
    assert_eq!(index.block_count(), 586);
    assert_eq!(index.params().block_len, 512);
    for (jobs, chunk) in [(0, 0), (1, 4096), (2, 4096 + 100), (3, 512)] {
        let (delta, stats, ms) = our_delta(&index, &basis, jobs, chunk);
        assert_eq!(
            delta,
            [
                0x72, 0x73, 0x02, 0x36, 0x47, 0x00, 0x00, 0x04, 0x93, 0xe0, 0x00
            ],
            "jobs {jobs} chunk {chunk}"
        );
        assert_eq!(
            (stats.copy_cmds, stats.copy_bytes, stats.copy_cmdbytes),
            (1, 300_000, 6)
        );
        assert_eq!(stats.lit_cmds, 0);
        if jobs == 0 {
            assert_eq!(ms.matches, 586);
            assert_eq!(ms.strong_calcs, 586);
        }
    }
}

#[test]
fn empty_new_is_magic_and_end() {
    let basis = random_bytes(2, 5000);
    let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
    for jobs in [0, 2] {
        let (delta, stats, _) = our_delta(&index_of(&sig), &[], jobs, 256);
        assert_eq!(delta, [0x72, 0x73, 0x02, 0x36, 0x00]);
        assert_eq!(stats.lit_cmds + stats.copy_cmds, 0);
    }
    // empty basis too
    let sig = make_sig(&[], WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
    let (delta, _, _) = our_delta(&index_of(&sig), &[], 0, 0);
    assert_eq!(delta, [0x72, 0x73, 0x02, 0x36, 0x00]);
}

#[test]
fn empty_signature_gives_literals() {
    let new = random_bytes(3, 50_000);
    let sig = make_sig(&[], WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
    for jobs in [0, 2] {
        let (delta, stats, _) = our_delta(&index_of(&sig), &new, jobs, 1000);
        assert_eq!(commands(&delta), [(b'L', 50_000, 0)]);
        assert_eq!(
            (stats.lit_cmds, stats.lit_bytes, stats.lit_cmdbytes),
            (1, 50_000, 3)
        );
        assert_eq!(patched(&[], &delta), new);
    }
    // longer: a few commands (cut where the read buffer is refilled)
    let new = random_bytes(3, 3_000_000);
    let (delta, stats, _) = our_delta(&index_of(&sig), &new, 0, 0);
    assert!(
        commands(&delta)
            .iter()
            .all(|c| c.0 == b'L' && c.1 >= 64 * 1024)
    );
    assert!(stats.lit_cmds <= 5);
    assert_eq!(patched(&[], &delta), new);
}

#[test]
fn tail_matches_the_short_last_block() {
    let basis = random_bytes(4, 10 * 1000 + 321);
    let mut new = basis.clone();
    new[3000] ^= 1; // block 3 becomes literal
    for (strong, weak, strong_len, _) in OPTIONS {
        let sig = make_sig(&basis, weak, strong, 1000, strong_len);
        let index = index_of(&sig);
        for jobs in [0, 1, 2] {
            let (delta, ..) = our_delta(&index, &new, jobs, 3000);
            assert_eq!(
                commands(&delta),
                [(b'C', 0, 3000), (b'L', 1000, 0), (b'C', 4000, 6321)],
                "{strong:?} {weak:?} jobs {jobs}"
            );
        }
        // NEW shorter than a block, equal to the whole (one short block) basis
        let sig = make_sig(&basis[..321], weak, strong, 1000, strong_len);
        let (delta, ..) = our_delta(&index_of(&sig), &basis[..321], 0, 0);
        assert_eq!(commands(&delta), [(b'C', 0, 321)]);
        // shifted: the tail still matches
        let mut shifted = b"12345".to_vec();
        shifted.extend_from_slice(&basis[..321]);
        let (delta, ..) = our_delta(&index_of(&sig), &shifted, 0, 0);
        assert_eq!(commands(&delta), [(b'L', 5, 0), (b'C', 0, 321)]);
    }
}

#[test]
fn repetitive_basis_gives_merged_copies() {
    let basis = vec![0u8; 64 * 1024 + 100];
    let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 1024, 32);
    let index = index_of(&sig);
    for (jobs, chunk) in [(0, 0), (1, 8192), (3, 8192), (2, 1024)] {
        let (delta, ..) = our_delta(&index, &basis, jobs, chunk);
        assert_eq!(
            commands(&delta),
            [(b'C', 0, basis.len() as u64)],
            "jobs {jobs} chunk {chunk}"
        );
    }
    // chunks not aligned to blocks: one more COPY per chunk at most
    let (delta, ..) = our_delta(&index, &basis, 2, 3000);
    assert_eq!(patched(&basis, &delta), basis);
    assert!(
        commands(&delta).len() <= 3 + basis.len() / 3000,
        "{:?}",
        commands(&delta)
    );
    let mut new = basis.clone();
    new.splice(10_000..10_000, *b"hello");
    let (delta, ..) = our_delta(&index, &new, 0, 0);
    // the blocks holding "hello" are literal, the rest copies
    assert_eq!(
        commands(&delta),
        [
            (b'C', 0, 9216),
            (b'L', 789, 0),
            (b'C', 0, 55296),
            (b'L', 240, 0),
            (b'C', 65536, 100)
        ]
    );
    for (jobs, chunk) in [(1, 8192), (3, 8192), (2, 3000)] {
        let (delta, ..) = our_delta(&index, &new, jobs, chunk);
        assert_eq!(patched(&basis, &delta), new);
        assert!(
            commands(&delta).len() <= 6 + new.len() / chunk,
            "jobs {jobs}: {:?}",
            commands(&delta)
        );
    }
}

/// Random mixes of edits, shifts, repeats and chunk lengths: every delta
/// patches back, and the chunked delta does not depend on `jobs`.
#[test]
fn random_seams_patch_back() {
    let mut r = Rng::new(0x5eed);
    let rounds = std::env::var("MATCHER_ROUNDS").map_or(24, |v| v.parse().unwrap_or(24));
    for round in 0..rounds {
        let b = [16, 33, 64, 100][r.below_usize(4)];
        let n = 2000 + r.below_usize(20_000);
        let mut basis = random_bytes(round + 1, n);
        if round % 3 == 0 {
            // repeats inside the basis
            let piece = basis[..b * 3 + 5].to_vec();
            for k in 0..n / piece.len() / 2 {
                let at = k * 2 * piece.len();
                basis[at..at + piece.len()].copy_from_slice(&piece);
            }
        }
        let mut new = shift(
            &scatter(&basis, round + 7, r.below_usize(20), 30),
            round + 9,
            r.below_usize(10),
            200,
        );
        if round % 4 == 1 {
            new.extend_from_slice(&basis[n - (n % b)..]); // the short last block again
        }
        let (weak, strong) = if round % 2 == 0 {
            (WeakSum::RabinKarp, StrongHash::Blake2)
        } else {
            (WeakSum::Rollsum, StrongHash::Md4)
        };
        let sig = make_sig(&basis, weak, strong, b as u32, 8);
        let index = index_of(&sig);
        let chunk = b + r.below_usize(8 * b);
        let (d1, ..) = our_delta(&index, &new, 1, chunk);
        let (d3, ..) = our_delta(&index, &new, 3, chunk);
        let (d0, ..) = our_delta(&index, &new, 0, 0);
        assert!(d1 == d3, "round {round}: jobs 1 and 3 differ");
        assert!(patched(&basis, &d1) == new, "round {round}: chunked delta");
        assert!(patched(&basis, &d0) == new, "round {round}: streamed delta");
    }
}

#[test]
fn stats_count_commands_as_librsync() {
    let basis = random_bytes(9, 50_000);
    let new = scatter(&basis, 3, 10, 30);
    let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 500, 32);
    let (delta, stats, ms) = our_delta(&index_of(&sig), &new, 0, 0);
    let cmds = commands(&delta);
    let lits: Vec<_> = cmds.iter().filter(|c| c.0 == b'L').collect();
    let copies: Vec<_> = cmds.iter().filter(|c| c.0 == b'C').collect();
    assert_eq!(stats.lit_cmds, lits.len() as u64);
    assert_eq!(stats.copy_cmds, copies.len() as u64);
    assert_eq!(stats.lit_bytes, lits.iter().map(|c| c.1).sum::<u64>());
    assert_eq!(stats.copy_bytes, copies.iter().map(|c| c.2).sum::<u64>());
    let cmdbytes: u64 = lits
        .iter()
        .map(|c| {
            if c.1 <= 64 {
                1
            } else {
                1 + int_len(c.1) as u64
            }
        })
        .sum();
    assert_eq!(stats.lit_cmdbytes, cmdbytes);
    let cmdbytes: u64 = copies
        .iter()
        .map(|c| 1 + (int_len(c.1) + int_len(c.2)) as u64)
        .sum();
    assert_eq!(stats.copy_cmdbytes, cmdbytes);
    assert_eq!(stats.op, Op::Delta);
    assert!(ms.searches >= 10 * 500 && ms.matches >= 80 && ms.strong_calcs >= ms.matches);
}

#[test]
fn filter_passes_every_block_and_few_other_keys() {
    use super::roll::{RkRoller, Roller, RsRoller};
    let basis = random_bytes(3, 4000 * 64);
    for weak in [WeakSum::RabinKarp, WeakSum::Rollsum] {
        let index = index_of(&make_sig(&basis, weak, StrongHash::Blake2, 64, 8));
        assert_eq!(index.filter_log, 19); // 4,000 blocks x 128 bits, rounded up
        let filter = index.filter::<19>();
        let key = |w: u32| match weak {
            WeakSum::RabinKarp => RkRoller::key(w),
            WeakSum::Rollsum => RsRoller::key(w),
        };
        assert!(index.weak.iter().all(|&w| BlockIndex::hit(&filter, key(w))));
        let mut rng = Rng::new(9);
        let passed = (0..1_000_000)
            .filter(|_| BlockIndex::hit(&filter, key(rng.next_u64() as u32)))
            .count();
        // one bit of the two: 4000 x 2 / 2^19 = 1.5%; both: 0.02%
        assert!(
            passed < 1000,
            "{weak:?}: {passed} of 1,000,000 random keys passed"
        );
    }
}

#[test]
fn impossible_parameters_match_nothing() {
    let basis = random_bytes(1, 1000);
    let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Md4, 100, 16);
    let mut params = index_of(&sig).params;
    params.strong_len = 20; // longer than MD4
    let entries = vec![0u8; 10 * params.entry_len()];
    let index = BlockIndex::new(params, entries).unwrap();
    assert_eq!(index.block_count(), 0);
    let (delta, ..) = our_delta(&index, &basis, 0, 0);
    assert_eq!(commands(&delta), [(b'L', 1000, 0)]);
}

#[test]
fn read_errors_are_new_errors() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("boom"))
        }
    }
    let sig = make_sig(
        &random_bytes(1, 1000),
        WeakSum::RabinKarp,
        StrongHash::Blake2,
        256,
        32,
    );
    let err = delta_stream(&index_of(&sig), Failing, &mut Vec::new(), &tuning(1)).unwrap_err();
    assert_eq!(err.role(), Some(Role::New));
    // a file shorter than promised
    let f = tempfile::tempfile().unwrap();
    let err = delta_file_chunked(
        &index_of(&sig),
        &f,
        0,
        10_000,
        &mut Vec::new(),
        &tuning(2),
        1000,
    )
    .unwrap_err();
    assert_eq!(err.role(), Some(Role::New));
}

#[test]
fn write_errors_are_output_errors() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let basis = random_bytes(1, 100_000);
    let sig = make_sig(&basis, WeakSum::RabinKarp, StrongHash::Blake2, 256, 32);
    let new = random_bytes(2, 3_000_000);
    let err = delta_stream(&index_of(&sig), &new[..], &mut Full, &tuning(1)).unwrap_err();
    assert_eq!(err.role(), Some(Role::Output));
    let mut f = tempfile::tempfile().unwrap();
    f.write_all(&new).unwrap();
    let err = delta_file_chunked(
        &index_of(&sig),
        &f,
        0,
        new.len() as u64,
        &mut Full,
        &tuning(2),
        4096,
    )
    .unwrap_err();
    assert_eq!(err.role(), Some(Role::Output));
}
