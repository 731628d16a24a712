//! Running the commands: open the files, call the library, report.

use std::path::Path;

use anyhow::Result;
use rsync_tool::{
    BufferSizes, DeltaOptions, PatchOptions, Role, Signature, SignatureOptions, Status, StrongHash,
    StrongLen, WeakSum,
};

use crate::cli::{Cli, Command, HashArg, Options, RollsumArg};
use crate::input::Input;
use crate::output::{Output, status_error};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let opts = &cli.options;
    match &cli.command {
        None => Err(status_error(
            Status::Syntax,
            "no command given: use signature, delta or patch (see --help)".to_string(),
        )),
        Some(Command::Signature { basis, signature }) => {
            run_signature(opts, basis.as_deref(), signature.as_deref())
        }
        Some(Command::Delta {
            signature,
            newfile,
            delta,
        }) => run_delta(opts, signature, newfile.as_deref(), delta.as_deref()),
        Some(Command::Patch {
            basis,
            delta,
            newfile,
        }) => run_patch(opts, basis, delta.as_deref(), newfile.as_deref()),
    }
}

/// Names the files of one command, so a library error can say which is at fault.
struct Names<'a> {
    basis: &'a str,
    signature: &'a str,
    new: &'a str,
    delta: &'a str,
    output: &'a str,
}

impl Names<'_> {
    fn blame(&self, err: rsync_tool::Error) -> anyhow::Error {
        let name = match err.role() {
            Some(Role::Basis) => self.basis,
            Some(Role::Signature) => self.signature,
            Some(Role::New) => self.new,
            Some(Role::Delta) => self.delta,
            Some(Role::Output) => self.output,
            None => return anyhow::Error::new(err),
        };
        anyhow::Error::new(err).context(name.to_string())
    }
}

fn buffers(opts: &Options) -> Result<BufferSizes> {
    let size = |value: i64, flag: &str| -> Result<Option<usize>> {
        match value {
            0 => Ok(None),
            v if v > 0 => Ok(Some(usize::try_from(v).unwrap_or(usize::MAX).min(1 << 30))),
            v => Err(status_error(
                Status::Param,
                format!("invalid {flag} {v}: a buffer size must be positive"),
            )),
        }
    };
    let default = BufferSizes::default();
    Ok(BufferSizes {
        input: size(opts.input_size, "input size")?.unwrap_or(default.input),
        output: size(opts.output_size, "output size")?.unwrap_or(default.output),
    })
}

fn signature_options(opts: &Options, basis_size: Option<u64>) -> Result<SignatureOptions> {
    let block_len = u32::try_from(opts.block_size).map_err(|_| {
        status_error(
            Status::Param,
            format!(
                "invalid block size {}: use a positive length, or 0 for the recommended one",
                opts.block_size
            ),
        )
    })?;
    Ok(SignatureOptions {
        block_len,
        strong_len: StrongLen::from_arg(opts.sum_size)?,
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
    })
}

fn report(opts: &Options, lines: &[String]) {
    if opts.statistics {
        for line in lines {
            eprintln!("librsync: {line}");
        }
    }
}

fn run_signature(opts: &Options, basis: Option<&Path>, sig: Option<&Path>) -> Result<()> {
    let input = Input::open(basis, false)?;
    let options = signature_options(opts, input.size())?;
    let (params, warning) = options.params()?;
    if let Some(warning) = warning {
        eprintln!("rsync-tool: warning: {warning}");
    }
    if opts.verbose {
        eprintln!(
            "rsync-tool: signature of {}: {} + {}, block length {}, strong sum {} bytes",
            input.name,
            params.weak.name(),
            params.strong.name(),
            params.block_len,
            params.strong_len
        );
    }
    let mut out = Output::open(sig, opts.force)?;
    let out_name = out.name().to_string();
    let names = Names {
        basis: &input.name,
        signature: &out_name,
        new: "",
        delta: "",
        output: &out_name,
    };
    let stats =
        rsync_tool::signature(&input.file, out.file(), &options).map_err(|e| names.blame(e))?;
    out.commit()?;
    report(opts, &[stats.rdiff_line()]);
    Ok(())
}

fn run_delta(opts: &Options, sig: &Path, new: Option<&Path>, delta: Option<&Path>) -> Result<()> {
    let sig_input = Input::open(Some(sig), false)?;
    let new_input = Input::open(new, false)?;
    let mut out = Output::open(delta, opts.force)?;
    let out_name = out.name().to_string();
    let names = Names {
        basis: "",
        signature: &sig_input.name,
        new: &new_input.name,
        delta: &out_name,
        output: &out_name,
    };
    let options = DeltaOptions {
        buffers: buffers(opts)?,
    };
    let mut signature =
        Signature::load(&sig_input.file, options.buffers).map_err(|e| names.blame(e))?;
    report(opts, &[signature.load_stats().rdiff_line()]);
    if opts.verbose {
        let p = signature.params();
        eprintln!(
            "rsync-tool: {}: {} + {}, block length {}, strong sum {} bytes",
            sig_input.name,
            p.weak.name(),
            p.strong.name(),
            p.block_len,
            p.strong_len
        );
    }
    let (stats, matching) = signature
        .delta(&new_input.file, out.file(), &options)
        .map_err(|e| names.blame(e))?;
    out.commit()?;
    report(opts, &[matching.rdiff_line(), stats.rdiff_line()]);
    Ok(())
}

fn run_patch(opts: &Options, basis: &Path, delta: Option<&Path>, new: Option<&Path>) -> Result<()> {
    let basis_input = Input::open(Some(basis), true)?;
    let delta_input = Input::open(delta, false)?;
    let mut out = Output::open(new, opts.force)?;
    let out_name = out.name().to_string();
    let names = Names {
        basis: &basis_input.name,
        signature: "",
        new: &out_name,
        delta: &delta_input.name,
        output: &out_name,
    };
    let options = PatchOptions {
        buffers: buffers(opts)?,
    };
    let stats = rsync_tool::patch(&basis_input.file, &delta_input.file, out.file(), &options)
        .map_err(|e| names.blame(e))?;
    out.commit()?;
    report(opts, &[stats.rdiff_line()]);
    Ok(())
}
