//! The only `unsafe` code in the crate: librsync's job API (from
//! `librsync-sys`) behind a safe streaming interface: signature, loadsig and
//! delta jobs. (Patching is done in Rust by `apply`, which needs no engine.)
//!
//! librsync is compiled with NDEBUG, so its asserts are gone: every byte given
//! to a job here has been checked by [`crate::format`] first.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int};
use std::io::{Read, Write};
use std::marker::PhantomData;
use std::panic::catch_unwind;
use std::ptr::NonNull;
use std::sync::Once;
use std::time::Instant;

use librsync_sys as sys;

use crate::error::{Error, Result, Role, Status};
use crate::params::SignatureParams;
use crate::stats::{MatchStats, Op, Stats};

/// librsync's `rs_stats_t`, which `librsync-sys` does not declare.
#[repr(C)]
struct RsStats {
    _op: *const c_char,
    lit_cmds: c_int,
    lit_bytes: i64,
    lit_cmdbytes: i64,
    copy_cmds: i64,
    copy_bytes: i64,
    copy_cmdbytes: i64,
    _sig_cmds: i64,
    _sig_bytes: i64,
    false_matches: c_int,
    sig_blocks: i64,
    block_len: usize,
    _in_bytes: i64,
    _out_bytes: i64,
    _start: libc::time_t,
    _end: libc::time_t,
}

unsafe extern "C" {
    fn rs_job_statistics(job: *mut sys::rs_job_t) -> *const RsStats;
    fn rs_signature_log_stats(sig: *const sys::rs_signature_t);
}

/// Where a job reads its input from: a source of already-validated bytes.
pub(crate) trait Input {
    /// Reads up to `buf.len()` bytes; 0 means the end of the input.
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize>;
}

/// A plain reader as job input; read errors are blamed on `role`.
pub(crate) struct PlainInput<R> {
    pub reader: R,
    pub role: Role,
}

impl<R: Read> Input for PlainInput<R> {
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.reader.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(self.role, "read failed", e)),
            }
        }
    }
}

/// Buffer sizes for driving a job (rdiff's `-I` and `-O`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buffers {
    pub input: usize,
    pub output: usize,
}

/// Routes librsync's log lines into a per-thread slot instead of stderr; the
/// last one is kept for error details and for the match statistics.
fn quiet_engine_log() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // SAFETY: plain setters of two globals in librsync; `log_to_slot`
        // matches `rs_trace_fn_t` and never unwinds.
        unsafe {
            sys::rs_trace_to(log_to_slot);
            sys::rs_trace_set_level(sys::RS_LOG_INFO);
        }
    });
}

thread_local! {
    static LAST_ENGINE_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

extern "C" fn log_to_slot(_level: sys::rs_loglevel, msg: *const c_char) {
    if msg.is_null() {
        return;
    }
    // SAFETY: librsync passes a NUL-terminated string valid for this call.
    let text = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    let _ = catch_unwind(|| LAST_ENGINE_MESSAGE.with(|m| *m.borrow_mut() = Some(text)));
}

/// The last line librsync logged on this thread, if any.
pub(crate) fn last_engine_message() -> Option<String> {
    LAST_ENGINE_MESSAGE.with(|m| m.borrow_mut().take())
}

/// A running librsync job. `'a` ties a delta job to its signature and a patch
/// job to its basis.
struct Job<'a> {
    raw: NonNull<sys::rs_job_t>,
    op: Op,
    started: Instant,
    in_bytes: u64,
    out_bytes: u64,
    _borrow: PhantomData<&'a mut ()>,
}

