//! The native delta engine: searches NEW for the blocks of a signature and
//! writes an rdiff delta, streaming with bounded memory, on one thread (any
//! reader) or several (a file read by position).
//!
//! Semantics follow librsync 2.3's `delta.c` so that deltas stay the size of
//! rdiff's (or smaller):
//!
//! - At each position of NEW with a whole block ahead, the weak sum of that
//!   window (RabinKarp or rsync's rollsum, as the signature says) is looked up;
//!   on a weak hit the window's strong sum (BLAKE2b-256 or MD4, truncated) is
//!   compared with the candidates'. A match is a COPY of that block and the
//!   scan jumps a block ahead; a miss makes the byte literal and the window
//!   rolls one byte.
//! - Of equal blocks the first wins (librsync keeps only the first of blocks
//!   with equal weak and strong sums), except right after a match, where the
//!   block following the matched one is tried first: identical or shifted data
//!   then gives COPYs that merge into one (librsync has no such preference,
//!   which only ever makes its deltas longer, on repetitive bases).
//! - At the end of NEW the window shrinks, as in librsync's flush state: only
//!   the basis's short last block can match a window shorter than a block.
//! - COPYs of contiguous basis ranges merge; literal runs are written as
//!   single commands of any length (rdiff cuts them every 32 KiB).
//! - Where librsync goes quadratic, we bound the work: candidates of one weak
//!   sum are searched by strong sum in log time, and each scan allows a weak
//!   sum 64 strong-sum misses (all weak sums 256 plus four times what random
//!   data gives); a weak sum past its budget matches nothing more in that
//!   scan (a signature whose blocks all share the weak sum of zeros costs a
//!   constant, not a BLAKE2b per position of a run of zeros).
//!
//! Speed comes from the miss path: per byte one rolling update (RabinKarp
//! four positions per step, to shorten the multiplier's dependency chain) and
//! one probe of a bit filter of the weak sums (one bit per block, ~128 bits
//! per block: ~1% false hits), in a loop without calls or bounds checks; only
//! on a filter hit the hash table, only on a weak hit the strong sum. Right
//! after a match, the following blocks (up to 8 at a time) are compared by
//! weak sum, then those that agree by strong sum, BLAKE2b hashing 4 at once
//! (inside a long run, one weak sum per 8 blocks).
//!
//! The parallel path ([`delta_file`], in [`parallel`]) splits NEW into chunks
//! of 2 MiB (1 MiB for blocks up to 512 bytes; aligned to blocks, independent
//! of the thread count, so the delta is the same for every `jobs`); each
//! thread scans a chunk (reading up to a block past its end so that matches
//! may run across it) from a fresh state, and
//! the chunks are joined in order. Where the delta so far does not end where
//! the next chunk's scan began in the same state (a match ran across the
//! seam, or ended right at it), that chunk is scanned again from there until
//! both scans reach a position in the same state, from which on they agree:
//! the result is the sequential scan's. Repetitive data can keep two scans
//! from meeting; after 32 blocks the chunk's own commands are taken from
//! there on (a COPY straddling that point is shortened: any part of a matched
//! block is a valid COPY), which costs a COPY command or so. Joined COPYs and
//! literals merge, so identical files still give a single COPY.

//!
//! The pieces, in the order of the search: [`roll`] (the rolling weak sums),
//! [`index`] (the signature's blocks), [`scan`] (the search), [`emit`] (the
//! commands), [`stream`] and [`parallel`] (the two ways of reading NEW).

mod emit;
mod index;
mod parallel;
mod roll;
mod scan;
mod stream;
#[cfg(test)]
mod tests;

pub(crate) use index::BlockIndex;
pub(crate) use parallel::delta_file;
#[cfg(any(test, feature = "testdata"))]
pub(crate) use parallel::delta_file_chunked;
pub(crate) use stream::delta_stream;
