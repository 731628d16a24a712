//! Self-verifying deltas: `delta` ends with a trailer (NEW's length and
//! BLAKE3), `patch` checks it. A wrong or changed basis, or a damaged
//! delta, is status 106 with nothing replaced; rdiff still reads our deltas;
//! `--no-trailer` and `--no-verify` turn it off.

use crate::util::*;
use rsync_tool_core::format::{TRAILER_LEN, TRAILER_MAGIC};
use std::path::Path;

/// old, new, old's signature, new's delta (with trailer) in a new directory.
fn setup() -> (tempfile::TempDir, Vec<u8>, Vec<u8>) {
    let tmp = tempdir();
    let dir = tmp.path();
    let old = gen_bytes(901, 200_000);
    let new = shifting_edits(&scattered_edits(&old, 9011, 10, 300), 9012, 4, 1000);
    write(dir, "old", &old);
    write(dir, "new", &new);
    run(
        &tool(),
        &["signature", "old", "sig"],
        Input::Null,
        Some(dir),
    )
    .ok();
    run(
        &tool(),
        &["delta", "sig", "new", "d"],
        Input::Null,
        Some(dir),
    )
    .ok();
    (tmp, old, new)
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

/// Patches `basis` with `delta` over an existing `out` (with -f, to a file,
/// and from a pipe to stdout): 106, one line naming the basis, `out`
/// untouched and no file left behind.
#[track_caller]
fn refused(dir: &Path, basis: &str, delta: &str) {
    write(dir, "out", b"previous");
    let before = names(dir);
    let r = run(
        &tool(),
        &["-f", "patch", basis, delta, "out"],
        Input::Null,
        Some(dir),
    );
    let stderr = String::from_utf8_lossy(&r.stderr).into_owned();
    assert_eq!(r.code(), Some(106), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("probably not the one the signature was made from"),
        "{stderr}"
    );
    assert!(
        stderr.starts_with(&format!("rsync-tool: {basis}: ")),
        "{stderr}"
    );
    assert_eq!(read(&dir.join("out")), b"previous");
    assert_eq!(names(dir), before, "a file was left behind");
    let r = run(
        &tool(),
        &["patch", basis, "-"],
        Input::Pipe(&read(&dir.join(delta))),
        Some(dir),
    );
    assert_eq!(
        r.code(),
        Some(106),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
fn deltas_end_with_a_trailer_after_end() {
    let (tmp, _, new) = setup();
    let d = read(&tmp.path().join("d"));
    let body = delta_up_to_end(&d);
    assert_eq!(d.len(), body.len() + TRAILER_LEN);
    let trailer = &d[body.len()..];
    assert_eq!(trailer[..4], TRAILER_MAGIC.to_be_bytes());
    assert_eq!(trailer[4], 1);
    assert_eq!(trailer[5..13], (new.len() as u64).to_be_bytes());
    assert_eq!(trailer[13..], *blake3::hash(&new).as_bytes());
}

#[test]
fn a_wrong_basis_is_refused() {
    let (tmp, _, _) = setup();
    let dir = tmp.path();
    write(dir, "other", &gen_bytes(902, 200_000));
    refused(dir, "other", "d");
    // a longer one too (a shorter one fails at a COPY past its end: 103)
    write(dir, "longer", &gen_bytes(903, 250_000));
    refused(dir, "longer", "d");
}

#[test]
fn a_basis_changed_since_its_signature_is_refused() {
    let (tmp, mut old, _) = setup();
    old[1000] ^= 0x40;
    write(tmp.path(), "changed", &old);
    refused(tmp.path(), "changed", "d");
}

#[test]
fn a_damaged_literal_is_refused() {
    let (tmp, _, _) = setup();
    let dir = tmp.path();
    let mut d = read(&dir.join("d"));
    let (lit_start, lit_len) = first_literal(&d).expect("the delta has a LITERAL");
    d[lit_start + lit_len / 2] ^= 1;
    write(dir, "damaged", &d);
    refused(dir, "old", "damaged");
}

/// Where the data of the delta's first LITERAL start, and their length.
fn first_literal(delta: &[u8]) -> Option<(usize, usize)> {
    use rsync_tool_core::format::{Command, DeltaParser};
    let mut p = DeltaParser::new(None);
    let mut at = 0;
    while !p.is_done() {
        let (n, cmd) = p.advance(&delta[at..]).ok()?;
        at += n;
        if let Some(Command::Literal { len }) = cmd {
            return Some((at, len as usize));
        }
    }
    None
}

#[test]
fn rdiff_and_we_patch_our_deltas_from_files_and_pipes() {
    let Some(rdiff) = rdiff() else { return };
    let (tmp, _, new) = setup();
    let dir = tmp.path();
    let r = sh(
        "set -e
        \"$R\" patch old d o1
        cat d | \"$R\" patch old - o2
        \"$T\" patch old d o3
        cat d | \"$T\" patch old - o4
        \"$T\" patch old d > o5
        \"$T\" patch old d | cat > o6",
        dir,
        Some(&rdiff),
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for o in ["o1", "o2", "o3", "o4", "o5", "o6"] {
        assert_bytes_eq(&read(&dir.join(o)), &new, o);
    }
}

#[test]
fn a_reader_that_stops_at_end_does_not_fail_delta() {
    let Some(rdiff) = rdiff() else { return };
    let (tmp, _, new) = setup();
    let dir = tmp.path();
    let body = delta_up_to_end(&read(&dir.join("d"))).len();
    // rdiff from a pipe, and a reader that takes exactly the bytes up to END
    let script = format!(
        "set -e
        \"$T\" delta sig new | \"$R\" patch old - o1
        ( \"$T\" delta sig new; echo $? > status ) | head -c {body} > o2.delta
        \"$T\" patch old o2.delta o2"
    );
    let r = sh(&script, dir, Some(&rdiff));
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(std::fs::read_to_string(dir.join("status")).unwrap(), "0\n");
    assert_bytes_eq(&read(&dir.join("o1")), &new, "rdiff from a pipe");
    assert_bytes_eq(&read(&dir.join("o2")), &new, "delta cut at END");
}

#[test]
fn no_trailer_writes_the_bytes_up_to_end_and_no_verify_skips() {
    let (tmp, _, _) = setup();
    let dir = tmp.path();
    run(
        &tool(),
        &["delta", "--no-trailer", "sig", "new", "plain"],
        Input::Null,
        Some(dir),
    )
    .ok();
    let d = read(&dir.join("d"));
    assert_bytes_eq(
        &read(&dir.join("plain")),
        delta_up_to_end(&d),
        "--no-trailer",
    );
    if let Some(rdiff) = rdiff() {
        run(
            &rdiff,
            &["delta", "sig", "new", "rd"],
            Input::Null,
            Some(dir),
        )
        .ok();
        assert_bytes_eq(&read(&dir.join("plain")), &read(&dir.join("rd")), "rdiff's");
    }
    write(dir, "other", &gen_bytes(904, 200_000));
    let r = run(
        &tool(),
        &["-v", "patch", "--no-verify", "other", "d", "o"],
        Input::Null,
        Some(dir),
    )
    .ok();
    assert!(String::from_utf8_lossy(&r.stderr).contains("not verified (--no-verify)"));
    // -v tells whether the result was verified
    let r = run(
        &tool(),
        &["-v", "patch", "old", "d", "o2"],
        Input::Null,
        Some(dir),
    )
    .ok();
    assert!(String::from_utf8_lossy(&r.stderr).contains("o2: verified"));
    let r = run(
        &tool(),
        &["-v", "patch", "old", "plain", "o3"],
        Input::Null,
        Some(dir),
    )
    .ok();
    assert!(String::from_utf8_lossy(&r.stderr).contains("no trailer follows the delta's END"));
}

#[test]
fn a_cut_trailer_is_a_truncated_delta_and_other_bytes_are_ignored() {
    let (tmp, _, new) = setup();
    let dir = tmp.path();
    let d = read(&dir.join("d"));
    write(dir, "cut", &d[..d.len() - 10]);
    let r = run(
        &tool(),
        &["patch", "old", "cut", "o"],
        Input::Null,
        Some(dir),
    );
    assert_eq!(
        r.code(),
        Some(103),
        "{}",
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!dir.join("o").exists());
    let body = delta_up_to_end(&d);
    write(dir, "junk", &[body, b"not a trailer"].concat());
    run(
        &tool(),
        &["patch", "old", "junk", "o"],
        Input::Null,
        Some(dir),
    )
    .ok();
    assert_bytes_eq(&read(&dir.join("o")), &new, "bytes after END ignored");
}

/// A byte or three after END that start like the trailer's magic are just
/// bytes after END (rdiff ignores them, so do we); a trailer of a later
/// version is not mistaken for no trailer: a wrong basis is still refused,
/// unless --no-verify.
#[test]
fn stray_bytes_are_ignored_and_a_later_trailer_version_is_not_skipped() {
    let (tmp, old, new) = setup();
    let dir = tmp.path();
    let d = read(&dir.join("d"));
    let body = delta_up_to_end(&d);
    for stray in [&b"R"[..], b"RT", b"RTv"] {
        write(dir, "stray", &[body, stray].concat());
        let _ = std::fs::remove_file(dir.join("o"));
        let r = run(
            &tool(),
            &["patch", "old", "stray", "o"],
            Input::Null,
            Some(dir),
        );
        assert_eq!(r.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
        assert_bytes_eq(&read(&dir.join("o")), &new, "stray bytes after END");
    }
    let mut later = d.clone();
    let at = later.len() - TRAILER_LEN + 4;
    later[at] = 2;
    write(dir, "later", &later);
    let mut wrong = old.clone();
    wrong[100] ^= 1;
    write(dir, "wrong", &wrong);
    write(dir, "out", b"previous");
    let r = run(
        &tool(),
        &["-f", "patch", "wrong", "later", "out"],
        Input::Null,
        Some(dir),
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.code(), Some(106), "{stderr}");
    assert!(stderr.contains("trailer of version 2"), "{stderr}");
    assert_eq!(read(&dir.join("out")), b"previous");
    let r = run(
        &tool(),
        &["-f", "--no-verify", "patch", "old", "later", "o"],
        Input::Null,
        Some(dir),
    );
    assert_eq!(r.code(), Some(0), "{}", String::from_utf8_lossy(&r.stderr));
    assert_bytes_eq(&read(&dir.join("o")), &new, "--no-verify");
}

/// librsync 2.2 (the engine the workspace links) patches our trailer deltas
/// right too, fed from the file and from a pipe: its patch job stops at END.
#[test]
fn librsync_2_2_patches_our_deltas_from_files_and_pipes() {
    use rsync_tool_librsync::{Basis, PatchJob};
    use std::io::Read;
    struct Slice<'a>(&'a [u8]);
    impl Basis for Slice<'_> {
        fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let rest = self.0.get(pos as usize..).unwrap_or_default();
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        }
    }
    /// librsync's patch of `old` with what `delta` yields, in 4 KiB reads.
    fn patched(old: &[u8], mut delta: impl Read) -> Vec<u8> {
        let mut basis = Slice(old);
        let mut job = PatchJob::new(&mut basis).unwrap();
        let (mut inbuf, mut out, mut outbuf) = (Vec::new(), Vec::new(), vec![0u8; 64 << 10]);
        let mut eof = false;
        loop {
            if !eof && inbuf.len() < 4096 {
                let mut piece = [0u8; 4096];
                let n = delta.read(&mut piece).unwrap();
                eof = n == 0;
                inbuf.extend_from_slice(&piece[..n]);
            }
            let step = job.step(&inbuf, eof, &mut outbuf).unwrap();
            inbuf.drain(..step.consumed);
            out.extend_from_slice(&outbuf[..step.produced]);
            if step.done {
                return out;
            }
        }
    }
    let (tmp, old, new) = setup();
    let dir = tmp.path();
    let d = read(&dir.join("d"));
    assert!(
        d.len() > delta_up_to_end(&d).len(),
        "our delta has a trailer"
    );
    let from_file = patched(&old, std::fs::File::open(dir.join("d")).unwrap());
    assert_bytes_eq(&from_file, &new, "librsync 2.2 from the file");
    let mut cat = std::process::Command::new("cat")
        .arg(dir.join("d"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let from_pipe = patched(&old, cat.stdout.take().unwrap());
    assert!(cat.wait().unwrap().success());
    assert_bytes_eq(&from_pipe, &new, "librsync 2.2 from a pipe");
}
