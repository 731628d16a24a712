//! Signature parameters: magic numbers and rdiff 2.3's defaults for block and
//! strong-sum lengths, decided in one place.

use crate::error::{Error, Result, Status};

/// Magic number of a delta file.
pub const DELTA_MAGIC: u32 = 0x7273_0236;
/// Signature magic: rollsum + MD4 (librsync before 1.0; fast_rsync writes it).
pub const MD4_SIG_MAGIC: u32 = 0x7273_0136;
/// Signature magic: rollsum + BLAKE2b.
pub const BLAKE2_SIG_MAGIC: u32 = 0x7273_0137;
/// Signature magic: RabinKarp + MD4.
pub const RK_MD4_SIG_MAGIC: u32 = 0x7273_0146;
/// Signature magic: RabinKarp + BLAKE2b (rdiff 2.3's default).
pub const RK_BLAKE2_SIG_MAGIC: u32 = 0x7273_0147;

/// Block length when the basis size is unknown (a pipe).
pub const DEFAULT_BLOCK_LEN: u32 = 2048;
/// Smallest recommended block length, used for bases up to 64 KiB.
pub const MIN_RECOMMENDED_BLOCK_LEN: u32 = 256;
/// Minimum strong-sum length (`-S -1`) when the basis size is unknown.
pub const DEFAULT_MIN_STRONG_LEN: u32 = 12;
/// Largest block length `signature` accepts (`-b`): 2^29 - 1, the largest
/// rdiff 2.3.2 can make a signature with (it needs an `int` of four blocks:
/// 2^29 and above abort it, or fail at 2^30). Signature headers are read
/// with any block length rdiff reads, up to 2^31 - 1.
pub const MAX_BLOCK_LEN: u32 = (1 << 29) - 1;
/// Size of a signature header: magic, block length, strong-sum length.
pub const SIG_HEADER_LEN: usize = 12;

/// The strong hash of a signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StrongHash {
    /// MD4: 16 bytes, the pre-1.0 default.
    Md4,
    /// BLAKE2b: 32 bytes, the default.
    #[default]
    Blake2,
}

impl StrongHash {
    /// The hash's full length in bytes.
    pub fn digest_len(self) -> u32 {
        match self {
            StrongHash::Md4 => 16,
            StrongHash::Blake2 => 32,
        }
    }

    /// The name rdiff's `-H` takes.
    pub fn name(self) -> &'static str {
        match self {
            StrongHash::Md4 => "md4",
            StrongHash::Blake2 => "blake2",
        }
    }
}

/// The weak rolling checksum of a signature.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WeakSum {
    /// rsync's Adler-style rollsum.
    Rollsum,
    /// The RabinKarp polynomial hash, the default.
    #[default]
    RabinKarp,
}

impl WeakSum {
    /// The name rdiff's `-R` takes.
    pub fn name(self) -> &'static str {
        match self {
            WeakSum::Rollsum => "rollsum",
            WeakSum::RabinKarp => "rabinkarp",
        }
    }
}

/// What `-S` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StrongLen {
    /// `-S 0`: the hash's full length.
    #[default]
    Full,
    /// `-S -1`: the recommended minimum for the basis size.
    Minimum,
    /// `-S N`: exactly N bytes.
    Bytes(u32),
}

impl StrongLen {
    /// Interprets rdiff's `-S` value; below -1 is a bad parameter.
    pub fn from_arg(value: i64) -> Result<StrongLen> {
        match value {
            0 => Ok(StrongLen::Full),
            -1 => Ok(StrongLen::Minimum),
            v if v > 0 => Ok(StrongLen::Bytes(u32::try_from(v).unwrap_or(u32::MAX))),
            v => Err(Error::new(
                Status::Param,
                format!(
                    "invalid strong sum length {v}: use a length, 0 for the full hash or -1 for the minimum"
                ),
            )),
        }
    }
}

/// The parameters written in a signature header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignatureParams {
    /// The weak rolling checksum.
    pub weak: WeakSum,
    /// The strong hash.
    pub strong: StrongHash,
    /// Bytes per block.
    pub block_len: u32,
    /// Bytes of each block's strong hash kept (its leftmost bytes).
    pub strong_len: u32,
}

impl SignatureParams {
    /// The magic number for this weak sum and strong hash.
    pub fn magic(&self) -> u32 {
        magic_for(self.weak, self.strong)
    }

