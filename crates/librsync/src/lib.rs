//! A small safe wrapper over librsync's job API (`librsync-sys`): the only
//! `unsafe` code in the rsync-tool workspace.
//!
//! Three jobs, one function each, as librsync has them: [`Job::signature`]
//! (`rs_sig_begin`), [`LoadJob::new`] (`rs_loadsig_begin`, then
//! `rs_build_hash_table` in [`LoadJob::finish`]), [`Job::delta`]
//! (`rs_delta_begin`) and [`PatchJob::new`] (`rs_patch_begin`, reading the
//! basis through a [`Basis`]). A job is driven by [`Job::step`], one call of
//! `rs_job_iter` over caller-owned buffers. A delta job borrows its
//! [`Signature`] mutably for as long as it lives, so the signature can be
//! neither used elsewhere nor freed while the job searches it: the borrow
//! checker enforces what librsync requires.
//!
//! librsync logs through a global callback; here every line goes to a slot
//! of the calling thread instead of stderr. The last line explains a failed
//! job ([`JobError::detail`]) and carries the match counters
//! ([`Signature::match_counters`]).
//!
//! librsync is compiled with NDEBUG, so its asserts are gone: callers give a
//! job only bytes they have validated (rsync-tool's format module does).
#![deny(missing_docs)]

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::Once;

use librsync_sys as sys;

/// librsync's `rs_result` for "done".
pub const RS_DONE: i32 = sys::RS_DONE;
/// librsync's `rs_result` for an internal error: also reported when a job
/// stops making progress.
pub const RS_INTERNAL_ERROR: i32 = sys::RS_INTERNAL_ERROR;
/// librsync's `rs_result` for an allocation failure.
pub const RS_MEM_ERROR: i32 = sys::RS_MEM_ERROR;

/// A job that failed: librsync's `rs_result` and the last line it logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobError {
    /// librsync's `rs_result` (100 to 108, rdiff's exit statuses).
    pub code: i32,
    /// The last line librsync logged on this thread, or "no detail".
    pub detail: String,
}

impl JobError {
    fn new(code: c_int) -> JobError {
        JobError {
            code,
            detail: last_message().unwrap_or_else(|| "no detail".to_string()),
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "librsync error {}: {}", self.code, self.detail)
    }
}

impl std::error::Error for JobError {}

/// What one [`Job::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Bytes taken from the input buffer.
    pub consumed: usize,
    /// Bytes written to the start of the output buffer.
    pub produced: usize,
    /// The job has finished: all its output has been produced.
    pub done: bool,
}

/// librsync's job counters (`rs_stats_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobStats {
    /// LITERAL commands.
    pub lit_cmds: u64,
    /// Bytes in LITERAL commands.
    pub lit_bytes: u64,
    /// Command bytes of LITERAL commands.
    pub lit_cmdbytes: u64,
    /// COPY commands.
    pub copy_cmds: u64,
    /// Bytes in COPY commands.
    pub copy_bytes: u64,
    /// Command bytes of COPY commands.
    pub copy_cmdbytes: u64,
    /// Weak-sum matches whose strong sum differed.
    pub false_matches: u64,
    /// Blocks in the signature.
    pub sig_blocks: u64,
    /// The signature's block length.
    pub block_len: u64,
}

/// The counters of librsync's "match statistics" log line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatchCounters {
    /// Weak-sum lookups.
    pub searches: u64,
    /// Lookups that found a block.
    pub matches: u64,
    /// Weak sums compared.
    pub weak_compares: u64,
    /// Strong sums compared.
    pub strong_compares: u64,
    /// Strong sums computed.
    pub strong_calcs: u64,
}

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

/// Routes librsync's log lines into a per-thread slot instead of stderr.
fn capture_log() {
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
    static LAST_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

extern "C" fn log_to_slot(_level: sys::rs_loglevel, msg: *const c_char) {
    if msg.is_null() {
        return;
    }
    // SAFETY: librsync passes a NUL-terminated string valid for this call.
    let text = unsafe { CStr::from_ptr(msg) }
        .to_string_lossy()
        .into_owned();
    let _ = catch_unwind(|| LAST_MESSAGE.with(|m| *m.borrow_mut() = Some(text)));
}

/// Takes the last line librsync logged on this thread, if any.
pub fn last_message() -> Option<String> {
    LAST_MESSAGE.with(|m| m.borrow_mut().take())
}

/// A running librsync job. `'a` is the borrow of what the job reads while it
/// runs: a delta job's [`Signature`]; `'static` for the others.
pub struct Job<'a> {
    raw: NonNull<sys::rs_job_t>,
    _borrow: PhantomData<&'a mut Signature>,
}

