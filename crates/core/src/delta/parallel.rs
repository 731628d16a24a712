//! The parallel path: a file read by position in chunks, scanned on several
//! threads and joined in order into the sequential scan's delta.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Instant;

use super::emit::{Cmd, Emitter, Recorder};
use super::index::BlockIndex;
use super::scan::{Rollers, add_match_stats, scan_with};
use super::stream::delta_stream;
use crate::error::{Error, Result, Role, Status};
use crate::format::{NewHasher, Subtree, SubtreeHasher};
use crate::io::{Counted, FileAt, Hashing, read_exact_at};
use crate::options::DeltaOptions;
use crate::stats::{MatchStats, Stats};
use crate::workers::{spawn, workers};

/// Target length of the chunks the parallel path splits NEW into.
const CHUNK_LEN: usize = 2 << 20;
/// Blocks up to this long get chunks of [`SMALL_BLOCK_CHUNK_LEN`].
const SMALL_BLOCK: usize = 512;
/// The chunk length for small blocks: a chunk that stays in L2 while it is
/// copied in and scanned. With 512-byte blocks, -j 2, 15 and 11 alternating
/// runs: sqlite 163 -> 142 ms CPU (179 -> 172 ms wall), tar 94 -> 82 ms CPU,
/// deltas unchanged. Longer blocks keep 2 MiB: where a match runs across a
/// seam the next chunk is scanned again for up to 32 blocks, and with 16 KiB
/// blocks 1 MiB chunks made the 1%-edited 256 MiB delta slower (and moved a
/// seam's COPY).
const SMALL_BLOCK_CHUNK_LEN: usize = 1 << 20;
/// Blocks longer than this are searched by the streaming path.
const MAX_PARALLEL_BLOCK: usize = 4 << 20;
/// Pieces NEW's chunks are read in when their bytes are hashed for the
/// trailer: small enough to stay in L2 between the copy and the hash.
const READ_PIECE: usize = 256 << 10;

/// Writes the delta of the `len` bytes of `file` from offset `start` against
/// `index` to `out`, using up to `options.jobs` threads (this one included).
/// Chunks of NEW are read by position (`read_at`), so the file's offset is
/// neither used nor moved: for stdin redirected from a file, pass its current
/// offset as `start` and the bytes after it as `len`, as rdiff reads it.
/// Memory: about (jobs + 2) x (chunk + block length) plus the write buffer.
/// The delta is byte-identical for every `jobs`: the chunks do not depend on
/// it. A file that ends before `start + len` is a read error; bytes after it
/// are not read. With a `hasher`, NEW's bytes are hashed with no second read
/// of the file: where chunks are BLAKE3 subtrees (a power-of-two length),
/// each by the thread that scans it and merged as chunks are joined,
/// otherwise in order as their chunks are joined.
pub(crate) fn delta_file<W: Write>(
    index: &BlockIndex,
    file: &File,
    start: u64,
    len: u64,
    out: &mut W,
    options: &DeltaOptions,
    hasher: Option<&mut NewHasher>,
) -> Result<(Stats, MatchStats)> {
    let b = index.block_len;
    // A chunk's commands take up to ~48 / block_len bytes per byte of NEW:
    // tiny blocks get shorter chunks, so that memory stays bounded.
    let target = if b <= SMALL_BLOCK {
        SMALL_BLOCK_CHUNK_LEN
    } else {
        CHUNK_LEN
    };
    let chunk = target.min(b * 64 * 1024).max(4 * b).div_ceil(b) * b;
    chunked(index, file, start, len, out, options, chunk, hasher)
}

/// [`delta_file`] with chunks of `chunk` bytes, not hashed (for tests).
#[cfg(any(test, feature = "testdata"))]
pub(crate) fn delta_file_chunked<W: Write>(
    index: &BlockIndex,
    file: &File,
    start: u64,
    len: u64,
    out: &mut W,
    options: &DeltaOptions,
    chunk: usize,
) -> Result<(Stats, MatchStats)> {
    chunked(index, file, start, len, out, options, chunk, None)
}

