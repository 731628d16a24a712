//! Outputs are never half-written, never clobbered, and written where rdiff
//! writes: the cases of the "outputs" issue, each on the real binary.
//! Permission cases run as a non-root user created here (root would hide
//! them); they are skipped loudly where that is impossible.

use crate::signals::{bash, names_in, start_held};
use crate::util::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn skip(why: &str) {
    use std::io::Write;
    let msg = format!(
        "\n**************************************************************\n\
         ** WARNING: {why}\n\
         ** SKIPPING {}: nothing was checked.\n\
         **************************************************************\n",
        std::thread::current().name().unwrap_or("?")
    );
    let _ = std::io::stderr().write_all(msg.as_bytes());
}

const USER: &str = "rsync-tool-test";

/// The uid and gid of a non-root user for permission tests, created once;
/// None (after a loud warning) when we are not root or cannot create it.
pub(crate) fn test_user() -> Option<(u32, u32)> {
    static USER_IDS: OnceLock<Result<(u32, u32), String>> = OnceLock::new();
    let ids = USER_IDS.get_or_init(|| {
        if !is_root() {
            return Err("not root: cannot create a non-root test user".into());
        }
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").args([flag, USER]).output().ok()?;
            String::from_utf8(out.stdout).ok()?.trim().parse().ok()
        };
        if id("-u").is_none() {
            let _ = Command::new("useradd")
                .args(["-M", "-r", "-s", "/usr/sbin/nologin", USER])
                .stderr(Stdio::null())
                .status();
        }
        match (id("-u"), id("-g")) {
            (Some(u), Some(g)) => Ok((u, g)),
            _ => Err(format!("cannot create the user {USER} (useradd)")),
        }
    });
    match ids {
        Ok(ids) => Some(*ids),
        Err(why) => {
            skip(why);
            None
        }
    }
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Runs `prog ARGS` in `dir` as the test user.
pub(crate) fn as_user(prog: &Path, args: &[&str], dir: &Path) -> Output {
    let (uid, gid) = test_user().expect("test user");
    Command::new("setpriv")
        .arg(format!("--reuid={uid}"))
        .arg(format!("--regid={gid}"))
        .arg("--clear-groups")
        .arg("--")
        .arg(prog)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn run_tool(args: &[&str], dir: &Path) -> Output {
    Command::new(tool())
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(args: &[&str], dir: &Path) {
    let out = run_tool(args, dir);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn chown(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
}

/// A world-readable directory with `basis` and the signature of it
/// (`expected.sig`), for outputs elsewhere to be compared with.
fn setup() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempdir();
    let d = dir.path().to_path_buf();
    chmod(&d, 0o755);
    write(&d, "basis", &gen_bytes(31, 100_000));
    ok(&["signature", "basis", "expected.sig"], &d);
    let sig = read(&d.join("expected.sig"));
    std::fs::remove_file(d.join("expected.sig")).unwrap();
    (dir, d, sig)
}

// ------------------------------------------------------------- case 1

#[test]
fn an_output_appearing_while_we_work_is_not_replaced() {
    let dir = tempdir();
    let d = dir.path();
    let (child, stdin) = start_held(d, &["signature", "-", "out"], &[]);
    std::fs::write(d.join("out"), b"theirs").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(100), "{out:?}");
    assert_eq!(read(&d.join("out")), b"theirs", "the other output is kept");
    assert_eq!(names_in(d), ["out"], "our result is discarded");
}

// ------------------------------------------------------------- case 3

#[test]
fn paths_naming_the_same_file_are_refused_by_inode() {
    let (_dir, d, _) = setup();
    write(&d, "new", &gen_bytes(32, 50_000));
    ok(&["signature", "basis", "sig"], &d);
    let abs_d = d.join("D").display().to_string();
    // neither exists yet: ./D and D, and D by its absolute path
    for sha in ["./D", abs_d.as_str()] {
        let out = run_tool(&["delta", "--sha256-file", sha, "sig", "new", "D"], &d);
        assert_eq!(out.status.code(), Some(101), "{sha}: {out:?}");
        assert!(!d.join("D").exists());
    }
    write(&d, "D", b"the old delta");
    std::fs::hard_link(d.join("D"), d.join("H")).unwrap();
    std::os::unix::fs::symlink("D", d.join("L")).unwrap();
    for sha in ["./D", abs_d.as_str(), "H", "L"] {
        let out = run_tool(
            &["-f", "delta", "--sha256-file", sha, "sig", "new", "D"],
            &d,
        );
        assert_eq!(out.status.code(), Some(101), "{sha}: {out:?}");
        assert_eq!(read(&d.join("D")), b"the old delta", "{sha}");
    }
    // an output that is an input
    let new = read(&d.join("new"));
    for args in [
        &["-f", "delta", "sig", "new", "new"][..],
        &["-f", "delta", "sig", "new", "./new"],
        &["-f", "delta", "--sha256-file", "sig", "sig", "new", "D"],
        &["-f", "signature", "new", "new"],
    ] {
        let out = run_tool(args, &d);
        assert_eq!(out.status.code(), Some(101), "{args:?}: {out:?}");
        assert_eq!(read(&d.join("new")), new, "{args:?}");
    }
    // patch -f B D B is meant, and works; --inplace may not do it
    ok(&["delta", "sig", "new", "delta"], &d);
    let out = run_tool(&["--inplace", "-f", "patch", "basis", "delta", "basis"], &d);
    assert_eq!(out.status.code(), Some(101), "{out:?}");
    ok(&["-f", "patch", "basis", "delta", "basis"], &d);
    assert_eq!(read(&d.join("basis")), new);
}

// ------------------------------------------------------------- case 4

#[test]
fn a_failing_sha256_file_keeps_the_delta_from_being_committed() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "basis", &gen_bytes(33, 100_000));
    ok(&["signature", "basis", "sig"], d);
    let (child, stdin) = start_held(
        d,
        &["delta", "--sha256-file", "H", "sig", "-", "D"],
        &["sig"],
    );
    std::fs::write(d.join("H"), b"theirs").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(100), "{out:?}");
    assert_eq!(read(&d.join("H")), b"theirs");
    assert_eq!(names_in(d), ["H", "basis", "sig"], "no delta was committed");
}

