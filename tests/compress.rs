//! Compressed deltas: `delta -z/--gzip[=LEVEL]` and `--zstd[=LEVEL]`, read
//! back by `patch` from files and pipes by their magic numbers, rdiff's
//! deltas through `gzip -c` (rdiff-backup's `.diff.gz`) and the `zstd`
//! tool's; damaged compressed data is 103 or 106 with nothing written; and
//! `signature`/`delta` refuse to write to a terminal without `-f`.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

use crate::util::*;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const DELTA_MAGIC: &[u8] = &[0x72, 0x73, 0x02, 0x36];

/// A directory with text `old` and `new` (which compress well) and `sig`.
fn setup() -> (tempfile::TempDir, Vec<u8>) {
    let tmp = tempdir();
    let dir = tmp.path();
    let old = gen_text(41, 300_000);
    let new = edit_text(&old, 42, 30);
    write(dir, "old", &old);
    write(dir, "new", &new);
    run(
        &tool(),
        &["signature", "old", "sig"],
        Input::Null,
        Some(dir),
    )
    .ok();
    (tmp, new)
}

fn tool_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    run(&tool(), args, Input::Null, Some(dir)).ok().stdout
}

/// The directory's file names, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Patches `old` with the delta file `delta` to a file, from stdin
/// redirected from it and from a pipe: each gives `new`.
#[track_caller]
fn patches_to(dir: &Path, delta: &str, new: &[u8]) {
    let out = format!("{delta}.out");
    tool_ok(dir, &["patch", "old", delta, &out]);
    assert_bytes_eq(&read(&dir.join(&out)), new, delta);
    std::fs::remove_file(dir.join(&out)).unwrap();
    let redirected = run(
        &tool(),
        &["patch", "old", "-"],
        Input::File(&dir.join(delta)),
        Some(dir),
    )
    .ok();
    assert_bytes_eq(&redirected.stdout, new, delta);
    let piped = run(
        &tool(),
        &["patch", "old"],
        Input::Pipe(&read(&dir.join(delta))),
        Some(dir),
    )
    .ok();
    assert_bytes_eq(&piped.stdout, new, delta);
}

#[test]
fn gzip_and_zstd_deltas_round_trip_through_files_and_pipes() {
    let (tmp, new) = setup();
    let dir = tmp.path();
    tool_ok(dir, &["delta", "sig", "new", "plain"]);
    let plain = read(&dir.join("plain"));
    for (flag, magic) in [
        ("-z", GZIP_MAGIC),
        ("--gzip", GZIP_MAGIC),
        ("--zstd", ZSTD_MAGIC),
    ] {
        let name = format!("d{flag}");
        // the option takes no value from the next word: `sig` stays a path
        tool_ok(dir, &["delta", flag, "sig", "new", &name]);
        let delta = read(&dir.join(&name));
        assert!(delta.starts_with(magic), "{flag}: {:02x?}", &delta[..4]);
        assert!(
            delta.len() * 2 < plain.len(),
            "{flag}: {} bytes",
            delta.len()
        );
        patches_to(dir, &name, &new);
        // written before the command word too, and to stdout, into a pipe
        let stdout = tool_ok(dir, &[flag, "delta", "sig", "new"]);
        assert!(stdout.starts_with(magic), "{flag} to stdout");
        let piped = run(
            &tool(),
            &["patch", "old", "-"],
            Input::Pipe(&stdout),
            Some(dir),
        )
        .ok();
        assert_bytes_eq(&piped.stdout, &new, flag);
    }
    // NEWFILE from a pipe, the delta straight into patch, as in a pipeline
    let r = sh(
        "cat new | $T delta -z sig - | $T patch old - out.gz && \
         $T delta --zstd=5 sig new | $T patch old - out.zst",
        dir,
        None,
    )
    .ok();
    assert!(
        r.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert_bytes_eq(&read(&dir.join("out.gz")), &new, "gzip pipeline");
    assert_bytes_eq(&read(&dir.join("out.zst")), &new, "zstd pipeline");
    // a plain delta from a pipe still works after its start was peeked
    patches_to(dir, "plain", &new);
}

#[test]
fn levels_are_attached_and_checked() {
    let (tmp, new) = setup();
    let dir = tmp.path();
    let mut sizes = Vec::new();
    for level in [
        "-z1",
        "-z9",
        "--gzip=1",
        "--gzip=9",
        "--zstd=1",
        "--zstd=19",
    ] {
        let name = format!("d{level}");
        tool_ok(dir, &["delta", level, "sig", "new", &name]);
        patches_to(dir, &name, &new);
        sizes.push(read(&dir.join(&name)).len());
    }
    assert_eq!(sizes[0], sizes[2], "-z1 is --gzip=1");
    assert_eq!(sizes[1], sizes[3], "-z9 is --gzip=9");
    assert!(sizes[5] < sizes[4], "zstd 19 is smaller than 1: {sizes:?}");
    for bad in [
        "-z0",
        "-z10",
        "--gzip=0",
        "--gzip=x",
        "--zstd=0",
        "--zstd=23",
        "--zstd=-1",
    ] {
        let r = run(
            &tool(),
            &["delta", bad, "sig", "new", "x"],
            Input::Null,
            Some(dir),
        );
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.code(), Some(101), "{bad}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(!dir.join("x").exists(), "{bad}");
    }
    let both = run(
        &tool(),
        &["delta", "-z", "--zstd", "sig", "new", "x"],
        Input::Null,
        Some(dir),
    );
    assert_eq!(both.code(), Some(101));
}

#[test]
fn compression_is_a_usage_error_elsewhere_and_bzip2_everywhere() {
    let (tmp, _) = setup();
    let dir = tmp.path();
    tool_ok(dir, &["delta", "sig", "new", "d"]);
    let cases: &[&[&str]] = &[
        &["signature", "-z", "old", "x"],
        &["signature", "--zstd", "old", "x"],
        &["-z", "signature", "old", "x"],
        &["patch", "-z", "old", "d", "x"],
        &["patch", "--gzip=9", "old", "d", "x"],
        &["delta", "-i", "sig", "new", "x"],
        &["delta", "--bzip2", "sig", "new", "x"],
        &["-i", "delta", "sig", "new", "x"],
        &["signature", "--bzip2", "old", "x"],
    ];
    for args in cases {
        let r = run(&tool(), args, Input::Null, Some(dir));
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.code(), Some(101), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains("unknown option"), "{args:?}: {stderr}");
        assert!(!dir.join("x").exists(), "{args:?}");
    }
}

