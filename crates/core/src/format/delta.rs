//! The delta command stream: rdiff's opcode table, the streaming parser that
//! checks every command, and the encoder of the native delta engine.

use super::describe_magic;
use super::params::DELTA_MAGIC;
use crate::error::{Error, Result, Role, Status};

/// The END command.
pub(crate) const OP_END: u8 = 0;
/// The widths of delta command parameters, indexed as rdiff's opcode table.
const WIDTHS: [usize; 4] = [1, 2, 4, 8];
/// First LITERAL opcode with a length parameter.
const OP_LITERAL_N1: u8 = 0x41;
/// First COPY opcode.
const OP_COPY_N1_N1: u8 = 0x45;
/// Last COPY opcode; above it the opcodes are reserved.
const OP_COPY_N8_N8: u8 = 0x54;
/// Largest LITERAL whose length is its opcode.
pub(crate) const MAX_IMMEDIATE_LITERAL: u8 = 0x40;

/// One delta command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `len` bytes of data follow the command.
    Literal {
        /// Bytes of data.
        len: u64,
    },
    /// Copy `len` bytes of the basis from `pos`.
    Copy {
        /// Offset in the basis.
        pos: u64,
        /// Bytes to copy.
        len: u64,
    },
    /// End of the delta.
    End,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Magic,
    Opcode,
    Params {
        op: u8,
        pos_width: usize,
        len_width: usize,
    },
    LiteralData {
        remaining: u64,
    },
    Done,
}

/// A streaming parser of delta files that checks every command with rdiff
/// 2.3.2's statuses: bad magic 104; truncation 103; zero-length, negative or
/// reserved commands 106; a COPY outside a basis of known length 103.
#[derive(Debug)]
pub struct DeltaParser {
    state: State,
    pending: [u8; 16],
    pending_len: usize,
    basis_len: Option<u64>,
    commands: u64,
}

impl DeltaParser {
    /// A parser for a delta against a basis of `basis_len` bytes, when known.
    pub fn new(basis_len: Option<u64>) -> DeltaParser {
        DeltaParser {
            state: State::Magic,
            pending: [0; 16],
            pending_len: 0,
            basis_len,
            commands: 0,
        }
    }

    /// True once the END command has been read.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// True until the magic number has been read.
    pub fn in_magic(&self) -> bool {
        matches!(self.state, State::Magic)
    }

    /// Bytes of LITERAL data still to come (0 outside a LITERAL).
    pub fn literal_remaining(&self) -> u64 {
        match self.state {
            State::LiteralData { remaining } => remaining,
            _ => 0,
        }
    }

    /// Accounts for `n` bytes of LITERAL data consumed without being passed
    /// through [`DeltaParser::advance`] (copied directly by the caller).
    pub fn skip_literal(&mut self, n: u64) {
        if let State::LiteralData { remaining } = self.state {
            let n = n.min(remaining);
            self.state = if n == remaining {
                State::Opcode
            } else {
                State::LiteralData {
                    remaining: remaining - n,
                }
            };
        }
    }

    /// True while the next bytes are a LITERAL's data.
    pub fn in_literal_data(&self) -> bool {
        matches!(self.state, State::LiteralData { .. })
    }

