//! The streaming path: NEW read sequentially on one thread, from any reader.

use std::io::{Read, Write};
use std::time::Instant;

use super::emit::Emitter;
use super::index::BlockIndex;
use super::scan::{Rollers, scan_with};
use crate::error::{Error, Result, Role, Status};
use crate::io::read_full;
use crate::options::DeltaOptions;
use crate::stats::{MatchStats, Stats};

/// Bytes read from NEW at a time by the streaming path.
fn read_len(in_buf: usize) -> usize {
    in_buf.clamp(1 << 20, 16 << 20)
}

/// The buffer's first length, before it holds a block.
const START_LEN: usize = 64 * 1024;

/// The buffer's first allocation: one page, all a small NEW touches.
const FIRST_ALLOC: usize = 4096;

/// Grows `buf` to `len` zeroed bytes; out of memory is an error, not an abort
/// (the block length comes from the signature).
fn grow(buf: &mut Vec<u8>, len: usize) -> Result<()> {
    buf.try_reserve_exact(len.saturating_sub(buf.len()))
        .map_err(|_| {
            Error::new(
                Status::Memory,
                format!("out of memory for {len} bytes of NEW (a block and a read)"),
            )
        })?;
    buf.resize(len, 0);
    Ok(())
}

/// Writes the delta of `new` against `index` to `out` on this thread, reading
/// `new` sequentially (a pipe, or any reader; `options.jobs` is not used).
/// Memory: about one block plus the read buffer (`in_buf`, 1 to 16 MiB, at
/// least a quarter block) plus the write buffer (`out_buf`, 64 to 256 KiB),
/// and no more than NEW's length plus 64 KiB. Does not flush `out`.
pub(crate) fn delta_stream<R: Read, W: Write>(
    index: &BlockIndex,
    mut new: R,
    out: &mut W,
    options: &DeltaOptions,
) -> Result<(Stats, MatchStats)> {
    let (in_buf, out_buf) = (options.buffers.input, options.buffers.output);
    let started = Instant::now();
    let b = index.block_len;
    let rollers = Rollers::new(index);
    let mut em = Emitter::new(out, out_buf)?;
    let mut ms = MatchStats::default();
    // Start small (a small NEW costs no big buffer, whatever the block
    // length) and grow while NEW goes on: to a block and a bit before the
    // first scan, then to the read length. The read length is at least a
    // quarter block, so the block kept between reads (moved to the front)
    // costs at most 4 bytes moved per byte of NEW, even for blocks of 2^31.
    let full = read_len(in_buf).max(b / 4);
    let first = b + full.min(START_LEN);
    let mut buf = Vec::new();
    grow(&mut buf, first.min(FIRST_ALLOC))?;
    let mut filled = 0;
    let mut pos = 0;
    let mut prev = None;
    let mut in_bytes = 0u64;
    loop {
        let n = read_full(&mut new, &mut buf[filled..], Role::New)?;
        filled += n;
        in_bytes += n as u64;
        if filled == buf.len() && buf.len() < first {
            let len = (4 * buf.len()).min(first);
            grow(&mut buf, len)?;
            continue;
        }
        let eof = filled < buf.len();
        let data = &buf[..filled];
        let stop = if eof {
            filled
        } else {
            filled + 1 - b // positions with a whole block ahead
        };
        scan_with(
            index, &rollers, data, &mut pos, stop, eof, &mut prev, &mut ms, &mut em,
        )?;
        if eof {
            break;
        }
        // Keep the bytes not yet decided (less than a block) and read on.
        buf.copy_within(pos..filled, 0);
        filled -= pos;
        pos = 0;
        if buf.len() < b + full {
            let len = b + full.min(4 * (buf.len() - b));
            grow(&mut buf, len)?;
        }
    }
    let mut stats = em.finish()?;
    stats.in_bytes = in_bytes;
    stats.elapsed = started.elapsed();
    Ok((stats, ms))
}