// SAFETY: a job is owned by this handle alone and librsync keeps no
// thread-local state for it; it may move to another thread between calls.
unsafe impl Send for Job<'_> {}

impl Job<'static> {
    /// A signature job (`rs_sig_begin`) with these parameters and magic.
    pub fn signature(
        block_len: usize,
        strong_len: usize,
        magic: u32,
    ) -> Result<Job<'static>, JobError> {
        capture_log();
        // SAFETY: plain constructor; librsync checks the parameters.
        let raw = unsafe { sys::rs_sig_begin(block_len, strong_len, magic as c_int) };
        Job::from_raw(raw)
    }
}

impl<'a> Job<'a> {
    /// A delta job (`rs_delta_begin`) that searches `sig` for as long as the
    /// job lives.
    pub fn delta(sig: &'a mut Signature) -> Result<Job<'a>, JobError> {
        capture_log();
        // SAFETY: `sig` is a loaded signature with its hash table built; the
        // returned job's lifetime holds its exclusive borrow.
        let raw = unsafe { sys::rs_delta_begin(sig.raw.as_ptr()) };
        Job::from_raw(raw)
    }

    fn from_raw(raw: *mut sys::rs_job_t) -> Result<Job<'a>, JobError> {
        let raw = NonNull::new(raw).ok_or_else(|| JobError {
            code: RS_MEM_ERROR,
            detail: "librsync could not start a job".to_string(),
        })?;
        Ok(Job {
            raw,
            _borrow: PhantomData,
        })
    }

    /// One `rs_job_iter`: the job reads from `input` (`eof` when no more
    /// input follows it) and writes to `output`.
    pub fn step(&mut self, input: &[u8], eof: bool, output: &mut [u8]) -> Result<Step, JobError> {
        let mut b = sys::rs_buffers_t {
            next_in: input.as_ptr().cast(),
            avail_in: input.len(),
            eof_in: c_int::from(eof),
            next_out: output.as_mut_ptr().cast(),
            avail_out: output.len(),
        };
        // SAFETY: `raw` is a live job; the buffers point into `input` and
        // `output`, valid for the lengths given, for the whole call.
        let r = unsafe { sys::rs_job_iter(self.raw.as_ptr(), &mut b) };
        let step = Step {
            consumed: input.len() - b.avail_in,
            produced: output.len() - b.avail_out,
            done: r == sys::RS_DONE,
        };
        match r {
            sys::RS_DONE | sys::RS_BLOCKED | sys::RS_RUNNING => Ok(step),
            other => Err(JobError::new(other)),
        }
    }

