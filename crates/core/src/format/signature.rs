//! Signature files: the header, checked as rdiff 2.3.2 checks it, and the
//! block entries after it.

use std::io::Read;

use super::describe_magic;
use super::params::{self, SIG_HEADER_LEN, SignatureParams};
use crate::error::{Error, Result, Role, Status};
use crate::io::{self, Input};

/// Reads and checks a signature header, in the order rdiff 2.3.2 does, so
/// that each malformed header gets rdiff's status. A strong length of 0
/// means the full hash, as rdiff reads it. Every block length rdiff reads
/// (1 to 2^31 - 1) is accepted: the delta engine's memory follows NEW's
/// length and the block length, not the header alone.
pub(crate) fn read_signature_header(reader: &mut dyn Read) -> Result<SignatureParams> {
    let mut h = [0u8; SIG_HEADER_LEN];
    let got = io::read_full(reader, &mut h, Role::Signature)?;
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
        let n = io::read(&mut self.reader, buf, Role::Signature)?;
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
    // grows to 64 KiB as reads fill it: a small signature touches one page
    let mut buf = vec![0u8; 4096];
    loop {
        let n = input.read_into(&mut buf)?;
        if n == 0 {
            break;
        }
        if n == buf.len() && buf.len() < 64 * 1024 {
            buf.resize(buf.len() * 2, 0);
        }
        entries.try_reserve(n).map_err(|_| {
            Error::new(
                Status::Memory,
                format!(
                    "out of memory reading the signature ({} bytes)",
                    entries.len()
                ),
            )
            .about(Role::Signature)
        })?;
        entries.extend_from_slice(&buf[..n]);
    }
    entries.truncate(entries.len() - entries.len() % input.entry_len as usize);
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::params::{DELTA_MAGIC, RK_BLAKE2_SIG_MAGIC};

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
