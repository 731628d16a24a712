//! Signals and deaths in the middle of a run, driven on real processes held
//! mid-run by a slow pipe: nothing is left behind (no output, no temporary
//! file), an existing output stays as it was, and the process ends the way
//! rdiff does (by the signal). A signal after the commit does not turn a
//! written result into a failure.

use crate::util::*;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// The names in `dir`, sorted.
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// True when process `pid` has a descriptor open on a file in `dir` whose
/// name is not one of `except` (an output under way: named or unnamed).
pub fn has_file_open_in(pid: u32, dir: &Path, except: &[&str]) -> bool {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .any(|target| {
            target.parent() == Some(dir)
                && !except
                    .iter()
                    .any(|n| target.file_name() == Some(n.as_ref()))
        })
}

/// Starts `rsync-tool ARGS` (run in `dir`) with 1 MiB on a stdin kept open,
/// and waits until it has an output open in `dir` (besides `inputs`).
pub fn start_held(dir: &Path, args: &[&str], inputs: &[&str]) -> (Child, ChildStdin) {
    let mut child = Command::new(tool())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&gen_bytes(7, 1 << 20)).unwrap();
    let started = Instant::now();
    while !has_file_open_in(child.id(), dir, inputs) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no output was opened"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, stdin)
}

fn kill(signal: &str, pid: u32) {
    let ok = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {signal} {pid}");
}

fn interrupt(signal: &str, number: i32, existing: Option<&[u8]>) {
    let dir = tempdir();
    let d = dir.path();
    if let Some(old) = existing {
        std::fs::write(d.join("out.sig"), old).unwrap();
    }
    let (mut child, stdin) = start_held(d, &["-f", "signature", "-", "out.sig"], &[]);
    kill(signal, child.id());
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(
        status.signal(),
        Some(number),
        "{signal} must end the process by the signal, as rdiff: {status:?}"
    );
    match existing {
        Some(old) => {
            assert_eq!(names_in(d), ["out.sig"], "left after {signal}");
            assert_eq!(read(&d.join("out.sig")), old, "old output after {signal}");
        }
        None => assert!(names_in(d).is_empty(), "{signal} left {:?}", names_in(d)),
    }
}

// Case 17: SIGINT, SIGTERM and SIGHUP end the process by the signal.

#[test]
fn sigint_leaves_nothing_behind() {
    interrupt("-INT", 2, None);
}

#[test]
fn sigterm_keeps_the_old_output() {
    interrupt("-TERM", 15, Some(b"the previous signature"));
}

#[test]
fn sighup_leaves_nothing_behind() {
    interrupt("-HUP", 1, None);
}

// Case 10: every death leaves nothing behind.

#[test]
fn kill_9_leaves_no_temporary_file() {
    interrupt("-KILL", 9, Some(b"old"));
    interrupt("-KILL", 9, None);
}

#[test]
fn other_deadly_signals_leave_nothing_behind() {
    for (signal, number) in [
        ("-QUIT", 3),
        ("-USR1", 10),
        ("-USR2", 12),
        ("-ALRM", 14),
        ("-VTALRM", 26),
        ("-PROF", 27),
    ] {
        interrupt(signal, number, Some(b"old"));
    }
}

#[test]
fn file_size_limit_is_a_write_error_not_a_death() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "basis", &gen_bytes(3, 1 << 20));
    // 8 KiB at most; the signature of 1 MiB in 256-byte blocks is bigger
    let r = sh(
        &format!(
            "ulimit -f 8; exec '{}' -b 256 signature basis out",
            tool().display()
        ),
        d,
        None,
    );
    assert_eq!(
        r.code(),
        Some(100),
        "SIGXFSZ is ignored, the write fails: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_eq!(names_in(d), ["basis"]);
}

// Case 2: once the result is in place, a signal does not make the run fail.

