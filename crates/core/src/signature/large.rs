//! Large-block mode, for blocks over `LARGE_BLOCK`: blocks are dealt
//! round-robin to workers; each block streams to its worker in `PIECE`-sized
//! pieces and is hashed incrementally, so memory is bounded by the pieces in
//! flight.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;

use super::{Cfg, PIECE, PanicGuard, fill, worker_died, write_failed};
use crate::error::Result;
use crate::format::params::{StrongHash, WeakSum};
use crate::hash::md4::Md4;
use crate::hash::{blake2, rabinkarp, rollsum};
use crate::workers::spawn;

enum StrongState {
    Blake2(Box<blake2b_simd::State>),
    Md4(Box<Md4>),
}

struct BlockState {
    rk: u32,
    rs: (u32, u32),
    len: u64,
    strong: StrongState,
}

impl BlockState {
    fn new(cfg: &Cfg) -> Self {
        BlockState {
            rk: rabinkarp::SEED,
            rs: (0, 0),
            len: 0,
            strong: match cfg.strong {
                StrongHash::Blake2 => StrongState::Blake2(Box::new(blake2::params().to_state())),
                StrongHash::Md4 => StrongState::Md4(Box::new(Md4::new())),
            },
        }
    }

    fn update(&mut self, cfg: &Cfg, data: &[u8]) {
        match cfg.weak {
            WeakSum::RabinKarp => {
                self.rk = rabinkarp::update(self.rk, data, rabinkarp::pow(data.len() as u64))
            }
            WeakSum::Rollsum => {
                self.rs = rollsum::concat(self.rs, rollsum::raw(data), data.len() as u64)
            }
        }
        match &mut self.strong {
            StrongState::Blake2(st) => {
                st.update(data);
            }
            StrongState::Md4(m) => m.update(data),
        }
        self.len += data.len() as u64;
    }

    fn finish(self, cfg: &Cfg) -> Vec<u8> {
        let weak = match cfg.weak {
            WeakSum::RabinKarp => self.rk,
            WeakSum::Rollsum => rollsum::finish(self.rs, self.len),
        };
        let mut e = Vec::with_capacity(cfg.entry_len());
        e.extend_from_slice(&weak.to_be_bytes());
        match self.strong {
            StrongState::Blake2(st) => {
                e.extend_from_slice(&st.finalize().as_bytes()[..cfg.strong_len])
            }
            StrongState::Md4(m) => e.extend_from_slice(&m.finish()[..cfg.strong_len]),
        }
        e
    }
}

struct Piece {
    block: u64,
    buf: Vec<u8>,
    len: usize,
    last: bool,
}

struct PieceDone {
    buf: Vec<u8>,
    entry: Option<(u64, Vec<u8>)>,
}

pub(super) fn run<R: Read + ?Sized, W: Write + ?Sized>(
    r: &mut R,
    w: &mut W,
    cfg: &Cfg,
    jobs: usize,
) -> Result<u64> {
    let block_len = cfg.block_len as u64;
    let max_inflight = 4 * jobs + 4;
    let mut jobs = jobs;
    thread::scope(|s| -> Result<u64> {
        let (done_tx, done_rx) = mpsc::channel::<Option<PieceDone>>();
        let mut txs = Vec::with_capacity(jobs);
        // Starts a worker; None when the system refuses the thread.
        let start_worker = || {
            let (tx, rx) = mpsc::channel::<Piece>();
            let guard = PanicGuard {
                tx: done_tx.clone(),
            };
            spawn(s, move || {
                let mut state: Option<BlockState> = None;
                while let Ok(p) = rx.recv() {
                    let st = state.get_or_insert_with(|| BlockState::new(cfg));
                    st.update(cfg, &p.buf[..p.len]);
                    let entry = if p.last {
                        Some((p.block, state.take().unwrap().finish(cfg)))
                    } else {
                        None
                    };
                    if guard
                        .tx
                        .send(Some(PieceDone { buf: p.buf, entry }))
                        .is_err()
                    {
                        return;
                    }
                }
            })
            .map(|_| tx)
        };
        // Blocks hashed here when the system refuses every worker thread.
        let mut here: Option<BlockState> = None;
        let mut worker = 0;

        let mut total: u64 = 0;
        let mut free_bufs: Vec<Vec<u8>> = Vec::new();
        let mut pending: VecDeque<Option<Vec<u8>>> = VecDeque::new();
        let mut next_write: u64 = 0;
        let mut inflight = 0usize;
        let mut block: u64 = 0;
        let mut in_block: u64 = 0;
        let mut eof = false;

        let absorb = |d: Option<PieceDone>,
                      pending: &mut VecDeque<Option<Vec<u8>>>,
                      free_bufs: &mut Vec<Vec<u8>>,
                      next_write: u64| {
            let d = d.ok_or_else(worker_died)?;
            free_bufs.push(d.buf);
            if let Some((b, e)) = d.entry {
                let idx = (b - next_write) as usize;
                if pending.len() <= idx {
                    pending.resize_with(idx + 1, || None);
                }
                pending[idx] = Some(e);
            }
            Ok::<(), crate::error::Error>(())
        };

        loop {
            while let Ok(d) = done_rx.try_recv() {
                absorb(d, &mut pending, &mut free_bufs, next_write)?;
                inflight -= 1;
            }
            while let Some(Some(_)) = pending.front() {
                w.write_all(&pending.pop_front().unwrap().unwrap())
                    .map_err(write_failed)?;
                next_write += 1;
            }
            if !eof && inflight < max_inflight {
                let mut buf = free_bufs.pop().unwrap_or_default();
                let want = (block_len - in_block).min(PIECE as u64) as usize;
                let n = fill(r, &mut buf, want)?;
                total += n as u64;
                in_block += n as u64;
                if n < want {
                    eof = true;
                }
                if in_block == 0 {
                    free_bufs.push(buf);
                    continue;
                }
                let last = eof || in_block == block_len;
                if in_block == n as u64 {
                    // A new block: one more worker while there are fewer
                    // than blocks so far (up to `jobs`); then round-robin.
                    if txs.len() < jobs {
                        match start_worker() {
                            Some(tx) => txs.push(tx),
                            None => jobs = txs.len(),
                        }
                    }
                    worker = (block % txs.len().max(1) as u64) as usize;
                }
                if txs.is_empty() {
                    let st = here.get_or_insert_with(|| BlockState::new(cfg));
                    st.update(cfg, &buf[..n]);
                    free_bufs.push(buf);
                    if last {
                        let e = here.take().map(|st| st.finish(cfg)).unwrap_or_default();
                        w.write_all(&e).map_err(write_failed)?;
                        block += 1;
                        next_write += 1;
                        in_block = 0;
                    }
                    continue;
                }
                txs[worker]
                    .send(Piece {
                        block,
                        buf,
                        len: n,
                        last,
                    })
                    .map_err(|_| worker_died())?;
                inflight += 1;
                if last {
                    block += 1;
                    in_block = 0;
                }
                continue;
            }
            if eof && inflight == 0 {
                break;
            }
            let d = done_rx.recv().map_err(|_| worker_died())?;
            absorb(d, &mut pending, &mut free_bufs, next_write)?;
            inflight -= 1;
        }
        while let Some(Some(e)) = pending.pop_front() {
            w.write_all(&e).map_err(write_failed)?;
        }
        drop(txs);
        Ok(total)
    })
}
