//! Reading signature and delta files: headers, the delta command stream,
//! sniffing what a wrong file is, and validation with rdiff 2.3.2's statuses
//! before any byte reaches the C engine.

use std::io::Read;

use crate::error::{Error, Result, Role, Status};
use crate::io::Input;
use crate::params::{self, DELTA_MAGIC, MAX_BLOCK_LEN, SIG_HEADER_LEN, SignatureParams};

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(reader: &mut dyn Read, buf: &mut [u8], role: Role) -> Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(role, "read failed", e)),
        }
    }
    Ok(got)
}

/// Names the kind of file a magic number belongs to, for error messages.
pub(crate) fn describe_magic(bytes: &[u8]) -> String {
    if bytes.len() < 4 {
        return "too short to have a magic number".to_string();
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    if magic == DELTA_MAGIC {
        "it is a delta".to_string()
    } else if params::kind_of_magic(magic).is_some() && magic != 0 {
        "it is a signature".to_string()
    } else if bytes.starts_with(&[0x1f, 0x8b]) {
        "it is gzip data".to_string()
    } else if bytes.starts_with(b"BZh") {
        "it is bzip2 data".to_string()
    } else {
        format!("unknown magic number {magic:#010x}")
    }
}

/// Reads and checks a signature header, in the order rdiff 2.3.2 does, so
/// that each malformed header gets rdiff's status. A strong length of 0
/// means the full hash, as rdiff reads it.
pub(crate) fn read_signature_header(reader: &mut dyn Read) -> Result<SignatureParams> {
    let mut h = [0u8; SIG_HEADER_LEN];
    let got = read_full(reader, &mut h, Role::Signature)?;
    let field = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let kind = (got >= 4)
        .then(|| params::kind_of_magic(field(0)))
        .flatten();
    let foreign = |what: String| match kind {
        Some(_) => what,
        None => format!("not a signature ({}): {what}", describe_magic(&h[..got])),
    };
    let truncated = || {
        let what = if got == 0 {
            "signature is empty".to_string()
        } else {
            foreign(format!("truncated inside its header ({got} of 12 bytes)"))
        };
        Error::new(Status::InputEnded, what).about(Role::Signature)
    };
    let corrupt = |what: String| Error::new(Status::Corrupt, foreign(what)).about(Role::Signature);
    if got < 8 {
        return Err(truncated());
    }
    let block_len = field(4);
    if block_len == 0 || block_len > i32::MAX as u32 {
        return Err(corrupt(format!("implausible block length {block_len}")));
    }
    if got < SIG_HEADER_LEN {
        return Err(truncated());
    }
    let strong_len = field(8);
    if strong_len > 32 {
        return Err(corrupt(format!(
            "implausible strong sum length {strong_len}"
        )));
    }
    let Some((weak, strong)) = kind else {
        return Err(Error::new(
            Status::BadMagic,
            format!("not a signature ({})", describe_magic(&h[..got])),
        )
        .about(Role::Signature));
    };
    let strong_len = if strong_len == 0 {
        strong.digest_len()
    } else {
        strong_len
    };
    if strong_len > strong.digest_len() {
        return Err(Error::new(
            Status::Param,
            format!(
                "strong sum length {strong_len} is longer than the {} hash",
                strong.name()
            ),
        )
        .about(Role::Signature));
    }
    if block_len > MAX_BLOCK_LEN {
        return Err(corrupt(format!(
            "block length {block_len} is larger than the maximum {MAX_BLOCK_LEN}"
        )));
    }
    Ok(SignatureParams {
        weak,
        strong,
        block_len,
        strong_len,
    })
}

/// A signature's body after its checked header: passes the header (a magic of
/// 0 spelled out as rdiff 2.3 reads it, which librsync 2.2 does not) and the
/// block entries to the engine, and reports a block cut short as rdiff does
/// (1 to 3 stray bytes at the end are ignored; more is a truncation).
pub(crate) struct SignatureInput<R> {
    reader: R,
    header: [u8; SIG_HEADER_LEN],
    header_sent: usize,
    entry_len: u64,
    body_len: u64,
}

impl<R: Read> SignatureInput<R> {
    /// Wraps `reader`, positioned just after the header `params` came from.
    pub(crate) fn new(reader: R, params: &SignatureParams) -> Self {
        SignatureInput {
            reader,
            header: params.header(),
            header_sent: 0,
            entry_len: params.entry_len() as u64,
            body_len: 0,
        }
    }

    /// Bytes of block entries read so far.
    pub(crate) fn body_len(&self) -> u64 {
        self.body_len
    }
}

impl<R: Read> Input for SignatureInput<R> {
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize> {
        if self.header_sent < SIG_HEADER_LEN {
            let n = buf.len().min(SIG_HEADER_LEN - self.header_sent);
            buf[..n].copy_from_slice(&self.header[self.header_sent..self.header_sent + n]);
            self.header_sent += n;
            return Ok(n);
        }
        let n = loop {
            match self.reader.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(Role::Signature, "read failed", e)),
            }
        };
        self.body_len += n as u64;
        if n == 0 {
            let partial = self.body_len % self.entry_len;
            if partial >= 4 {
                return Err(Error::new(
                    Status::InputEnded,
                    format!(
                        "signature is truncated inside block {} ({partial} of {} bytes)",
                        self.body_len / self.entry_len,
                        self.entry_len
                    ),
                )
                .about(Role::Signature));
            }
        }
        Ok(n)
    }
}

