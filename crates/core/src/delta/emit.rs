//! Where the scan's decisions go: the [`Emitter`] encodes them as delta
//! commands (with the format's encoder) and writes them, merging contiguous
//! COPYs and adjacent literals; a [`Recorder`] keeps a chunk's commands for
//! the parallel path to join.

use std::io::Write;

use crate::error::{Error, Result, Role};
use crate::format::params::DELTA_MAGIC;
use crate::format::{encode_copy, encode_literal};
use crate::stats::{Op, Stats};

/// Where the scan's decisions go: literal ranges of the scanned data, COPYs.
pub(super) trait Sink {
    fn literal(&mut self, data: &[u8], start: usize, end: usize) -> Result<()>;
    fn copy(&mut self, pos: u64, len: u64) -> Result<()>;
}

/// The most written to the output at once.
const WRITE_PIECE: usize = 256 * 1024;

/// The output buffer's first capacity.
const START_BUF: usize = 4096;

/// Literal runs up to this long are held back so that a run continued by
/// the next buffer or chunk still becomes one command.
const LITERAL_CARRY: usize = 64 * 1024;

/// Encodes commands as librsync does and writes them, merging contiguous
/// COPYs and adjacent literals.
pub(super) struct Emitter<'w, W: Write> {
    out: &'w mut W,
    buf: Vec<u8>,
    buf_cap: usize,
    copy: Option<(u64, u64)>,
    lit: Vec<u8>,
    stats: Stats,
}

impl<'w, W: Write> Emitter<'w, W> {
    pub(super) fn new(out: &'w mut W, out_buf: usize) -> Result<Emitter<'w, W>> {
        let buf_cap = out_buf.clamp(64 * 1024, WRITE_PIECE);
        let mut e = Emitter {
            out,
            // grows to `buf_cap` as the delta does: a small delta costs no
            // 256 KiB allocation (a mapping and its unmapping)
            buf: Vec::with_capacity(START_BUF.min(buf_cap)),
            buf_cap,
            copy: None,
            lit: Vec::new(),
            stats: Stats::new(Op::Delta),
        };
        e.buf.extend_from_slice(&DELTA_MAGIC.to_be_bytes());
        e.stats.out_bytes = 4;
        Ok(e)
    }

    fn flush_buf(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.out
                .write_all(&self.buf)
                .map_err(|e| Error::io(Role::Output, "write failed", e))?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Makes room for a small command in the buffer.
    fn room(&mut self, n: usize) -> Result<()> {
        if self.buf.len() + n > self.buf_cap {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn put_data(&mut self, data: &[u8]) -> Result<()> {
        self.stats.out_bytes += data.len() as u64;
        if self.buf.len() + data.len() <= self.buf_cap {
            self.buf.extend_from_slice(data);
            return Ok(());
        }
        self.flush_buf()?;
        if data.len() < self.buf_cap / 2 {
            self.buf.extend_from_slice(data);
            return Ok(());
        }
        // Big literal runs go straight from NEW's buffer, in pieces: single
        // writes of several MiB were several times slower here (Linux 6,
        // page cache) than the same bytes in 256 KiB writes.
        for piece in data.chunks(WRITE_PIECE) {
            self.out
                .write_all(piece)
                .map_err(|e| Error::io(Role::Output, "write failed", e))?;
        }
        Ok(())
    }

    fn literal_header(&mut self, len: u64) -> Result<()> {
        self.room(9)?;
        let n = encode_literal(&mut self.buf, len);
        self.stats.lit_cmds += 1;
        self.stats.lit_bytes += len;
        self.stats.lit_cmdbytes += n as u64;
        self.stats.out_bytes += n as u64;
        Ok(())
    }

    fn flush_copy(&mut self) -> Result<()> {
        if let Some((pos, len)) = self.copy.take() {
            self.room(17)?;
            let n = encode_copy(&mut self.buf, pos, len);
            self.stats.copy_cmds += 1;
            self.stats.copy_bytes += len;
            self.stats.copy_cmdbytes += n as u64;
            self.stats.out_bytes += n as u64;
        }
        Ok(())
    }

    fn flush_literal(&mut self) -> Result<()> {
        if !self.lit.is_empty() {
            let lit = std::mem::take(&mut self.lit);
            self.literal_header(lit.len() as u64)?;
            self.put_data(&lit)?;
            self.lit = lit;
            self.lit.clear();
        }
        Ok(())
    }

    pub(super) fn literal_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.flush_copy()?;
        if self.lit.len() + bytes.len() <= LITERAL_CARRY {
            self.lit.extend_from_slice(bytes);
            return Ok(());
        }
        let lit = std::mem::take(&mut self.lit);
        self.literal_header((lit.len() + bytes.len()) as u64)?;
        self.put_data(&lit)?;
        self.put_data(bytes)?;
        self.lit = lit;
        self.lit.clear();
        Ok(())
    }

    pub(super) fn copy_range(&mut self, pos: u64, len: u64) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.flush_literal()?;
        if let Some((p, l)) = self.copy {
            if p + l == pos {
                self.copy = Some((p, l + len));
                return Ok(());
            }
            self.flush_copy()?;
        }
        self.copy = Some((pos, len));
        Ok(())
    }

    /// Where the pending COPY ends in the basis, if a COPY is pending.
    pub(super) fn copy_end(&self) -> Option<u64> {
        self.copy.map(|(p, l)| p + l)
    }

    /// Writes what is pending and the END command; returns the statistics.
    pub(super) fn finish(mut self) -> Result<Stats> {
        self.flush_copy()?;
        self.flush_literal()?;
        self.room(1)?;
        self.buf.push(crate::format::OP_END);
        self.stats.out_bytes += 1;
        self.flush_buf()?;
        Ok(self.stats)
    }
}

impl<W: Write> Sink for Emitter<'_, W> {
    fn literal(&mut self, data: &[u8], start: usize, end: usize) -> Result<()> {
        if end > start {
            self.literal_bytes(&data[start..end])?;
        }
        Ok(())
    }

    fn copy(&mut self, pos: u64, len: u64) -> Result<()> {
        self.copy_range(pos, len)
    }
}

/// A command of a chunk scanned by a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Cmd {
    /// Literal bytes `start..end` of the chunk's buffer.
    Literal { start: usize, end: usize },
    /// `len` bytes of the basis from `pos`.
    Copy { pos: u64, len: u64 },
}

impl Cmd {
    pub(super) fn len(&self) -> u64 {
        match *self {
            Cmd::Literal { start, end } => (end - start) as u64,
            Cmd::Copy { len, .. } => len,
        }
    }
}

#[derive(Default)]
pub(super) struct Recorder {
    pub(super) cmds: Vec<Cmd>,
}

impl Sink for Recorder {
    fn literal(&mut self, _data: &[u8], start: usize, end: usize) -> Result<()> {
        if end > start {
            if let Some(Cmd::Literal { end: e, .. }) = self.cmds.last_mut()
                && *e == start
            {
                *e = end;
                return Ok(());
            }
            self.cmds.push(Cmd::Literal { start, end });
        }
        Ok(())
    }

    fn copy(&mut self, pos: u64, len: u64) -> Result<()> {
        if let Some(Cmd::Copy { pos: p, len: l }) = self.cmds.last_mut()
            && *p + *l == pos
        {
            *l += len;
            return Ok(());
        }
        self.cmds.push(Cmd::Copy { pos, len });
        Ok(())
    }
}
