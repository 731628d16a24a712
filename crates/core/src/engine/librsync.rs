//! librsync as the reference engine ([`Engine::Librsync`](crate::Engine)):
//! its signature, loadsig and delta jobs (from the `rsync-tool-librsync`
//! wrapper) driven over `Read`/`Write`, one thread. (Patching is done in
//! Rust by [`crate::patch`], which needs no engine.)
//!
//! librsync is compiled with NDEBUG, so its asserts are gone: every byte given
//! to a job here has been checked by [`crate::format`] first.

use std::io::{Read, Write};
use std::time::Instant;

use rsync_tool_librsync as librsync;

use super::{Backend, Searcher};
use crate::error::{Error, Result, Role, Status};
use crate::format::SignatureInput;
use crate::io::{self, Input};
use crate::options::{BufferSizes, DeltaOptions, SignatureOptions};
use crate::params::SignatureParams;
use crate::stats::{MatchStats, Op, Stats};

/// A plain reader as job input; read errors are blamed on `role`.
struct PlainInput<R> {
    reader: R,
    role: Role,
}

impl<R: Read> Input for PlainInput<R> {
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize> {
        io::read(&mut self.reader, buf, self.role)
    }
}

/// One `step` of a librsync job.
type StepFn<'j> = dyn FnMut(&[u8], bool, &mut [u8]) -> std::result::Result<librsync::Step, librsync::JobError>
    + 'j;

