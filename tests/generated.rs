//! The completion scripts under completions/ and the man pages under man/
//! are what the binary prints now, and they work: bash sources its script
//! cleanly and completes with it, `man -l` renders every page.
//!
//! After changing the CLI, refresh the committed copies with
//! `UPDATE_GENERATED=1 cargo test --test tests generated`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every generated file: where it is committed, and the arguments that print it.
const GENERATED: &[(&str, &[&str])] = &[
    ("completions/rsync-tool.bash", &["completions", "bash"]),
    ("completions/_rsync-tool", &["completions", "zsh"]),
    ("completions/rsync-tool.fish", &["completions", "fish"]),
    ("completions/rsync-tool.elv", &["completions", "elvish"]),
    (
        "completions/_rsync-tool.ps1",
        &["completions", "powershell"],
    ),
    ("man/rsync-tool.1", &["man"]),
    ("man/rsync-tool-signature.1", &["man", "signature"]),
    ("man/rsync-tool-delta.1", &["man", "delta"]),
    ("man/rsync-tool-patch.1", &["man", "patch"]),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tool(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rsync-tool"))
        .args(args)
        .output()
        .expect("run rsync-tool")
}

fn printed(args: &[&str]) -> Vec<u8> {
    let out = tool(args);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "rsync-tool {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn committed_files_are_what_the_binary_prints() {
    let update = std::env::var_os("UPDATE_GENERATED").is_some_and(|v| v != "0");
    let mut stale = Vec::new();
    for (path, args) in GENERATED {
        let fresh = printed(args);
        let file = root().join(path);
        if update {
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, &fresh).unwrap();
        } else if std::fs::read(&file).ok().as_deref() != Some(&fresh[..]) {
            stale.push(*path);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from what `rsync-tool` prints now; refresh them with \
         `UPDATE_GENERATED=1 cargo test --test tests generated` and commit them"
    );
}

/// Runs a bash script; its stdout when it succeeds with nothing on stderr.
fn bash(script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(root())
        .output()
        .expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "bash -c '{script}': {}\n{stderr}",
        out.status
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The words bash's completion offers for the command line `line` (the
/// cursor at its end), using the committed script.
fn complete(line: &str) -> Vec<String> {
    let script = format!(
        r#"source completions/rsync-tool.bash
compopt() {{ :; }}  # only works inside a real completion
COMP_LINE='{line}'
COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
[[ "$COMP_LINE" == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
func=$(complete -p rsync-tool | sed -E 's/.*-F ([^ ]+).*/\1/')
"$func" rsync-tool "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    bash(&script).lines().map(str::to_string).collect()
}

#[test]
fn bash_completion_parses_sources_and_completes() {
    bash("bash -n completions/rsync-tool.bash");
    let registered = bash("source completions/rsync-tool.bash && complete -p rsync-tool");
    assert!(registered.contains("rsync-tool"), "{registered}");

    let commands = complete("rsync-tool ");
    for word in ["signature", "delta", "patch", "completions", "man"] {
        assert!(commands.contains(&word.to_string()), "{commands:?}");
    }
    let options = complete("rsync-tool patch --ex");
    assert_eq!(options, ["--expect-sha256"]);
    assert_eq!(complete("rsync-tool -H "), ["blake2", "md4"]);
    assert_eq!(
        complete("rsync-tool signature --rollsum "),
        ["rabinkarp", "rollsum"]
    );
    let shells = complete("rsync-tool completions ");
    assert!(shells.contains(&"bash".to_string()), "{shells:?}");
    // a path after delta's options: bash falls back to file names
    let files = complete("rsync-tool delta --sha256-file Cargo.t");
    assert_eq!(files, ["Cargo.toml"]);
}

/// True when `man` can be run; says so loudly when it cannot (and fails
/// under CI=true, where it must be installed).
fn have_man() -> bool {
    if Command::new("man").arg("--version").output().is_ok() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    assert!(!ci, "CI=true and `man` is missing: install man-db");
    // straight to the descriptor: libtest hides eprintln! of passing tests
    let _ = std::io::stderr().write_all(
        b"\n*********************************************************************\n\
          ** WARNING: `man` is not installed: the man pages were NOT rendered.\n\
          ** Install man-db (as .ci/run does) to check them.\n\
          *********************************************************************\n",
    );
    false
}

#[test]
fn man_renders_every_page_without_warnings() {
    if !have_man() {
        return;
    }
    for (path, _) in GENERATED.iter().filter(|(p, _)| p.starts_with("man/")) {
        let page = root().join(path);
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l"])
            .arg(&page)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("run man");
        let text = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.trim().is_empty(),
            "man -l {path}: {}\n{stderr}",
            out.status
        );
        for section in ["NAME", "SYNOPSIS", "OPTIONS", "EXIT STATUS", "EXAMPLES"] {
            assert!(
                text.lines().any(|l| l == section),
                "{path} has no {section} section:\n{text}"
            );
        }
        assert!(
            text.contains("106"),
            "{path}: the exit statuses are missing"
        );
    }
}

#[test]
fn the_pages_name_every_option_of_help() {
    // the man page and --help come from one definition
    let help = String::from_utf8(printed(&["patch", "--help"])).unwrap();
    let page = String::from_utf8(printed(&["man", "patch"])).unwrap();
    for word in help.split_whitespace().filter(|w| w.starts_with("--")) {
        let option = word
            .trim_matches(|c| matches!(c, ',' | '[' | ']'))
            .replace('-', "\\-");
        assert!(page.contains(&option), "{word} is not in the patch page");
    }
    assert!(Path::new(&root()).join("man").is_dir());
}
