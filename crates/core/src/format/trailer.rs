//! The verification trailer that rsync-tool writes after a delta's END
//! command: NEW's length and BLAKE3 hash, so that `patch` can tell a wrong
//! basis (or a damaged delta) from a right one. rdiff (every librsync)
//! stops reading at END and ignores it.
//!
//! Layout, 45 bytes, integers big-endian:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | [`TRAILER_MAGIC`] (`RTvf`; no librsync magic starts with `RT`) |
//! | 4 | 1 | [`TRAILER_VERSION`] |
//! | 5 | 8 | NEW's length |
//! | 13 | 32 | BLAKE3-256 of NEW |

/// The trailer's magic number, the bytes `RTvf`.
pub const TRAILER_MAGIC: u32 = 0x5254_7666;
/// The trailer format's version.
pub const TRAILER_VERSION: u8 = 1;
/// Length of a trailer's hash: BLAKE3's default output.
pub const TRAILER_HASH_LEN: usize = 32;
/// Length of a whole trailer.
pub const TRAILER_LEN: usize = 4 + 1 + 8 + TRAILER_HASH_LEN;

/// What a trailer says about NEW.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    /// NEW's length in bytes.
    pub new_len: u64,
    /// BLAKE3-256 of NEW.
    pub hash: [u8; TRAILER_HASH_LEN],
}

/// What the bytes after a delta's END are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterEnd {
    /// Nothing, or bytes that do not start with the trailer's magic
    /// (ignored, as rdiff does).
    Nothing,
    /// The trailer's magic, cut short before the end of a trailer.
    Truncated,
    /// The trailer's magic with a version this build does not read.
    UnknownVersion(u8),
    /// A whole trailer.
    Trailer(Trailer),
}

impl Trailer {
    /// The trailer of NEW, from its hasher.
    pub(crate) fn of(hasher: &NewHasher) -> Trailer {
        Trailer {
            new_len: hasher.len,
            hash: *hasher.hasher.finalize().as_bytes(),
        }
    }

    /// The trailer's bytes.
    pub fn encode(&self) -> [u8; TRAILER_LEN] {
        let mut out = [0u8; TRAILER_LEN];
        out[..4].copy_from_slice(&TRAILER_MAGIC.to_be_bytes());
        out[4] = TRAILER_VERSION;
        out[5..13].copy_from_slice(&self.new_len.to_be_bytes());
        out[13..].copy_from_slice(&self.hash);
        out
    }

    /// Reads the bytes that follow a delta's END (all of them, or at least
    /// the first [`TRAILER_LEN`]). Only a whole magic number makes them a
    /// trailer: fewer bytes that happen to start like it are ignored, as
    /// rdiff ignores whatever follows END.
    pub fn parse(after_end: &[u8]) -> AfterEnd {
        if !after_end.starts_with(&TRAILER_MAGIC.to_be_bytes()) {
            return AfterEnd::Nothing;
        }
        match after_end.get(4) {
            Some(&version) if version != TRAILER_VERSION => {
                return AfterEnd::UnknownVersion(version);
            }
            _ if after_end.len() < TRAILER_LEN => return AfterEnd::Truncated,
            _ => {}
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&after_end[5..13]);
        let mut hash = [0u8; TRAILER_HASH_LEN];
        hash.copy_from_slice(&after_end[13..TRAILER_LEN]);
        AfterEnd::Trailer(Trailer {
            new_len: u64::from_be_bytes(len),
            hash,
        })
    }
}

/// Hashes NEW (or a patch's result) for a trailer: its length and BLAKE3.
#[derive(Clone, Default)]
pub(crate) struct NewHasher {
    hasher: blake3::Hasher,
    len: u64,
}

impl NewHasher {
    pub(crate) fn update(&mut self, data: &[u8]) {
        self.hasher.update(data);
        self.len += data.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_round_trip_and_other_bytes_are_not_trailers() {
        let mut h = NewHasher::default();
        h.update(b"abc");
        let t = Trailer::of(&h);
        assert_eq!(t.new_len, 3);
        assert_eq!(t.hash, *blake3::hash(b"abc").as_bytes());
        let bytes = t.encode();
        assert_eq!(&bytes[..5], b"RTvf\x01");
        assert_eq!(Trailer::parse(&bytes), AfterEnd::Trailer(t));
        assert_eq!(
            Trailer::parse(&[&bytes[..], b"more"].concat()),
            AfterEnd::Trailer(t)
        );
        assert_eq!(Trailer::parse(&bytes[..20]), AfterEnd::Truncated);
        assert_eq!(Trailer::parse(&bytes[..4]), AfterEnd::Truncated);
        // a stray byte or three after END are rdiff's business: ignored
        assert_eq!(Trailer::parse(&bytes[..1]), AfterEnd::Nothing);
        assert_eq!(Trailer::parse(&bytes[..3]), AfterEnd::Nothing);
        assert_eq!(Trailer::parse(b""), AfterEnd::Nothing);
        assert_eq!(Trailer::parse(b"trailing"), AfterEnd::Nothing);
        // a later version is not silently taken for no trailer
        assert_eq!(Trailer::parse(b"RTvf\x02"), AfterEnd::UnknownVersion(2));
        let mut later = bytes;
        later[4] = 7;
        assert_eq!(Trailer::parse(&later), AfterEnd::UnknownVersion(7));
        // no librsync magic starts with the trailer's first bytes
        for magic in [
            0x7273_0236u32,
            0x7273_0136,
            0x7273_0137,
            0x7273_0146,
            0x7273_0147,
        ] {
            assert_ne!(magic >> 16, TRAILER_MAGIC >> 16);
        }
    }
}
