//! Property test of the library API (no binary): for a random basis of up
//! to 64 KiB, a NEW made from it by random edits (or unrelated, or empty),
//! and random valid options (block length, strong-sum length, hash, rolling
//! sum, basis size known or not, I/O buffers down to 1 byte),
//! `patch(basis, delta(signature(basis), new)) == new`; the signature has
//! the size its parameters say; and a loaded signature gives the same delta
//! when searched a second time.
//!
//! 64 cases from a fixed seed, so CI runs the same cases every time (about
//! 3 s in a debug build); PROPTEST_CASES=N and PROPTEST_RNG_SEED=S explore
//! further.

use std::io::Cursor;

use crate::util::{Rng, gen_bytes, gen_text};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rsync_tool_core::{
    BufferSizes, DeltaOptions, Engine, PatchOptions, Signature, SignatureOptions, StrongHash,
    StrongLen, WeakSum,
};

const BLOCK_LENS: [u32; 7] = [0, 1, 7, 64, 256, 1000, 4096];
const BUFFER_LENS: [usize; 7] = [1, 2, 7, 64, 4096, 65536, 256 * 1024];
const MAX_LEN: usize = 64 * 1024;

fn config() -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = 64;
    }
    if c.rng_seed == RngSeed::Random {
        c.rng_seed = RngSeed::Fixed(0x5eed_f00d);
    }
    // failures are printed with their (shrunk) input; no files in tests/
    c.failure_persistence = None;
    c
}

/// What the basis looks like: described, not materialised, so that a failing
/// case prints in a few lines.
#[derive(Clone, Debug)]
enum Content {
    Random {
        seed: u64,
    },
    /// A random pattern of `period` bytes repeated: many equal blocks.
    Repeating {
        seed: u64,
        period: usize,
    },
    Text {
        seed: u64,
    },
    Zeros,
}

#[derive(Clone, Debug)]
struct BasisSpec {
    len: usize,
    content: Content,
}

impl BasisSpec {
    fn build(&self) -> Vec<u8> {
        match self.content {
            Content::Random { seed } => gen_bytes(seed, self.len),
            Content::Repeating { seed, period } => gen_bytes(seed, period)
                .into_iter()
                .cycle()
                .take(self.len)
                .collect(),
            Content::Text { seed } => gen_text(seed, self.len),
            Content::Zeros => vec![0; self.len],
        }
    }
}

#[derive(Clone, Debug)]
enum EditSpec {
    /// Insert `len` new bytes at `at` (a fraction of the length, in 1/1000).
    Insert {
        at: u32,
        len: usize,
        seed: u64,
    },
    Delete {
        at: u32,
        len: usize,
    },
    Replace {
        at: u32,
        len: usize,
        seed: u64,
    },
    /// Move `len` bytes from `at` to the end.
    Move {
        at: u32,
        len: usize,
    },
}

#[derive(Clone, Debug)]
enum NewSpec {
    Edited(Vec<EditSpec>),
    Unrelated { len: usize, seed: u64 },
    Empty,
}

fn offset(at: u32, len: usize) -> usize {
    (len as u64 * at as u64 / 1000) as usize
}

impl NewSpec {
    fn build(&self, basis: &[u8]) -> Vec<u8> {
        match self {
            NewSpec::Empty => Vec::new(),
            NewSpec::Unrelated { len, seed } => gen_bytes(*seed, *len),
            NewSpec::Edited(edits) => {
                let mut v = basis.to_vec();
                for e in edits {
                    match *e {
                        EditSpec::Insert { at, len, seed } => {
                            let i = offset(at, v.len());
                            v.splice(i..i, gen_bytes(seed, len));
                        }
                        EditSpec::Delete { at, len } => {
                            let i = offset(at, v.len());
                            let end = (i + len).min(v.len());
                            v.drain(i..end);
                        }
                        EditSpec::Replace { at, len, seed } => {
                            let i = offset(at, v.len());
                            let end = (i + len).min(v.len());
                            v[i..end].copy_from_slice(&gen_bytes(seed, end - i));
                        }
                        EditSpec::Move { at, len } => {
                            let i = offset(at, v.len());
                            let end = (i + len).min(v.len());
                            let chunk: Vec<u8> = v.drain(i..end).collect();
                            v.extend(chunk);
                        }
                    }
                }
                v.truncate(MAX_LEN * 2);
                v
            }
        }
    }
}