impl Job<'_> {
    fn new<'a>(raw: *mut sys::rs_job_t, op: Op) -> Result<Job<'a>> {
        let raw = NonNull::new(raw)
            .ok_or_else(|| Error::new(Status::Memory, "librsync could not start a job"))?;
        Ok(Job {
            raw,
            op,
            started: Instant::now(),
            in_bytes: 0,
            out_bytes: 0,
            _borrow: PhantomData,
        })
    }

    /// Runs the job to completion, feeding it `input` and writing what it
    /// produces to `output`.
    fn run(&mut self, input: &mut dyn Input, output: &mut dyn Write, bufs: Buffers) -> Result<()> {
        let mut inbuf = vec![0u8; bufs.input.max(1)];
        let mut outbuf = vec![0u8; bufs.output.max(1)];
        let (mut start, mut end) = (0usize, 0usize);
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
            let mut b = sys::rs_buffers_t {
                next_in: inbuf[start..].as_ptr().cast(),
                avail_in: end - start,
                eof_in: c_int::from(eof),
                next_out: outbuf.as_mut_ptr().cast(),
                avail_out: outbuf.len(),
            };
            // SAFETY: `raw` is a live job; the buffers point into `inbuf` and
            // `outbuf`, valid for the lengths given, for the whole call.
            let r = unsafe { sys::rs_job_iter(self.raw.as_ptr(), &mut b) };
            let consumed = (end - start) - b.avail_in;
            let produced = outbuf.len() - b.avail_out;
            start += consumed;
            self.in_bytes += consumed as u64;
            self.out_bytes += produced as u64;
            if produced > 0 {
                output
                    .write_all(&outbuf[..produced])
                    .map_err(|e| Error::io(Role::Output, "write failed", e))?;
            }
            match r {
                sys::RS_DONE => return Ok(()),
                sys::RS_BLOCKED | sys::RS_RUNNING => {
                    if consumed == 0 && produced == 0 && (eof || end == inbuf.len()) {
                        return Err(self.failure(Status::Internal as c_int));
                    }
                }
                other => return Err(self.failure(other)),
            }
        }
    }

    fn failure(&self, r: c_int) -> Error {
        let detail = last_engine_message().unwrap_or_else(|| "no detail".to_string());
        Error::new(
            Status::from_rs_result(r),
            format!("librsync {} job failed: {detail}", self.op.name()),
        )
    }

    fn stats(&self) -> Stats {
        // SAFETY: `raw` is a live job; the statistics live as long as it does
        // and are copied out before it is freed.
        let s = unsafe { &*rs_job_statistics(self.raw.as_ptr()) };
        Stats {
            op: self.op,
            lit_cmds: s.lit_cmds as u64,
            lit_bytes: s.lit_bytes as u64,
            lit_cmdbytes: s.lit_cmdbytes as u64,
            copy_cmds: s.copy_cmds as u64,
            copy_bytes: s.copy_bytes as u64,
            copy_cmdbytes: s.copy_cmdbytes as u64,
            false_matches: s.false_matches as u64,
            sig_blocks: s.sig_blocks as u64,
            block_len: s.block_len as u64,
            in_bytes: self.in_bytes,
            out_bytes: self.out_bytes,
            elapsed: self.started.elapsed(),
        }
    }
}