// ------------------------------------------------------------- case 5

#[test]
fn force_keeps_owner_group_mode_and_extended_attributes() {
    let Some((uid, gid)) = test_user() else {
        return;
    };
    let (_dir, d, sig) = setup();
    let out = write(&d, "out", b"a user's setuid program");
    chown(&out, uid, gid);
    chmod(&out, 0o4755);
    let xattr = Command::new("python3")
        .args([
            "-c",
            "import os,sys; os.setxattr(sys.argv[1], 'user.kept', b'yes')",
        ])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !xattr {
        skip("no user xattrs here: the attribute part of this test");
    }
    ok(&["-f", "signature", "basis", "out"], &d);
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(read(&out), sig);
    assert_eq!((meta.uid(), meta.gid()), (uid, gid), "owner and group kept");
    assert_eq!(meta.mode() & 0o7777, 0o4755, "mode kept");
    if xattr {
        let got = Command::new("python3")
            .args([
                "-c",
                "import os,sys; print(os.getxattr(sys.argv[1], 'user.kept'))",
            ])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "b'yes'");
    }
    // as the user, a group it is not in cannot be given to a new file: the
    // result is written into the file, which keeps the group, and the
    // system drops setgid on a write by someone outside it
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    chown(&sub, uid, gid);
    let out = write(&sub, "out", b"setgid root");
    chown(&out, uid, 0);
    chmod(&out, 0o2775);
    let r = as_user(&tool(), &["-f", "signature", "../basis", "out"], &sub);
    assert!(r.status.success(), "{r:?}");
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(read(&out), sig);
    assert_eq!((meta.uid(), meta.gid()), (uid, 0), "owner and group kept");
    assert_eq!(meta.mode() & 0o7777, 0o775, "setgid dropped");
}

#[test]
fn force_over_someone_elses_file_keeps_its_owner_and_group() {
    let Some((uid, gid)) = test_user() else {
        return;
    };
    let (_dir, d, sig) = setup();
    // root's file, writable by the user's group, in a directory the user
    // may write: a new file could not be given root as its owner, so the
    // result is written into the file, as rdiff does
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    chown(&sub, uid, gid);
    let out = write(&sub, "out", b"root's file");
    chown(&out, 0, gid);
    chmod(&out, 0o664);
    let ino = std::fs::metadata(&out).unwrap().ino();
    let r = as_user(&tool(), &["-f", "signature", "../basis", "out"], &sub);
    assert!(r.status.success(), "{r:?}");
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(read(&out), sig);
    assert_eq!((meta.uid(), meta.gid()), (0, gid), "owner and group kept");
    assert_eq!(meta.mode() & 0o7777, 0o664, "mode kept");
    assert_eq!(meta.ino(), ino, "written into");
    assert_eq!(names_in(&sub), ["out"], "no temporary left");
}

