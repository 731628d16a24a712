//! `patch`: rebuild NEWFILE from BASIS and a delta, checking its SHA-256 if asked.

use std::path::Path;

use rsync_tool_core::PatchOptions;

use super::{Names, buffers, check_distinct, output_mode, progress_when, remaining, report};
use crate::cli::Options;
use crate::error::{Error, ExitStatus, Result};
use crate::fs::{Input, Output};
use crate::progress::Progress;
use crate::sha256::{HashingWriter, Sha256Digest};

/// Applies `delta` to `basis` and writes the result to `new`, checking it
/// against the delta's trailer if `verify`.
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
    let options = PatchOptions {
        buffers,
        progress: Some(progress.counter()),
        verify,
    };
    let stats = match expect_sha256 {
        None => {
            rsync_tool_core::patch_file(&basis_input.file, &delta_input.file, out.file(), &options)
                .map_err(|e| names.blame(e))?
        }
        Some(expected) => {
            let written_through = out.is_written_through();
            let mut writer = HashingWriter::new(out.file());
            let stats =
                rsync_tool_core::patch(&basis_input.file, &delta_input.file, &mut writer, &options)
                    .map_err(|e| names.blame(e))?;
            let got = writer.finish();
            if expected != got {
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
            stats
        }
    };
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
