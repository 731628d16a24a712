//! Progress on stderr, for a person watching a terminal.
//!
//! The work only bumps a shared byte counter ([`Counter`]), once per buffer
//! read (for `patch`, once per buffer of the result written, which the
//! library counts); a ticker thread copies it into an indicatif bar ten times a second.
//! So the hot paths pay one relaxed atomic add per read, whatever the bar
//! does, and parallel workers can share the same counter.
//!
//! The bar (or a spinner, when the input's size is unknown) is drawn only
//! when stderr is a terminal that can redraw a line (not `TERM=dumb`), and
//! only once the work has run for [`DELAY`], unless `--progress` asks for it
//! at once. It is cleared before anything else is printed: the caller calls
//! [`Progress::finish`] before `-s` statistics, dropping it clears it before
//! an error line, and [`clear_for_exit`] clears it when a signal ends us.

use std::io::{self, IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, TryLockError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long the work runs before a bar appears by itself.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the bar is brought up to date with the counter.
const TICK: Duration = Duration::from_millis(100);

/// Bytes done so far: shared between the readers that count and the ticker.
pub type Counter = Arc<AtomicU64>;

/// When to show progress (`--progress`, `--no-progress`, or neither).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// After [`DELAY`], on a terminal.
    Auto,
    /// At once, on a terminal.
    Always,
    /// Never.
    Never,
}

/// The bar on screen, if any, so that a signal can clear it before we exit.
static ON_SCREEN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Progress of one command over one input.
pub struct Progress {
    counter: Counter,
    ticker: Option<Ticker>,
}

struct Ticker {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Progress {
    /// Starts counting; `label` names the work (`signature old.img`),
    /// `total` is the size of what is counted, when known.
    pub fn start(when: When, label: String, total: Option<u64>) -> Progress {
        let counter = Counter::default();
        let delay = match when {
            _ if !can_show(when) => None,
            When::Never => None,
            When::Auto => Some(DELAY),
            When::Always => Some(Duration::ZERO),
        };
        // No bar where the system refuses a thread: the work goes on.
        let ticker = delay.and_then(|delay| {
            // A deadly signal clears the bar before the process dies.
            crate::signals::watch();
            let (stop, stopped) = mpsc::channel();
            let shared = Arc::clone(&counter);
            let thread = thread::Builder::new()
                .spawn(move || tick(&shared, &stopped, delay, &label, total))
                .ok()?;
            Some(Ticker { stop, thread })
        });
        Progress { counter, ticker }
    }

    /// The byte counter, for work that counts by itself (parallel readers).
    pub fn counter(&self) -> Counter {
        Arc::clone(&self.counter)
    }

    /// Wraps the input the work reads so that every read is counted.
    pub fn reader<R: Read>(&self, inner: R) -> Counted<R> {
        Counted {
            inner,
            counter: Arc::clone(&self.counter),
        }
    }

    /// Clears the bar; call it before printing anything else.
    pub fn finish(self) {}
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(ticker) = self.ticker.take() {
            drop(ticker.stop);
            let _ = ticker.thread.join();
        }
    }
}

/// Clears the bar on screen, if any, for a process about to exit (a signal,
/// a panic). It only tries the lock for a while: a panic in the ticker while
/// it holds the lock must not hang the exit.
pub fn clear_for_exit() {
    for _ in 0..100 {
        let mut on_screen = match ON_SCREEN.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(e)) => e.into_inner(),
            Err(TryLockError::WouldBlock) => {
                thread::sleep(Duration::from_millis(1));
                continue;
            }
        };
        if let Some(bar) = on_screen.take() {
            bar.finish_and_clear();
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        return;
    }
}

/// True when progress would be shown (after [`DELAY`] for [`When::Auto`]):
/// work done only for the display (finding a total) can be skipped otherwise.
pub fn can_show(when: When) -> bool {
    when != When::Never && can_draw()
}

/// True when stderr is a terminal we can redraw a line on.
fn can_draw() -> bool {
    io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// True when the user asked for no colours (<https://no-color.org>).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// The ticker thread: keeps a hidden bar up to date from the start (so the
/// rate and ETA are right when it appears), shows it after `delay`, clears
/// it when the sender hangs up.
fn tick(
    counter: &AtomicU64,
    stopped: &mpsc::Receiver<()>,
    delay: Duration,
    label: &str,
    total: Option<u64>,
) {
    let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden());
    bar.set_prefix(label.to_string());
    let started = Instant::now();
    let mut shown = false;
    loop {
        bar.set_position(counter.load(Ordering::Relaxed));
        if !shown && started.elapsed() >= delay {
            shown = true;
            let mut on_screen = ON_SCREEN.lock().unwrap_or_else(|e| e.into_inner());
            bar.set_draw_target(ProgressDrawTarget::stderr());
            bar.set_style(style(total.is_some(), !no_color()));
            bar.tick();
            *on_screen = Some(bar.clone());
        }
        match stopped.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => continue,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if shown
        && ON_SCREEN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .is_some()
    {
        bar.finish_and_clear();
    }
}

/// A bar with bytes, total, rate and ETA when the size is known; a spinner
/// with bytes and rate otherwise.
fn style(sized: bool, color: bool) -> ProgressStyle {
    let template = match (sized, color) {
        (true, true) => {
            "{prefix} [{wide_bar:.cyan/blue}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}"
        }
        (true, false) => {
            "{prefix} [{wide_bar}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}"
        }
        (false, true) => "{spinner:.cyan} {prefix} {binary_bytes} {binary_bytes_per_sec}",
        (false, false) => "{spinner} {prefix} {binary_bytes} {binary_bytes_per_sec}",
    };
    ProgressStyle::with_template(template)
        .expect("the progress templates are valid")
        .progress_chars("=> ")
        .tick_chars("|/-\\ ")
}

/// A reader that adds the bytes of each read to a [`Counter`].
pub struct Counted<R> {
    inner: R,
    counter: Counter,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_counted_per_buffer() {
        let progress = Progress::start(When::Never, "test".to_string(), Some(10));
        let mut reader = progress.reader(&b"0123456789"[..]);
        let mut buf = [0; 4];
        assert_eq!(reader.read(&mut buf).unwrap(), 4);
        assert_eq!(progress.counter().load(Ordering::Relaxed), 4);
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!(progress.counter().load(Ordering::Relaxed), 10);
    }

    #[test]
    fn every_style_is_valid() {
        for sized in [true, false] {
            for color in [true, false] {
                style(sized, color);
            }
        }
    }
}
