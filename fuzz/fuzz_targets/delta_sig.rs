//! Arbitrary bytes as a signature: load it, then delta a small fixed NEW
//! against it.
//!
//! Checks: no panic, no hang, no unbounded memory; a signature that loads
//! can always be deltaed against; the delta is well formed, rebuilds exactly
//! NEW's length, only copies from blocks the signature describes, and ends
//! with the trailer of NEW.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rsync_tool_core::format::{AfterEnd, Command, DeltaParser, TRAILER_LEN, Trailer};
use rsync_tool_core::{BufferSizes, DeltaOptions, Signature};
use rsync_tool_fuzz::buffer_len;

fn new_file() -> &'static [u8] {
    static NEW: OnceLock<Vec<u8>> = OnceLock::new();
    NEW.get_or_init(rsync_tool_fuzz::new_file)
}

fuzz_target!(|data: &[u8]| {
    let buffers = BufferSizes {
        input: buffer_len(data.len()),
        output: buffer_len(data.len() / 5),
    };
    let options = DeltaOptions {
        buffers,
        ..DeltaOptions::default()
    };
    let Ok(mut sig) = Signature::load(data, &options) else {
        return;
    };
    let block_len = sig.params().block_len as u64;
    let blocks = sig.load_stats().sig_blocks;
    let mut out = Vec::new();
    if let Err(e) = sig.delta(new_file(), &mut out, &options) {
        panic!(
            "a loaded signature could not be deltaed against: {e} (status {})",
            e.status().code()
        );
    }
    // The delta must parse, end with END, and rebuild NEW's length.
    let mut parser = DeltaParser::new(None);
    let (mut i, mut rebuilt) = (0usize, 0u64);
    while i < out.len() && !parser.is_done() {
        let (n, cmd) = parser.advance(&out[i..]).expect("our delta does not parse");
        i += n;
        match cmd {
            Some(Command::Literal { len }) => rebuilt += len,
            Some(Command::Copy { pos, len }) => {
                assert!(
                    pos + len <= blocks * block_len,
                    "COPY {pos}+{len} outside the {blocks} blocks of {block_len} bytes"
                );
                rebuilt += len;
            }
            Some(Command::End) | None => {}
        }
    }
    parser.finish().expect("our delta is incomplete");
    // After END, exactly the trailer: NEW's length and BLAKE3.
    let trailer = Trailer {
        new_len: new_file().len() as u64,
        hash: *blake3::hash(new_file()).as_bytes(),
    };
    assert_eq!(out.len() - i, TRAILER_LEN, "bytes after END in our delta");
    assert_eq!(Trailer::parse(&out[i..]), AfterEnd::Trailer(trailer));
    assert_eq!(
        rebuilt,
        new_file().len() as u64,
        "the delta rebuilds a file of the wrong length"
    );
});
