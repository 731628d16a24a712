//! The command-line spellings of the contract (cli-contract.md), through the
//! real binary: where options may stand, how values are written, command
//! prefixes, stdin and stdout, help and version, usage errors as one line
//! with status 101, and the additions (--sha256-file, --expect-sha256,
//! completions, man).

use std::path::Path;

use crate::util::{gen_bytes, tempdir, write};
use assert_cmd::Command;
use predicates::prelude::*;

/// rsync-tool, run in `dir`, with no terminal and no stdin.
fn tool(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rsync-tool"));
    cmd.current_dir(dir).write_stdin(Vec::new());
    cmd
}

/// A directory with `old` (100 KB) and `new` (old with an edit), and the
/// default signature and delta made from them.
struct Files {
    dir: tempfile::TempDir,
    old: Vec<u8>,
    new: Vec<u8>,
    sig: Vec<u8>,
    delta: Vec<u8>,
}

fn files() -> Files {
    let dir = tempdir();
    let old = gen_bytes(11, 100_000);
    let mut new = old.clone();
    new.splice(40_000..40_100, gen_bytes(12, 3000));
    write(dir.path(), "old", &old);
    write(dir.path(), "new", &new);
    let sig = out(dir.path(), &["signature", "old"]);
    write(dir.path(), "old.sig", &sig);
    let delta = out(dir.path(), &["delta", "old.sig", "new"]);
    write(dir.path(), "new.delta", &delta);
    Files {
        dir,
        old,
        new,
        sig,
        delta,
    }
}

/// The stdout of a run that must succeed with an empty stderr.
#[track_caller]
fn out(dir: &Path, args: &[&str]) -> Vec<u8> {
    let assert = tool(dir).args(args).assert().success().stderr("");
    assert.get_output().stdout.clone()
}

/// Asserts a run fails with `status` and exactly one line on stderr, which
/// starts with `rsync-tool: ` and contains `needle`; returns the line.
#[track_caller]
fn fails(dir: &Path, args: &[&str], status: i32, needle: &str) -> String {
    let output = tool(dir).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(status), "{args:?}: {stderr}");
    assert_eq!(
        stderr.lines().count(),
        1,
        "{args:?}: not one line: {stderr:?}"
    );
    assert!(stderr.ends_with('\n'), "{args:?}: {stderr:?}");
    assert!(stderr.starts_with("rsync-tool: "), "{args:?}: {stderr:?}");
    assert!(
        stderr.contains(needle),
        "{args:?}: {needle:?} not in {stderr:?}"
    );
    assert!(output.stdout.is_empty(), "{args:?}: wrote to stdout");
    stderr
}

/// The block length in a signature's header.
fn block_len(sig: &[u8]) -> u32 {
    u32::from_be_bytes(sig[4..8].try_into().unwrap())
}

#[test]
fn options_stand_anywhere() {
    let f = files();
    let d = f.dir.path();
    let want = out(d, &["-b", "512", "signature", "old"]);
    assert_eq!(block_len(&want), 512);
    for args in [
        &["signature", "-b", "512", "old"][..],
        &["signature", "old", "-b", "512"],
        &["signature", "old", "-", "-b", "512"],
        &["signature", "old", "-b", "512", "-"],
        &["-b", "512", "signature", "old", "-"],
    ] {
        assert_eq!(out(d, args), want, "{args:?}");
    }
    // into a file, the option between the two paths
    tool(d)
        .args(["signature", "old", "-b", "512", "a.sig"])
        .assert()
        .success();
    assert_eq!(std::fs::read(d.join("a.sig")).unwrap(), want);
    // the same for delta and patch
    let delta = out(d, &["delta", "-I", "4096", "old.sig", "new"]);
    assert_eq!(out(d, &["delta", "old.sig", "-I", "4096", "new"]), delta);
    assert_eq!(
        out(d, &["-I", "4096", "delta", "old.sig", "new", "-"]),
        delta
    );
    let patched = out(d, &["patch", "old", "-O", "4096", "new.delta"]);
    assert_eq!(patched, f.new);
}

