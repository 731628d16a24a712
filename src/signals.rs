//! How the process ends on a signal: temporaries removed, then dead by the
//! signal itself (as rdiff dies, so a parent sees a signal, not a status),
//! except once the result is committed: then the run goes on to report
//! success.
//!
//! Set-up is lazy: a run with nothing to clean up keeps the default action
//! of the deadly signals (an unnamed `O_TMPFILE` output vanishes with the
//! process) and starts no thread. Before a named temporary file is created
//! or a progress bar is shown, [`watch`] starts a thread that waits for the
//! deadly signals and, on one, takes the commit lock ([`commit_guard`]): a
//! commit under way finishes first, and no commit starts after the signal.
//! Without that thread the commit blocks the deadly signals for its
//! duration (and, once the result is in place, until the process exits).
//! SIGXFSZ is caught and ignored, so that a write past the file-size limit
//! fails with `EFBIG` and is reported like any write error instead of
//! killing us with a temporary file left.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};

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

/// Whether the thread that waits for the deadly signals runs.
static WATCHING: OnceLock<bool> = OnceLock::new();

/// Installs what every run needs (SIGXFSZ caught); see [`watch`] for the rest.
pub fn install() -> Result<()> {
    signal_hook::flag::register(SIGXFSZ, Arc::new(AtomicBool::new(false)))
        .map(drop)
        .map_err(|e| Error::io("cannot install signal handlers", e))
}

/// Starts, once, the thread that catches the deadly signals: it clears the
/// progress bar and removes the named temporaries before dying. Where the
/// system refuses a thread the deadly signals keep their default action,
/// rather than being caught with nobody to act.
pub fn watch() {
    WATCHING.get_or_init(|| {
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
        handler.is_ok()
            && Signals::new(DEADLY)
                .ok()
                .is_some_and(|signals| give.send(signals).is_ok())
    });
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

/// Registers (or, with `pending` false, forgets) a named temporary file;
/// the first one starts the signal thread ([`watch`]).
pub fn set_pending(path: PathBuf, pending: bool) {
    if pending {
        watch();
    }
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
/// [`CommitGuard::finish`] with the outcome.
pub struct CommitGuard {
    lock: MutexGuard<'static, bool>,
    /// Without the signal thread: the signal mask from before the deadly
    /// signals were blocked for the commit.
    unblocked: Option<SigSet>,
}

/// Takes the commit lock (after a signal, this blocks until the process
/// dies). Without the signal thread, the deadly signals are blocked from
/// here on instead of ending the process in the middle of the commit (the
/// thread that commits is the only one left then).
pub fn commit_guard() -> CommitGuard {
    let lock = COMMIT.lock().unwrap_or_else(|e| e.into_inner());
    let unblocked = (!WATCHING.get().copied().unwrap_or(false)).then(|| {
        let mut deadly = SigSet::empty();
        for signal in DEADLY {
            deadly.add(Signal::try_from(signal).expect("a signal of this system"));
        }
        let mut before = SigSet::empty();
        // A refused mask leaves the signals' default action.
        let _ = pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&deadly), Some(&mut before));
        before
    });
    CommitGuard { lock, unblocked }
}

impl CommitGuard {
    /// Ends the commit: once the result is in place (`committed`), signals
    /// do not end the run (blocked ones stay blocked until it exits); if it
    /// is not, a deadly signal that came during the commit ends it now, by
    /// its default action.
    pub fn finish(mut self, committed: bool) {
        if committed {
            *self.lock = true;
            return;
        }
        let unblocked = self.unblocked.take();
        drop(self);
        if let Some(mask) = unblocked {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&mask), None);
        }
    }
}
