//! The streaming path: NEW read sequentially on one thread, from any reader.

use std::io::{Read, Write};
use std::time::Instant;

use super::emit::Emitter;
use super::index::BlockIndex;
use super::scan::{Rollers, scan_with};
use crate::error::{Result, Role};
use crate::io::read_full;
use crate::options::DeltaOptions;
use crate::stats::{MatchStats, Stats};

/// Bytes read from NEW at a time by the streaming path.
fn read_len(in_buf: usize) -> usize {
    in_buf.clamp(1 << 20, 16 << 20)
}

/// Writes the delta of `new` against `index` to `out` on this thread, reading
/// `new` sequentially (a pipe, or any reader; `options.jobs` is not used).
/// Memory: about one block plus the read buffer (`in_buf`, at least 1 MiB)
/// plus the write buffer (`out_buf`, 64 to 256 KiB). Does not flush `out`.
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
    // Start small (a small NEW costs no big zeroed buffer) and grow to the
    // read length while NEW goes on.
    let full = read_len(in_buf);
    let mut buf = vec![0u8; b + full.min(64 * 1024)];
    let mut filled = 0;
    let mut pos = 0;
    let mut prev = None;
    let mut in_bytes = 0u64;
    loop {
        let n = read_full(&mut new, &mut buf[filled..], Role::New)?;
        filled += n;
        in_bytes += n as u64;
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
            buf.resize(b + full.min(4 * (buf.len() - b)), 0);
        }
    }
    let mut stats = em.finish()?;
    stats.in_bytes = in_bytes;
    stats.elapsed = started.elapsed();
    Ok((stats, ms))
}
