//! SIGINT, SIGTERM and SIGHUP in the middle of a run leave no output and no
//! temporary file, keep an existing output as it was, and exit 128 + N.

use crate::util::*;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn interrupt(signal: &str, code: i32, existing: Option<&[u8]>) {
    let dir = tempdir();
    let d = dir.path();
    let out = d.join("out.sig");
    if let Some(old) = existing {
        std::fs::write(&out, old).unwrap();
    }
    let mut child = Command::new(tool())
        .args(["-f", "signature", "-"])
        .arg(&out)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Feed some input and keep the pipe open: the run is under way, its
    // temporary output exists, and it waits for more.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&gen_bytes(7, 1 << 20)).unwrap();
    let started = Instant::now();
    let temp_exists = || {
        std::fs::read_dir(d)
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))
    };
    while !temp_exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no temporary output appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    drop(stdin);
    assert_eq!(status.code(), Some(code), "exit status after {signal}");
    let names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    match existing {
        Some(old) => {
            assert_eq!(
                names,
                ["out.sig"],
                "only the old output is left after {signal}"
            );
            assert_eq!(read(&out), old, "the old output is intact after {signal}");
        }
        None => assert!(names.is_empty(), "{signal} left {names:?}"),
    }
}

#[test]
fn sigint_leaves_nothing_behind() {
    interrupt("-INT", 130, None);
}

#[test]
fn sigterm_keeps_the_old_output() {
    interrupt("-TERM", 143, Some(b"the previous signature"));
}

#[test]
fn sighup_leaves_nothing_behind() {
    interrupt("-HUP", 129, None);
}