/// Reads a signature's block entries, checked as [`SignatureInput`] checks
/// them, into memory (1 to 3 stray bytes at the end are dropped).
pub(crate) fn read_entries<R: Read>(input: &mut SignatureInput<R>) -> Result<Vec<u8>> {
    let mut header = [0u8; SIG_HEADER_LEN];
    let mut got = 0;
    while got < SIG_HEADER_LEN {
        got += input.read_into(&mut header[got..])?;
    }
    let mut entries = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = input.read_into(&mut buf)?;
        if n == 0 {
            break;
        }
        entries.extend_from_slice(&buf[..n]);
    }
    entries.truncate(entries.len() - entries.len() % input.entry_len as usize);
    Ok(entries)
}

/// The widths of delta command parameters, indexed as rdiff's opcode table.
const WIDTHS: [usize; 4] = [1, 2, 4, 8];
/// First LITERAL opcode with a length parameter.
const OP_LITERAL_N1: u8 = 0x41;
/// First COPY opcode.
const OP_COPY_N1_N1: u8 = 0x45;
/// Last COPY opcode; above it the opcodes are reserved.
const OP_COPY_N8_N8: u8 = 0x54;
/// Largest LITERAL whose length is its opcode.
const MAX_IMMEDIATE_LITERAL: u8 = 0x40;

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
                    0 => {
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
                            pos_width: WIDTHS[idx / 4],
                            len_width: WIDTHS[idx % 4],
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
            return Err(Error::new(
                Status::InputEnded,
                format!(
                    "copy command reads past the end of the basis (COPY of {len} bytes at {pos}; the basis has {basis_len})"
                ),
            )
            .about(Role::Delta));
        }
        self.state = State::Opcode;
        Ok(Command::Copy { pos, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::RK_BLAKE2_SIG_MAGIC;

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

    const MAGIC: [u8; 4] = [0x72, 0x73, 0x02, 0x36];

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
    fn signature_headers_get_rdiffs_statuses() {
        let header = |magic: u32, block: u32, strong: u32| {
            let mut h = magic.to_be_bytes().to_vec();
            h.extend(block.to_be_bytes());
            h.extend(strong.to_be_bytes());
            h
        };
        let status = |bytes: &[u8]| read_signature_header(&mut &bytes[..]).unwrap_err().status();
        assert_eq!(status(&[]), Status::InputEnded);
        assert_eq!(status(&[0x72, 0x73, 1, 0x47, 0, 0, 8]), Status::InputEnded);
        assert_eq!(status(&header(0x1234_5678, 2048, 32)), Status::BadMagic);
        assert_eq!(status(&header(RK_BLAKE2_SIG_MAGIC, 0, 32)), Status::Corrupt);
        assert_eq!(
            status(&[0x72, 0x73, 1, 0x47, 0x80, 0, 0, 0, 0]),
            Status::Corrupt,
            "a bogus block length is caught before the header ends"
        );
        assert_eq!(
            status(&header(RK_BLAKE2_SIG_MAGIC, 2048, 33)),
            Status::Corrupt
        );
        assert_eq!(
            status(&header(RK_BLAKE2_SIG_MAGIC, 2048, u32::MAX)),
            Status::Corrupt
        );
        assert_eq!(
            status(&header(params::RK_MD4_SIG_MAGIC, 2048, 20)),
            Status::Param
        );
        assert_eq!(status(&header(DELTA_MAGIC, 2048, 32)), Status::BadMagic);
        let p = read_signature_header(&mut &header(0, 2048, 8)[..]).unwrap();
        assert_eq!(p.magic(), RK_BLAKE2_SIG_MAGIC);
        let p = read_signature_header(&mut &header(params::RK_MD4_SIG_MAGIC, 2048, 0)[..]).unwrap();
        assert_eq!(p.strong_len, 16, "a strong length of 0 means the full hash");
    }
}
