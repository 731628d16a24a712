//! rdiff's file formats: the magic numbers and signature parameters
//! ([`params`]), signature headers and bodies ([`signature`](self)), the delta
//! command stream with its opcode table, parser and encoder ([`DeltaParser`]),
//! the verification trailer after a delta's END ([`Trailer`]), and naming
//! what a wrong file is. Every byte is checked here, with rdiff
//! 2.3.2's statuses, before it reaches an engine.

mod delta;
pub mod params;
mod signature;
mod trailer;

pub use delta::{Command, DeltaParser};
#[cfg(any(test, feature = "testdata"))]
pub(crate) use delta::{MAX_IMMEDIATE_LITERAL, int_len};
pub(crate) use delta::{OP_END, copy_past_end, encode_copy, encode_literal};
pub(crate) use signature::{SignatureInput, read_entries, read_signature_header};
pub use trailer::{
    AfterEnd, TRAILER_HASH_LEN, TRAILER_LEN, TRAILER_MAGIC, TRAILER_VERSION, Trailer,
};
pub(crate) use trailer::{NewHasher, Subtree, SubtreeHasher};

use params::DELTA_MAGIC;

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
