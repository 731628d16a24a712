//! Progress on stderr, seen the way a person sees it: the real binary runs
//! with its stderr on a pseudo-terminal, and we read what reaches the
//! screen. Without a terminal nothing but errors may reach stderr.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// What a run left on the terminal and in its output.
struct Screen {
    status: i32,
    /// Everything written to the terminal (stderr), escape codes included.
    tty: String,
    stdout: Vec<u8>,
}

/// A pseudo-terminal of 100 columns: (master, slave).
fn open_pty() -> (File, OwnedFd) {
    let size = libc::winsize {
        ws_row: 30,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors into the locals; the name and
    // termios pointers may be null, the winsize pointer is to a live value.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(r, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Runs rsync-tool in `dir` with stderr on a terminal; `stdin` is fed in
/// chunks, with a pause after each.
fn on_terminal(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &[(&[u8], Duration)],
) -> Screen {
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
    let reader = thread::spawn(move || {
        let mut seen = Vec::new();
        // the read fails (EIO) once the child has exited and closed it
        let _ = master.read_to_end(&mut seen);
        seen
    });
    let mut stdout_pipe = child.stdout.take().unwrap();
    let stdout = thread::spawn(move || {
        let mut out = Vec::new();
        stdout_pipe.read_to_end(&mut out).unwrap();
        out
    });
    if let Some(mut input) = child.stdin.take() {
        for (chunk, pause) in stdin {
            input.write_all(chunk).unwrap();
            thread::sleep(*pause);
        }
    }
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "rsync-tool hangs"
        );
        thread::sleep(Duration::from_millis(10));
    };
    Screen {
        status: status.code().unwrap_or(-1),
        tty: String::from_utf8_lossy(&reader.join().unwrap()).into_owned(),
        stdout: stdout.join().unwrap(),
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