    /// Parses from `data`. Returns how many bytes belong to the delta (up to
    /// and including END) and the command completed, if any; literal data is
    /// consumed in large pieces, command headers one at a time.
    pub fn advance(&mut self, data: &[u8]) -> Result<(usize, Option<Command>)> {
        match self.state {
            State::Done => Ok((0, None)),
            State::LiteralData { remaining } => {
                let n = (data.len() as u64).min(remaining);
                self.state = if n == remaining {
                    State::Opcode
                } else {
                    State::LiteralData {
                        remaining: remaining - n,
                    }
                };
                Ok((n as usize, None))
            }
            State::Magic => {
                let n = data.len().min(4 - self.pending_len);
                self.pending[self.pending_len..self.pending_len + n].copy_from_slice(&data[..n]);
                self.pending_len += n;
                if self.pending_len == 4 {
                    let magic = u32::from_be_bytes([
                        self.pending[0],
                        self.pending[1],
                        self.pending[2],
                        self.pending[3],
                    ]);
                    if magic != DELTA_MAGIC {
                        return Err(Error::new(
                            Status::BadMagic,
                            format!("not a delta ({})", describe_magic(&self.pending[..4])),
                        )
                        .about(Role::Delta));
                    }
                    self.pending_len = 0;
                    self.state = State::Opcode;
                }
                Ok((n, None))
            }
            State::Opcode => {
                let Some(&op) = data.first() else {
                    return Ok((0, None));
                };
                self.commands += 1;
                match op {
                    OP_END => {
                        self.state = State::Done;
                        Ok((1, Some(Command::End)))
                    }
                    1..=MAX_IMMEDIATE_LITERAL => {
                        self.state = State::LiteralData {
                            remaining: op as u64,
                        };
                        Ok((1, Some(Command::Literal { len: op as u64 })))
                    }
                    OP_LITERAL_N1..OP_COPY_N1_N1 => {
                        self.state = State::Params {
                            op,
                            pos_width: 0,
                            len_width: WIDTHS[(op - OP_LITERAL_N1) as usize],
                        };
                        Ok((1, None))
                    }
                    OP_COPY_N1_N1..=OP_COPY_N8_N8 => {
                        let idx = (op - OP_COPY_N1_N1) as usize;
                        self.state = State::Params {
                            op,
                            pos_width: WIDTHS[idx / WIDTHS.len()],
                            len_width: WIDTHS[idx % WIDTHS.len()],
                        };
                        Ok((1, None))
                    }
                    _ => Err(self.corrupt(format!("reserved opcode {op:#04x}"))),
                }
            }
            State::Params {
                op,
                pos_width,
                len_width,
            } => {
                let need = pos_width + len_width;
                let n = data.len().min(need - self.pending_len);
                self.pending[self.pending_len..self.pending_len + n].copy_from_slice(&data[..n]);
                self.pending_len += n;
                if self.pending_len < need {
                    return Ok((n, None));
                }
                self.pending_len = 0;
                let be = |bytes: &[u8]| bytes.iter().fold(0u64, |v, &b| (v << 8) | b as u64);
                let first = be(&self.pending[..pos_width.max(len_width)]);
                let cmd = if op < OP_COPY_N1_N1 {
                    self.check_literal(first)?
                } else {
                    let pos = be(&self.pending[..pos_width]);
                    let len = be(&self.pending[pos_width..need]);
                    self.check_copy(pos, len)?
                };
                Ok((n, Some(cmd)))
            }
        }
    }

    /// Reports where the input ended; an error unless END was read.
    pub fn finish(&self) -> Result<()> {
        let what = match self.state {
            State::Done => return Ok(()),
            State::Magic if self.pending_len == 0 => "delta is empty".to_string(),
            State::Magic => "delta is truncated inside its magic number".to_string(),
            State::Opcode => "delta is truncated: it has no END command".to_string(),
            State::Params { op, .. } if op < OP_COPY_N1_N1 => {
                "delta is truncated inside a LITERAL command".to_string()
            }
            State::Params { .. } => "delta is truncated inside a COPY command".to_string(),
            State::LiteralData { remaining } => {
                format!("delta is truncated inside LITERAL data ({remaining} bytes missing)")
            }
        };
        Err(Error::new(Status::InputEnded, what).about(Role::Delta))
    }

    fn corrupt(&self, what: String) -> Error {
        Error::new(
            Status::Corrupt,
            format!("corrupt delta: {what} in command {}", self.commands),
        )
        .about(Role::Delta)
    }

    fn check_literal(&mut self, len: u64) -> Result<Command> {
        if len == 0 {
            return Err(self.corrupt("zero-length LITERAL".to_string()));
        }
        if len > i64::MAX as u64 {
            return Err(self.corrupt("negative LITERAL length".to_string()));
        }
        self.state = State::LiteralData { remaining: len };
        Ok(Command::Literal { len })
    }