#[test]
fn rdiff_deltas_through_gzip_apply() {
    let Some(rdiff) = rdiff() else { return };
    let (tmp, new) = setup();
    let dir = tmp.path();
    // rdiff-backup's increments: rdiff's delta, gzip'd
    sh("$R delta sig new | gzip -c > x.diff.gz", dir, Some(&rdiff)).ok();
    assert!(read(&dir.join("x.diff.gz")).starts_with(GZIP_MAGIC));
    patches_to(dir, "x.diff.gz", &new);
    // and the other way: rdiff reads ours once gunzipped
    tool_ok(dir, &["delta", "-z", "sig", "new", "ours.gz"]);
    sh(
        "gzip -dc ours.gz > ours && $R patch old ours back",
        dir,
        Some(&rdiff),
    )
    .ok();
    assert_bytes_eq(
        &read(&dir.join("back")),
        &new,
        "rdiff patch of a gunzipped delta",
    );
}

#[test]
fn deltas_of_the_zstd_and_gzip_tools_apply() {
    let (tmp, new) = setup();
    let dir = tmp.path();
    tool_ok(dir, &["delta", "sig", "new", "plain"]);
    sh("gzip -9 -c plain > plain.gz", dir, None).ok();
    patches_to(dir, "plain.gz", &new);
    // two gzip members, as `cat a.gz b.gz` makes: one stream to gunzip
    let delta = read(&dir.join("plain"));
    let (a, b) = delta.split_at(delta.len() / 2);
    write(dir, "a", a);
    write(dir, "b", b);
    sh("gzip -c a > two.gz && gzip -c b >> two.gz", dir, None).ok();
    patches_to(dir, "two.gz", &new);
    if Command::new("zstd").arg("--version").output().is_ok() {
        sh("zstd -q -19 -c plain > plain.zst", dir, None).ok();
        patches_to(dir, "plain.zst", &new);
    } else {
        // our own, which is the zstd format all the same
        let zst = tool_ok(dir, &["delta", "--zstd=19", "sig", "new"]);
        write(dir, "plain.zst", &zst);
        patches_to(dir, "plain.zst", &new);
    }
}