    /// The 12-byte signature header.
    pub fn header(&self) -> [u8; SIG_HEADER_LEN] {
        let mut h = [0u8; SIG_HEADER_LEN];
        h[..4].copy_from_slice(&self.magic().to_be_bytes());
        h[4..8].copy_from_slice(&self.block_len.to_be_bytes());
        h[8..].copy_from_slice(&self.strong_len.to_be_bytes());
        h
    }

    /// Bytes of one block's entry: weak sum plus strong sum.
    pub fn entry_len(&self) -> usize {
        4 + self.strong_len as usize
    }

    /// Size of the signature of a basis of `basis_len` bytes.
    pub fn signature_len(&self, basis_len: u64) -> u64 {
        SIG_HEADER_LEN as u64 + basis_len.div_ceil(self.block_len as u64) * self.entry_len() as u64
    }

    /// Chooses parameters as rdiff 2.3 does (`rs_sig_args`), for a basis of
    /// `basis_size` bytes (`None` when unknown, as for a pipe). Returns the
    /// parameters and, when `-S` is below the recommended minimum, rdiff's
    /// warning text.
    pub fn choose(
        weak: WeakSum,
        strong: StrongHash,
        block_len: u32,
        strong_len: StrongLen,
        basis_size: Option<u64>,
    ) -> Result<(SignatureParams, Option<String>)> {
        if block_len > MAX_BLOCK_LEN {
            return Err(Error::new(
                Status::Param,
                format!("block size {block_len} is larger than the maximum {MAX_BLOCK_LEN}"),
            ));
        }
        let block_len = if block_len == 0 {
            recommended_block_len(basis_size)
        } else {
            block_len
        };
        let min = min_strong_len(basis_size, block_len);
        let mut warning = None;
        let strong_len = match strong_len {
            StrongLen::Full => strong.digest_len(),
            StrongLen::Minimum => min,
            StrongLen::Bytes(n) => {
                if let Some(size) = basis_size.filter(|_| n < min) {
                    warning = Some(format!(
                        "strong_len={n} smaller than recommended minimum {min} for old_fsize={size} with block_len={block_len}"
                    ));
                } else if n > strong.digest_len() {
                    return Err(Error::new(
                        Status::Param,
                        format!(
                            "strong sum length {n} is longer than the {} hash ({} bytes)",
                            strong.name(),
                            strong.digest_len()
                        ),
                    ));
                }
                n
            }
        };
        let params = SignatureParams {
            weak,
            strong,
            block_len,
            strong_len,
        };
        Ok((params, warning))
    }
}

/// The magic number for a weak sum and strong hash pair.
pub fn magic_for(weak: WeakSum, strong: StrongHash) -> u32 {
    match (weak, strong) {
        (WeakSum::Rollsum, StrongHash::Md4) => MD4_SIG_MAGIC,
        (WeakSum::Rollsum, StrongHash::Blake2) => BLAKE2_SIG_MAGIC,
        (WeakSum::RabinKarp, StrongHash::Md4) => RK_MD4_SIG_MAGIC,
        (WeakSum::RabinKarp, StrongHash::Blake2) => RK_BLAKE2_SIG_MAGIC,
    }
}

/// The weak sum and strong hash a signature magic stands for. rdiff 2.3
/// reads a magic of 0 as its default, RabinKarp + BLAKE2b.
pub fn kind_of_magic(magic: u32) -> Option<(WeakSum, StrongHash)> {
    match magic {
        MD4_SIG_MAGIC => Some((WeakSum::Rollsum, StrongHash::Md4)),
        BLAKE2_SIG_MAGIC => Some((WeakSum::Rollsum, StrongHash::Blake2)),
        RK_MD4_SIG_MAGIC => Some((WeakSum::RabinKarp, StrongHash::Md4)),
        RK_BLAKE2_SIG_MAGIC | 0 => Some((WeakSum::RabinKarp, StrongHash::Blake2)),
        _ => None,
    }
}

/// librsync 2.3's recommended block length: 256 up to 64 KiB, else
/// sqrt(size) rounded down to a multiple of 128; 2048 when the size is unknown.
pub fn recommended_block_len(basis_size: Option<u64>) -> u32 {
    match basis_size {
        None => DEFAULT_BLOCK_LEN,
        Some(n) if n <= 256 * 256 => MIN_RECOMMENDED_BLOCK_LEN,
        Some(n) => (n.isqrt() & !127) as u32,
    }
}