    fn check_copy(&mut self, pos: u64, len: u64) -> Result<Command> {
        if len == 0 {
            return Err(self.corrupt("zero-length COPY".to_string()));
        }
        if pos > i64::MAX as u64 {
            return Err(self.corrupt("negative COPY position".to_string()));
        }
        if len > i64::MAX as u64 {
            return Err(self.corrupt("negative COPY length".to_string()));
        }
        if let Some(basis_len) = self.basis_len
            && pos.checked_add(len).is_none_or(|end| end > basis_len)
        {
            return Err(copy_past_end(pos, len, basis_len));
        }
        self.state = State::Opcode;
        Ok(Command::Copy { pos, len })
    }
}

/// The message of a COPY outside the basis (rdiff's status 103, input ended).
pub(crate) fn copy_past_end(pos: u64, len: u64, basis_len: u64) -> Error {
    Error::new(
        Status::InputEnded,
        format!(
            "copy command reads past the end of the basis (COPY of {len} bytes at {pos}; the basis has {basis_len})"
        ),
    )
    .about(Role::Delta)
}

/// Bytes needed for `v` in librsync's encoding (`rs_int_len`): 1, 2, 4 or 8.
pub(crate) fn int_len(v: u64) -> usize {
    if v <= 0xff {
        1
    } else if v <= 0xffff {
        2
    } else if v <= 0xffff_ffff {
        4
    } else {
        8
    }
}

/// The index of a parameter width (1, 2, 4 or 8 bytes) in [`WIDTHS`].
fn width_index(w: usize) -> u8 {
    w.trailing_zeros() as u8
}

/// Appends a LITERAL command header for `len` bytes; returns its size.
pub(crate) fn encode_literal(buf: &mut Vec<u8>, len: u64) -> usize {
    if len <= MAX_IMMEDIATE_LITERAL as u64 {
        buf.push(len as u8);
        1
    } else {
        let w = int_len(len);
        buf.push(OP_LITERAL_N1 + width_index(w));
        buf.extend_from_slice(&len.to_be_bytes()[8 - w..]);
        1 + w
    }
}

