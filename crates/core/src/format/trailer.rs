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
            hash: *hasher.finalize().as_bytes(),
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
    /// NEW's hash when it was put together from subtrees ([`SubtreeHasher`]).
    root: Option<blake3::Hash>,
}

impl NewHasher {
    pub(crate) fn update(&mut self, data: &[u8]) {
        debug_assert!(self.root.is_none());
        self.hasher.update(data);
        self.len += data.len() as u64;
    }

    /// True before any byte was hashed.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0 && self.root.is_none()
    }

    /// Takes the result of a [`SubtreeHasher`] that hashed all of NEW.
    pub(crate) fn set_tree(&mut self, tree: SubtreeHasher) {
        debug_assert!(self.is_empty());
        self.len = tree.len;
        self.root = Some(tree.finish());
    }

    fn finalize(&self) -> blake3::Hash {
        self.root.unwrap_or_else(|| self.hasher.finalize())
    }
}

/// NEW's BLAKE3 hash put together from the chaining values of subtrees that
/// threads hashed side by side ([`Subtree`]): whole subtrees of one
/// power-of-two length in order, then at most one shorter last one, as
/// `blake3::Hasher` itself merges its chunks (a lazy stack of subtrees).
pub(crate) struct SubtreeHasher {
    stack: Vec<blake3::hazmat::ChainingValue>,
    /// Whole subtrees pushed.
    count: u64,
    len: u64,
}

impl SubtreeHasher {
    pub(crate) fn new() -> SubtreeHasher {
        SubtreeHasher {
            stack: Vec::new(),
            count: 0,
            len: 0,
        }
    }

    /// Adds the next subtree, `len` bytes long (all but the last one of the
    /// same power-of-two length, the last one shorter or as long).
    pub(crate) fn push(&mut self, cv: blake3::hazmat::ChainingValue, len: u64) {
        use blake3::hazmat::{Mode, merge_subtrees_non_root};
        // Subtrees are merged only once a later one comes: the last merge
        // of all is the root, which is finalized differently.
        while self.stack.len() > self.count.count_ones() as usize {
            let right = self.stack.pop().expect("a right subtree");
            let left = self.stack.pop().expect("a left subtree");
            self.stack
                .push(merge_subtrees_non_root(&left, &right, Mode::Hash));
        }
        self.stack.push(cv);
        self.count += 1;
        self.len += len;
    }

    /// The root hash; needs at least two subtrees (more than one chunk).
    fn finish(mut self) -> blake3::Hash {
        use blake3::hazmat::{Mode, merge_subtrees_non_root, merge_subtrees_root};
        let mut right = self.stack.pop().expect("two subtrees");
        loop {
            let left = self.stack.pop().expect("two subtrees");
            if self.stack.is_empty() {
                return merge_subtrees_root(&left, &right, Mode::Hash);
            }
            right = merge_subtrees_non_root(&left, &right, Mode::Hash);
        }
    }
}

/// The chaining value of a subtree of NEW, for [`SubtreeHasher::push`]:
/// bytes from an offset that is a multiple of a power-of-two length of at
/// least 1 KiB, at most that long, fed piece by piece (so that each piece
/// is hashed while it is in cache).
pub(crate) struct Subtree(blake3::Hasher);

impl Subtree {
    /// A subtree starting at `offset` of NEW.
    pub(crate) fn at(offset: u64) -> Subtree {
        use blake3::hazmat::HasherExt;
        let mut h = blake3::Hasher::new();
        h.set_input_offset(offset);
        Subtree(h)
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    pub(crate) fn finish(&self) -> blake3::hazmat::ChainingValue {
        use blake3::hazmat::HasherExt;
        self.0.finalize_non_root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Subtrees hashed apart and merged give the plain hash, for whole
    /// subtrees and a last one shorter, as long, or of a few bytes.
    #[test]
    fn subtrees_merge_into_the_plain_hash() {
        let data: Vec<u8> = (0..40_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
        for sub in [1024usize, 4096, 8192] {
            for len in [
                2 * sub,
                2 * sub + 1,
                3 * sub - 5,
                4 * sub,
                5 * sub - 1024,
                4 * sub + 7,
            ] {
                let data = &data[..len];
                let mut tree = SubtreeHasher::new();
                for (k, piece) in data.chunks(sub).enumerate() {
                    let mut h = Subtree::at((k * sub) as u64);
                    h.update(piece);
                    tree.push(h.finish(), piece.len() as u64);
                }
                let mut h = NewHasher::default();
                h.set_tree(tree);
                let t = Trailer::of(&h);
                assert_eq!(t.new_len, len as u64);
                assert_eq!(t.hash, *blake3::hash(data).as_bytes(), "{sub} {len}");
            }
        }
    }

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