#[test]
fn a_signal_after_the_commit_still_reports_success() {
    let dir = tempdir();
    let d = dir.path();
    let basis = gen_bytes(11, 200_000);
    let new = scattered_edits(&basis, 5, 10, 100);
    write(d, "B", &basis);
    write(d, "new", &new);
    tool_ok(d, &["signature", "B", "sig"]);
    tool_ok(d, &["delta", "sig", "new", "D"]);
    // stderr is a full pipe: the statistics line, written after the commit,
    // holds the process there.
    let (mut reader, mut writer) = std::io::pipe().unwrap();
    writer.write_all(&vec![b'x'; 65536]).unwrap();
    let mut child = Command::new(tool())
        .args(["-s", "-f", "patch", "B", "D", "B"])
        .current_dir(d)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(writer)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while read(&d.join("B")) != new {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "B never replaced"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(100));
    kill("-TERM", child.id());
    std::thread::sleep(Duration::from_millis(100));
    let drain = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = reader.read_to_end(&mut all);
    });
    let status = child.wait().unwrap();
    drain.join().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "B is the new file, so the run succeeded: {status:?}"
    );
    assert_eq!(read(&d.join("B")), new);
}

fn tool_ok(dir: &Path, args: &[&str]) {
    let st = Command::new(tool())
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "{args:?}: {st:?}");
}

// Case 12: outputs are opened only once the signature is loaded.

#[test]
fn delta_opens_its_outputs_after_loading_the_signature() {
    let dir = tempdir();
    let d = dir.path();
    let basis = gen_bytes(21, 1 << 20);
    write(d, "basis", &basis);
    write(d, "new", &basis[..1000]);
    tool_ok(d, &["-b", "256", "signature", "basis", "sig"]);
    let sig = read(&d.join("sig"));
    let mut child = Command::new(tool())
        .args(["delta", "--sha256-file", "H", "-", "new", "D"])
        .current_dir(d)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&sig[..sig.len() / 2]).unwrap();
    // wait until it has read what was sent
    std::thread::sleep(Duration::from_millis(500));
    let pid = child.id();
    assert!(
        !has_file_open_in(pid, d, &["new"]),
        "an output was opened while the signature was still loading"
    );
    kill("-KILL", pid);
    child.wait().unwrap();
    drop(stdin);
    assert_eq!(names_in(d), ["basis", "new", "sig"]);
}

// Case 13: a closed stderr loses the messages, never the run.

#[test]
fn a_closed_stderr_is_no_abort() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "basis", &gen_bytes(4, 100_000));
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let status = Command::new(tool())
        .args(["-s", "-v", "signature", "basis", "out"])
        .current_dir(d)
        .stderr(writer)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_eq!(names_in(d), ["basis", "out"]);
}

// Case 16: a reader that goes away ends us by SIGPIPE, as rdiff, after
// removing temporaries.

#[test]
fn a_closed_stdout_ends_by_sigpipe() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "basis", &gen_bytes(1, 100_000));
    write(d, "new", &gen_bytes(2, 4 << 20));
    tool_ok(d, &["signature", "basis", "sig"]);
    let t = tool().display().to_string();
    let code = bash(
        &format!("set -o pipefail; '{t}' delta --sha256-file H sig new | head -c1000 >/dev/null"),
        d,
    );
    assert_eq!(code, Some(141));
    assert_eq!(names_in(d), ["basis", "new", "sig"]);
    if let Some(rdiff) = rdiff() {
        let code = bash(
            &format!(
                "set -o pipefail; '{}' delta sig new | head -c1000 >/dev/null",
                rdiff.display()
            ),
            d,
        );
        assert_eq!(code, Some(141), "rdiff");
    }
}

/// Runs a bash script in `dir`: its exit code.
pub fn bash(script: &str, dir: &Path) -> Option<i32> {
    Command::new("bash")
        .args(["-c", script])
        .current_dir(dir)
        .status()
        .unwrap()
        .code()
}