#[allow(clippy::too_many_arguments)]
fn chunked<W: Write>(
    index: &BlockIndex,
    file: &File,
    start: u64,
    len: u64,
    out: &mut W,
    options: &DeltaOptions,
    chunk: usize,
    mut hasher: Option<&mut NewHasher>,
) -> Result<(Stats, MatchStats)> {
    let (jobs, out_buf) = (options.jobs, options.buffers.output);
    let progress = options.progress.as_deref();
    let b = index.block_len;
    let chunk = chunk.max(b);
    let chunks = (len / chunk as u64).max(1);
    if chunks < 2 || b > MAX_PARALLEL_BLOCK || index.count == 0 {
        let reader = Counted {
            reader: FileAt::new(file, start, len),
            counter: progress,
            cancel: options.cancel.as_ref(),
        };
        return delta_stream(index, Hashing { reader, hasher }, out, options);
    }
    let started = Instant::now();
    // Chunk k covers [k * chunk, (k + 1) * chunk), the last one the rest
    // (at least `chunk` bytes, so the end of NEW is in one chunk).
    let chunks = chunks as usize;
    let chunk_range = |k: usize| {
        let a = k as u64 * chunk as u64;
        let e = if k + 1 == chunks {
            len
        } else {
            a + chunk as u64
        };
        (a, e)
    };
    let rollers = Rollers::new(index);
    // Chunks that are BLAKE3 subtrees are hashed by the threads that scan
    // them (the whole hash on the joining thread took ~20% of a delta's time).
    let tree = hasher.as_deref().is_some_and(NewHasher::is_empty)
        && chunk.is_power_of_two()
        && chunk >= 1024;
    let mut subtrees = tree.then(SubtreeHasher::new);
    // `jobs - 1` helper threads scan chunks; this thread writes them in
    // order and scans too whenever the next chunk to write is not ready (a
    // dedicated writer thread would compete with the scanners for cores).
    let helpers = workers(jobs, chunks) - 1;
    let next = AtomicUsize::new(0);
    let abort = AtomicBool::new(false);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..helpers + 3 {
        let _ = free_tx.send(Vec::new());
    }
    let free_rx = Mutex::new(free_rx);
    let (done_tx, done_rx) = mpsc::channel::<(usize, Result<Scanned>)>();
    // Scans the next unclaimed chunk into `buf`; None when all are claimed.
    let scan_next = |buf: Vec<u8>| -> Option<(usize, Result<Scanned>)> {
        let k = next.fetch_add(1, Ordering::SeqCst);
        if k >= chunks || abort.load(Ordering::SeqCst) {
            return None;
        }
        if let Err(e) = crate::io::check_cancel(options.cancel.as_ref()) {
            return Some((k, Err(Error::io(Role::New, "read failed", e))));
        }
        let (a, e) = chunk_range(k);
        let last = k + 1 == chunks;
        let read_end = if last {
            len
        } else {
            (e + b as u64 - 1).min(len)
        };
        let sub = tree.then_some(chunk);
        let scanned = scan_chunk(index, &rollers, file, start, a, e, read_end, last, sub, buf);
        if let Some(counter) = progress {
            counter.fetch_add(e - a, Ordering::Relaxed);
        }
        Some((k, scanned))
    };

    std::thread::scope(|scope| {
        for _ in 0..helpers {
            let done_tx = done_tx.clone();
            let (free_rx, scan_next) = (&free_rx, &scan_next);
            // A thread the system refuses: go on with those started (this
            // thread scans whenever the next chunk is not ready).
            let started = spawn(scope, move || {
                loop {
                    // A buffer first, then a chunk number: the chunk the
                    // writer waits for is always being scanned.
                    let buf = match free_rx.lock() {
                        Ok(rx) => match rx.recv() {
                            Ok(buf) => buf,
                            Err(_) => return,
                        },
                        Err(_) => return,
                    };
                    match scan_next(buf) {
                        Some(done) => {
                            if done_tx.send(done).is_err() {
                                return;
                            }
                        }
                        None => return,
                    }
                }
            });
            if started.is_none() {
                break;
            }
        }
        drop(done_tx);

        let result = (|| -> Result<(Stats, MatchStats)> {
            let mut join = Joiner {
                index,
                rollers: &rollers,
                em: Emitter::new(out, out_buf)?,
                ms: MatchStats::default(),
                covered: 0,
                prev: None,
            };
            let mut waiting: BTreeMap<usize, Scanned> = BTreeMap::new();
            let mut k = 0;
            while k < chunks {
                if let Some(scanned) = waiting.remove(&k) {
                    if let Some(subtrees) = subtrees.as_mut() {
                        for &(cv, n) in &scanned.cvs {
                            subtrees.push(cv, n);
                        }
                    } else if let Some(hasher) = hasher.as_deref_mut() {
                        let (a, e) = chunk_range(k);
                        hasher.update(&scanned.buf[..(e - a) as usize]);
                    }
                    join.join(&scanned)?;
                    let _ = free_tx.send(scanned.buf);
                    k += 1;
                    continue;
                }
                if let Ok((i, r)) = done_rx.try_recv() {
                    waiting.insert(i, r?);
                    continue;
                }
                // Nothing to write: scan a chunk here, if a buffer is free
                // (a helper waiting for one holds the lock: then there is none).
                let free = free_rx.try_lock().ok().and_then(|rx| rx.try_recv().ok());
                if let Some(buf) = free {
                    // (all chunks claimed: the loop ends up waiting below)
                    if let Some((i, r)) = scan_next(buf) {
                        waiting.insert(i, r?);
                    }
                    continue;
                }
                match done_rx.recv() {
                    Ok((i, r)) => {
                        waiting.insert(i, r?);
                    }
                    Err(_) => {
                        return Err(Error::new(Status::Internal, "a delta worker stopped"));
                    }
                }
            }
            if join.covered != len {
                return Err(Error::new(
                    Status::Internal,
                    "delta chunks do not cover NEW",
                ));
            }
            if let (Some(subtrees), Some(hasher)) = (subtrees.take(), hasher.as_deref_mut()) {
                hasher.set_tree(subtrees);
            }
            let mut stats = join.em.finish()?;
            stats.in_bytes = len;
            stats.elapsed = started.elapsed();
            Ok((stats, join.ms))
        })();
        if result.is_err() {
            abort.store(true, Ordering::SeqCst);
        }
        drop(free_tx);
        result
    })
}