/// Buffers of the delta and patch steps (the signature's are in its options).
#[derive(Clone, Debug)]
struct Buffers {
    delta: BufferSizes,
    patch: BufferSizes,
}

fn seed() -> impl Strategy<Value = u64> {
    // xorshift seeds must not be 0
    1..u64::MAX
}

fn basis_spec() -> impl Strategy<Value = BasisSpec> {
    let len = prop_oneof![
        2 => 0..=16usize,
        3 => 0..=2048usize,
        5 => 0..=MAX_LEN,
    ];
    let content = prop_oneof![
        5 => seed().prop_map(|seed| Content::Random { seed }),
        2 => (seed(), 1..=300usize).prop_map(|(seed, period)| Content::Repeating { seed, period }),
        2 => seed().prop_map(|seed| Content::Text { seed }),
        1 => Just(Content::Zeros),
    ];
    (len, content).prop_map(|(len, content)| BasisSpec { len, content })
}

fn edit_spec() -> impl Strategy<Value = EditSpec> {
    let at = 0..=1000u32;
    let len = prop_oneof![1..=16usize, 1..=4096usize];
    prop_oneof![
        (at.clone(), len.clone(), seed()).prop_map(|(at, len, seed)| EditSpec::Insert {
            at,
            len,
            seed
        }),
        (at.clone(), len.clone()).prop_map(|(at, len)| EditSpec::Delete { at, len }),
        (at.clone(), len.clone(), seed()).prop_map(|(at, len, seed)| EditSpec::Replace {
            at,
            len,
            seed
        }),
        (at, len).prop_map(|(at, len)| EditSpec::Move { at, len }),
    ]
}

fn new_spec() -> impl Strategy<Value = NewSpec> {
    prop_oneof![
        8 => proptest::collection::vec(edit_spec(), 0..8).prop_map(NewSpec::Edited),
        1 => (0..=MAX_LEN, seed()).prop_map(|(len, seed)| NewSpec::Unrelated { len, seed }),
        1 => Just(NewSpec::Empty),
    ]
}

fn buffer_sizes() -> impl Strategy<Value = BufferSizes> {
    (
        proptest::sample::select(&BUFFER_LENS[..]),
        proptest::sample::select(&BUFFER_LENS[..]),
    )
        .prop_map(|(input, output)| BufferSizes { input, output })
}

/// Options without the basis size, which depends on the basis.
fn options() -> impl Strategy<Value = (SignatureOptions, bool, Buffers)> {
    let hash = prop_oneof![Just(StrongHash::Blake2), Just(StrongHash::Md4)];
    let rollsum = prop_oneof![Just(WeakSum::RabinKarp), Just(WeakSum::Rollsum)];
    (
        proptest::sample::select(&BLOCK_LENS[..]),
        hash,
        rollsum,
        0..3u8,
        1..=32u32,
        any::<bool>(),
        (buffer_sizes(), buffer_sizes(), buffer_sizes()),
        (0..4usize, any::<bool>()),
    )
        .prop_map(
            |(block_len, hash, rollsum, strong_kind, n, size_known, bufs, (jobs, librsync))| {
                let strong_len = match strong_kind {
                    0 => StrongLen::Full,
                    1 => StrongLen::Minimum,
                    _ => StrongLen::Bytes(1 + (n - 1) % hash.digest_len()),
                };
                let opts = SignatureOptions {
                    block_len,
                    strong_len,
                    hash,
                    rollsum,
                    basis_size: None,
                    buffers: bufs.0,
                    jobs,
                    engine: if librsync {
                        Engine::Librsync
                    } else {
                        Engine::Native
                    },
                    progress: None,
                    cancel: None,
                };
                let buffers = Buffers {
                    delta: bufs.1,
                    patch: bufs.2,
                };
                (opts, size_known, buffers)
            },
        )
}

