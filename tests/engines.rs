//! The native engine against Debian's rdiff: signatures byte for byte, and
//! deltas for every path and thread count that patch back (with our patch
//! and rdiff's) and stay within rdiff's size x 1.01 + 64. Moved here from
//! the core crate's unit tests so that no unit test runs a program.

use std::io::{Cursor, Write};
use std::path::Path;
use std::process::Command;

use rsync_tool_core::testdata::{OPTIONS, commands, gen_bytes, native_delta, scatter, shift};
use rsync_tool_core::{PatchOptions, SignatureOptions, StrongHash, StrongLen, WeakSum};

use crate::util::{delta_size_ok, rdiff, read, tempdir, write};

/// The native signature of `basis` with these parameters.
fn signature(
    basis: &[u8],
    weak: WeakSum,
    strong: StrongHash,
    block_len: u32,
    strong_len: u32,
) -> Vec<u8> {
    let options = SignatureOptions {
        block_len,
        strong_len: StrongLen::Bytes(strong_len),
        hash: strong,
        rollsum: weak,
        basis_size: Some(basis.len() as u64),
        ..SignatureOptions::default()
    };
    let mut sig = Vec::new();
    rsync_tool_core::signature(basis, &mut sig, &options).unwrap();
    sig
}

/// Our patch of `basis` with `delta`.
fn patched(basis: &[u8], delta: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    rsync_tool_core::patch(
        Cursor::new(basis),
        delta,
        &mut out,
        &PatchOptions::default(),
    )
    .expect("our delta must patch");
    out
}

/// rdiff's `command` on files holding `inputs`; returns its output file.
fn rdiff_run(rdiff: &Path, command: &str, inputs: [&[u8]; 2]) -> Vec<u8> {
    let dir = tempdir();
    let (a, b) = (
        write(dir.path(), "a", inputs[0]),
        write(dir.path(), "b", inputs[1]),
    );
    let out = dir.path().join("out");
    let st = Command::new(rdiff)
        .arg(command)
        .args([&a, &b, &out])
        .status()
        .unwrap();
    assert!(st.success(), "rdiff {command} failed");
    read(&out)
}

/// MD4 and BLAKE2 against rdiff's own signatures.
#[test]
fn sums_match_rdiff_signatures() {
    let Some(rdiff) = rdiff() else { return };
    let basis = gen_bytes(12, 10_000 + 5);
    let dir = tempdir();
    let b = write(dir.path(), "basis", &basis);
    let s = dir.path().join("sig");
    for (h, r, strong, weak) in [
        ("md4", "rollsum", StrongHash::Md4, WeakSum::Rollsum),
        ("md4", "rabinkarp", StrongHash::Md4, WeakSum::RabinKarp),
        ("blake2", "rollsum", StrongHash::Blake2, WeakSum::Rollsum),
        (
            "blake2",
            "rabinkarp",
            StrongHash::Blake2,
            WeakSum::RabinKarp,
        ),
    ] {
        let _ = std::fs::remove_file(&s);
        let st = Command::new(&rdiff)
            .args(["-H", h, "-R", r, "-b", "300", "signature"])
            .args([&b, &s])
            .status()
            .unwrap();
        assert!(st.success());
        let theirs = read(&s);
        let ours = signature(&basis, weak, strong, 300, strong.digest_len());
        assert!(ours == theirs, "{h} {r}");
    }
}