/// A chunk scanned by a worker: its data and commands.
struct Scanned {
    /// NEW offset of `buf[0]` and of the first command.
    base: u64,
    buf: Vec<u8>,
    /// Positions `0..stop` of `buf` were decided by the scan.
    stop: usize,
    /// Where the commands end (a match may run past `stop`).
    end: usize,
    /// The block matched just before `end`, if any.
    end_prev: Option<usize>,
    /// The last chunk: `buf` ends where NEW does.
    last: bool,
    cmds: Vec<Cmd>,
    ms: MatchStats,
    /// BLAKE3 chaining values of the chunk's subtrees and their lengths,
    /// when chunks are subtrees.
    cvs: Vec<(blake3::hazmat::ChainingValue, u64)>,
}

/// The states a scan passed through: the positions where it looked a window
/// up without a preferred block (inclusive ranges), and the positions right
/// after a match with the block matched. Two scans in the same state at the
/// same position go on identically.
#[derive(Default)]
struct Trajectory {
    fresh: Vec<(u64, u64)>,
    after: Vec<(u64, usize)>,
}

impl Trajectory {
    fn of(block_len: usize, start: u64, prev: Option<usize>, cmds: &[Cmd]) -> Trajectory {
        let b = block_len as u64;
        let mut t = Trajectory::default();
        let mut x = start;
        let mut after = prev.is_some();
        if let Some(j) = prev {
            t.after.push((x, j));
        }
        for cmd in cmds {
            match *cmd {
                Cmd::Literal { start, end } => {
                    let n = (end - start) as u64;
                    t.add_fresh(if after { x + 1 } else { x }, x + n);
                    after = false;
                    x += n;
                }
                Cmd::Copy { pos, len } => {
                    if !after {
                        t.add_fresh(x, x);
                    }
                    for k in 1..=len / b {
                        t.after.push((x + k * b, (pos / b + k - 1) as usize));
                    }
                    if len % b != 0 {
                        t.after.push((x + len, ((pos + len - 1) / b) as usize));
                    }
                    after = true;
                    x += len;
                }
            }
        }
        t
    }