    /// The job's counters so far.
    pub fn stats(&self) -> JobStats {
        // SAFETY: `raw` is a live job; its statistics live as long as it does
        // and are copied out here.
        let s = unsafe { &*rs_job_statistics(self.raw.as_ptr()) };
        JobStats {
            lit_cmds: s.lit_cmds as u64,
            lit_bytes: s.lit_bytes as u64,
            lit_cmdbytes: s.lit_cmdbytes as u64,
            copy_cmds: s.copy_cmds as u64,
            copy_bytes: s.copy_bytes as u64,
            copy_cmdbytes: s.copy_cmdbytes as u64,
            false_matches: s.false_matches as u64,
            sig_blocks: s.sig_blocks as u64,
            block_len: s.block_len as u64,
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

/// Where a patch job reads its basis: the bytes at a position.
pub trait Basis {
    /// Reads up to `buf.len()` bytes of the basis from `pos`; 0 at its end.
    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// A patch job (`rs_patch_begin`): librsync 2.2's own patch, which reads the
/// basis through `'a`'s [`Basis`] for as long as the job lives.
pub struct PatchJob<'a> {
    job: Job<'a>,
    /// The callback's argument: a boxed `&mut dyn Basis`, freed on drop.
    basis: *mut &'a mut dyn Basis,
}

impl<'a> PatchJob<'a> {
    /// Starts patching `basis`.
    pub fn new(basis: &'a mut dyn Basis) -> Result<PatchJob<'a>, JobError> {
        capture_log();
        let basis = Box::into_raw(Box::new(basis));
        // SAFETY: `copy_from_basis` matches `rs_copy_cb`; `basis` stays
        // valid until `drop`, and the job calls back only inside `step`.
        let raw = unsafe { sys::rs_patch_begin(copy_from_basis, basis.cast::<c_void>()) };
        let job = Job::from_raw(raw).inspect_err(|_| {
            // SAFETY: no job holds `basis`; it came from `Box::into_raw`.
            drop(unsafe { Box::from_raw(basis) });
        })?;
        Ok(PatchJob { job, basis })
    }

    /// One `rs_job_iter` of the patch job, as [`Job::step`].
    pub fn step(&mut self, input: &[u8], eof: bool, output: &mut [u8]) -> Result<Step, JobError> {
        self.job.step(input, eof, output)
    }
}

impl Drop for PatchJob<'_> {
    fn drop(&mut self) {
        // SAFETY: `basis` came from `Box::into_raw` and is freed once; the
        // job (freed after this) calls back only inside `step`.
        drop(unsafe { Box::from_raw(self.basis) });
    }
}

/// librsync's copy callback: `*len` bytes of the basis from `pos` into
/// `*buf`, the job's own output buffer.
extern "C" fn copy_from_basis(
    opaque: *mut c_void,
    pos: sys::rs_long_t,
    len: *mut usize,
    buf: *mut *mut c_void,
) -> c_int {
    let (Ok(pos), false) = (
        u64::try_from(pos),
        opaque.is_null() || len.is_null() || buf.is_null(),
    ) else {
        return sys::RS_IO_ERROR;
    };
    // SAFETY: `opaque` is the boxed `&mut dyn Basis` of a live `PatchJob`,
    // used by nothing else during its `step`; librsync passes `*buf`, valid for `*len`
    // writable bytes, for this call only.
    let (basis, out) = unsafe {
        (
            &mut *opaque.cast::<&mut dyn Basis>(),
            std::slice::from_raw_parts_mut((*buf).cast::<u8>(), *len),
        )
    };
    let got = catch_unwind(AssertUnwindSafe(|| basis.read_at(pos, out)));
    match got {
        Ok(Ok(n)) => {
            // SAFETY: as above; `n` is at most the length we were given.
            unsafe { *len = n };
            sys::RS_DONE
        }
        _ => sys::RS_IO_ERROR,
    }
}

/// A signature loaded into librsync, with its block hash table built.
pub struct Signature {
    raw: NonNull<sys::rs_signature_t>,
}

// SAFETY: the signature is owned exclusively by this handle; librsync keeps
// no other reference to it once its load job is freed. It is not `Sync`:
// searching it mutates counters.
unsafe impl Send for Signature {}

impl Drop for Signature {
    fn drop(&mut self) {
        // SAFETY: `raw` came from a load job that has been freed, and is
        // freed once.
        unsafe { sys::rs_free_sumset(self.raw.as_ptr()) }
    }
}

impl Signature {
    /// The match counters of the searches made so far
    /// (`rs_signature_log_stats`).
    pub fn match_counters(&self) -> MatchCounters {
        capture_log();
        // SAFETY: `raw` is a loaded signature; the call only logs its
        // counters, which arrive in this thread's slot.
        unsafe { rs_signature_log_stats(self.raw.as_ptr()) };
        last_message()
            .map(|line| parse_match_counters(&line))
            .unwrap_or_default()
    }
}

/// A job that loads a signature (`rs_loadsig_begin`). The signature it
/// fills is handed out only by [`LoadJob::finish`], after the job is freed.
pub struct LoadJob {
    // Declared first: dropped (freed) before the signature it writes into.
    job: Job<'static>,
    sig: Signature,
}

impl LoadJob {
    /// Starts loading a signature.
    pub fn new() -> Result<LoadJob, JobError> {
        capture_log();
        let mut raw_sig: *mut sys::rs_signature_t = std::ptr::null_mut();
        // SAFETY: the job allocates the signature and stores it in `raw_sig`
        // at once; it writes into that signature, never into `raw_sig` again.
        let raw = unsafe { sys::rs_loadsig_begin(&mut raw_sig) };
        let job = Job::from_raw(raw)?;
        let raw = NonNull::new(raw_sig).ok_or_else(|| JobError {
            code: RS_MEM_ERROR,
            detail: "librsync could not allocate a signature".to_string(),
        })?;
        Ok(LoadJob {
            job,
            sig: Signature { raw },
        })
    }

    /// One `rs_job_iter` of the load job, as [`Job::step`].
    pub fn step(&mut self, input: &[u8], eof: bool, output: &mut [u8]) -> Result<Step, JobError> {
        self.job.step(input, eof, output)
    }

    /// The job's counters so far.
    pub fn stats(&self) -> JobStats {
        self.job.stats()
    }

    /// Frees the finished job and builds the signature's hash table.
    pub fn finish(self) -> Result<Signature, JobError> {
        let LoadJob { job, sig } = self;
        drop(job);
        // SAFETY: `sig` is a complete signature owned by us; no job refers
        // to it any more.
        let r = unsafe { sys::rs_build_hash_table(sig.raw.as_ptr()) };
        if r != sys::RS_DONE {
            return Err(JobError {
                code: r,
                detail: "librsync could not index the signature".to_string(),
            });
        }
        Ok(sig)
    }
}

/// Reads the counters of librsync's `match statistics` log line.
fn parse_match_counters(line: &str) -> MatchCounters {
    let mut numbers = line
        .split(|c: char| !c.is_ascii_digit() && c != '.' && c != '(')
        .filter(|t| !t.is_empty() && !t.starts_with('(') && !t.contains('.'))
        .filter_map(|t| t.parse::<u64>().ok());
    let mut next = || numbers.next().unwrap_or(0);
    MatchCounters {
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
        assert_eq!(
            parse_match_counters(line),
            MatchCounters {
                searches: 586,
                matches: 580,
                weak_compares: 912,
                strong_compares: 581,
                strong_calcs: 582
            }
        );
    }

    /// A job runs to the end over small buffers: a signature of 1,000 bytes
    /// in 4-byte blocks is a 12-byte header and 250 entries of 4 + 8 bytes.
    #[test]
    fn signature_job_runs_to_done() {
        let data = vec![7u8; 1000];
        let mut job = Job::signature(4, 8, 0x7273_0137).unwrap();
        let (mut pos, mut out) = (0, Vec::new());
        let mut buf = [0u8; 64];
        loop {
            let end = (pos + 100).min(data.len());
            let step = job
                .step(&data[pos..end], end == data.len(), &mut buf)
                .unwrap();
            pos += step.consumed;
            out.extend_from_slice(&buf[..step.produced]);
            if step.done {
                break;
            }
        }
        assert_eq!(out.len(), 12 + 250 * 12);
    }

    /// librsync's patch job copies from the basis through the callback and
    /// stops at END: bytes after it (a trailer) are not read as commands.
    #[test]
    fn patch_job_copies_from_the_basis_and_stops_at_end() {
        struct Bytes(&'static [u8]);
        impl Basis for Bytes {
            fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> std::io::Result<usize> {
                let rest = self.0.get(pos as usize..).unwrap_or_default();
                let n = rest.len().min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                Ok(n)
            }
        }
        let mut basis = Bytes(b"hello world");
        // magic; COPY 0 5 (widths 1, 1); LITERAL 3 "abc"; END; then junk
        let delta = b"\x72\x73\x02\x36\x45\x00\x05\x03abc\x00RTvf junk after END";
        let mut job = PatchJob::new(&mut basis).unwrap();
        let (mut at, mut out, mut buf) = (0, Vec::new(), [0u8; 4]);
        loop {
            let step = job.step(&delta[at..], true, &mut buf).unwrap();
            at += step.consumed;
            out.extend_from_slice(&buf[..step.produced]);
            if step.done {
                break;
            }
        }
        assert_eq!(out, b"helloabc");
    }
}