#[test]
fn option_values_in_every_spelling() {
    let f = files();
    let d = f.dir.path();
    let want = out(
        d,
        &["signature", "-b", "1024", "-S", "8", "-H", "md4", "old"],
    );
    assert_eq!(block_len(&want), 1024);
    for args in [
        &["signature", "-b1024", "-S8", "-Hmd4", "old"][..],
        &[
            "signature",
            "--block-size",
            "1024",
            "--sum-size",
            "8",
            "--hash",
            "md4",
            "old",
        ],
        &[
            "signature",
            "--block-size=1024",
            "--sum-size=8",
            "--hash=md4",
            "old",
        ],
        &[
            "--block-size=1024",
            "-S",
            "8",
            "signature",
            "--hash",
            "md4",
            "old",
        ],
        // a repeated option takes the last value, as rdiff's popt does
        &[
            "signature",
            "-b",
            "64",
            "-b",
            "1024",
            "-S8",
            "-H",
            "md4",
            "old",
        ],
    ] {
        assert_eq!(out(d, args), want, "{args:?}");
    }
    let rollsum = out(d, &["signature", "-R", "rollsum", "old"]);
    assert_eq!(out(d, &["signature", "--rollsum=rollsum", "old"]), rollsum);
    assert_eq!(&rollsum[..4], &0x7273_0137u32.to_be_bytes());
}