/// Appends a COPY command; returns its size.
pub(crate) fn encode_copy(buf: &mut Vec<u8>, pos: u64, len: u64) -> usize {
    let (wp, wl) = (int_len(pos), int_len(len));
    let widths = WIDTHS.len() as u8;
    buf.push(OP_COPY_N1_N1 + widths * width_index(wp) + width_index(wl));
    buf.extend_from_slice(&pos.to_be_bytes()[8 - wp..]);
    buf.extend_from_slice(&len.to_be_bytes()[8 - wl..]);
    1 + wp + wl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(delta: &[u8], basis_len: Option<u64>) -> Result<Vec<Command>> {
        let mut p = DeltaParser::new(basis_len);
        let mut cmds = Vec::new();
        let mut i = 0;
        while i < delta.len() && !p.is_done() {
            let (n, cmd) = p.advance(&delta[i..])?;
            cmds.extend(cmd);
            i += n;
        }
        p.finish()?;
        Ok(cmds)
    }

    fn status(delta: &[u8], basis_len: Option<u64>) -> Status {
        parse_all(delta, basis_len).unwrap_err().status()
    }

    const MAGIC: [u8; 4] = DELTA_MAGIC.to_be_bytes();

    fn delta(body: &[u8]) -> Vec<u8> {
        [&MAGIC[..], body].concat()
    }

    #[test]
    fn parses_rdiffs_identical_file_delta() {
        let d = delta(&[0x47, 0x00, 0x00, 0x04, 0x93, 0xe0, 0x00]);
        assert_eq!(
            parse_all(&d, Some(300_000)).unwrap(),
            vec![
                Command::Copy {
                    pos: 0,
                    len: 300_000
                },
                Command::End
            ]
        );
    }

    #[test]
    fn parses_literals_of_every_width() {
        let mut body = vec![0x03, b'a', b'b', b'c', 0x41, 65];
        body.extend([b'x'; 65]);
        body.extend([0x44, 0, 0, 0, 0, 0, 0, 0, 2, b'y', b'z', 0]);
        assert_eq!(
            parse_all(&delta(&body), None).unwrap(),
            vec![
                Command::Literal { len: 3 },
                Command::Literal { len: 65 },
                Command::Literal { len: 2 },
                Command::End
            ]
        );
    }

    #[test]
    fn malformed_deltas_get_rdiffs_statuses() {
        assert_eq!(status(&[], None), Status::InputEnded);
        assert_eq!(status(&MAGIC[..2], None), Status::InputEnded);
        assert_eq!(status(&MAGIC, None), Status::InputEnded);
        assert_eq!(status(b"garbage!", None), Status::BadMagic);
        assert_eq!(
            status(&[0x72, 0x73, 0x01, 0x47, 0, 0, 1, 0], None),
            Status::BadMagic
        );
        assert_eq!(status(&delta(&[0x45, 0]), None), Status::InputEnded);
        assert_eq!(status(&delta(&[0x05, 1, 2]), None), Status::InputEnded);
        assert_eq!(status(&delta(&[0x41, 0, 0]), None), Status::Corrupt);
        assert_eq!(
            status(&delta(&[0x44, 0x80, 0, 0, 0, 0, 0, 0, 1]), None),
            Status::Corrupt
        );
        assert_eq!(status(&delta(&[0x45, 0, 0, 0]), None), Status::Corrupt);
        assert_eq!(
            status(&delta(&[0x51, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0]), None),
            Status::Corrupt
        );
        assert_eq!(status(&delta(&[0x55]), None), Status::Corrupt);
        assert_eq!(status(&delta(&[0xff]), None), Status::Corrupt);
        assert_eq!(
            status(&delta(&[0x45, 10, 1, 0]), Some(10)),
            Status::InputEnded
        );
        assert_eq!(
            status(&delta(&[0x45, 9, 2, 0]), Some(10)),
            Status::InputEnded
        );
        assert_eq!(
            status(&delta(&[0x51, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 0]), Some(10)),
            Status::InputEnded
        );
        assert!(parse_all(&delta(&[0x45, 9, 1, 0]), Some(10)).is_ok());
        let with_tail = [delta(&[0x45, 0, 1, 0]), b"trailing".to_vec()].concat();
        assert!(parse_all(&with_tail, Some(10)).is_ok());
    }

    #[test]
    fn encoding_uses_narrowest_widths() {
        let enc_l = |len| {
            let mut v = Vec::new();
            let n = encode_literal(&mut v, len);
            assert_eq!(n, v.len());
            v
        };
        assert_eq!(enc_l(1), [1]);
        assert_eq!(enc_l(64), [64]);
        assert_eq!(enc_l(65), [0x41, 65]);
        assert_eq!(enc_l(255), [0x41, 255]);
        assert_eq!(enc_l(256), [0x42, 1, 0]);
        assert_eq!(enc_l(70_000), [0x43, 0, 1, 0x11, 0x70]);
        assert_eq!(enc_l(1 << 32), [0x44, 0, 0, 0, 1, 0, 0, 0, 0]);
        let enc_c = |pos, len| {
            let mut v = Vec::new();
            let n = encode_copy(&mut v, pos, len);
            assert_eq!(n, v.len());
            v
        };
        assert_eq!(enc_c(0, 300_000), [0x47, 0, 0, 0x04, 0x93, 0xe0]);
        assert_eq!(enc_c(0, 1), [0x45, 0, 1]);
        assert_eq!(enc_c(256, 255), [0x49, 1, 0, 255]);
        assert_eq!(enc_c(65_536, 65_535), [0x4e, 0, 1, 0, 0, 0xff, 0xff]);
        assert_eq!(
            enc_c(1 << 32, 1 << 32),
            [0x54, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
        );
    }
}
