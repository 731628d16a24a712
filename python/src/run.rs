//! Running the engine with the GIL released, interruptible by Ctrl-C.
//!
//! Signals reach Python only on the main thread and only when it runs Python
//! code, so the waiting thread wakes every [`POLL`] to run the handlers; a
//! handler's exception (`KeyboardInterrupt`) sets a [`Cancel`] flag that
//! the engine's readers and writers check, and is raised.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// How often a waiting call runs Python's signal handlers.
pub const POLL: Duration = Duration::from_millis(50);

/// Set when the caller gave up (Ctrl-C): the engine's I/O then fails, and
/// no output is committed after it ([`Cancel::commit`]).
#[derive(Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    /// Held while outputs are put in place, and while the flag is set: a
    /// commit either ends before the caller is told "interrupted" or never
    /// begins.
    committing: Arc<Mutex<()>>,
}

impl Cancel {
    /// Cancels the work; waits for a commit under way to end.
    pub fn set(&self) {
        let _commit = self
            .committing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.flag.store(true, Ordering::Relaxed);
    }

    /// The flag itself, for loops that poll it (hashing a file).
    pub fn flag(&self) -> &AtomicBool {
        &self.flag
    }

    /// The same flag for the core's options: the engine checks it once per
    /// buffer, also where it reads or writes files itself.
    pub fn core(&self) -> rsync_tool_core::Cancel {
        self.flag.clone().into()
    }

    pub fn check(&self) -> io::Result<()> {
        if self.flag.load(Ordering::Relaxed) {
            Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"))
        } else {
            Ok(())
        }
    }

    /// Runs `commit` (which puts outputs in place) unless the work was
    /// cancelled, so that nothing is committed once the caller was told
    /// "interrupted"; `None` when cancelled.
    pub fn commit<T>(&self, commit: impl FnOnce() -> T) -> Option<T> {
        let _commit = self
            .committing
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (!self.flag.load(Ordering::Relaxed)).then(commit)
    }
}

/// A reader or writer that stops working once its [`Cancel`] is set.
pub struct Cancellable<T> {
    pub inner: T,
    pub cancel: Cancel,
}

impl<R: Read> Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.cancel.check()?;
        self.inner.read(buf)
    }
}

impl<W: Write> Write for Cancellable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.cancel.check()?;
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.cancel.check()?;
        self.inner.flush()
    }
}

fn panicked() -> PyErr {
    PyRuntimeError::new_err("rsync_tool: internal error (a worker thread panicked)")
}

/// Waits for `rx` with the GIL released, running signal handlers every
/// [`POLL`]; a handler's exception cancels the work and is returned.
pub fn wait<T: Send>(py: Python<'_>, rx: &mut mpsc::Receiver<T>, cancel: &Cancel) -> PyResult<T> {
    loop {
        // A Receiver is Send but not Sync: lend it to the closure by `&mut`.
        let rx = &mut *rx;
        match py.detach(move || rx.recv_timeout(POLL)) {
            Ok(value) => return Ok(value),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(err) = py.check_signals() {
                    // Without the GIL: a commit under way may take a while.
                    py.detach(|| cancel.set());
                    return Err(err);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(panicked()),
        }
    }
}

/// Runs `work` on a new thread and waits for it. On Ctrl-C the call returns
/// at once (once a commit under way has ended); the thread stops at its next
/// cancellable read or write, or before its commit ([`Cancel::commit`]), and
/// drops what it made (an uncommitted output is removed).
pub fn detached<T, F>(py: Python<'_>, cancel: &Cancel, work: F) -> PyResult<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, mut rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("rsync-tool".to_string())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    wait(py, &mut rx, cancel)
}

/// Runs `work`, which borrows from the caller, on a scoped thread and waits
/// for it; on Ctrl-C the work is cancelled and awaited (it stops at its next
/// read or write), then the interrupt is raised.
pub fn scoped<T, F>(py: Python<'_>, cancel: &Cancel, work: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let (tx, mut rx) = mpsc::sync_channel(1);
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("rsync-tool".to_string())
            .spawn_scoped(scope, move || {
                let _ = tx.send(work());
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
        let result = wait(py, &mut rx, cancel);
        if result.is_err() {
            // Let the worker see the cancel and finish before the scope joins it.
            let rx = &mut rx;
            py.detach(move || while rx.recv().is_ok() {});
        }
        result
    })
}
