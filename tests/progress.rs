//! Progress on stderr, seen the way a person sees it: the real binary runs
//! with its stderr on a pseudo-terminal, and we read what reaches the
//! screen. Without a terminal nothing but errors may reach stderr.

use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::open_pty;

/// What a run left on the terminal and in its output.
struct Screen {
    status: i32,
    /// The signal that ended it, if one did.
    signal: Option<i32>,
    /// Everything written to the terminal (stderr), escape codes included.
    tty: String,
    stdout: Vec<u8>,
}

/// Runs rsync-tool in `dir` with stderr on a terminal; `stdin` is fed in
/// chunks, with a pause after each.
fn on_terminal(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &[(&[u8], Duration)],
) -> Screen {
    let running = Running::start(dir, args, env, stdin, None);
    running.wait()
}

/// rsync-tool running with stderr on a terminal, what reached the terminal
/// so far, and its stdout being read.
struct Running {
    child: std::process::Child,
    tty: Arc<Mutex<Vec<u8>>>,
    reader: thread::JoinHandle<()>,
    stdout: thread::JoinHandle<Vec<u8>>,
}

impl Running {
    /// Starts rsync-tool as [`on_terminal`] does; with `stdout_pace`, its
    /// stdout is read 256 KiB at a time with that pause after each read.
    fn start(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: &[(&[u8], Duration)],
        stdout_pace: Option<Duration>,
    ) -> Running {
        let (mut master, slave) = open_pty();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rsync-tool"));
        cmd.args(args)
            .current_dir(dir)
            .env("TERM", "xterm-256color")
            .env_remove("NO_COLOR")
            .stdin(if stdin.is_empty() {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::from(slave));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn rsync-tool");
        // the child has the slave now; ours must close, or reading never ends
        drop(cmd);
        let tty = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&tty);
        let reader = thread::spawn(move || {
            let mut buf = [0; 4096];
            // the read fails (EIO) once the child has exited and closed it
            while let Ok(n @ 1..) = master.read(&mut buf) {
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let mut stdout_pipe = child.stdout.take().unwrap();
        let stdout = thread::spawn(move || {
            let mut out = Vec::new();
            let Some(pause) = stdout_pace else {
                stdout_pipe.read_to_end(&mut out).unwrap();
                return out;
            };
            let mut buf = vec![0; 256 << 10];
            while let Ok(n @ 1..) = stdout_pipe.read(&mut buf) {
                out.extend_from_slice(&buf[..n]);
                thread::sleep(pause);
            }
            out
        });
        if let Some(mut input) = child.stdin.take() {
            for (chunk, pause) in stdin {
                input.write_all(chunk).unwrap();
                thread::sleep(*pause);
            }
        }
        Running {
            child,
            tty,
            reader,
            stdout,
        }
    }

    /// What reached the terminal so far.
    fn tty(&self) -> String {
        String::from_utf8_lossy(&self.tty.lock().unwrap()).into_owned()
    }

    /// Waits for the end (at most a minute).
    fn wait(mut self) -> Screen {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "rsync-tool hangs"
            );
            thread::sleep(Duration::from_millis(10));
        };
        let tty = self.tty.clone();
        self.reader.join().unwrap();
        Screen {
            status: status.code().unwrap_or(-1),
            signal: status.signal(),
            tty: String::from_utf8_lossy(&tty.lock().unwrap()).into_owned(),
            stdout: self.stdout.join().unwrap(),
        }
    }
}

/// Random-looking bytes, deterministic.
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn setup(len: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old"), data(len, 7)).unwrap();
    dir
}

fn plain_run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rsync-tool"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// The frames drawn: the text between carriage returns, escape codes kept.
fn frames(tty: &str) -> Vec<&str> {
    tty.split('\r').filter(|f| f.contains("B/s")).collect()
}

#[test]
fn a_bar_shows_on_a_terminal_and_the_output_is_unchanged() {
    let dir = setup(8 << 20);
    let screen = on_terminal(dir.path(), &["--progress", "signature", "old"], &[], &[]);
    assert_eq!(screen.status, 0, "{}", screen.tty);
    let drawn = frames(&screen.tty);
    assert!(!drawn.is_empty(), "no bar: {:?}", screen.tty);
    let frame = drawn[0];
    for part in ["signature old", "[", "8.00 MiB", "ETA"] {
        assert!(frame.contains(part), "{part:?} not in the bar {frame:?}");
    }
    // cleared at the end: the last thing on the screen is the erase-line code
    assert!(screen.tty.ends_with("\r\x1b[2K"), "{:?}", screen.tty);
    let plain = plain_run(dir.path(), &["signature", "old"]);
    assert!(plain.stderr.is_empty());
    assert_eq!(screen.stdout, plain.stdout, "progress changed the output");
}

#[test]
fn a_pipe_gets_a_moving_spinner_after_a_second() {
    let dir = setup(1 << 20);
    let chunk = data(256 << 10, 9);
    let pause = Duration::from_millis(400);
    let feed: Vec<(&[u8], Duration)> = (0..5).map(|_| (&chunk[..], pause)).collect();
    let screen = on_terminal(dir.path(), &["signature"], &[], &feed);
    assert_eq!(screen.status, 0, "{}", screen.tty);
    let drawn = frames(&screen.tty);
    assert!(!drawn.is_empty(), "no spinner after 2 s: {:?}", screen.tty);
    // a spinner: bytes and rate, no total, no ETA; and it moves
    assert!(
        drawn
            .iter()
            .all(|f| f.contains("signature stdin") && !f.contains("ETA"))
    );
    // the byte count: the number and unit after the label
    let mut counts: Vec<Vec<&str>> = drawn
        .iter()
        .map(|f| {
            let after = f.split("stdin ").nth(1).unwrap();
            after.split_whitespace().take(2).collect()
        })
        .collect();
    counts.dedup();
    assert!(counts.len() >= 2, "the count did not move: {drawn:?}");
    // nothing in the first second: the first frame counts at least two chunks
    assert_ne!(counts[0], ["256.00", "KiB"], "shown before a second");
}

#[test]
fn a_quick_run_shows_nothing_without_progress_flag() {
    // small enough to finish well within the bar's one-second delay even in
    // a debug build on a loaded machine
    let dir = setup(64 << 10);
    let screen = on_terminal(dir.path(), &["signature", "old", "old.sig"], &[], &[]);
    assert_eq!(screen.status, 0);
    assert_eq!(screen.tty, "");
}

#[test]
fn no_progress_and_dumb_terminals_show_nothing() {
    let dir = setup(4 << 20);
    let screen = on_terminal(
        dir.path(),
        &["--progress", "--no-progress", "signature", "old"],
        &[],
        &[],
    );
    assert_eq!((screen.status, screen.tty.as_str()), (0, ""));
    let screen = on_terminal(
        dir.path(),
        &["--progress", "signature", "old"],
        &[("TERM", "dumb")],
        &[],
    );
    assert_eq!((screen.status, screen.tty.as_str()), (0, ""));
}

#[test]
fn no_color_draws_the_bar_without_colours() {
    let dir = setup(4 << 20);
    let screen = on_terminal(
        dir.path(),
        &["--progress", "signature", "old"],
        &[("NO_COLOR", "1")],
        &[],
    );
    assert_eq!(screen.status, 0);
    assert!(!frames(&screen.tty).is_empty(), "{:?}", screen.tty);
    // SGR codes end in 'm'; erase-line ("\x1b[2K") is all that may remain
    assert!(
        !screen.tty.contains("m\x1b") && !screen.tty.contains("\x1b[0m"),
        "{:?}",
        screen.tty
    );
    let colour = on_terminal(dir.path(), &["--progress", "signature", "old"], &[], &[]);
    assert!(
        colour.tty.contains("\x1b[0m"),
        "the default bar has colours"
    );
}

#[test]
fn statistics_and_errors_come_after_the_bar_is_cleared() {
    let dir = setup(4 << 20);
    let screen = on_terminal(
        dir.path(),
        &["--progress", "-s", "signature", "old", "old.sig"],
        &[],
        &[],
    );
    assert_eq!(screen.status, 0);
    assert!(!frames(&screen.tty).is_empty(), "{:?}", screen.tty);
    let (_, after) = screen.tty.rsplit_once("\x1b[2K").unwrap();
    assert!(
        after.starts_with("librsync: signature statistics: ") && !after.contains('\x1b'),
        "{after:?}"
    );

    // a delta cut short: the error line is alone on a clean line
    let sig = std::fs::read(dir.path().join("old.sig")).unwrap();
    let new = data(1 << 20, 8);
    std::fs::write(dir.path().join("new"), &new).unwrap();
    let delta = plain_run(dir.path(), &["delta", "old.sig", "new"]).stdout;
    std::fs::write(dir.path().join("cut.delta"), &delta[..delta.len() / 2]).unwrap();
    let screen = on_terminal(
        dir.path(),
        &["--progress", "patch", "old", "cut.delta", "out"],
        &[],
        &[],
    );
    assert_eq!(screen.status, 103, "{:?}", screen.tty);
    let (_, after) = screen.tty.rsplit_once("\x1b[2K").unwrap();
    assert!(after.starts_with("rsync-tool: cut.delta: "), "{after:?}");
    assert_eq!(after.trim_end().lines().count(), 1, "{after:?}");
    assert!(!dir.path().join("out").exists());
    assert!(!sig.is_empty());
}

#[test]
fn stderr_is_empty_when_it_is_not_a_terminal() {
    let dir = setup(4 << 20);
    std::fs::write(dir.path().join("new"), data(4 << 20, 8)).unwrap();
    for args in [
        &["--progress", "signature", "old", "old.sig"][..],
        &["--progress", "delta", "old.sig", "new", "new.delta"],
        &["--progress", "patch", "old", "new.delta", "out"],
    ] {
        let out = plain_run(dir.path(), args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {:?}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(
        std::fs::read(dir.path().join("out")).unwrap(),
        data(4 << 20, 8)
    );
}

/// A delta that is one COPY of `len` bytes from the basis's start.
fn one_copy_delta(len: u32) -> Vec<u8> {
    let mut delta = vec![0x72, 0x73, 0x02, 0x36, 0x45 + 2 * 4 + 2, 0, 0, 0, 0];
    delta.extend_from_slice(&len.to_be_bytes());
    delta.push(0);
    delta
}

/// The byte counts of the frames of a bar: "done/total" pairs.
fn bar_counts(tty: &str) -> Vec<(String, String)> {
    frames(tty)
        .iter()
        .filter_map(|f| {
            let words: Vec<&str> = f.split_whitespace().collect();
            let at = words
                .iter()
                .position(|w| w.contains("iB/") || w.starts_with("B/"))?;
            let (done, total) = words[at].split_once('/')?;
            Some((
                format!("{} {done}", words[at - 1]),
                format!("{total} {}", words[at + 1]),
            ))
        })
        .collect()
}

#[test]
fn the_patch_bar_counts_the_result_written_of_its_total() {
    let dir = setup(32 << 20);
    std::fs::write(dir.path().join("copy.delta"), one_copy_delta(32 << 20)).unwrap();
    // stdout read slowly: the one COPY takes over a second
    let running = Running::start(
        dir.path(),
        &["--progress", "patch", "old", "copy.delta"],
        &[],
        &[],
        Some(Duration::from_millis(15)),
    );
    let screen = running.wait();
    assert_eq!(screen.status, 0, "{:?}", screen.tty);
    assert_eq!(screen.stdout, data(32 << 20, 7));
    let counts = bar_counts(&screen.tty);
    assert!(
        frames(&screen.tty)
            .iter()
            .all(|f| f.contains("patch stdout") && f.contains("ETA")),
        "{:?}",
        screen.tty
    );
    // the total is the result's size (not the 14-byte delta's), and the
    // count moves during the COPY
    assert!(!counts.is_empty(), "no bar: {:?}", screen.tty);
    assert!(
        counts.iter().all(|(_, total)| total == "32.00 MiB"),
        "{counts:?}"
    );
    let mut done: Vec<&str> = counts.iter().map(|(d, _)| d.as_str()).collect();
    done.dedup();
    let moving: Vec<_> = done
        .iter()
        .filter(|d| !d.ends_with(" 0 B") && **d != "32.00 MiB")
        .collect();
    assert!(
        done.len() >= 3 && !moving.is_empty(),
        "the count did not move: {done:?}"
    );
    assert!(screen.tty.ends_with("\r\x1b[2K"), "{:?}", screen.tty);
}

#[test]
fn a_piped_delta_gets_a_spinner_of_bytes_written() {
    let dir = setup(4 << 20);
    let delta = one_copy_delta(4 << 20);
    let (head, tail) = delta.split_at(6);
    let pause = Duration::from_millis(600);
    let screen = on_terminal(
        dir.path(),
        &["--progress", "patch", "old", "-", "out"],
        &[],
        &[(head, pause), (tail, Duration::ZERO)],
    );
    assert_eq!(screen.status, 0, "{:?}", screen.tty);
    let drawn = frames(&screen.tty);
    assert!(!drawn.is_empty(), "no spinner: {:?}", screen.tty);
    assert!(
        drawn
            .iter()
            .all(|f| f.contains("patch out") && !f.contains("ETA")),
        "{drawn:?}"
    );
    assert_eq!(
        std::fs::read(dir.path().join("out")).unwrap(),
        data(4 << 20, 7)
    );
}

#[test]
fn ctrl_c_clears_the_bar_and_the_process_dies_by_sigint() {
    let dir = setup(64 << 20);
    std::fs::write(dir.path().join("copy.delta"), one_copy_delta(64 << 20)).unwrap();
    // stdout read very slowly: the patch is still under way when SIGINT comes
    let running = Running::start(
        dir.path(),
        &["--progress", "patch", "old", "copy.delta"],
        &[],
        &[],
        Some(Duration::from_millis(50)),
    );
    let started = Instant::now();
    while frames(&running.tty()).is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no bar: {:?}",
            running.tty()
        );
        thread::sleep(Duration::from_millis(20));
    }
    thread::sleep(Duration::from_millis(300));
    let pid = rustix::process::Pid::from_raw(running.child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    let screen = running.wait();
    assert_eq!(
        screen.signal,
        Some(libc::SIGINT),
        "status {}",
        screen.status
    );
    assert!(
        screen.stdout.len() < 64 << 20,
        "the patch was over before SIGINT"
    );
    assert!(
        screen.tty.ends_with("\r\x1b[2K"),
        "not cleared: {:?}",
        screen.tty
    );
}