impl Drop for Job<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` came from an `rs_*_begin` call and is freed once.
        unsafe {
            sys::rs_job_free(self.raw.as_ptr());
        }
    }
}

/// Writes the signature of everything `input` yields, with librsync's
/// `rs_sig_begin` job.
pub(crate) fn signature(
    params: &SignatureParams,
    input: &mut dyn Input,
    output: &mut dyn Write,
    bufs: Buffers,
) -> Result<Stats> {
    quiet_engine_log();
    // SAFETY: plain constructor; the parameters were validated by `params`.
    let raw = unsafe {
        sys::rs_sig_begin(
            params.block_len as usize,
            params.strong_len as usize,
            params.magic() as c_int,
        )
    };
    let mut job = Job::new(raw, Op::Signature)?;
    job.run(input, output, bufs)?;
    Ok(job.stats())
}

/// A signature loaded into librsync, with its block hash table built.
pub(crate) struct LoadedSignature {
    raw: NonNull<sys::rs_signature_t>,
}

// SAFETY: the signature is owned exclusively by this handle; librsync keeps no
// other reference to it. It is not `Sync`: searching it mutates counters.
unsafe impl Send for LoadedSignature {}

impl Drop for LoadedSignature {
    fn drop(&mut self) {
        // SAFETY: `raw` came from a finished loadsig job and is freed once.
        unsafe { sys::rs_free_sumset(self.raw.as_ptr()) }
    }
}

/// Loads a signature from validated bytes (`rs_loadsig_begin`) and builds its
/// hash table.
pub(crate) fn load_signature(
    input: &mut dyn Input,
    bufs: Buffers,
) -> Result<(LoadedSignature, Stats)> {
    quiet_engine_log();
    let mut raw_sig: *mut sys::rs_signature_t = std::ptr::null_mut();
    // SAFETY: `raw_sig` outlives the job, which writes the loaded signature
    // into it.
    let raw = unsafe { sys::rs_loadsig_begin(&mut raw_sig) };
    let mut job = Job::new(raw, Op::LoadSig)?;
    let result = job.run(input, &mut std::io::sink(), bufs);
    let stats = job.stats();
    drop(job);
    let sig = NonNull::new(raw_sig).map(|raw| LoadedSignature { raw });
    result?;
    let sig = sig.ok_or_else(|| {
        Error::new(Status::InputEnded, "signature ended before its header").about(Role::Signature)
    })?;
    // SAFETY: `sig` is a complete signature owned by us.
    let r = unsafe { sys::rs_build_hash_table(sig.raw.as_ptr()) };
    if r != sys::RS_DONE {
        return Err(Error::new(
            Status::from_rs_result(r),
            "librsync could not index the signature",
        ));
    }
    Ok((sig, stats))
}

/// Writes the delta of `input` against a loaded signature (`rs_delta_begin`).
pub(crate) fn delta(
    sig: &mut LoadedSignature,
    input: &mut dyn Input,
    output: &mut dyn Write,
    bufs: Buffers,
) -> Result<(Stats, MatchStats)> {
    quiet_engine_log();
    // SAFETY: the job borrows `sig` mutably for its lifetime `'_`.
    let raw = unsafe { sys::rs_delta_begin(sig.raw.as_ptr()) };
    let mut job = Job::new(raw, Op::Delta)?;
    job.run(input, output, bufs)?;
    let stats = job.stats();
    drop(job);
    // SAFETY: `sig` is a loaded signature with its hash table built; the call
    // only logs its counters, which arrive in this thread's slot.
    unsafe { rs_signature_log_stats(sig.raw.as_ptr()) };
    let matching = last_engine_message()
        .map(|line| parse_match_stats(&line))
        .unwrap_or_default();
    Ok((stats, matching))
}

/// Reads the counters of librsync's `match statistics` log line.
fn parse_match_stats(line: &str) -> MatchStats {
    let mut numbers = line
        .split(|c: char| !c.is_ascii_digit() && c != '.' && c != '(')
        .filter(|t| !t.is_empty() && !t.starts_with('(') && !t.contains('.'))
        .filter_map(|t| t.parse::<u64>().ok());
    let mut next = || numbers.next().unwrap_or(0);
    MatchStats {
        searches: next(),
        matches: next(),
        weak_compares: next(),
        strong_compares: next(),
        strong_calcs: next(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_statistics_line_is_read_back() {
        let line = "match statistics: signature[586 searches, 580 (98.976%) matches, 912 (1.556x) weak sum compares, 581 (99.147%) strong sum compares, 582 (99.317%) strong sum calcs]";
        let m = parse_match_stats(line);
        assert_eq!(
            m,
            MatchStats {
                searches: 586,
                matches: 580,
                weak_compares: 912,
                strong_compares: 581,
                strong_calcs: 582
            }
        );
    }
}
