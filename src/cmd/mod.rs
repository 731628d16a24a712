//! Running the commands: one module each opens its files, calls the
//! library and reports; what they share is here.

mod delta;
mod patch;
mod signature;

use std::io::{self, Seek, Write};

use rsync_tool_core::{BufferSizes, Engine, Role};
use rsync_tool_output::SameFile;

use crate::cli::{Cli, Command, EngineArg, Options};
use crate::compress::Compression;
use crate::error::{Error, ExitStatus, Result};
use crate::fs::{Input, Output, OutputMode};
use crate::generate;
use crate::progress::When;
use crate::sha256::Sha256Digest;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let opts = &cli.options;
    match &cli.command {
        None => Err(Error::new(
            ExitStatus::Syntax,
            "no command given: use signature, delta or patch (see --help)",
        )),
        Some(Command::Signature { basis, signature }) => {
            signature::run(opts, basis.as_deref(), signature.as_deref())
        }
        Some(Command::Delta {
            signature,
            newfile,
            delta,
            sha256_file,
            no_trailer,
            gzip,
            zstd,
        }) => delta::run(
            opts,
            signature,
            newfile.as_deref(),
            delta.as_deref(),
            sha256_file.as_deref(),
            !no_trailer,
            compression(opts, *gzip, *zstd),
        ),
        Some(Command::Patch {
            basis,
            delta,
            newfile,
            expect_sha256,
            no_verify,
        }) => patch::run(
            opts,
            basis,
            delta.as_deref(),
            newfile.as_deref(),
            expect_sha256.map(Sha256Digest::from),
            !no_verify,
        ),
        Some(Command::Completions { shell }) => {
            print_to_stdout(|out| generate::completions(*shell, out))
        }
        Some(Command::Man { command }) => print_to_stdout(|out| generate::man_page(*command, out)),
    }
}

/// Writes generated text to stdout; a closed stdout is a quiet end.
fn print_to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let mut stdout = io::stdout().lock();
    write(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::io("stdout: write failed", e))
}

/// When to show progress, from `--progress` and `--no-progress` (the last
/// one given wins).
fn progress_when(opts: &Options) -> When {
    if opts.no_progress {
        When::Never
    } else if opts.progress {
        When::Always
    } else {
        When::Auto
    }
}

/// The bytes left to read in an input of known size: stdin redirected from
/// a file may already be part-way through it.
fn remaining(input: &Input) -> Option<u64> {
    let size = input.size()?;
    let offset = (&input.file).stream_position().unwrap_or(0);
    Some(size.saturating_sub(offset))
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
    fn blame(&self, err: rsync_tool_core::Error) -> Error {
        let name = match err.role() {
            Some(Role::Basis) => self.basis,
            Some(Role::Signature) => self.signature,
            Some(Role::New) => self.new,
            Some(Role::Delta) => self.delta,
            Some(Role::Output) => self.output,
            None => return err.into(),
        };
        Error::about(name, err)
    }
}

fn buffers(opts: &Options) -> Result<BufferSizes> {
    let size = |value: i32, flag: &str| -> Result<Option<usize>> {
        match value {
            0 => Ok(None),
            v if v > 0 => Ok(Some(usize::try_from(v).unwrap_or(usize::MAX).min(1 << 30))),
            v => Err(Error::new(
                ExitStatus::Param,
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

/// The delta's compression, from `-z/--gzip[=LEVEL]` and `--zstd[=LEVEL]`
/// (clap keeps them apart): zstd on `-j` threads, every core by default.
fn compression(opts: &Options, gzip: Option<u32>, zstd: Option<i32>) -> Option<Compression> {
    let threads = || match jobs(opts) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    match (gzip, zstd) {
        (Some(level), _) => Some(Compression::Gzip(level)),
        (None, Some(level)) => Some(Compression::Zstd {
            level,
            threads: u32::try_from(threads()).unwrap_or(u32::MAX),
        }),
        (None, None) => None,
    }
}

/// Refuses (status 100) to write `what` (binary) to stdout when stdout is
/// a terminal, as gzip and zstd do, unless `-f`.
fn refuse_terminal(opts: &Options, output: Option<&std::path::Path>, what: &str) -> Result<()> {
    use std::io::IsTerminal;
    let to_stdout = output.is_none_or(|p| p.as_os_str() == "-");
    if to_stdout && !opts.force && io::stdout().is_terminal() {
        return Err(Error::new(
            ExitStatus::Io,
            format!("refusing to write {what} to a terminal (use -f to force)"),
        ));
    }
    Ok(())
}

/// Worker threads from `-j` (0: one per core).
fn jobs(opts: &Options) -> usize {
    opts.jobs.map_or(0, usize::from)
}

fn engine(opts: &Options) -> Engine {
    match opts.engine {
        EngineArg::Native => Engine::Native,
        EngineArg::Librsync => Engine::Librsync,
    }
}

/// Prints rdiff's statistics lines with `-s`; they are made only then.
fn report<const N: usize>(opts: &Options, lines: impl FnOnce() -> [String; N]) {
    if opts.statistics {
        for line in lines() {
            crate::errln!("librsync: {line}");
        }
    }
}

/// How outputs may treat existing files, from `-f`, `--inplace` and `-v`.
fn output_mode(opts: &Options) -> OutputMode {
    OutputMode {
        force: opts.force,
        inplace: opts.inplace,
        verbose: opts.verbose,
    }
}

/// Refuses (status 101) two paths of one command that are the same file,
/// by device and inode whatever their spelling: an output and an input, or
/// two outputs. `allowed` is the (input, output) pair meant to be one file
/// (`patch -f B D B`), which `--inplace` may not write into.
fn check_distinct(
    opts: &Options,
    inputs: &[&Input],
    outputs: &[&Output],
    allowed: Option<(usize, usize)>,
) -> Result<()> {
    let same = |a: &str, b: &str| {
        Error::new(
            ExitStatus::Syntax,
            format!("{a} and {b} are the same file; name another output"),
        )
    };
    let input_ids: Vec<_> = inputs.iter().map(|input| input.id()).collect();
    let output_ids: Vec<_> = outputs.iter().map(|out| out.id()).collect();
    for pair in rsync_tool_output::same_files(&input_ids, &output_ids) {
        let (i, o) = match pair {
            SameFile::Input { output, input } => (input, output),
            SameFile::Outputs { first, second } => {
                return Err(same(outputs[first].name(), outputs[second].name()));
            }
        };
        let (input, out) = (inputs[i], outputs[o]);
        if allowed != Some((i, o)) {
            return Err(same(out.name(), &input.name));
        }
        if opts.inplace {
            return Err(Error::new(
                ExitStatus::Syntax,
                format!(
                    "{}: is also the input {}; it can only be replaced, which --inplace does not do",
                    out.name(),
                    input.name
                ),
            ));
        }
    }
    Ok(())
}
