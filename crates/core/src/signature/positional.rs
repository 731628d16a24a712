//! File mode, for a regular file and blocks up to `LARGE_BLOCK`: every
//! thread claims the next chunk, reads it by position (`read_at`) into a
//! buffer of its own and hashes it at once, while the chunk the kernel just
//! copied is still in that core's cache; the calling thread also writes the
//! entries in order. No thread reads for the others, so the kernel's copy
//! out of the page cache is shared by all of them as the hashing is.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, mpsc};
use std::thread;

use super::{Cfg, PanicGuard, sign_chunk, worker_died, write_failed};
use crate::error::{Error, Result, Role};
use crate::io::{check_cancel, read_exact_at};
use crate::options::Cancel;
use crate::workers::spawn;

/// Chunks that may be claimed past the first one not yet written: bounds
/// the entries held out of order when one thread falls behind.
const WINDOW: usize = 8;

/// Where the chunks come from, and who is told about them.
pub(crate) struct Source<'a> {
    pub(crate) file: &'a File,
    /// The first byte signed.
    pub(crate) start: u64,
    /// Bytes signed from `start`.
    pub(crate) len: u64,
    pub(crate) progress: Option<&'a AtomicU64>,
    pub(crate) cancel: Option<&'a Cancel>,
}

impl Source<'_> {
    /// Reads chunk `k` of `chunk_len` bytes (the last may be shorter) into
    /// `buf` and returns its length.
    fn read_chunk(&self, k: usize, chunk_len: usize, buf: &mut Vec<u8>) -> Result<usize> {
        check_cancel(self.cancel).map_err(|e| Error::io(Role::Basis, "read failed", e))?;
        let at = k as u64 * chunk_len as u64;
        let n = (self.len - at).min(chunk_len as u64) as usize;
        if buf.len() < n {
            *buf = vec![0u8; n];
        }
        read_exact_at(self.file, &mut buf[..n], self.start + at)
            .map_err(|e| Error::io(Role::Basis, "read failed", e))?;
        if let Some(progress) = self.progress {
            progress.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// How far the writer is, for threads that claimed a chunk too far ahead.
struct Written {
    chunks: Mutex<usize>,
    moved: Condvar,
    /// Set when the run ends early: waiting threads give up.
    stop: AtomicBool,
}

impl Written {
    /// Waits until chunk `k` is inside the window; false once the run stops.
    fn wait_for_room(&self, k: usize) -> bool {
        let mut written = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        while k >= *written + WINDOW {
            if self.stop.load(Ordering::Relaxed) {
                return false;
            }
            written = self.moved.wait(written).unwrap_or_else(|e| e.into_inner());
        }
        !self.stop.load(Ordering::Relaxed)
    }

    fn advance(&self, to: usize) {
        *self.chunks.lock().unwrap_or_else(|e| e.into_inner()) = to;
        self.moved.notify_all();
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        let _lock = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        self.moved.notify_all();
    }
}

/// Stops the helpers however the writer leaves.
struct StopOnDrop<'a>(&'a Written);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

type Done = Option<(usize, Result<Vec<u8>>)>;

/// Signs `src` in chunks of `chunk_len` bytes with up to `threads` threads
/// in all, this one included; returns the bytes signed (`src.len`). The
/// entries are the same for every thread count.
pub(super) fn run<W: Write + ?Sized>(
    src: &Source<'_>,
    w: &mut W,
    cfg: &Cfg,
    threads: usize,
    chunk_len: usize,
) -> Result<u64> {
    let chunks = usize::try_from(src.len.div_ceil(chunk_len as u64)).unwrap_or(usize::MAX);
    let helpers = threads.min(chunks).saturating_sub(1);
    let mut buf = Vec::new();
    if helpers == 0 {
        let mut out = Vec::new();
        for k in 0..chunks {
            let n = src.read_chunk(k, chunk_len, &mut buf)?;
            out.clear();
            sign_chunk(&buf[..n], cfg, &mut out);
            w.write_all(&out).map_err(write_failed)?;
        }
        return Ok(src.len);
    }
    let next = AtomicUsize::new(0);
    let written = Written {
        chunks: Mutex::new(0),
        moved: Condvar::new(),
        stop: AtomicBool::new(false),
    };
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    thread::scope(|s| -> Result<u64> {
        let _stop = StopOnDrop(&written);
        for _ in 0..helpers {
            let guard = PanicGuard {
                tx: done_tx.clone(),
            };
            let (next, written) = (&next, &written);
            let helper = move || {
                let mut buf = Vec::new();
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= chunks || !written.wait_for_room(k) {
                        return;
                    }
                    let entries = src.read_chunk(k, chunk_len, &mut buf).map(|n| {
                        let mut out = Vec::new();
                        sign_chunk(&buf[..n], cfg, &mut out);
                        out
                    });
                    let failed = entries.is_err();
                    if guard.tx.send(Some((k, entries))).is_err() || failed {
                        return;
                    }
                }
            };
            if spawn(s, helper).is_none() {
                break;
            }
        }
        drop(done_tx);
        // pending[i] holds the entries of chunk `done + i` once hashed.
        let mut pending: VecDeque<Option<Vec<u8>>> = VecDeque::new();
        let mut done = 0;
        while done < chunks {
            while let Ok(result) = done_rx.try_recv() {
                place(&mut pending, done, result)?;
            }
            let before = done;
            while let Some(Some(_)) = pending.front() {
                let entries = pending.pop_front().flatten().unwrap_or_default();
                w.write_all(&entries).map_err(write_failed)?;
                done += 1;
            }
            if done != before {
                written.advance(done);
                continue;
            }
            // Hash the next chunk here if it is inside the window, else
            // wait for a helper's (the first one not written is theirs).
            let k = next.load(Ordering::Relaxed);
            if k < chunks.min(done + WINDOW) {
                if next
                    .compare_exchange(k, k + 1, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
                {
                    let n = src.read_chunk(k, chunk_len, &mut buf)?;
                    let mut out = Vec::new();
                    sign_chunk(&buf[..n], cfg, &mut out);
                    place(&mut pending, done, Some((k, Ok(out))))?;
                }
                continue;
            }
            let result = done_rx.recv().map_err(|_| worker_died())?;
            place(&mut pending, done, result)?;
        }
        Ok(src.len)
    })
}

/// Puts a helper's result for chunk `k` in `pending` (which starts at chunk
/// `done`); its error, or a helper that died, ends the run.
fn place(pending: &mut VecDeque<Option<Vec<u8>>>, done: usize, result: Done) -> Result<()> {
    let (k, entries) = result.ok_or_else(worker_died)?;
    let i = k - done;
    if pending.len() <= i {
        pending.resize_with(i + 1, || None);
    }
    pending[i] = Some(entries?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use crate::testdata::gen_bytes;
    use crate::workers::hook;
    use crate::{Cancel, SignatureOptions, StrongHash, WeakSum};

    fn file_of(data: &[u8]) -> std::fs::File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(data).unwrap();
        file.seek(SeekFrom::Start(0)).unwrap();
        file
    }

    /// By position, on any number of threads, from any offset, for chunked
    /// and large blocks and both hash kinds: the bytes `signature` writes for
    /// the same input, and the file's offset not moved.
    #[test]
    fn a_file_read_by_position_gives_the_streamed_signature() {
        let data = gen_bytes(21, (5 << 20) + 12_345);
        let mut file = file_of(&data);
        for (block_len, hash, rollsum) in [
            (2048, StrongHash::Blake2, WeakSum::RabinKarp),
            (700, StrongHash::Md4, WeakSum::Rollsum),
            ((4 << 20) + 1, StrongHash::Blake2, WeakSum::RabinKarp),
        ] {
            for start in [0, 1, 777_777] {
                for jobs in [1, 2, 5] {
                    let options = SignatureOptions {
                        block_len,
                        hash,
                        rollsum,
                        jobs,
                        ..SignatureOptions::default()
                    };
                    let mut want = Vec::new();
                    crate::signature(&data[start..], &mut want, &options).unwrap();
                    file.seek(SeekFrom::Start(start as u64)).unwrap();
                    let mut got = Vec::new();
                    let stats = crate::signature_file(&file, &mut got, &options).unwrap();
                    assert!(got == want, "block {block_len}, start {start}, -j {jobs}");
                    assert_eq!(stats.in_bytes, (data.len() - start) as u64);
                    assert_eq!(file.stream_position().unwrap(), start as u64);
                }
            }
        }
    }

    /// A "regular" file that reports no size (/proc) is read in order, to
    /// its end, not signed as empty.
    #[test]
    fn a_file_that_reports_no_size_is_read_to_its_end() {
        let path = "/proc/self/cmdline";
        let data = std::fs::read(path).unwrap();
        let file = std::fs::File::open(path).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 0);
        assert!(!data.is_empty());
        let options = SignatureOptions::default();
        let mut want = Vec::new();
        crate::signature(&data[..], &mut want, &options).unwrap();
        let mut got = Vec::new();
        crate::signature_file(&file, &mut got, &options).unwrap();
        assert!(got == want);
        // and so is NEW for a delta: the same delta as from its bytes
        let delta_options = crate::DeltaOptions::default();
        let mut sig = crate::Signature::load(&want[..], &delta_options).unwrap();
        let (mut from_bytes, mut from_file) = (Vec::new(), Vec::new());
        sig.delta(&data[..], &mut from_bytes, &delta_options)
            .unwrap();
        let file = std::fs::File::open(path).unwrap();
        sig.delta_file(&file, &mut from_file, &delta_options)
            .unwrap();
        assert!(from_bytes == from_file);
    }

    /// Threads the system refuses (all of them, or all but one) change
    /// nothing but the speed.
    #[test]
    fn refused_threads_give_the_same_signature() {
        let data = gen_bytes(22, 3 << 20);
        let file = file_of(&data);
        let options = SignatureOptions {
            jobs: 4,
            ..SignatureOptions::default()
        };
        let mut want = Vec::new();
        crate::signature(&data[..], &mut want, &options).unwrap();
        for allowed in [0, 1] {
            hook::allow(Some(allowed));
            let mut got = Vec::new();
            crate::signature_file(&file, &mut got, &options).unwrap();
            assert_eq!(hook::started(), allowed);
            assert!(got == want, "{allowed} threads allowed");
        }
        hook::allow(None);
    }

    /// Progress counts every byte signed; a cancelled run stops.
    #[test]
    fn progress_counts_the_basis_and_cancel_stops() {
        let data = gen_bytes(23, 3 << 20);
        let file = file_of(&data);
        let progress = Arc::new(AtomicU64::new(0));
        let mut options = SignatureOptions {
            progress: Some(Arc::clone(&progress)),
            ..SignatureOptions::default()
        };
        crate::signature_file(&file, std::io::sink(), &options).unwrap();
        assert_eq!(progress.load(Ordering::Relaxed), data.len() as u64);
        let cancel = Cancel::new();
        cancel.cancel();
        options.cancel = Some(cancel);
        let err = crate::signature_file(&file, std::io::sink(), &options).unwrap_err();
        assert!(err.is_cancelled(), "{err}");
    }

    /// A file cut short while it is read is a read error that says so, on
    /// one thread or several.
    #[test]
    fn a_file_that_shrinks_is_a_read_error() {
        let data = gen_bytes(24, 16 << 20);
        for jobs in [1, 3] {
            let file = file_of(&data);
            let cut = file.try_clone().unwrap();
            let mut out = CutAfter {
                file: cut,
                writes: 0,
            };
            let options = SignatureOptions {
                jobs,
                ..SignatureOptions::default()
            };
            let err = crate::signature_file(&file, &mut out, &options).unwrap_err();
            assert!(err.to_string().contains("shrank"), "-j {jobs}: {err}");
            assert_eq!(err.status(), crate::Status::Io);
        }
    }

    /// A writer that truncates the basis to 1 MiB at its second write (the
    /// header is the first), while chunks beyond are still to be read.
    struct CutAfter {
        file: std::fs::File,
        writes: usize,
    }

    impl Write for CutAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.writes += 1;
            if self.writes == 2 {
                self.file.set_len(1 << 20)?;
            }
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