/// librsync 2.3's minimum strong-sum length for a basis size and block length.
pub fn min_strong_len(basis_size: Option<u64>, block_len: u32) -> u32 {
    match basis_size {
        None => DEFAULT_MIN_STRONG_LEN,
        Some(n) => {
            let bits = floor_log2(n + (1 << 24)) + floor_log2(n / block_len as u64 + 1);
            2 + bits.div_ceil(8)
        }
    }
}

fn floor_log2(v: u64) -> u32 {
    if v <= 1 { 0 } else { 63 - v.leading_zeros() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_for(size: Option<u64>) -> (SignatureParams, Option<String>) {
        SignatureParams::choose(
            WeakSum::RabinKarp,
            StrongHash::Blake2,
            0,
            StrongLen::Full,
            size,
        )
        .unwrap()
    }

    /// The worked values of rdiff-notes.md section 2, measured with rdiff 2.3.2.
    #[test]
    fn defaults_match_rdiff_worked_values() {
        let table: [(Option<u64>, u32, u32, Option<u64>); 8] = [
            (Some(0), 256, 5, Some(12)),
            (Some(1_000), 256, 6, Some(156)),
            (Some(300_000), 512, 7, Some(21_108)),
            (Some(1 << 20), 1024, 7, Some(36_876)),
            (Some(100_000_000), 9984, 7, Some(360_624)),
            (Some(1 << 30), 32768, 8, Some(1_179_660)),
            (Some(10 << 30), 103_552, 9, Some(3_732_924)),
            (None, 2048, 12, None),
        ];
        for (size, block, min, sig_len) in table {
            let (p, warning) = default_for(size);
            assert_eq!(p.block_len, block, "block_len for {size:?}");
            assert_eq!(p.strong_len, 32, "strong_len for {size:?}");
            assert_eq!(warning, None);
            assert_eq!(min_strong_len(size, block), min, "-S -1 for {size:?}");
            if let (Some(n), Some(len)) = (size, sig_len) {
                assert_eq!(p.signature_len(n), len, "signature size for {n}");
            }
        }
    }

    #[test]
    fn small_strong_len_warns_like_rdiff() {
        let (p, warning) = SignatureParams::choose(
            WeakSum::RabinKarp,
            StrongHash::Blake2,
            0,
            StrongLen::Bytes(4),
            Some(300_000),
        )
        .unwrap();
        assert_eq!(p.strong_len, 4);
        assert_eq!(
            warning.as_deref(),
            Some(
                "strong_len=4 smaller than recommended minimum 7 for old_fsize=300000 with block_len=512"
            )
        );
        let (_, warning) = SignatureParams::choose(
            WeakSum::RabinKarp,
            StrongHash::Blake2,
            0,
            StrongLen::Bytes(4),
            None,
        )
        .unwrap();
        assert_eq!(warning, None, "no warning when the size is unknown");
    }

    #[test]
    fn too_long_or_negative_strong_len_is_a_param_error() {
        let too_long = |hash, n| {
            SignatureParams::choose(WeakSum::RabinKarp, hash, 0, StrongLen::Bytes(n), Some(10))
                .unwrap_err()
                .status()
        };
        assert_eq!(too_long(StrongHash::Blake2, 33), Status::Param);
        assert_eq!(too_long(StrongHash::Md4, 17), Status::Param);
        assert_eq!(StrongLen::from_arg(-2).unwrap_err().status(), Status::Param);
        assert_eq!(StrongLen::from_arg(-1).unwrap(), StrongLen::Minimum);
    }

    #[test]
    fn absurd_block_len_is_a_param_error() {
        let err = SignatureParams::choose(
            WeakSum::RabinKarp,
            StrongHash::Blake2,
            i32::MAX as u32,
            StrongLen::Full,
            None,
        )
        .unwrap_err();
        assert_eq!(err.status(), Status::Param);
    }

    #[test]
    fn magics_round_trip() {
        for weak in [WeakSum::Rollsum, WeakSum::RabinKarp] {
            for strong in [StrongHash::Md4, StrongHash::Blake2] {
                assert_eq!(kind_of_magic(magic_for(weak, strong)), Some((weak, strong)));
            }
        }
        assert_eq!(kind_of_magic(DELTA_MAGIC), None);
        assert_eq!(
            kind_of_magic(0),
            Some((WeakSum::RabinKarp, StrongHash::Blake2))
        );
    }
}