#[test]
fn flags_bundle() {
    let f = files();
    let d = f.dir.path();
    write(d, "exists", b"old content");
    tool(d)
        .args(["-fs", "signature", "old", "exists"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::starts_with(
            "librsync: signature statistics: ",
        ));
    assert_eq!(std::fs::read(d.join("exists")).unwrap(), f.sig);
    // -sf, and a bundle ending in an option that takes a value
    tool(d)
        .args(["signature", "-sfb", "512", "old", "exists"])
        .assert()
        .success();
    assert_eq!(block_len(&std::fs::read(d.join("exists")).unwrap()), 512);
}

#[test]
fn command_words_may_be_prefixes() {
    let f = files();
    let d = f.dir.path();
    for word in ["s", "si", "sig", "signat", "signature"] {
        assert_eq!(out(d, &[word, "old"]), f.sig, "{word}");
    }
    for word in ["d", "de", "del", "delta"] {
        assert_eq!(out(d, &[word, "old.sig", "new"]), f.delta, "{word}");
    }
    for word in ["p", "pa", "pat", "patch"] {
        assert_eq!(out(d, &[word, "old", "new.delta"]), f.new, "{word}");
    }
    // prefixes after options too
    assert_eq!(out(d, &["-b", "0", "sig", "old"]), f.sig);
    fails(d, &["x", "old"], 101, "x");
    fails(d, &["signatures", "old"], 101, "signatures");
    // completions and man are full words only
    fails(d, &["comp", "bash"], 101, "comp");
}

#[test]
fn dash_and_missing_paths_are_stdin_and_stdout() {
    let f = files();
    let d = f.dir.path();
    let stdin = |args: &[&str], input: &[u8]| -> Vec<u8> {
        let a = tool(d).args(args).write_stdin(input.to_vec()).assert();
        a.success().stderr("").get_output().stdout.clone()
    };
    // through a pipe the basis size is unknown: 2048-byte blocks, as rdiff
    let piped = stdin(&["signature"], &f.old);
    assert_eq!(block_len(&piped), 2048);
    assert_eq!(stdin(&["signature", "-"], &f.old), piped);
    assert_eq!(stdin(&["signature", "-", "-"], &f.old), piped);
    assert_eq!(stdin(&["delta", "old.sig"], &f.new), f.delta);
    assert_eq!(stdin(&["delta", "old.sig", "-"], &f.new), f.delta);
    assert_eq!(stdin(&["delta", "old.sig", "-", "-"], &f.new), f.delta);
    assert_eq!(stdin(&["delta", "-", "new"], &f.sig), f.delta);
    assert_eq!(stdin(&["patch", "old"], &f.delta), f.new);
    assert_eq!(stdin(&["patch", "old", "-"], &f.delta), f.new);
    assert_eq!(stdin(&["patch", "old", "-", "-"], &f.delta), f.new);
    // `delta - - OUT`: the signature takes all of stdin, NEWFILE is empty
    tool(d)
        .args(["delta", "-", "-", "empty.delta"])
        .write_stdin(f.sig.clone())
        .assert()
        .success();
    let empty = out(d, &["patch", "old", "empty.delta"]);
    assert!(empty.is_empty());
}

#[test]
fn help_and_version_go_to_stdout_with_status_0() {
    let d = tempdir();
    for args in [&["-h"][..], &["--help"], &["-?"], &["signature", "-?"]] {
        let help = out(d.path(), args);
        let text = String::from_utf8(help).unwrap();
        assert!(text.contains("Usage: rsync-tool"), "{args:?}");
        assert!(text.contains("--block-size"), "{args:?}");
        assert!(text.contains("Example"), "{args:?}: no example");
    }
    // -? is -h, and --help is as concise as -h
    assert_eq!(out(d.path(), &["-?"]), out(d.path(), &["--help"]));
    assert_eq!(out(d.path(), &["-h"]), out(d.path(), &["--help"]));
    let help = String::from_utf8(out(d.path(), &["--help"])).unwrap();
    assert!(help.lines().count() < 50, "--help is not concise:\n{help}");
    assert!(help.lines().all(|l| l.len() <= 100), "{help}");
    for meaning in [
        "-b, --block-size",
        "-S, --sum-size",
        "-H, --hash",
        "-R, --rollsum",
        "-f, --force",
        "-s, --statistics",
        "-v, --verbose",
        "-I, --input-size",
        "-O, --output-size",
        "--progress",
        "-j, --jobs",
    ] {
        assert!(help.contains(meaning), "{meaning} missing from --help");
    }
    let patch_help = String::from_utf8(out(d.path(), &["patch", "--help"])).unwrap();
    assert!(patch_help.contains("--expect-sha256"));
    let delta_help = String::from_utf8(out(d.path(), &["delta", "-h"])).unwrap();
    assert!(delta_help.contains("--sha256-file"));

    for args in [&["-V"][..], &["--version"], &["patch", "-V"]] {
        let version = String::from_utf8(out(d.path(), args)).unwrap();
        assert!(version.starts_with("rsync-tool "), "{args:?}: {version}");
        assert!(version.contains("librsync"), "{version}");
        assert_eq!(version.lines().count(), 2);
        // librsync's help.test greps it
        assert!(version.contains("Copyright"), "{version}");
    }
}

/// The long options a help text lists (`--force`, `--block-size`, ...).
fn listed_options(help: &str) -> Vec<String> {
    help.split_whitespace()
        .filter(|w| w.starts_with("--"))
        .map(|w| w.trim_end_matches([',', '.', ';']).to_string())
        .collect()
}

#[test]
fn each_commands_help_lists_the_options_that_act_on_it() {
    let d = tempdir();
    let help = |args: &[&str]| String::from_utf8(out(d.path(), args)).unwrap();
    let data = [
        "--force",
        "--inplace",
        "--statistics",
        "--verbose",
        "--progress",
        "--no-progress",
        "--input-size",
        "--output-size",
    ];
    let signature_only = ["--block-size", "--sum-size", "--hash", "--rollsum"];
    let cases: [(&str, Vec<&str>, Vec<&str>); 5] = [
        (
            "signature",
            [&data[..], &signature_only, &["--jobs", "--engine"]].concat(),
            vec!["--sha256-file", "--expect-sha256"],
        ),
        (
            "delta",
            [
                &data[..],
                &["--jobs", "--engine", "--sha256-file", "--no-trailer"],
            ]
            .concat(),
            [&signature_only[..], &["--expect-sha256", "--no-verify"]].concat(),
        ),
        (
            "patch",
            [&data[..], &["--expect-sha256", "--no-verify"]].concat(),
            [
                &signature_only[..],
                &["--jobs", "--engine", "--sha256-file", "--no-trailer"],
            ]
            .concat(),
        ),
        ("completions", vec!["--help", "--version"], vec![]),
        ("man", vec!["--help", "--version"], vec![]),
    ];
    for (command, present, absent) in cases {
        let text = help(&[command, "--help"]);
        // `help COMMAND` is the same text, from any prefix rdiff allows
        assert_eq!(text, help(&["help", command]), "help {command}");
        assert_eq!(text, help(&[command, "-h"]), "{command} -h");
        let listed = listed_options(&text);
        for option in present.iter().chain(&["--help", "--version"]) {
            assert!(
                listed.iter().any(|l| l == option),
                "{command}: {option} missing:\n{text}"
            );
        }
        for option in absent {
            assert!(
                !listed.iter().any(|l| l == option),
                "{command}: {option} listed:\n{text}"
            );
        }
        if matches!(command, "completions" | "man") {
            // only their own: help and version
            listed.iter().for_each(|l| {
                assert!(
                    ["--help", "--version"].contains(&l.as_str()),
                    "{command}: {l}"
                )
            });
        }
    }
    assert_eq!(help(&["help", "pat"]), help(&["patch", "--help"]));

    // `help` alone is --help, which lists the commands and says where the
    // options of one command are
    let main = help(&["help"]);
    assert_eq!(main, help(&["--help"]));
    for command in ["signature", "delta", "patch", "completions", "man", "help"] {
        assert!(
            main.lines().any(|l| l.trim_start().starts_with(command)),
            "{command}:\n{main}"
        );
    }
    let flat = main.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("delta --sha256-file"), "{flat}");
    assert!(flat.contains("patch --expect-sha256"), "{flat}");

    // `h` is no prefix of a command: an unknown command, as in rdiff
    fails(d.path(), &["h"], 101, "'h'");
    fails(d.path(), &["help", "h"], 101, "'h'");
}

