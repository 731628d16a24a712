//! `delta`: the delta of NEWFILE against a signature, and its SHA-256 if asked.

use std::io::{Seek, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rsync_tool_core::{DeltaOptions, Signature};

use super::{
    Names, buffers, check_distinct, engine, jobs, output_mode, progress_when, refuse_terminal,
    remaining, report,
};
use crate::cli::Options;
use crate::compress::{Compression, Encoder};
use crate::error::{Error, ExitStatus, Result};
use crate::fs::{Input, Output};
use crate::progress::Progress;
use crate::sha256::{HashingReader, sha256_of_file, sha256sum_line};

/// Writes the delta of `new` against `sig` to `delta` (with the verification
/// trailer if `trailer`, compressed if `compression` says so), and NEWFILE's
/// SHA-256 to `sha256_file` if given.
pub fn run(
    opts: &Options,
    sig: &Path,
    new: Option<&Path>,
    delta: Option<&Path>,
    sha256_file: Option<&Path>,
    trailer: bool,
    compression: Option<Compression>,
) -> Result<()> {
    refuse_terminal(opts, delta, "a delta")?;
    let sig_input = Input::open(Some(sig), false)?;
    let new_input = Input::open(new, false)?;
    if let Some(path) = sha256_file {
        check_sha256_file(path, delta)?;
    }
    let mode = output_mode(opts);
    crate::fs::precheck_output(delta, mode)?;
    crate::fs::precheck_output(sha256_file, mode)?;
    let delta_name = delta
        .filter(|p| p.as_os_str() != "-")
        .map_or_else(|| "stdout".to_string(), |p| p.display().to_string());
    let names = Names {
        basis: "",
        signature: &sig_input.name,
        new: &new_input.name,
        delta: &delta_name,
        output: &delta_name,
    };
    let mut options = DeltaOptions {
        buffers: buffers(opts)?,
        jobs: jobs(opts),
        engine: engine(opts),
        progress: None,
        trailer,
        cancel: None,
    };
    // Outputs are opened once the signature is in memory: a signature too
    // big for it fails before anything is created.
    let mut signature = Signature::load(&sig_input.file, &options).map_err(|e| names.blame(e))?;
    let mut out = crate::fs::open_output(delta, mode)?;
    let mut sha_out = sha256_file
        .map(|path| crate::fs::open_output(Some(path), mode))
        .transpose()?;
    let outputs: Vec<&Output> = std::iter::once(&out).chain(sha_out.as_ref()).collect();
    check_distinct(opts, &[&sig_input, &new_input], &outputs, None)?;
    let write_failed = |e| Error::io(format_args!("{delta_name}: write failed"), e);
    let mut writer = Encoder::new(out.file(), compression).map_err(write_failed)?;
    report(opts, || [signature.load_stats().rdiff_line()]);
    if opts.verbose {
        let p = signature.params();
        crate::errln!(
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
            .map_err(|e| Error::io(format_args!("{}: cannot read", new_input.name), e))?;
        // The delta covers NEWFILE as long as it is when the work starts; a
        // file still growing is hashed as far as the delta went (the size
        // seen here, or again after the delta if it saw another).
        let len = new_input
            .file
            .metadata()
            .map_err(|e| Error::io(format_args!("{}: cannot read", new_input.name), e))?
            .len()
            .saturating_sub(start);
        let stop = AtomicBool::new(false);
        let (result, hashed) = std::thread::scope(|scope| {
            let hash = || sha256_of_file(&new_input.file, start, len, &stop);
            // Beside the delta on a thread of its own, or after it where the
            // system refuses one.
            let hashing = sha_out
                .is_some()
                .then(|| std::thread::Builder::new().spawn_scoped(scope, hash));
            let result = signature.delta_file(&new_input.file, &mut writer, &options);
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            let hashed = hashing.map(|h| match h {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                Err(_) => hash(),
            });
            (result, hashed)
        });
        let (stats, matching) = result.map_err(|e| names.blame(e))?;
        let hashed = match hashed {
            Some(_) if stats.in_bytes != len => Some(sha256_of_file(
                &new_input.file,
                start,
                stats.in_bytes,
                &AtomicBool::new(false),
            )),
            hashed => hashed,
        };
        let digest = hashed
            .transpose()
            .map_err(|e| Error::io(format_args!("{}: read failed", new_input.name), e))?
            .flatten();
        (stats, matching, digest)
    } else {
        let mut new_reader =
            HashingReader::new(progress.reader(&new_input.file), sha_out.is_some());
        let (stats, matching) = signature
            .delta(&mut new_reader, &mut writer, &options)
            .map_err(|e| names.blame(e))?;
        let digest = new_reader
            .finish()
            .map_err(|e| Error::io(format_args!("{}: read failed", new_input.name), e))?;
        (stats, matching, digest)
    };
    writer.finish().map_err(write_failed)?;
    progress.finish();
    if let (Some(sha_out), Some(digest)) = (&mut sha_out, digest) {
        let name = new.map_or(&b"-"[..], |p| p.as_os_str().as_bytes());
        let sha_name = sha_out.name().to_string();
        sha_out
            .file()
            .write_all(&sha256sum_line(&digest, name))
            .map_err(|e| Error::io(format_args!("{sha_name}: write failed"), e))?;
    }
    crate::fs::commit(std::iter::once(out).chain(sha_out).collect())?;
    report(opts, || [matching.rdiff_line(), stats.rdiff_line()]);
    Ok(())
}

/// `--sha256-file` must not be the delta itself, nor share stdout with it.
fn check_sha256_file(path: &Path, delta: Option<&Path>) -> Result<()> {
    let is_stdout = |p: Option<&Path>| p.is_none_or(|p| p.as_os_str() == "-");
    if is_stdout(Some(path)) && is_stdout(delta) {
        return Err(Error::new(
            ExitStatus::Syntax,
            "--sha256-file -: the delta already goes to stdout; name a file".to_string(),
        ));
    }
    let same_place = |a: &Path, b: &Path| {
        a == b
            || crate::fs::where_written(a).is_some_and(|w| Some(w) == crate::fs::where_written(b))
    };
    if delta.is_some_and(|d| same_place(d, path)) {
        return Err(Error::new(
            ExitStatus::Syntax,
            format!(
                "--sha256-file {}: that is the delta output; name another file",
                path.display()
            ),
        ));
    }
    Ok(())
}
