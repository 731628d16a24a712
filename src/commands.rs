//! Running the commands: open the files, call the library, report.

use std::io::{self, Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use rsync_tool_core::{
    BufferSizes, DeltaOptions, Engine, PatchOptions, Role, Signature, SignatureOptions, Status,
    StrongHash, StrongLen, WeakSum,
};

use crate::cli::{Cli, Command, EngineArg, HashArg, Options, RollsumArg};
use crate::input::Input;
use crate::manpage;
use crate::output::{Output, io_error, status_error};
use crate::progress::{Progress, When};
use crate::verify::{HashingReader, HashingWriter, Sha256Digest, sha256_of_file, sha256sum_line};

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
            sha256_file,
        }) => run_delta(
            opts,
            signature,
            newfile.as_deref(),
            delta.as_deref(),
            sha256_file.as_deref(),
        ),
        Some(Command::Patch {
            basis,
            delta,
            newfile,
            expect_sha256,
        }) => run_patch(
            opts,
            basis,
            delta.as_deref(),
            newfile.as_deref(),
            expect_sha256.as_ref(),
        ),
        Some(Command::Completions { shell }) => {
            print_to_stdout(|out| manpage::completions(*shell, out))
        }
        Some(Command::Man { command }) => print_to_stdout(|out| manpage::man_page(*command, out)),
    }
}

/// Writes generated text to stdout; a closed stdout is a quiet end.
fn print_to_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<()> {
    let mut stdout = io::stdout().lock();
    write(&mut stdout)
        .and_then(|()| stdout.flush())
        .map_err(|e| io_error("stdout: write failed".to_string(), e))
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
    fn blame(&self, err: rsync_tool_core::Error) -> anyhow::Error {
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
    let size = |value: i32, flag: &str| -> Result<Option<usize>> {
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
    })
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
    let progress = Progress::start(
        progress_when(opts),
        format!("signature {}", input.name),
        remaining(&input),
    );
    let stats = rsync_tool_core::signature(progress.reader(&input.file), out.file(), &options)
        .map_err(|e| names.blame(e))?;
    progress.finish();
    out.commit()?;
    report(opts, &[stats.rdiff_line()]);
    Ok(())
}

fn run_delta(
    opts: &Options,
    sig: &Path,
    new: Option<&Path>,
    delta: Option<&Path>,
    sha256_file: Option<&Path>,
) -> Result<()> {
    let sig_input = Input::open(Some(sig), false)?;
    let new_input = Input::open(new, false)?;
    if let Some(path) = sha256_file {
        check_sha256_file(path, delta)?;
    }
    let mut out = Output::open(delta, opts.force)?;
    let mut sha_out = sha256_file
        .map(|path| Output::open(Some(path), opts.force))
        .transpose()?;
    let out_name = out.name().to_string();
    let names = Names {
        basis: "",
        signature: &sig_input.name,
        new: &new_input.name,
        delta: &out_name,
        output: &out_name,
    };
    let mut options = DeltaOptions {
        buffers: buffers(opts)?,
        jobs: jobs(opts),
        engine: engine(opts),
        progress: None,
    };
    let mut signature = Signature::load(&sig_input.file, &options).map_err(|e| names.blame(e))?;
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
    let progress = Progress::start(
        progress_when(opts),
        format!("delta {}", new_input.name),
        remaining(&new_input),
    );
    // A file is searched by position on -j threads (and hashed, if asked,
    // on one more); a pipe is read in order on one, hashed in the same pass.
    let (stats, matching, digest) = if new_input.size().is_some() {
        options.progress = Some(progress.counter());
        let start = (&new_input.file)
            .stream_position()
            .map_err(|e| io_error(format!("{}: cannot read", new_input.name), e))?;
        let stop = AtomicBool::new(false);
        let (result, hashed) = std::thread::scope(|scope| {
            let hashing = sha_out
                .is_some()
                .then(|| scope.spawn(|| sha256_of_file(&new_input.file, start, &stop)));
            let result = signature.delta_file(&new_input.file, out.file(), &options);
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            let hashed = hashing.map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (result, hashed)
        });
        let (stats, matching) = result.map_err(|e| names.blame(e))?;
        let digest = hashed
            .transpose()
            .map_err(|e| io_error(format!("{}: read failed", new_input.name), e))?
            .flatten();
        (stats, matching, digest)
    } else {
        let mut new_reader =
            HashingReader::new(progress.reader(&new_input.file), sha_out.is_some());
        let (stats, matching) = signature
            .delta(&mut new_reader, out.file(), &options)
            .map_err(|e| names.blame(e))?;
        let digest = new_reader
            .finish()
            .map_err(|e| io_error(format!("{}: read failed", new_input.name), e))?;
        (stats, matching, digest)
    };
    progress.finish();
    if let (Some(sha_out), Some(digest)) = (&mut sha_out, digest) {
        let name = new.map_or(&b"-"[..], |p| p.as_os_str().as_bytes());
        let sha_name = sha_out.name().to_string();
        sha_out
            .file()
            .write_all(&sha256sum_line(&digest, name))
            .map_err(|e| io_error(format!("{sha_name}: write failed"), e))?;
    }
    out.commit()?;
    if let Some(sha_out) = sha_out {
        sha_out.commit()?;
    }
    report(opts, &[matching.rdiff_line(), stats.rdiff_line()]);
    Ok(())
}

/// `--sha256-file` must not be the delta itself, nor share stdout with it.
fn check_sha256_file(path: &Path, delta: Option<&Path>) -> Result<()> {
    let is_stdout = |p: Option<&Path>| p.is_none_or(|p| p.as_os_str() == "-");
    if is_stdout(Some(path)) && is_stdout(delta) {
        return Err(status_error(
            Status::Syntax,
            "--sha256-file -: the delta already goes to stdout; name a file".to_string(),
        ));
    }
    if delta == Some(path) {
        return Err(status_error(
            Status::Syntax,
            format!(
                "--sha256-file {}: that is the delta output; name another file",
                path.display()
            ),
        ));
    }
    Ok(())
}

fn run_patch(
    opts: &Options,
    basis: &Path,
    delta: Option<&Path>,
    new: Option<&Path>,
    expect_sha256: Option<&Sha256Digest>,
) -> Result<()> {
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
    let buffers = buffers(opts)?;
    let progress = Progress::start(
        progress_when(opts),
        format!("patch {}", delta_input.name),
        remaining(&delta_input),
    );
    let options = PatchOptions {
        buffers,
        progress: Some(progress.counter()),
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
            if *expected != got {
                let fate = if written_through {
                    "it was written through already, as a stream cannot be taken back"
                } else {
                    "nothing was written"
                };
                return Err(status_error(
                    Status::Corrupt,
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
    report(opts, &[stats.rdiff_line()]);
    Ok(())
}