#[test]
fn signature_options_are_accepted_where_they_are_not_listed() {
    let f = files();
    let d = f.dir.path();
    // rdiff accepts -b -S -H -R with every command; they change nothing there
    let delta = out(
        d,
        &[
            "delta", "-b", "512", "-S", "8", "-H", "md4", "-R", "rollsum", "old.sig", "new",
        ],
    );
    assert_eq!(delta, f.delta);
    let new = out(d, &["-b", "512", "patch", "-H", "md4", "old", "new.delta"]);
    assert_eq!(new, f.new);
    let new = out(
        d,
        &[
            "patch",
            "-j",
            "2",
            "--engine",
            "librsync",
            "old",
            "--sum-size=8",
            "new.delta",
        ],
    );
    assert_eq!(new, f.new);
    // and are still checked
    fails(d, &["patch", "-H", "sha1", "old", "new.delta"], 101, "sha1");
    let script = out(d, &["completions", "-f", "-b", "512", "bash"]);
    assert_eq!(script, out(d, &["completions", "bash"]));
}

#[test]
fn statistics_spellings() {
    let f = files();
    let d = f.dir.path();
    for flag in ["-s", "--stats", "--statistics"] {
        let a = tool(d).args([flag, "signature", "old"]).assert().success();
        let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
        assert!(
            stderr.starts_with("librsync: signature statistics: signature[")
                && stderr.lines().count() == 1,
            "{flag}: {stderr:?}"
        );
        assert_eq!(a.get_output().stdout, f.sig);
    }
    let a = tool(d)
        .args(["delta", "--stats", "old.sig", "new"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    let ops: Vec<&str> = stderr
        .lines()
        .map(|l| l.split(':').nth(1).unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            " loadsig statistics",
            " match statistics",
            " delta statistics"
        ]
    );
}

#[test]
fn one_byte_buffers_give_the_same_outputs() {
    let f = files();
    let d = f.dir.path();
    for io in [
        &["-I", "1"][..],
        &["-O", "1"],
        &["-I", "1", "-O", "1"],
        &["-I1", "-O1"],
    ] {
        let with = |args: &[&str]| {
            let mut all = io.to_vec();
            all.extend_from_slice(args);
            out(d, &all)
        };
        assert_eq!(with(&["signature", "old"]), f.sig, "{io:?}");
        assert_eq!(with(&["delta", "old.sig", "new"]), f.delta, "{io:?}");
        assert_eq!(with(&["patch", "old", "new.delta"]), f.new, "{io:?}");
    }
}

#[test]
fn compression_options_are_unknown_as_in_rdiff() {
    let f = files();
    for opt in ["-z", "--gzip", "-i", "--bzip2"] {
        fails(f.dir.path(), &[opt, "signature", "old"], 101, opt);
        fails(f.dir.path(), &["signature", "old", opt], 101, opt);
    }
}

#[test]
fn usage_errors_are_one_line_and_status_101() {
    let f = files();
    let d = f.dir.path();
    let cases: &[(&[&str], &str)] = &[
        (&["--frobnicate", "signature", "old"], "--frobnicate"),
        (&["-X", "signature", "old"], "-X"),
        (
            &["signature", "old", "--no-such-option"],
            "--no-such-option",
        ),
        (&["-H", "sha1", "signature", "old"], "sha1"),
        (&["-R", "adler", "signature", "old"], "adler"),
        (&["-b", "big", "signature", "old"], "big"),
        (&["--block-size"], "--block-size"),
        (&["signature", "old", "a.sig", "extra"], "extra"),
        (&["delta"], "SIGNATURE"),
        (&["patch"], "BASIS"),
        (&[], "no command"),
        (&["-s"], "no command"),
        (&["frob"], "frob"),
        (&["completions"], "SHELL"),
        (&["completions", "tcsh"], "tcsh"),
        (&["man", "nothing"], "nothing"),
        (
            &["patch", "--expect-sha256", "abc", "old", "new.delta"],
            "64 hex digits",
        ),
        (&["delta", "--sha256-file", "-", "old.sig", "new"], "stdout"),
        (
            &["delta", "--sha256-file", "d", "old.sig", "new", "d"],
            "delta output",
        ),
        (&["-j", "0", "signature", "old"], "0"),
        (&["--progress=yes", "signature", "old"], "--progress"),
    ];
    for (args, needle) in cases {
        let line = fails(d, args, 101, needle);
        assert!(
            !line.contains("Usage:") && !line.contains("error:"),
            "{line}"
        );
    }
    // nothing was written by any of them
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["new", "new.delta", "old", "old.sig"]);
}

