//! Progress on stderr, for a person watching a terminal.
//!
//! The work only bumps a shared byte counter ([`Counter`]), once per buffer
//! read (for `patch`, once per buffer of the result written, which the
//! library counts); a ticker thread draws it ten times a second.
//! So the hot paths pay one relaxed atomic add per read, whatever the bar
//! does, and parallel workers can share the same counter.
//!
//! The bar (or a spinner, when the input's size is unknown) is drawn only
//! when stderr is a terminal that can redraw a line (not `TERM=dumb`), and
//! only once the work has run for [`DELAY`], unless `--progress` asks for it
//! at once. It is cleared before anything else is printed: the caller calls
//! [`Progress::finish`] before `-s` statistics, dropping it clears it before
//! an error line, and [`clear_for_exit`] clears it when a signal ends us.

use std::collections::VecDeque;
use std::io::{self, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, TryLockError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the work runs before a bar appears by itself.
pub const DELAY: Duration = Duration::from_secs(1);

/// How often the bar is brought up to date with the counter.
const TICK: Duration = Duration::from_millis(100);

/// The rate is measured over the last this many ticks (three seconds).
const RATE_TICKS: usize = 30;

/// Moves to the start of the line and erases it.
const CLEAR_LINE: &str = "\r\x1b[2K";

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

/// Whether a bar is on screen: the ticker draws only while it holds this
/// lock and it is true, so that a signal can clear the bar for good.
static ON_SCREEN: Mutex<bool> = Mutex::new(false);

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
        if std::mem::take(&mut *on_screen) {
            draw(CLEAR_LINE);
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

/// The ticker thread: measures the rate from the start (so that it is right
/// when the bar appears), shows the bar after `delay`, clears it when the
/// sender hangs up.
fn tick(
    counter: &AtomicU64,
    stopped: &mpsc::Receiver<()>,
    delay: Duration,
    label: &str,
    total: Option<u64>,
) {
    let started = Instant::now();
    let color = !no_color();
    let mut rate = Rate::default();
    let mut shown = false;
    for frame in 0.. {
        let done = counter.load(Ordering::Relaxed);
        let per_sec = rate.update(started.elapsed(), done);
        if shown || started.elapsed() >= delay {
            let mut on_screen = ON_SCREEN.lock().unwrap_or_else(|e| e.into_inner());
            if !shown {
                shown = true;
                *on_screen = true;
            }
            if *on_screen {
                let line = Line {
                    label,
                    done,
                    total,
                    per_sec,
                    frame,
                    color,
                };
                draw(&format!("{CLEAR_LINE}{}", line.render(terminal_width())));
            }
        }
        match stopped.recv_timeout(TICK) {
            Err(RecvTimeoutError::Timeout) => continue,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let mut on_screen = ON_SCREEN.lock().unwrap_or_else(|e| e.into_inner());
    if std::mem::take(&mut *on_screen) {
        draw(CLEAR_LINE);
    }
}

/// Writes `text` to stderr at once; a failure loses a frame, nothing else.
fn draw(text: &str) {
    let mut err = io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

/// The terminal's width in columns (80 where it does not say).
fn terminal_width() -> usize {
    rustix::termios::tcgetwinsize(io::stderr())
        .ok()
        .map(|size| usize::from(size.ws_col))
        .filter(|&cols| cols > 0)
        .unwrap_or(80)
}

/// Bytes per second over the last [`RATE_TICKS`] ticks.
#[derive(Default)]
struct Rate {
    samples: VecDeque<(Duration, u64)>,
}

impl Rate {
    /// Records `done` bytes at `at`; returns the rate, once two samples apart
    /// in time are known.
    fn update(&mut self, at: Duration, done: u64) -> Option<f64> {
        if self.samples.len() > RATE_TICKS {
            self.samples.pop_front();
        }
        self.samples.push_back((at, done));
        let &(then, before) = self.samples.front()?;
        let secs = (at - then).as_secs_f64();
        (secs > 0.0).then(|| done.saturating_sub(before) as f64 / secs)
    }
}

/// One frame: a bar with bytes, total, rate and time left when the total is
/// known; a spinner with bytes and rate otherwise.
struct Line<'a> {
    label: &'a str,
    done: u64,
    total: Option<u64>,
    per_sec: Option<f64>,
    /// The frame's number, which turns the spinner.
    frame: usize,
    color: bool,
}

impl Line<'_> {
    /// The frame, `width - 1` columns where the label leaves room (a line
    /// that reaches the last column wraps on some terminals).
    fn render(&self, width: usize) -> String {
        let paint = |code: &str, text: &str| {
            if self.color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_string()
            }
        };
        let rate = match self.per_sec {
            Some(r) => format!("{}/s", human_bytes(r)),
            None => "? B/s".to_string(),
        };
        let Some(total) = self.total else {
            let spinner = ["|", "/", "-", "\\"][self.frame % 4];
            let bytes = human_bytes(self.done as f64);
            return format!("{} {} {bytes} {rate}", paint("36", spinner), self.label);
        };
        let left = match self.per_sec {
            Some(r) if r > 0.0 => human_duration(total.saturating_sub(self.done) as f64 / r),
            _ => "?".to_string(),
        };
        let tail = format!(
            "] {}/{} {rate} ETA {left}",
            human_bytes(self.done as f64),
            human_bytes(total as f64)
        );
        let room = width.saturating_sub(self.label.chars().count() + 2 + tail.chars().count() + 1);
        let cells = room.clamp(10, 100);
        let filled = match total {
            0 => cells,
            t => (cells as u128 * self.done.min(t) as u128 / t as u128) as usize,
        };
        let mut bar = "=".repeat(filled);
        if filled < cells {
            bar.push('>');
        }
        let empty = " ".repeat(cells - bar.len());
        format!(
            "{} [{}{}{tail}",
            self.label,
            paint("36", &bar),
            paint("34", &empty)
        )
    }
}

/// `n` bytes as indicatif and `ls -h` show them: 1023 B, 1.50 KiB, 8.00 MiB.
fn human_bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024.0 {
        return format!("{n:.0} B");
    }
    let mut value = n / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

/// A time left: 42s, 3m 05s, 2h 10m.
fn human_duration(secs: f64) -> String {
    let s = secs.ceil().min(u32::MAX as f64) as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, s / 60 % 60),
    }
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
    fn sizes_and_times_read_as_a_person_reads_them() {
        assert_eq!(human_bytes(0.0), "0 B");
        assert_eq!(human_bytes(1023.0), "1023 B");
        assert_eq!(human_bytes(1536.0), "1.50 KiB");
        assert_eq!(human_bytes((8u64 << 20) as f64), "8.00 MiB");
        assert_eq!(human_bytes((5u64 << 40) as f64), "5.00 TiB");
        assert_eq!(human_duration(0.2), "1s");
        assert_eq!(human_duration(185.0), "3m 05s");
        assert_eq!(human_duration(7800.0), "2h 10m");
    }

    #[test]
    fn the_rate_is_measured_over_the_recent_ticks() {
        let mut rate = Rate::default();
        assert_eq!(rate.update(Duration::ZERO, 0), None);
        assert_eq!(rate.update(Duration::from_secs(1), 100), Some(100.0));
        for t in 2..=100 {
            rate.update(Duration::from_secs(t), 100 + (t - 1) * 10);
        }
        // the first second's 100 B/s has left the window
        assert_eq!(rate.update(Duration::from_secs(101), 1100), Some(10.0));
    }

    #[test]
    fn a_bar_fills_the_width_and_a_spinner_turns() {
        let line = |total, done, color| Line {
            label: "patch out",
            done,
            total,
            per_sec: Some(1024.0 * 1024.0),
            frame: 1,
            color,
        };
        let half = line(Some(8 << 20), 4 << 20, false).render(80);
        assert_eq!(half.chars().count(), 79, "{half:?}");
        assert!(
            half.starts_with("patch out [=====") && half.contains("> "),
            "{half:?}"
        );
        assert!(
            half.ends_with("] 4.00 MiB/8.00 MiB 1.00 MiB/s ETA 4s"),
            "{half:?}"
        );
        let full = line(Some(8 << 20), 8 << 20, false).render(80);
        assert!(!full.contains('>') && !full.contains("= "), "{full:?}");
        let narrow = line(Some(0), 0, false).render(20);
        assert!(
            narrow.contains(&format!("[{}]", "=".repeat(10))),
            "{narrow:?}"
        );
        let spinner = line(None, 1536, true).render(80);
        assert_eq!(spinner, "\x1b[36m/\x1b[0m patch out 1.50 KiB 1.00 MiB/s");
    }
}
