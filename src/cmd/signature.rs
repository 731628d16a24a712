//! `signature`: the signature of BASIS.

use std::path::Path;

use rsync_tool_core::{SignatureOptions, StrongHash, StrongLen, WeakSum};

use super::{
    Names, buffers, check_distinct, engine, jobs, output_mode, progress_when, refuse_terminal,
    remaining, report,
};
use crate::cli::{HashArg, Options, RollsumArg};
use crate::error::{Error, ExitStatus, Result};
use crate::fs::Input;
use crate::progress::Progress;

/// Writes the signature of `basis` (stdin if `None`) to `sig` (stdout if `None`).
pub fn run(opts: &Options, basis: Option<&Path>, sig: Option<&Path>) -> Result<()> {
    refuse_terminal(opts, sig, "a signature")?;
    let input = Input::open(basis, false)?;
    let mut options = signature_options(opts, input.size())?;
    let (params, warning) = options.params()?;
    if let Some(warning) = warning {
        crate::errln!("rsync-tool: warning: {warning}");
    }
    if opts.verbose {
        crate::errln!(
            "rsync-tool: signature of {}: {} + {}, block length {}, strong sum {} bytes",
            input.name,
            params.weak.name(),
            params.strong.name(),
            params.block_len,
            params.strong_len
        );
    }
    let mut out = crate::fs::open_output(sig, output_mode(opts))?;
    check_distinct(opts, &[&input], &[&out], None)?;
    let out_name = out.name().to_string();
    let names = Names {
        basis: &input.name,
        signature: &out_name,
        new: "",
        delta: "",
        output: &out_name,
    };
    let progress = Progress::start(
        progress_when(opts),
        format!("signature {}", input.name),
        remaining(&input),
    );
    options.progress = Some(progress.counter());
    let stats = rsync_tool_core::signature_file(&input.file, out.file(), &options)
        .map_err(|e| names.blame(e))?;
    progress.finish();
    out.commit()?;
    report(opts, || [stats.rdiff_line()]);
    Ok(())
}

fn signature_options(opts: &Options, basis_size: Option<u64>) -> Result<SignatureOptions> {
    let block_len = u32::try_from(opts.block_size).map_err(|_| {
        Error::new(
            ExitStatus::Param,
            format!(
                "invalid block size {}: use a positive length, or 0 for the recommended one",
                opts.block_size
            ),
        )
    })?;
    Ok(SignatureOptions {
        block_len,
        strong_len: StrongLen::from_arg(opts.sum_size.into())?,
        hash: match opts.hash {
            HashArg::Blake2 => StrongHash::Blake2,
            HashArg::Md4 => StrongHash::Md4,
        },
        rollsum: match opts.rollsum {
            RollsumArg::Rabinkarp => WeakSum::RabinKarp,
            RollsumArg::Rollsum => WeakSum::Rollsum,
        },
        basis_size,
        buffers: buffers(opts)?,
        jobs: jobs(opts),
        engine: engine(opts),
        progress: None,
        cancel: None,
    })
}