/// Our delta for every path and `jobs` patches to `new`; its size is
/// within rdiff's x 1.01 + 64.
fn check(name: &str, basis: &[u8], new: &[u8], sig: &[u8], block_len: u32) {
    let b = block_len as usize;
    let rdiff = rdiff();
    let reference = rdiff
        .as_ref()
        .map(|r| rdiff_run(r, "delta", [sig, new]).len());
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(new).unwrap();
    let mut first_file: Option<Vec<u8>> = None;
    // (jobs, chunk length): the production chunks are 64+ blocks,
    // aligned; tiny or unaligned ones test the seams harder.
    let configs = [
        (0, 0),
        (1, 64 * b),
        (2, 64 * b),
        (3, 64 * b + 13),
        (2, 4 * b + 13),
        (3, b),
    ];
    for (jobs, chunk) in configs {
        let (delta, stats) = native_delta(sig, &file, jobs, chunk).unwrap();
        commands(&delta);
        assert!(
            patched(basis, &delta) == new,
            "{name}: jobs {jobs} chunk {chunk}: patch differs"
        );
        if let Some(r) = reference {
            assert!(
                delta_size_ok(delta.len(), r),
                "{name}: jobs {jobs} chunk {chunk}: {} bytes, rdiff {r}",
                delta.len()
            );
        }
        if let (Some(r), 2) = (&rdiff, jobs)
            && chunk == 64 * b
        {
            assert!(
                rdiff_run(r, "patch", [basis, &delta]) == new,
                "{name}: rdiff patch differs"
            );
        }
        if jobs > 0 && chunk == 64 * b {
            // same chunks: byte-identical for every jobs
            match &first_file {
                None => first_file = Some(delta.clone()),
                Some(f) => assert!(*f == delta, "{name}: jobs 1 and 2 differ"),
            }
        }
        assert_eq!(stats.lit_bytes + stats.copy_bytes, new.len() as u64);
    }
}

/// Several shapes of NEW with option set `k`: every path and `jobs`
/// patches back to NEW, within rdiff's size x 1.01 + 64.
fn shapes(k: usize) {
    let (strong, weak, strong_len, block_len) = OPTIONS[k];
    let n = (block_len as usize * 80).clamp(24_000, 60_000);
    let basis = gen_bytes(7, n);
    let text: Vec<u8> = (0..n)
        .map(|i| b"the quick brown fox "[i % 20] ^ (i / 977 % 2) as u8)
        .collect();
    let seed = 100 + k as u64;
    let zeros = vec![0u8; n / 2 + 33];
    let cases: Vec<(&str, &[u8], Vec<u8>)> = vec![
        ("scattered", &basis, scatter(&basis, seed, 12, 40)),
        ("shifted", &basis, shift(&basis, seed, 8, 300)),
        ("identical", &basis, basis.clone()),
        ("unrelated", &basis, gen_bytes(seed, n + 555)),
        ("empty", &basis, Vec::new()),
        ("prefix", &basis, basis[..n / 3 + 17].to_vec()),
        ("suffix", &basis, basis[n / 3 + 17..].to_vec()),
        (
            "repetitive",
            &text,
            shift(&scatter(&text, seed, 5, 10), seed, 6, 50),
        ),
        ("zeros", &zeros, shift(&vec![0u8; n / 2], seed, 4, 9)),
        ("doubled", &basis, [&basis[..], &basis[..]].concat()),
        ("tiny", &basis[..100], basis[..99].to_vec()),
    ];
    for (name, old, new) in cases {
        let sig = signature(old, weak, strong, block_len, strong_len);
        let name = format!("{name} {strong:?}/{weak:?}/S{strong_len}/b{block_len}");
        check(&name, old, &new, &sig, block_len);
    }
}

#[test]
fn shapes_blake2_rabinkarp_32_b64() {
    shapes(0);
}

#[test]
fn shapes_blake2_rollsum_8_b256() {
    shapes(1);
}

#[test]
fn shapes_md4_rabinkarp_16_b1000() {
    shapes(2);
}

#[test]
fn shapes_md4_rollsum_8_b4096() {
    shapes(3);
}

#[test]
fn shapes_blake2_rabinkarp_16_b512() {
    shapes(4);
}

#[test]
fn shapes_md4_rollsum_16_b128() {
    shapes(5);
}

#[test]
fn shapes_blake2_rabinkarp_5_b300() {
    shapes(6);
}