// ------------------------------------------------------------- case 6

#[test]
fn force_writes_into_a_file_in_a_directory_the_user_cannot_write() {
    let Some((uid, gid)) = test_user() else {
        return;
    };
    let (_dir, d, sig) = setup();
    // the directory is root's 0755; the file is the user's
    let out = write(&d, "out", b"old");
    chown(&out, uid, gid);
    let ino = std::fs::metadata(&out).unwrap().ino();
    let r = as_user(&tool(), &["-v", "-f", "signature", "basis", "out"], &d);
    assert!(r.status.success(), "{r:?}");
    assert_eq!(read(&out), sig);
    assert_eq!(std::fs::metadata(&out).unwrap().ino(), ino);
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("elsewhere"),
        "-v says where the result was built: {r:?}"
    );
    assert_eq!(names_in(&d), ["basis", "out"]);
    if let Some(rdiff) = rdiff() {
        let r = as_user(&rdiff, &["-f", "signature", "basis", "out"], &d);
        assert!(r.status.success(), "rdiff too: {r:?}");
    }
}

#[test]
fn force_works_in_a_sticky_directory() {
    let Some(_) = test_user() else { return };
    let (_dir, d, sig) = setup();
    let sticky = d.join("sticky");
    std::fs::create_dir(&sticky).unwrap();
    chmod(&sticky, 0o1777);
    // root's file, writable by all: the user may write it, not rename over it
    let out = write(&sticky, "out", b"old");
    chmod(&out, 0o666);
    let r = as_user(&tool(), &["-f", "signature", "../basis", "out"], &sticky);
    assert!(r.status.success(), "{r:?}");
    assert_eq!(read(&out), sig);
    assert_eq!(std::fs::metadata(&out).unwrap().uid(), 0);
    assert_eq!(names_in(&sticky), ["out"]);
}

#[test]
fn force_works_on_a_bind_mounted_file() {
    if !is_root() {
        return skip("not root: no mount --bind");
    }
    let (_dir, d, sig) = setup();
    let source = write(&d, "source", b"old");
    let target = write(&d, "target", b"");
    let mounted = Command::new("mount")
        .arg("--bind")
        .args([&source, &target])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        return skip("mount --bind is not available here");
    }
    let r = run_tool(&["-f", "signature", "basis", "target"], &d);
    let _ = Command::new("umount").arg(&target).status();
    assert!(r.status.success(), "{r:?}");
    assert_eq!(read(&source), sig, "written into the mounted file");
    assert_eq!(names_in(&d), ["basis", "source", "target"]);
}

#[test]
fn names_of_up_to_255_bytes_work() {
    let (_dir, d, sig) = setup();
    for len in [244, 250, 255] {
        let name = "n".repeat(len);
        ok(&["signature", "basis", &name], &d);
        assert_eq!(read(&d.join(&name)), sig);
        write(&d, &name, b"old");
        ok(&["-f", "signature", "basis", &name], &d);
        assert_eq!(read(&d.join(&name)), sig);
        std::fs::remove_file(d.join(&name)).unwrap();
    }
    assert_eq!(names_in(&d), ["basis"]);
}

#[test]
fn inplace_keeps_the_inode_and_hard_links() {
    let (_dir, d, sig) = setup();
    let out = write(&d, "out", &gen_bytes(34, 300_000));
    std::fs::hard_link(&out, d.join("link")).unwrap();
    let ino = std::fs::metadata(&out).unwrap().ino();
    ok(&["--inplace", "-f", "signature", "basis", "out"], &d);
    assert_eq!(read(&out), sig, "shorter than the old file: truncated");
    assert_eq!(read(&d.join("link")), sig);
    assert_eq!(std::fs::metadata(&out).unwrap().ino(), ino);
    assert_eq!(names_in(&d), ["basis", "link", "out"]);
}

// ------------------------------------------------------------- case 7

