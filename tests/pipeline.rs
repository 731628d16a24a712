//! Pipelines through a shell (`sh -c`): stdin, stdout and `-` in every
//! position the contract allows, alone and mixed with rdiff. In the
//! scripts `$T` is rsync-tool and `$R` is rdiff.

use crate::util::*;
use std::path::Path;

/// A basis and a NEW made from it by edits that keep and that shift alignment.
fn setup() -> (tempfile::TempDir, Vec<u8>) {
    let tmp = tempdir();
    let old = gen_bytes(401, 300_000);
    let new = shifting_edits(&scattered_edits(&old, 4011, 15, 200), 4012, 8, 1500);
    write(tmp.path(), "old", &old);
    write(tmp.path(), "new", &new);
    (tmp, new)
}

/// Runs the script, which must succeed, then checks each named file is NEW.
#[track_caller]
fn check(dir: &Path, script: &str, rdiff: Option<&Path>, outputs: &[&str], want: &[u8]) {
    let r = sh(script, dir, rdiff);
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(
        r.status.success(),
        "`{script}` exited {}; stderr:\n{stderr}",
        r.status
    );
    for name in outputs {
        let got = std::fs::read(dir.join(name))
            .unwrap_or_else(|e| panic!("`{script}`: no {name}: {e}; stderr:\n{stderr}"));
        if let Some(d) = diff_bytes(&got, want) {
            panic!("`{script}`: {name} is not NEW: {d}; stderr:\n{stderr}");
        }
    }
}

#[test]
fn signature_delta_patch_through_pipes() {
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#""$T" signature < old | "$T" delta - new | "$T" patch old - out"#,
        None,
        &["out"],
        &new,
    );
}

#[test]
fn everything_on_stdin_and_stdout() {
    // missing trailing paths: stdin and stdout; the basis comes through a
    // pipe, so the signature uses 2048-byte blocks
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#"cat old | "$T" signature | "$T" delta - new | "$T" patch old > out"#,
        None,
        &["out"],
        &new,
    );
    check(
        tmp.path(),
        r#""$T" signature old > sig && cat new | "$T" delta sig | "$T" patch old - - > out2"#,
        None,
        &["out2"],
        &new,
    );
}

#[test]
fn delta_to_stdout() {
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#"set -e
"$T" signature old sig
"$T" delta sig new > d1
"$T" delta sig new - > d2
"$T" patch old d1 out1
"$T" patch old d2 out2
cmp d1 d2"#,
        None,
        &["out1", "out2"],
        &new,
    );
}

#[test]
fn patch_to_stdout() {
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#"set -e
"$T" signature old sig
"$T" delta sig new d
"$T" patch old d > out1
"$T" patch old d - > out2
"$T" patch old < d > out3
"$T" patch old - < d > out4
cat d | "$T" patch old - out5
"$T" patch old d | cat > out6
printf ab > appended; "$T" patch old d >> appended; tail -c +3 appended > out7
printf 12345 | cat - d > prefixed
{ dd bs=5 count=1 of=/dev/null 2>/dev/null; "$T" patch old - out8; } < prefixed"#,
        None,
        &[
            "out1", "out2", "out3", "out4", "out5", "out6", "out7", "out8",
        ],
        &new,
    );
}

#[test]
fn new_file_from_stdin() {
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#"set -e
"$T" signature old sig
"$T" delta sig < new > d1
"$T" delta sig - d2 < new
cat new | "$T" delta sig - d3
cat new | "$T" delta sig > d4
for d in d1 d2 d3 d4; do "$T" patch old $d out-$d; done"#,
        None,
        &["out-d1", "out-d2", "out-d3", "out-d4"],
        &new,
    );
}

#[test]
fn signature_from_stdin_to_file() {
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#"set -e
"$T" signature - sig1 < old
cat old | "$T" signature - sig2
"$T" signature old sig3
cmp sig1 sig3
"$T" delta sig1 new d1
"$T" delta sig2 new d2
"$T" patch old d1 out1
"$T" patch old d2 out2"#,
        None,
        &["out1", "out2"],
        &new,
    );
}

#[test]
fn rdiff_signature_our_delta_rdiff_patch() {
    let Some(rdiff) = rdiff() else { return };
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#""$R" signature < old | "$T" delta - new | "$R" patch old - out"#,
        Some(&rdiff),
        &["out"],
        &new,
    );
    check(
        tmp.path(),
        r#"cat old | "$R" signature | "$T" delta - new | "$R" patch old > out2"#,
        Some(&rdiff),
        &["out2"],
        &new,
    );
}

#[test]
fn our_signature_rdiff_delta_our_patch() {
    let Some(rdiff) = rdiff() else { return };
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#""$T" signature < old | "$R" delta - new | "$T" patch old - out"#,
        Some(&rdiff),
        &["out"],
        &new,
    );
    check(
        tmp.path(),
        r#"cat old | "$T" signature | "$R" delta - new | "$T" patch old > out2"#,
        Some(&rdiff),
        &["out2"],
        &new,
    );
}

