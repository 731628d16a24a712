//! Fixed inputs and an independent reference for the fuzz targets.
//!
//! The basis and NEW are small, deterministic and shared with the seed
//! generator (`examples/write_inputs.rs`, run by `make-seeds.sh`), so the
//! seed signatures describe the same basis the targets use and deltas
//! against them find real matches.

pub use rsync_tool_core::testdata::gen_bytes;

/// The basis every target patches or signs: 3000 pseudo-random bytes.
pub fn basis() -> Vec<u8> {
    gen_bytes(0x5eed_ba51, 3000)
}

/// NEW for `delta_sig`: the basis with an insert, a deletion and an
/// overwrite, so a signature of the basis matches most of it.
pub fn new_file() -> Vec<u8> {
    let b = basis();
    let mut v = Vec::new();
    v.extend_from_slice(&b[..700]);
    v.extend_from_slice(b"-- an insertion of text that the basis lacks --");
    v.extend_from_slice(&b[900..2000]);
    v.extend_from_slice(&gen_bytes(77, 100));
    v.extend_from_slice(&b[2100..]);
    v
}

/// rdiff 2.3.2's statuses for malformed deltas.
pub const INPUT_ENDED: i32 = 103;
pub const BAD_MAGIC: i32 = 104;
pub const CORRUPT: i32 = 106;

/// The outcome of [`reference_patch`].
pub struct Reference {
    /// The patched bytes, or rdiff's exit status.
    pub result: Result<Vec<u8>, i32>,
    /// The longest LITERAL length read (valid or not).
    pub longest_literal: u64,
}

/// Applies `delta` to `basis` as rdiff 2.3.2 does, written from the format
/// description in rdiff-notes.md rather than from rsync-tool's parser, plus
/// rsync-tool's rule for the bytes after END ([`after_end`]).
pub fn reference_patch(basis: &[u8], delta: &[u8]) -> Reference {
    let mut longest_literal = 0;
    let result = reference_result(basis, delta, &mut longest_literal);
    Reference {
        result,
        longest_literal,
    }
}

/// rsync-tool's verification trailer, restated from its layout in the core
/// (`format/trailer.rs`): bytes after END that start with the magic `RTvf`
/// are a trailer (version 1, NEW's length as a big-endian u64, BLAKE3 of
/// NEW: 45 bytes), which the result must match (106); another version is
/// 106, a trailer cut short 103. Anything else after END is ignored, as
/// rdiff ignores it.
fn after_end(after: &[u8], out: Vec<u8>) -> Result<Vec<u8>, i32> {
    if !after.starts_with(b"RTvf") {
        return Ok(out);
    }
    if after.get(4).is_some_and(|&version| version != 1) {
        return Err(CORRUPT);
    }
    if after.len() < 45 {
        return Err(INPUT_ENDED);
    }
    let len = u64::from_be_bytes(after[5..13].try_into().unwrap());
    if len != out.len() as u64 || after[13..45] != *blake3::hash(&out).as_bytes() {
        return Err(CORRUPT);
    }
    Ok(out)
}

fn reference_result(basis: &[u8], delta: &[u8], longest_literal: &mut u64) -> Result<Vec<u8>, i32> {
    if delta.len() < 4 {
        return Err(INPUT_ENDED);
    }
    if delta[..4] != [0x72, 0x73, 0x02, 0x36] {
        return Err(BAD_MAGIC);
    }
    let mut i = 4;
    let mut out = Vec::new();
    let take = |i: &mut usize, width: usize| -> Result<u64, i32> {
        let bytes = delta.get(*i..*i + width).ok_or(INPUT_ENDED)?;
        *i += width;
        Ok(bytes.iter().fold(0u64, |v, &b| (v << 8) | b as u64))
    };
    const WIDTHS: [usize; 4] = [1, 2, 4, 8];
    loop {
        let op = take(&mut i, 1)? as u8;
        match op {
            0x00 => return after_end(&delta[i..], out),
            0x01..=0x44 => {
                let len = if op <= 0x40 {
                    op as u64
                } else {
                    take(&mut i, WIDTHS[(op - 0x41) as usize])?
                };
                *longest_literal = (*longest_literal).max(len);
                if len == 0 || len > i64::MAX as u64 {
                    return Err(CORRUPT);
                }
                let avail = (delta.len() - i) as u64;
                if len > avail {
                    return Err(INPUT_ENDED);
                }
                out.extend_from_slice(&delta[i..i + len as usize]);
                i += len as usize;
            }
            0x45..=0x54 => {
                let idx = (op - 0x45) as usize;
                let pos = take(&mut i, WIDTHS[idx / 4])?;
                let len = take(&mut i, WIDTHS[idx % 4])?;
                if len == 0 || pos > i64::MAX as u64 || len > i64::MAX as u64 {
                    return Err(CORRUPT);
                }
                match pos.checked_add(len) {
                    Some(end) if end <= basis.len() as u64 => {
                        out.extend_from_slice(&basis[pos as usize..end as usize]);
                    }
                    _ => return Err(INPUT_ENDED),
                }
            }
            _ => return Err(CORRUPT),
        }
    }
}

/// Buffer sizes picked from a number: tiny ones included, since `-I 1` and
/// `-O 1` are valid.
pub fn buffer_len(pick: usize) -> usize {
    [1, 7, 64, 4096, 256 * 1024][pick % 5]
}