fn round_trip(
    basis: &[u8],
    new: &[u8],
    mut options: SignatureOptions,
    size_known: bool,
    buffers: &Buffers,
) -> Result<(), TestCaseError> {
    options.basis_size = size_known.then_some(basis.len() as u64);
    let (params, _warning) = options.params().map_err(|e| {
        TestCaseError::fail(format!(
            "valid options rejected: {e} (status {:?})",
            e.status()
        ))
    })?;

    let mut sig = Vec::new();
    rsync_tool_core::signature(basis, &mut sig, &options)
        .map_err(|e| TestCaseError::fail(format!("signature: {e}")))?;
    prop_assert_eq!(sig.len() as u64, params.signature_len(basis.len() as u64));
    prop_assert_eq!(&sig[..12], &params.header()[..]);

    let delta_options = DeltaOptions {
        buffers: buffers.delta,
        engine: options.engine,
        ..DeltaOptions::default()
    };
    let mut delta = Vec::new();
    rsync_tool_core::delta(&sig[..], new, &mut delta, &delta_options)
        .map_err(|e| TestCaseError::fail(format!("delta: {e}")))?;

    let mut patched = Vec::new();
    let patch_options = PatchOptions {
        buffers: buffers.patch,
        ..PatchOptions::default()
    };
    rsync_tool_core::patch(Cursor::new(basis), &delta[..], &mut patched, &patch_options)
        .map_err(|e| TestCaseError::fail(format!("patch: {e}")))?;
    if patched != new {
        return Err(TestCaseError::fail(format!(
            "patched result differs from NEW: {}",
            crate::util::diff_bytes(&patched, new).unwrap()
        )));
    }

    // Between files (splice(2) on Linux), with the delta after a prefix.
    let patched = patch_files(basis, &delta, &patch_options)
        .map_err(|e| TestCaseError::fail(format!("patch_file: {e}")))?;
    if patched != new {
        return Err(TestCaseError::fail(format!(
            "patch_file's result differs from NEW: {}",
            crate::util::diff_bytes(&patched, new).unwrap()
        )));
    }

    // A loaded signature searched twice gives the same delta both times.
    let mut loaded = Signature::load(&sig[..], &delta_options)
        .map_err(|e| TestCaseError::fail(format!("load: {e}")))?;
    prop_assert_eq!(loaded.params(), &params);
    for _ in 0..2 {
        let mut again = Vec::new();
        loaded
            .delta(new, &mut again, &delta_options)
            .map_err(|e| TestCaseError::fail(format!("delta with a loaded signature: {e}")))?;
        prop_assert!(again == delta, "a reused signature gave another delta");
    }
    Ok(())
}

/// Patches with [`rsync_tool_core::patch_file`]: basis, delta and output in
/// temporary files, the delta 3 bytes into its file.
fn patch_files(
    basis: &[u8],
    delta: &[u8],
    options: &PatchOptions,
) -> rsync_tool_core::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let file = |data: &[u8]| {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        f
    };
    let basis = file(basis);
    let mut prefixed = b"xyz".to_vec();
    prefixed.extend_from_slice(delta);
    let mut delta = file(&prefixed);
    delta.seek(SeekFrom::Start(3)).unwrap();
    let mut out = tempfile::tempfile().unwrap();
    rsync_tool_core::patch_file(&basis, &delta, &out, options)?;
    let mut patched = Vec::new();
    out.seek(SeekFrom::Start(0)).unwrap();
    out.read_to_end(&mut patched).unwrap();
    Ok(patched)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn patch_of_delta_of_signature_gives_new(
        basis in basis_spec(),
        new in new_spec(),
        (options, size_known, buffers) in options(),
    ) {
        let mut basis = basis.build();
        if options.block_len == 1 {
            // one signature entry per byte: a 64 KiB basis takes a second in
            // a debug build, so these cases keep to 8 KiB
            basis.truncate(8 * 1024);
        }
        let new = new.build(&basis);
        round_trip(&basis, &new, options, size_known, &buffers)?;
    }
}

/// The corners the random cases may miss: every block length and hash with
/// 1-byte buffers, on sizes around block boundaries, empty files included.
#[test]
fn corners_round_trip() {
    let mut rng = Rng::new(99);
    for &block_len in &BLOCK_LENS {
        for hash in [StrongHash::Blake2, StrongHash::Md4] {
            for len in [0usize, 1, 6, 7, 8, 255, 256, 257, 4095, 4097] {
                let basis = gen_bytes(1 + rng.below(1 << 40), len);
                let mut new = basis.clone();
                if !new.is_empty() {
                    let i = rng.below_usize(new.len());
                    new.insert(i, 0x42);
                }
                let one = BufferSizes {
                    input: 1,
                    output: 1,
                };
                let options = SignatureOptions {
                    block_len,
                    hash,
                    buffers: one,
                    ..SignatureOptions::default()
                };
                let buffers = Buffers {
                    delta: one,
                    patch: one,
                };
                round_trip(&basis, &new, options, true, &buffers).unwrap_or_else(|e| {
                    panic!("block_len {block_len}, {hash:?}, {len} bytes: {e}")
                });
            }
        }
    }
}