#[test]
fn sha256_file_is_what_sha256sum_checks() {
    let f = files();
    let d = f.dir.path();
    tool(d)
        .args([
            "delta",
            "--sha256-file",
            "new.sha256",
            "old.sig",
            "new",
            "d1",
        ])
        .assert()
        .success()
        .stderr("");
    assert_eq!(std::fs::read(d.join("d1")).unwrap(), f.delta);
    let line = std::fs::read_to_string(d.join("new.sha256")).unwrap();
    let sha256sum = Command::new("sha256sum")
        .arg("new")
        .current_dir(d)
        .output()
        .unwrap();
    assert_eq!(line.as_bytes(), sha256sum.stdout, "not sha256sum's line");
    Command::new("sha256sum")
        .args(["--check", "--strict", "new.sha256"])
        .current_dir(d)
        .assert()
        .success()
        .stdout("new: OK\n");

    // NEWFILE from a pipe is named -, and the option may come first
    tool(d)
        .args(["--sha256-file=piped.sha256", "delta", "old.sig"])
        .write_stdin(f.new.clone())
        .assert()
        .success()
        .stdout(f.delta.clone());
    let piped = std::fs::read_to_string(d.join("piped.sha256")).unwrap();
    assert_eq!(piped, line.replace("  new\n", "  -\n"));

    // stdin redirected from a file, read from where it stands: the digest
    // covers NEW, not what came before it
    write(d, "prefixed", &[&b"xyz"[..], &f.new].concat());
    let mut stdin = std::fs::File::open(d.join("prefixed")).unwrap();
    std::io::Seek::seek(&mut stdin, std::io::SeekFrom::Start(3)).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_rsync-tool"))
        .current_dir(d)
        .args([
            "--sha256-file=offset.sha256",
            "-j",
            "2",
            "delta",
            "old.sig",
            "-",
            "d4",
        ])
        .stdin(stdin)
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read(d.join("d4")).unwrap(), f.delta);
    let offset = std::fs::read_to_string(d.join("offset.sha256")).unwrap();
    assert_eq!(offset, piped);

    // the digest file is an output like any other: no clobbering without -f
    fails(
        d,
        &[
            "delta",
            "--sha256-file",
            "new.sha256",
            "old.sig",
            "new",
            "d2",
        ],
        100,
        "new.sha256",
    );
    assert!(!d.join("d2").exists(), "the delta was written all the same");
    tool(d)
        .args([
            "delta",
            "-f",
            "--sha256-file",
            "new.sha256",
            "old.sig",
            "old",
            "d2",
        ])
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(d.join("new.sha256"))
            .unwrap()
            .ends_with("  old\n")
    );

    // a name sha256sum has to escape
    write(d, "a\\b", &f.new);
    tool(d)
        .args([
            "delta",
            "--sha256-file",
            "esc.sha256",
            "old.sig",
            "a\\b",
            "d3",
        ])
        .assert()
        .success();
    Command::new("sha256sum")
        .args(["-c", "esc.sha256"])
        .current_dir(d)
        .assert()
        .success();
}