    fn add_fresh(&mut self, s: u64, e: u64) {
        if s > e {
            return;
        }
        if let Some(last) = self.fresh.last_mut()
            && last.1 + 1 >= s
        {
            last.1 = last.1.max(e);
            return;
        }
        self.fresh.push((s, e));
    }

    /// The first position where `self` and `other` are in the same state.
    fn first_common(&self, other: &Trajectory) -> Option<u64> {
        let mut best: Option<u64> = None;
        for &(s, e) in &self.fresh {
            let i = other.fresh.partition_point(|r| r.1 < s);
            if let Some(&(os, _)) = other.fresh.get(i)
                && os <= e
            {
                best = Some(s.max(os));
                break;
            }
        }
        for &(x, j) in &self.after {
            if best.is_some_and(|b| b <= x) {
                break;
            }
            let i = other.after.partition_point(|a| a.0 < x);
            if other.after.get(i) == Some(&(x, j)) {
                best = Some(x);
                break;
            }
        }
        best
    }
}

/// The writer's side of the parallel path: joins scanned chunks in order.
struct Joiner<'a, 'w, W: Write> {
    index: &'a BlockIndex,
    rollers: &'a Rollers,
    em: Emitter<'w, W>,
    ms: MatchStats,
    /// NEW bytes described so far.
    covered: u64,
    /// The block matched just before `covered`, if any.
    prev: Option<usize>,
}

impl<W: Write> Joiner<'_, '_, W> {
    /// Appends chunk `s`. It was scanned from its start without a preferred
    /// block; where the delta so far ends elsewhere or right after a match,
    /// the chunk is scanned again from there as the sequential scan would,
    /// until that scan reaches a position and state the chunk's own scan
    /// went through; from there on the chunk's commands are the sequential
    /// scan's. Should that take long (repetitive data can keep two scans
    /// apart), the chunk's commands are cut where the new scan stopped.
    fn join(&mut self, s: &Scanned) -> Result<()> {
        let a = s.base;
        let end = a + s.end as u64;
        add_match_stats(&mut self.ms, &s.ms);
        if self.covered < a {
            return Err(Error::new(Status::Internal, "delta chunks leave a gap"));
        }
        if self.covered >= end {
            return Ok(());
        }
        if self.covered == a && self.prev.is_none() {
            self.emit(s, a, &s.cmds, a, end)?;
            self.covered = end;
            self.prev = s.end_prev;
            return Ok(());
        }
        let b = self.index.block_len;
        let own = Trajectory::of(b, a, None, &s.cmds);
        let from = self.covered;
        let mut rec = Recorder::default();
        let mut pos = (from - a) as usize;
        let mut prev = self.prev;
        let limit = pos + (32 * b).max(64 * 1024);
        let mut step = 2 * b;
        loop {
            let mut stop = (pos + step).min(s.stop);
            let mut eof = false;
            if s.last && stop + b > s.buf.len() {
                stop = s.stop;
                eof = true;
            }
            scan_with(
                self.index,
                self.rollers,
                &s.buf,
                &mut pos,
                stop,
                eof,
                &mut prev,
                &mut self.ms,
                &mut rec,
            )?;
            let again = Trajectory::of(b, from, self.prev, &rec.cmds);
            let reach = a + pos as u64;
            if let Some(x) = again.first_common(&own).filter(|&x| x <= reach) {
                self.emit(s, from, &rec.cmds, from, x)?;
                self.emit(s, a, &s.cmds, x, end)?;
                self.covered = end;
                self.prev = s.end_prev;
                return Ok(());
            }
            if pos >= s.stop || eof {
                // the whole chunk scanned again
                self.emit(s, from, &rec.cmds, from, reach)?;
                self.covered = reach;
                self.prev = prev;
                return Ok(());
            }
            if pos >= limit || reach >= end {
                self.emit(s, from, &rec.cmds, from, reach)?;
                self.emit(s, a, &s.cmds, reach, end)?;
                self.covered = end.max(reach);
                self.prev = if reach >= end { prev } else { s.end_prev };
                return Ok(());
            }
            step *= 2;
        }
    }