/// Runs a job to completion, feeding it `input` and writing what it
/// produces to `output`; returns the bytes read and written.
fn run(
    step: &mut StepFn<'_>,
    op: Op,
    input: &mut dyn Input,
    output: &mut dyn Write,
    bufs: BufferSizes,
) -> Result<(u64, u64)> {
    let mut inbuf = vec![0u8; bufs.input.max(1)];
    let mut outbuf = vec![0u8; bufs.output.max(1)];
    let (mut start, mut end) = (0usize, 0usize);
    let (mut in_bytes, mut out_bytes) = (0u64, 0u64);
    let mut eof = false;
    loop {
        if start > 0 && (start == end || end == inbuf.len()) {
            inbuf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        if !eof && end < inbuf.len() {
            let n = input.read_into(&mut inbuf[end..])?;
            if n == 0 {
                eof = true;
            }
            end += n;
        }
        let done = step(&inbuf[start..end], eof, &mut outbuf).map_err(|e| job_failed(op, e))?;
        start += done.consumed;
        in_bytes += done.consumed as u64;
        out_bytes += done.produced as u64;
        if done.produced > 0 {
            output
                .write_all(&outbuf[..done.produced])
                .map_err(|e| Error::io(Role::Output, "write failed", e))?;
        }
        if done.done {
            return Ok((in_bytes, out_bytes));
        }
        if done.consumed == 0 && done.produced == 0 && (eof || end == inbuf.len()) {
            return Err(job_failed(
                op,
                librsync::JobError {
                    code: librsync::RS_INTERNAL_ERROR,
                    detail: librsync::last_message().unwrap_or_else(|| "no detail".to_string()),
                },
            ));
        }
    }
}

fn job_failed(op: Op, e: librsync::JobError) -> Error {
    Error::new(
        Status::from_rs_result(e.code),
        format!("librsync {} job failed: {}", op.name(), e.detail),
    )
}

fn stats(
    op: Op,
    s: librsync::JobStats,
    (in_bytes, out_bytes): (u64, u64),
    started: Instant,
) -> Stats {
    Stats {
        op,
        lit_cmds: s.lit_cmds,
        lit_bytes: s.lit_bytes,
        lit_cmdbytes: s.lit_cmdbytes,
        copy_cmds: s.copy_cmds,
        copy_bytes: s.copy_bytes,
        copy_cmdbytes: s.copy_cmdbytes,
        false_matches: s.false_matches,
        sig_blocks: s.sig_blocks,
        block_len: s.block_len,
        in_bytes,
        out_bytes,
        elapsed: started.elapsed(),
        verified: false,
    }
}

/// Writes the signature of everything `input` yields, with librsync's
/// `rs_sig_begin` job.
fn signature(
    params: &SignatureParams,
    input: &mut dyn Input,
    output: &mut dyn Write,
    bufs: BufferSizes,
) -> Result<Stats> {
    let started = Instant::now();
    let mut job = librsync::Job::signature(
        params.block_len as usize,
        params.strong_len as usize,
        params.magic(),
    )
    .map_err(|e| job_failed(Op::Signature, e))?;
    let counts = run(
        &mut |i, e, o| job.step(i, e, o),
        Op::Signature,
        input,
        output,
        bufs,
    )?;
    Ok(stats(Op::Signature, job.stats(), counts, started))
}

/// A signature loaded into librsync, with its block hash table built.
type LoadedSignature = librsync::Signature;

/// Loads a signature from validated bytes (`rs_loadsig_begin`) and builds its
/// hash table.
fn load_signature(input: &mut dyn Input, bufs: BufferSizes) -> Result<(LoadedSignature, Stats)> {
    let started = Instant::now();
    let mut job = librsync::LoadJob::new().map_err(|e| job_failed(Op::LoadSig, e))?;
    let counts = run(
        &mut |i, e, o| job.step(i, e, o),
        Op::LoadSig,
        input,
        &mut std::io::sink(),
        bufs,
    )?;
    let stats = stats(Op::LoadSig, job.stats(), counts, started);
    let sig = job
        .finish()
        .map_err(|e| Error::new(Status::from_rs_result(e.code), e.detail))?;
    Ok((sig, stats))
}

/// Writes the delta of `input` against a loaded signature (`rs_delta_begin`).
fn delta(
    sig: &mut LoadedSignature,
    input: &mut dyn Input,
    output: &mut dyn Write,
    bufs: BufferSizes,
) -> Result<(Stats, MatchStats)> {
    let started = Instant::now();
    let mut job = librsync::Job::delta(sig).map_err(|e| job_failed(Op::Delta, e))?;
    let counts = run(
        &mut |i, e, o| job.step(i, e, o),
        Op::Delta,
        input,
        output,
        bufs,
    )?;
    let stats = stats(Op::Delta, job.stats(), counts, started);
    drop(job);
    let m = sig.match_counters();
    let matching = MatchStats {
        searches: m.searches,
        matches: m.matches,
        weak_compares: m.weak_compares,
        strong_compares: m.strong_compares,
        strong_calcs: m.strong_calcs,
    };
    Ok((stats, matching))
}

/// The librsync engine.
pub(super) struct Librsync;

impl Backend for Librsync {
    fn signature(
        &self,
        params: &SignatureParams,
        basis: &mut dyn Read,
        out: &mut dyn Write,
        options: &SignatureOptions,
    ) -> Result<Stats> {
        let mut input = PlainInput {
            reader: basis,
            role: Role::Basis,
        };
        signature(params, &mut input, out, options.buffers.at_least_one())
    }

    fn load(
        &self,
        _params: SignatureParams,
        input: &mut SignatureInput<&mut dyn Read>,
        options: &DeltaOptions,
    ) -> Result<(Box<dyn Searcher>, Stats)> {
        let (loaded, stats) = load_signature(input, options.buffers.at_least_one())?;
        Ok((Box::new(loaded), stats))
    }
}

impl Searcher for LoadedSignature {
    fn delta(
        &mut self,
        new: &mut dyn Read,
        out: &mut dyn Write,
        options: &DeltaOptions,
    ) -> Result<(Stats, MatchStats)> {
        let mut input = PlainInput {
            reader: new,
            role: Role::New,
        };
        delta(self, &mut input, out, options.buffers.at_least_one())
    }
}
