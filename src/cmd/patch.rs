//! `patch`: rebuild NEWFILE from BASIS and a delta, checking its SHA-256 if asked.

use std::io::{Read, Write};
use std::path::Path;

use rsync_tool_core::PatchOptions;

use super::{Names, buffers, check_distinct, output_mode, progress_when, remaining, report};
use crate::cli::Options;
use crate::compress::{self, Delta};
use crate::error::{Error, ExitStatus, Result};
use crate::fs::{Input, Output};
use crate::progress::Progress;
use crate::sha256::{HashingWriter, Sha256Digest};

/// Applies `delta` (plain, or gzip or zstd compressed) to `basis` and writes
/// the result to `new`, checking it against the delta's trailer if `verify`.
pub fn run(
    opts: &Options,
    basis: &Path,
    delta: Option<&Path>,
    new: Option<&Path>,
    expect_sha256: Option<Sha256Digest>,
    verify: bool,
) -> Result<()> {
    let basis_input = Input::open(Some(basis), true)?;
    let delta_input = Input::open(delta, false)?;
    let mut out = Output::open(new, output_mode(opts))?;
    check_distinct(opts, &[&basis_input, &delta_input], &[&out], Some((0, 0)))?;
    let out_name = out.name().to_string();
    let names = Names {
        basis: &basis_input.name,
        signature: "",
        new: &out_name,
        delta: &delta_input.name,
        output: &out_name,
    };
    let buffers = buffers(opts)?;
    let progress = Progress::start(
        progress_when(opts),
        format!("patch {}", delta_input.name),
        remaining(&delta_input),
    );
    // A compressed delta's progress is counted in its compressed bytes, as
    // its size (the bar's total) is.
    let mut delta_reader =
        compress::open_delta(&delta_input, |source| Box::new(progress.reader(source)))?;
    let splice_ok = matches!(delta_reader, Delta::File);
    let (counted, mut source): (_, Box<dyn Read + '_>) = match &mut delta_reader {
        Delta::File => (true, Box::new(&delta_input.file)),
        Delta::Replayed(replayed) => (true, Box::new(replayed)),
        Delta::Compressed(decompressor) => (false, Box::new(decompressor)),
    };
    let options = PatchOptions {
        buffers,
        progress: counted.then(|| progress.counter()),
        verify,
    };
    let patched = |writer: &mut dyn Write, source: &mut dyn Read| {
        rsync_tool_core::patch(&basis_input.file, source, writer, &options)
    };
    let written_through = out.is_written_through();
    let (result, digest) = match expect_sha256 {
        None if splice_ok => {
            let result = rsync_tool_core::patch_file(
                &basis_input.file,
                &delta_input.file,
                out.file(),
                &options,
            );
            (result, None)
        }
        None => (patched(out.file(), &mut source), None),
        Some(_) => {
            let mut writer = HashingWriter::new(out.file());
            let result = patched(&mut writer, &mut source);
            (result, Some(writer.finish()))
        }
    };
    drop(source);
    let stats = match (result, &mut delta_reader) {
        (Ok(stats), Delta::Compressed(decompressor)) => {
            decompressor.finish()?;
            stats
        }
        (Ok(stats), _) => stats,
        (Err(e), Delta::Compressed(decompressor)) => {
            return Err(decompressor.failure().unwrap_or_else(|| names.blame(e)));
        }
        (Err(e), _) => return Err(names.blame(e)),
    };
    if let (Some(expected), Some(got)) = (expect_sha256, digest)
        && expected != got
    {
        let fate = if written_through {
            "it was written through already, as a stream cannot be taken back"
        } else {
            "nothing was written"
        };
        return Err(Error::new(
            ExitStatus::Corrupt,
            format!(
                "{out_name}: the result's SHA-256 is {got}, not the expected {expected}; {fate}"
            ),
        ));
    }
    progress.finish();
    out.commit()?;
    if opts.verbose {
        let how = if stats.verified {
            "verified: the result's length and BLAKE3 hash match the delta's trailer"
        } else if verify {
            "not verified: the delta has no trailer"
        } else {
            "not verified (--no-verify)"
        };
        eprintln!("rsync-tool: {out_name}: {how}");
    }
    report(opts, &[stats.rdiff_line()]);
    Ok(())
}
