//! Chunked mode, for blocks up to `LARGE_BLOCK`: the calling thread reads
//! chunks of whole blocks and writes their entries in order; workers hash
//! the chunks.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Mutex, mpsc};
use std::thread;

use super::{Cfg, PanicGuard, fill, fill_first, sign_chunk, worker_died, write_failed};
use crate::error::Result;
use crate::workers::spawn;

struct ChunkJob {
    seq: u64,
    buf: Vec<u8>,
    len: usize,
    out: Vec<u8>,
}

/// Signs everything `r` yields in chunks of `chunk_len` bytes with `jobs`
/// threads (0: one per core) in all: this one reads every chunk and hashes
/// those the `jobs - 1` workers have no room for (a chunk hashed by the
/// thread that copied it in is still in its cache: `-j 1` on one thread took
/// 9% less CPU than reading here and hashing on a worker). An input of one
/// chunk, or `-j 1`, starts no thread.
pub(super) fn run<R: Read + ?Sized, W: Write + ?Sized>(
    r: &mut R,
    w: &mut W,
    cfg: &Cfg,
    jobs: usize,
    chunk_len: usize,
) -> Result<u64> {
    let mut first = Vec::new();
    let n = fill_first(r, &mut first, chunk_len)?;
    if n < chunk_len {
        // Whole input in one chunk: no threads needed.
        return sequential(r, w, cfg, first, n, chunk_len);
    }
    let mut helpers = super::workers(jobs) - 1;
    if helpers == 0 {
        return sequential(r, w, cfg, first, n, chunk_len);
    }
    let mut total = n as u64;
    let max_inflight = (helpers + 3) as u64;

    let (job_tx, job_rx) = mpsc::channel::<ChunkJob>();
    let job_rx = Mutex::new(job_rx);
    thread::scope(|s| -> Result<u64> {
        // Owned by this closure: dropped on any early return, which stops the workers.
        let job_tx = job_tx;
        let (done_tx, done_rx) = mpsc::channel::<Option<ChunkJob>>();
        // Starts a worker; false when the system refuses the thread.
        let start_worker = || {
            let job_rx = &job_rx;
            let guard = PanicGuard {
                tx: done_tx.clone(),
            };
            spawn(s, move || {
                loop {
                    let next = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(mut job) = next else { return };
                    job.out.clear();
                    sign_chunk(&job.buf[..job.len], cfg, &mut job.out);
                    if guard.tx.send(Some(job)).is_err() {
                        return;
                    }
                }
            })
            .is_some()
        };
        // Workers start as chunks come, one per chunk queued, up to
        // `helpers` (a short input starts few); a refused thread ends the
        // starting.
        let mut started = 0;
        // Chunks sent to the workers and not back yet.
        let mut queued: usize = 0;

        let mut free_bufs: Vec<Vec<u8>> = Vec::new();
        let mut free_outs: Vec<Vec<u8>> = Vec::new();
        // pending[i] holds the finished chunk seq next_write + i.
        let mut pending: VecDeque<Option<ChunkJob>> = VecDeque::new();
        let mut next_seq: u64 = 0;
        let mut next_write: u64 = 0;
        let mut eof = false;
        let mut next_job = Some((first, n));

        let absorb =
            |job: Option<ChunkJob>, pending: &mut VecDeque<Option<ChunkJob>>, next_write: u64| {
                let job = job.ok_or_else(worker_died)?;
                let idx = (job.seq - next_write) as usize;
                if pending.len() <= idx {
                    pending.resize_with(idx + 1, || None);
                }
                pending[idx] = Some(job);
                Ok::<(), crate::error::Error>(())
            };

        loop {
            while let Ok(job) = done_rx.try_recv() {
                queued -= 1;
                absorb(job, &mut pending, next_write)?;
            }
            while let Some(Some(_)) = pending.front() {
                let job = pending.pop_front().unwrap().unwrap();
                w.write_all(&job.out).map_err(write_failed)?;
                next_write += 1;
                free_bufs.push(job.buf);
                free_outs.push(job.out);
            }
            if next_job.is_none() && !eof && next_seq - next_write < max_inflight {
                let mut buf = free_bufs.pop().unwrap_or_default();
                let n = fill(r, &mut buf, chunk_len)?;
                total += n as u64;
                if n < chunk_len {
                    eof = true;
                }
                if n > 0 {
                    next_job = Some((buf, n));
                }
            }
            if let Some((buf, len)) = next_job.take() {
                let mut job = ChunkJob {
                    seq: next_seq,
                    buf,
                    len,
                    out: free_outs.pop().unwrap_or_default(),
                };
                next_seq += 1;
                if started < helpers && started <= queued {
                    if start_worker() {
                        started += 1;
                    } else {
                        helpers = started;
                    }
                }
                // Two chunks per worker keep them busy; the rest is hashed here.
                if queued < 2 * started {
                    job_tx.send(job).map_err(|_| worker_died())?;
                    queued += 1;
                } else {
                    job.out.clear();
                    sign_chunk(&job.buf[..job.len], cfg, &mut job.out);
                    absorb(Some(job), &mut pending, next_write)?;
                }
                continue;
            }
            if next_write == next_seq {
                break;
            }
            let job = done_rx.recv().map_err(|_| worker_died())?;
            queued -= 1;
            absorb(job, &mut pending, next_write)?;
        }
        drop(job_tx);
        Ok(total)
    })
}

/// Hashes on the calling thread: `buf[..n]` holds the first chunk.
fn sequential<R: Read + ?Sized, W: Write + ?Sized>(
    r: &mut R,
    w: &mut W,
    cfg: &Cfg,
    mut buf: Vec<u8>,
    mut n: usize,
    chunk_len: usize,
) -> Result<u64> {
    let mut total = n as u64;
    let mut out = Vec::new();
    loop {
        out.clear();
        sign_chunk(&buf[..n], cfg, &mut out);
        w.write_all(&out).map_err(write_failed)?;
        if n < chunk_len {
            return Ok(total);
        }
        n = fill(r, &mut buf, chunk_len)?;
        total += n as u64;
    }
}