#[test]
fn other_mixed_chains() {
    let Some(rdiff) = rdiff() else { return };
    let (tmp, new) = setup();
    check(
        tmp.path(),
        r#"set -e
"$R" signature old | "$R" delta - new | "$T" patch old - out1
"$T" signature old | "$T" delta - new | "$R" patch old - out2
"$R" signature old sig
cat new | "$T" delta sig | "$R" patch old > out3
cat new | "$R" delta sig | "$T" patch old > out4"#,
        Some(&rdiff),
        &["out1", "out2", "out3", "out4"],
        &new,
    );
}

/// `delta - - OUT`: the signature takes all of stdin, so NEWFILE is empty
/// and the delta patches to an empty file, as with rdiff.
#[test]
fn delta_dash_dash_out() {
    let (tmp, _) = setup();
    check(
        tmp.path(),
        r#"set -e
"$T" signature old sig
"$T" delta - - d < sig
"$T" patch old d out"#,
        None,
        &["out"],
        &[],
    );
    let ours = read(&tmp.path().join("d"));
    assert!(
        ours.len() <= 5 + 64,
        "delta of an empty NEWFILE is {} bytes",
        ours.len()
    );
    let Some(rdiff) = rdiff() else { return };
    check(
        tmp.path(),
        r#"set -e
"$R" delta - - rd < sig
"$R" patch old d out-r
"$T" patch old rd out-t"#,
        Some(&rdiff),
        &["out-r", "out-t"],
        &[],
    );
}

/// `patch` needs a seekable basis: from a pipe it is status 100, no hang and
/// no output file.
#[test]
fn patch_basis_from_pipe_is_an_error() {
    let (tmp, _) = setup();
    check(
        tmp.path(),
        r#""$T" signature old sig && "$T" delta sig new d"#,
        None,
        &[],
        &[],
    );
    let r = sh(r#"cat old | "$T" patch - d out"#, tmp.path(), None);
    assert_eq!(
        r.code(),
        Some(100),
        "patch with the basis on a pipe: {}; stderr:\n{}",
        r.status,
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(
        !tmp.path().join("out").exists(),
        "a failed patch left its output behind"
    );
}

/// A reader that goes away early (`| head`) ends the run quietly.
#[test]
fn closed_stdout_is_quiet() {
    let tmp = tempdir();
    write(tmp.path(), "big", &gen_bytes(402, 4 * 1024 * 1024));
    let sig_magic: &[u8] = &[0x72, 0x73, 0x01, 0x47];
    let delta_magic: &[u8] = &[0x72, 0x73, 0x02, 0x36];
    for (script, magic) in [
        (
            r#""$T" -b 64 signature big 2>err | head -c 100 > got"#,
            sig_magic,
        ),
        (
            r#"head -c 0 big > empty && "$T" signature empty s0 && "$T" delta s0 big 2>err | head -c 100 > got"#,
            delta_magic,
        ),
        (
            r#""$T" signature -b 4096 big sig && "$T" delta sig big d && "$T" patch big d 2>err | head -c 100 > got"#,
            &[],
        ),
    ] {
        let r = sh(script, tmp.path(), None);
        assert!(
            r.status.success(),
            "`{script}`: {}; stderr:\n{}",
            r.status,
            String::from_utf8_lossy(&r.stderr)
        );
        let got = read(&tmp.path().join("got"));
        assert_eq!(got.len(), 100, "`{script}`: head got {} bytes", got.len());
        if magic.is_empty() {
            assert_eq!(
                got,
                read(&tmp.path().join("big"))[..100],
                "`{script}`: wrong output"
            );
        } else {
            assert_eq!(&got[..4], magic, "`{script}`: wrong output");
        }
        // "quietly": no panic, no backtrace, no error line (rdiff dies of SIGPIPE silently)
        let err = String::from_utf8_lossy(&read(&tmp.path().join("err"))).into_owned();
        assert!(
            err.is_empty(),
            "`{script}`: rsync-tool was loud about a closed stdout:\n{err}"
        );
    }
}

#[test]
fn stdout_pipe_holds_copies_not_the_basis_pages() {
    // The whole result fits in the pipe, so patch is done before anything is
    // read; then the basis is overwritten in place, and only then is the pipe
    // read. A pipe fed by splice(2) from the basis would show the new bytes.
    let tmp = tempdir();
    let old = gen_bytes(402, 40_000);
    let new = scattered_edits(&old, 4021, 4, 100);
    write(tmp.path(), "old", &old);
    write(tmp.path(), "new", &new);
    check(
        tmp.path(),
        r#"set -e
"$T" signature old sig
"$T" delta sig new d
{ "$T" patch old d; touch patched; } | { while [ ! -e go ]; do sleep 0.02; done; cat > out; } &
while [ ! -e patched ]; do sleep 0.02; done
head -c 40000 /dev/zero | dd of=old conv=notrunc status=none
touch go
wait"#,
        None,
        &["out"],
        &new,
    );
}