#[test]
fn force_needs_write_permission_on_the_file_as_in_rdiff() {
    let Some((uid, gid)) = test_user() else {
        return;
    };
    let (_dir, d, _) = setup();
    let sub = d.join("sub");
    std::fs::create_dir(&sub).unwrap();
    chown(&sub, uid, gid);
    for mode in [0o444, 0o000] {
        let out = write(&sub, "out", b"read-only");
        chown(&out, uid, gid);
        chmod(&out, mode);
        let r = as_user(&tool(), &["-f", "signature", "../basis", "out"], &sub);
        assert_eq!(r.status.code(), Some(100), "mode {mode:o}: {r:?}");
        assert_eq!(read(&out), b"read-only");
        assert_eq!(names_in(&sub), ["out"]);
        if let Some(rdiff) = rdiff() {
            let r = as_user(&rdiff, &["-f", "signature", "../basis", "out"], &sub);
            assert_eq!(r.status.code(), Some(100), "rdiff, mode {mode:o}");
        }
        std::fs::remove_file(&out).unwrap();
    }
}

// ------------------------------------------------------------- case 8

#[test]
fn a_dangling_symlink_output_creates_its_target() {
    let (_dir, d, sig) = setup();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("sub/target", d.join("link")).unwrap();
    ok(&["signature", "basis", "link"], &d);
    assert!(
        std::fs::symlink_metadata(d.join("link"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(read(&d.join("sub/target")), sig);
    // and now it exists: -f needed, as for any output
    let out = run_tool(&["signature", "basis", "link"], &d);
    assert_eq!(out.status.code(), Some(100));
}

// ------------------------------------------------------------- case 9

#[test]
fn closed_standard_descriptors_are_errors() {
    let (_dir, d, _) = setup();
    let t = tool().display().to_string();
    let mut progs = vec![t];
    progs.extend(rdiff().map(|p| p.display().to_string()));
    for prog in progs {
        assert_eq!(
            bash(&format!("'{prog}' signature basis >&-"), &d),
            Some(100),
            "{prog} >&-"
        );
        assert_eq!(
            bash(&format!("'{prog}' signature <&- > s"), &d),
            Some(100),
            "{prog} <&-"
        );
        let _ = std::fs::remove_file(d.join("s"));
    }
    // a /dev/null the shell opened is no closed descriptor
    assert_eq!(
        bash(
            &format!("'{}' signature basis >/dev/null", tool().display()),
            &d
        ),
        Some(0)
    );
    assert_eq!(
        bash(
            &format!("'{}' signature </dev/null >s", tool().display()),
            &d
        ),
        Some(0)
    );
}

// ------------------------------------------------------------- case 18

#[test]
fn sha256_file_hashes_what_the_delta_covers_while_new_grows() {
    let dir = tempdir();
    let d = dir.path();
    let basis = gen_bytes(35, 2 << 20);
    write(d, "basis", &basis);
    write(d, "new", &basis);
    ok(&["signature", "basis", "sig"], d);
    let new_path = d.join("new");
    // NEW grows by 4 KiB every millisecond, at most 8 MiB, while deltas run
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let grower = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(new_path)
                .unwrap();
            let chunk = gen_bytes(36, 4096);
            for _ in 0..2048 {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                f.write_all(&chunk).unwrap();
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let started = Instant::now();
    let mut results = Vec::new();
    for i in 0..3 {
        let (delta, sha) = (format!("d{i}"), format!("h{i}"));
        let out = run_tool(
            &[
                "-j",
                "2",
                "delta",
                "--sha256-file",
                &sha,
                "sig",
                "new",
                &delta,
            ],
            d,
        );
        assert!(out.status.success(), "{out:?}");
        results.push((delta, sha));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    grower.join().unwrap();
    assert!(started.elapsed() < Duration::from_secs(60));
    for (delta, sha) in results {
        let line = String::from_utf8(read(&d.join(&sha))).unwrap();
        let hex = line.split_whitespace().next().unwrap().to_string();
        let _ = std::fs::remove_file(d.join("out"));
        let out = run_tool(
            &["patch", "--expect-sha256", &hex, "basis", &delta, "out"],
            d,
        );
        assert!(
            out.status.success(),
            "the hash matches what the delta rebuilds: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ------------------------------------------------------------- case 19

#[test]
fn wording_that_librsyncs_tests_grep() {
    let dir = tempdir();
    let out = run_tool(&["--imaginary-option"], dir.path());
    assert_eq!(out.status.code(), Some(101));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown option: --imaginary-option"),
        "{out:?}"
    );
    let out = run_tool(&["--version"], dir.path());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Copyright"));
}
