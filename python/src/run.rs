//! Running the engine with the GIL released, interruptible by Ctrl-C.
//!
//! Signals reach Python only on the main thread and only when it runs Python
//! code, so the waiting thread wakes every [`POLL`] to run the handlers; a
//! handler's exception (`KeyboardInterrupt`) sets a [`Cancel`] flag that
//! the engine's readers and writers check, and is raised.

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// How often a waiting call runs Python's signal handlers.
pub const POLL: Duration = Duration::from_millis(50);

/// Set when the caller gave up (Ctrl-C): the engine's I/O then fails.
#[derive(Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// The same flag for the core's options: the engine checks it once per
    /// buffer, also where it reads or writes files itself.
    pub fn core(&self) -> rsync_tool_core::Cancel {
        self.0.clone().into()
    }

    pub fn check(&self) -> io::Result<()> {
        if self.0.load(Ordering::Relaxed) {
            Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"))
        } else {
            Ok(())
        }
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
                    cancel.set();
                    return Err(err);
                }
            }
            Err(RecvTimeoutError::Disconnected) => return Err(panicked()),
        }
    }
}

/// Runs `work` on a new thread and waits for it. On Ctrl-C the call returns
/// at once; the thread stops at its next cancellable read or write and drops
/// what it made (an uncommitted output is removed).
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
