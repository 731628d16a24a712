//! Brings a copy of a file up to date with the library, in rsync's three
//! steps, and reports how much had to travel:
//!
//! ```sh
//! cargo run -p rsync-tool-core --example sync -- OLD NEW OUT
//! ```
//!
//! writes OUT with NEW's content, built from OLD and a delta. In real use
//! the steps run on two machines: the signature goes from OLD's side to
//! NEW's, the delta comes back.

use std::error::Error;
use std::fs::File;
use std::io::{BufReader, Cursor};
use std::path::PathBuf;

use rsync_tool_core::{DeltaOptions, PatchOptions, SignatureOptions, delta, patch, signature};

fn main() -> Result<(), Box<dyn Error>> {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [old, new, out] = paths.as_slice() else {
        return Err("usage: sync OLD NEW OUT".into());
    };

    // 1. On OLD's side: its signature, with rdiff's defaults for its size.
    let old_file = File::open(old)?;
    let options = SignatureOptions::for_size(old_file.metadata()?.len());
    let mut sig = Vec::new();
    signature(BufReader::new(old_file), &mut sig, &options)?;

    // 2. On NEW's side: the delta of NEW against that signature.
    let mut dlt = Vec::new();
    let stats = delta(
        Cursor::new(&sig),
        File::open(new)?,
        &mut dlt,
        &DeltaOptions::default(),
    )?;

    // 3. Back on OLD's side: patch OLD with the delta (the basis must be seekable).
    let written = patch(
        File::open(old)?,
        Cursor::new(&dlt),
        File::create(out)?,
        &PatchOptions::default(),
    )?;

    println!(
        "{}: signature {} bytes, delta {} bytes ({} copied from the old file, {} new), result {} bytes",
        out.display(),
        sig.len(),
        dlt.len(),
        stats.delta.copy_bytes,
        stats.delta.lit_bytes,
        written.out_bytes,
    );
    Ok(())
}
