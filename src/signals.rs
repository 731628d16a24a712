//! How the process ends on a signal: temporaries removed, then dead by the
//! signal itself (as rdiff dies, so a parent sees a signal, not a status),
//! except once the result is committed: then the run goes on to report
//! success.
//!
//! A thread waits for the catchable deadly signals. On one it takes the
//! commit lock ([`commit_guard`]): a commit under way finishes first, and no
//! commit starts after the signal. SIGXFSZ is caught and ignored, so that a
//! write past the file-size limit fails with `EFBIG` and is reported like
//! any write error instead of killing us with a temporary file left.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use signal_hook::consts::{
    SIGALRM, SIGHUP, SIGINT, SIGPIPE, SIGPROF, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGVTALRM,
    SIGXFSZ,
};
use signal_hook::iterator::Signals;

use crate::error::{Error, Result};

/// The deadly signals we can catch: each removes the temporaries first.
const DEADLY: [i32; 9] = [
    SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF,
];

/// Named temporary files not yet in place, removed if a signal ends us.
/// (Unnamed `O_TMPFILE` ones vanish with the process by themselves.)
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Held while outputs are committed; true once they are.
static COMMIT: Mutex<bool> = Mutex::new(false);

/// Installs the handlers: see the module's documentation.
pub fn install() -> Result<()> {
    signal_hook::flag::register(SIGXFSZ, Arc::new(AtomicBool::new(false)))
        .map_err(|e| Error::io("cannot install signal handlers", e))?;
    // The thread first: where the system refuses one (a process limit), the
    // deadly signals keep their default action, which leaves no unnamed
    // temporary file behind, rather than being caught with nobody to act.
    let (give, take) = std::sync::mpsc::channel::<Signals>();
    let handler = std::thread::Builder::new().spawn(move || {
        let Ok(mut signals) = take.recv() else { return };
        for signal in signals.forever() {
            let committed = COMMIT.lock().unwrap_or_else(|e| e.into_inner());
            if *committed {
                // The result is in place: the run reports success.
                continue;
            }
            die_by(signal);
        }
    });
    if handler.is_ok() {
        let signals =
            Signals::new(DEADLY).map_err(|e| Error::io("cannot install signal handlers", e))?;
        let _ = give.send(signals);
    }
    Ok(())
}

/// Clears the progress bar (first: it is what the person at the terminal
/// sees, and removing a large temporary can take a while), removes the
/// pending temporaries and ends the process by `signal` with its default
/// action (SIGPIPE included, which Rust's runtime ignores).
pub fn die_by(signal: i32) -> ! {
    crate::progress::clear_for_exit();
    remove_pending();
    let _ = signal_hook::low_level::emulate_default_handler(signal);
    // Only if the signal did not end us (it always should).
    std::process::exit(128 + signal)
}

/// Ends the run after a write to a reader that went away, as rdiff does.
pub fn die_of_broken_pipe() -> ! {
    die_by(SIGPIPE)
}

/// Registers (or, with `pending` false, forgets) a named temporary file.
pub fn set_pending(path: PathBuf, pending: bool) {
    let mut list = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if pending {
        list.push(path);
    } else {
        list.retain(|p| *p != path);
    }
}

fn remove_pending() {
    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    for path in pending.iter() {
        let _ = std::fs::remove_file(path);
    }
}

/// The commit lock: a signal waits until it is released; call
/// [`CommitGuard::committed`] when the result is in place.
pub struct CommitGuard(MutexGuard<'static, bool>);

/// Takes the commit lock (after a signal, this blocks until the process dies).
pub fn commit_guard() -> CommitGuard {
    CommitGuard(COMMIT.lock().unwrap_or_else(|e| e.into_inner()))
}

impl CommitGuard {
    /// Marks the result committed: signals from now on do not end the run.
    pub fn committed(mut self) {
        *self.0 = true;
    }
}
