//! Test data and test hooks, shared by the crate's unit tests and (with the
//! `testdata` feature) the integration tests and the fuzz crate. Not part
//! of the API: hidden, and may change at any time.

use std::fs::File;
use std::io::{Seek, SeekFrom};

use crate::delta::{BlockIndex, delta_file_chunked, delta_stream};
use crate::error::Result;
use crate::format::params::{StrongHash, WeakSum};
use crate::format::{self, Command, DeltaParser, MAX_IMMEDIATE_LITERAL, SignatureInput, int_len};
use crate::options::{BufferSizes, DeltaOptions};
use crate::stats::Stats;

/// (hash, rollsum, strong_len, block_len) option sets of the delta tests.
pub const OPTIONS: [(StrongHash, WeakSum, u32, u32); 7] = [
    (StrongHash::Blake2, WeakSum::RabinKarp, 32, 64),
    (StrongHash::Blake2, WeakSum::Rollsum, 8, 256),
    (StrongHash::Md4, WeakSum::RabinKarp, 16, 1000),
    (StrongHash::Md4, WeakSum::Rollsum, 8, 4096),
    (StrongHash::Blake2, WeakSum::RabinKarp, 16, 512),
    (StrongHash::Md4, WeakSum::Rollsum, 16, 128),
    (StrongHash::Blake2, WeakSum::RabinKarp, 5, 300),
];

/// xorshift64: state = seed (never 0); each step x ^= x << 13; x ^= x >> 7;
/// x ^= x << 17 (wrapping u64).
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`, which must not be 0.
    pub fn new(seed: u64) -> Rng {
        assert_ne!(seed, 0, "xorshift64 seed must not be 0");
        Rng(seed)
    }

    /// The next state.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in 0..n (n > 0), by plain modulo.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0);
        self.next_u64() % n
    }

    /// [`Rng::below`] for `usize`.
    pub fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }
}

/// `len` bytes: each xorshift64 state as 8 little-endian bytes, truncated.
pub fn gen_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// `base` with `count` overwrites of 1..=len bytes at random places.
pub fn scatter(base: &[u8], seed: u64, count: usize, len: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    let mut r = Rng::new(seed);
    for _ in 0..count {
        if v.is_empty() {
            break;
        }
        let n = 1 + r.below_usize(len);
        let at = r.below_usize(v.len());
        for i in at..(at + n).min(v.len()) {
            v[i] = r.below(256) as u8;
        }
    }
    v
}

/// `base` with `count` inserts and deletes of 1..=len bytes at random places.
pub fn shift(base: &[u8], seed: u64, count: usize, len: usize) -> Vec<u8> {
    let mut v = base.to_vec();
    let mut r = Rng::new(seed);
    for k in 0..count {
        let n = 1 + r.below_usize(len);
        let at = r.below_usize(v.len() + 1);
        if k % 2 == 0 {
            let ins = gen_bytes(seed + k as u64 + 7, n);
            v.splice(at..at, ins);
        } else {
            let end = (at + n).min(v.len());
            v.drain(at..end);
        }
    }
    v
}

/// A delta's commands, read with [`DeltaParser`]: `(b'L', len, 0)` or
/// `(b'C', pos, len)`. Panics unless the delta is whole, ends at its END and
/// encodes every command in its narrowest form.
pub fn commands(delta: &[u8]) -> Vec<(u8, u64, u64)> {
    let mut parser = DeltaParser::new(None);
    let mut cmds = Vec::new();
    let (mut i, mut header) = (0, 0);
    while !parser.is_done() {
        let data = parser.in_literal_data();
        let magic = parser.in_magic();
        let (n, cmd) = parser.advance(&delta[i..]).expect("a valid delta");
        assert!(n > 0, "the delta ends before its END command");
        i += n;
        if !data && !magic {
            header += n;
        }
        match cmd {
            Some(Command::Literal { len }) => {
                let narrowest = if len <= MAX_IMMEDIATE_LITERAL as u64 {
                    1
                } else {
                    1 + int_len(len)
                };
                assert_eq!(header, narrowest, "literal {len} in {header} bytes");
                cmds.push((b'L', len, 0));
            }
            Some(Command::Copy { pos, len }) => {
                assert_eq!(header, 1 + int_len(pos) + int_len(len), "copy widths");
                cmds.push((b'C', pos, len));
            }
            Some(Command::End) | None => {}
        }
        if cmd.is_some() {
            header = 0;
        }
    }
    assert_eq!(i, delta.len(), "bytes after END");
    cmds
}

/// The native engine's delta of all of `new` against the signature `sig`,
/// with the smallest buffers: `jobs` 0 reads `new` as a stream, more reads
/// it in chunks of `chunk` bytes (the production chunks are larger) on
/// `jobs` threads.
pub fn native_delta(sig: &[u8], new: &File, jobs: usize, chunk: usize) -> Result<(Vec<u8>, Stats)> {
    let mut reader = sig;
    let params = format::read_signature_header(&mut reader)?;
    let mut input = SignatureInput::new(reader, &params);
    let index = BlockIndex::new(params, format::read_entries(&mut input)?)?;
    let options = DeltaOptions {
        buffers: BufferSizes {
            input: 1,
            output: 1,
        },
        jobs,
        ..DeltaOptions::default()
    };
    let mut out = Vec::new();
    let mut file = new;
    let len = file
        .seek(SeekFrom::End(0))
        .and_then(|len| file.seek(SeekFrom::Start(0)).map(|_| len))
        .map_err(|e| crate::Error::io(crate::Role::New, "cannot seek", e))?;
    let (stats, _) = if jobs == 0 {
        delta_stream(&index, file, &mut out, &options)?
    } else {
        delta_file_chunked(&index, new, 0, len, &mut out, &options, chunk)?
    };
    Ok((out, stats))
}