#[test]
fn expect_sha256_guards_the_output() {
    let f = files();
    let d = f.dir.path();
    let hex = |data: &[u8]| {
        let out = Command::new("sha256sum")
            .write_stdin(data.to_vec())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()[..64].to_string()
    };
    let right = hex(&f.new);
    let wrong = hex(&f.old);
    tool(d)
        .args([
            "patch",
            "--expect-sha256",
            &right,
            "old",
            "new.delta",
            "out",
        ])
        .assert()
        .success()
        .stderr("");
    assert_eq!(std::fs::read(d.join("out")).unwrap(), f.new);
    // upper case, and before the command word
    tool(d)
        .args([
            "--expect-sha256",
            &right.to_uppercase(),
            "patch",
            "old",
            "new.delta",
            "out2",
        ])
        .assert()
        .success();

    // a mismatch: status 106, one line, nothing written or replaced
    let line = fails(
        d,
        &[
            "patch",
            "--expect-sha256",
            &wrong,
            "old",
            "new.delta",
            "bad",
        ],
        106,
        &wrong,
    );
    assert!(
        line.contains(&right) && line.contains("nothing was written"),
        "{line}"
    );
    assert!(!d.join("bad").exists());
    write(d, "keep", b"precious");
    fails(
        d,
        &[
            "patch",
            "-f",
            "--expect-sha256",
            &wrong,
            "old",
            "new.delta",
            "keep",
        ],
        106,
        "keep",
    );
    assert_eq!(std::fs::read(d.join("keep")).unwrap(), b"precious");
    // patching the basis in place: the basis survives a mismatch
    fails(
        d,
        &[
            "patch",
            "-f",
            "--expect-sha256",
            &wrong,
            "old",
            "new.delta",
            "old",
        ],
        106,
        "old",
    );
    assert_eq!(std::fs::read(d.join("old")).unwrap(), f.old);
    let names = std::fs::read_dir(d).unwrap().count();
    assert_eq!(names, 7, "a temporary file was left behind");

    // stdout cannot be taken back: the bytes went out, the status says 106
    let a = tool(d)
        .args(["patch", "--expect-sha256", &wrong, "old", "new.delta"])
        .assert()
        .code(106);
    let stderr = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    assert!(stderr.contains("written through"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
    // to /dev/null: a check that writes nothing
    tool(d)
        .args([
            "patch",
            "-f",
            "--expect-sha256",
            &right,
            "old",
            "new.delta",
            "/dev/null",
        ])
        .assert()
        .success();
}

#[test]
fn completions_and_man_pages_print() {
    let d = tempdir();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = out(d.path(), &["completions", shell]);
        assert!(
            String::from_utf8(script).unwrap().contains("rsync-tool"),
            "{shell}"
        );
    }
    for page in [
        &["man"][..],
        &["man", "signature"],
        &["man", "delta"],
        &["man", "patch"],
    ] {
        let roff = String::from_utf8(out(d.path(), page)).unwrap();
        assert!(roff.contains(".TH rsync-tool"), "{page:?}");
        assert!(roff.contains(".SH \"EXIT STATUS\""), "{page:?}");
        // stdout closed early is a quiet end
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_rsync-tool"));
        let status = cmd
            .args(page)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

#[test]
fn a_full_output_is_blamed_not_the_inputs() {
    // /dev/full fails every write with ENOSPC; small write buffers make the
    // failure land inside a COPY and inside a LITERAL, where it used to be
    // blamed on the basis.
    let f = files();
    let d = f.dir.path();
    for args in [
        &["-f", "patch", "old", "new.delta", "/dev/full"][..],
        &["-f", "-O", "4096", "patch", "old", "new.delta", "/dev/full"],
        &[
            "-f",
            "-O",
            "1",
            "-I",
            "1",
            "patch",
            "old",
            "new.delta",
            "/dev/full",
        ],
    ] {
        let stderr = fails(d, args, 100, "no space left on device");
        assert!(
            stderr.starts_with("rsync-tool: /dev/full: write failed"),
            "{args:?}: {stderr}"
        );
    }
}