/// Patching the damaged compressed delta `name` (as a file, with -f over an
/// existing `out`, and from a pipe): `status`, one line naming it, `needle`
/// in it, `out` untouched and nothing else left behind.
#[track_caller]
fn damaged(dir: &Path, name: &str, status: i32, needle: &str) {
    write(dir, "out", b"previous");
    let before = names(dir);
    let r = run(
        &tool(),
        &["-f", "patch", "old", name, "out"],
        Input::Null,
        Some(dir),
    );
    let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.code(), Some(status), "{name}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    assert!(
        stderr.starts_with(&format!("rsync-tool: {name}: ")),
        "{stderr}"
    );
    assert!(stderr.contains(needle), "{name}: {stderr}");
    assert_eq!(read(&dir.join("out")), b"previous", "{name}");
    assert_eq!(names(dir), before, "{name}");
    let piped = run(
        &tool(),
        &["-f", "patch", "old", "-", "out"],
        Input::Pipe(&read(&dir.join(name))),
        Some(dir),
    );
    let stderr = String::from_utf8_lossy(&piped.stderr).into_owned();
    assert_eq!(piped.code(), Some(status), "{name} piped: {stderr}");
    assert!(stderr.starts_with("rsync-tool: stdin: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
    assert_eq!(read(&dir.join("out")), b"previous", "{name}");
    assert_eq!(names(dir), before, "{name}");
}

#[test]
fn truncated_and_corrupt_compressed_deltas_write_nothing() {
    let (tmp, _) = setup();
    let dir = tmp.path();
    for (flag, ext) in [("-z", "gz"), ("--zstd", "zst")] {
        let delta = tool_ok(dir, &["delta", flag, "sig", "new"]);
        let len = delta.len();
        // cut in the middle, and just before the end (the gzip CRC and
        // length, the zstd checksum or end of frame: after the delta's END)
        for (i, cut) in [len / 2, len - 4, len - 1].into_iter().enumerate() {
            let name = format!("cut{i}.{ext}");
            write(dir, &name, &delta[..cut]);
            damaged(dir, &name, 103, "truncated");
        }
        let mut flipped = delta.clone();
        flipped[len / 2] ^= 0x55;
        let name = format!("flipped.{ext}");
        write(dir, &name, &flipped);
        damaged(dir, &name, 106, "corrupt");
    }
    // a damaged checksum at the end of a gzip stream
    let mut delta = tool_ok(dir, &["delta", "-z", "sig", "new"]);
    let at = delta.len() - 6;
    delta[at] ^= 1;
    write(dir, "crc.gz", &delta);
    damaged(dir, "crc.gz", 106, "corrupt");
    // a bare magic number
    write(dir, "magic.gz", GZIP_MAGIC);
    damaged(dir, "magic.gz", 103, "truncated");
}

/// Runs rsync-tool in `dir` with its stdout on a terminal: (status,
/// stderr, what reached the terminal).
fn stdout_on_terminal(dir: &Path, args: &[&str]) -> (Option<i32>, String, Vec<u8>) {
    let (mut master, slave) = open_pty();
    let mut cmd = Command::new(tool());
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn rsync-tool");
    // the child has the slave now; ours must close, or reading never ends
    drop(cmd);
    let screen = thread::spawn(move || {
        let mut seen = Vec::new();
        // the read fails (EIO) once the child has exited and closed it
        let _ = master.read_to_end(&mut seen);
        seen
    });
    let stderr = read_on_thread(child.stderr.take().unwrap());
    let status = child.wait().unwrap();
    (
        status.code(),
        String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
        screen.join().unwrap(),
    )
}

#[test]
fn signature_and_delta_refuse_a_terminal_without_f() {
    let (tmp, _) = setup();
    let dir = tmp.path();
    for (args, what) in [
        (&["signature", "old"][..], "a signature"),
        (&["signature", "old", "-"], "a signature"),
        (&["delta", "sig", "new"], "a delta"),
        (&["delta", "-z", "sig", "new", "-"], "a delta"),
    ] {
        let (status, stderr, screen) = stdout_on_terminal(dir, args);
        assert_eq!(status, Some(100), "{args:?}: {stderr}");
        assert_eq!(
            stderr,
            format!("rsync-tool: refusing to write {what} to a terminal (use -f to force)\n")
        );
        assert!(
            screen.is_empty(),
            "{args:?}: {} bytes on the terminal",
            screen.len()
        );
        // -f forces it, anywhere on the line
        let forced: Vec<&str> = args.iter().copied().chain(["-f"]).collect();
        let (status, stderr, screen) = stdout_on_terminal(dir, &forced);
        assert_eq!(status, Some(0), "{forced:?}: {stderr}");
        assert!(screen.len() > 12, "{forced:?}: nothing on the terminal");
    }
    // a file output, and patch's output, are not refused
    let (status, stderr, _) = stdout_on_terminal(dir, &["signature", "old", "old.sig"]);
    assert_eq!(status, Some(0), "{stderr}");
    let (status, stderr, _) = stdout_on_terminal(dir, &["delta", "sig", "new", "d"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(read(&dir.join("d")).starts_with(DELTA_MAGIC));
    let (status, stderr, screen) = stdout_on_terminal(dir, &["patch", "old", "d"]);
    assert_eq!(status, Some(0), "{stderr}");
    assert!(!screen.is_empty());
}