    /// Emits the part `from..upto` of NEW that `cmds` (starting at `base`,
    /// literal data in `s.buf`) describe.
    fn emit(&mut self, s: &Scanned, base: u64, cmds: &[Cmd], from: u64, upto: u64) -> Result<()> {
        let mut at = base;
        for cmd in cmds {
            if at >= upto {
                break;
            }
            let end = at + cmd.len();
            let (lo, hi) = (at.max(from), end.min(upto));
            if lo < hi {
                let (skip, take) = (lo - at, hi - lo);
                match *cmd {
                    Cmd::Literal { start, .. } => {
                        let start = start + skip as usize;
                        self.em
                            .literal_bytes(&s.buf[start..start + take as usize])?;
                    }
                    Cmd::Copy { pos, .. } => {
                        let pos = pos + skip;
                        // Where a chunk chose a block equal to the one
                        // following the previous COPY, take that one so the
                        // COPYs merge.
                        let same = self
                            .em
                            .copy_end()
                            .map_or(0, |e| self.index.equal_blocks(e, pos, take));
                        if same > 0 {
                            let e = self.em.copy_end().unwrap_or(0);
                            self.em.copy_range(e, same)?;
                        }
                        self.em.copy_range(pos + same, take - same)?;
                    }
                }
            }
            at = end;
        }
        Ok(())
    }
}

/// Reads NEW's bytes `a..read_end` (file offsets from `start`) into `buf` and
/// scans positions `a..e`; with `subtree`, also hashes bytes `a..e` as BLAKE3
/// subtrees of that length (the last chunk: one whole and one shorter).
#[allow(clippy::too_many_arguments)]
fn scan_chunk(
    index: &BlockIndex,
    rollers: &Rollers,
    file: &File,
    start: u64,
    a: u64,
    e: u64,
    read_end: u64,
    last: bool,
    subtree: Option<usize>,
    mut buf: Vec<u8>,
) -> Result<Scanned> {
    let n = (read_end - a) as usize;
    buf.resize(n, 0);
    let mut cvs = Vec::new();
    match subtree {
        None => read_exact_at(file, &mut buf, start + a).map_err(new_read_failed)?,
        Some(sub) => {
            // Read in L2-sized pieces, each hashed as soon as the kernel has
            // copied it (hashing the whole chunk afterwards read it back
            // from memory: ~40% more CPU for the trailer).
            let hashed = (e - a) as usize;
            let mut tree: Option<(Subtree, usize)> = None;
            let mut off = 0;
            while off < n {
                let end = (off + READ_PIECE).min(n);
                read_exact_at(file, &mut buf[off..end], start + a + off as u64)
                    .map_err(new_read_failed)?;
                let mut p = off;
                while p < end.min(hashed) {
                    let (h, sub_start) = tree.get_or_insert_with(|| (Subtree::at(a + p as u64), p));
                    let sub_end = (*sub_start + sub).min(hashed);
                    let upto = end.min(sub_end);
                    h.update(&buf[p..upto]);
                    p = upto;
                    if p == sub_end {
                        cvs.push((h.finish(), (sub_end - *sub_start) as u64));
                        tree = None;
                    }
                }
                off = end;
            }
        }
    }
    let mut rec = Recorder::default();
    let mut ms = MatchStats::default();
    let mut pos = 0;
    let mut prev = None;
    let stop = if last { n } else { (e - a) as usize };
    scan_with(
        index, rollers, &buf, &mut pos, stop, last, &mut prev, &mut ms, &mut rec,
    )?;
    Ok(Scanned {
        base: a,
        buf,
        stop,
        end: pos,
        end_prev: prev,
        last,
        cmds: rec.cmds,
        ms,
        cvs,
    })
}

/// A failed read of NEW.
fn new_read_failed(e: io::Error) -> Error {
    Error::io(Role::New, "read failed", e)
}
