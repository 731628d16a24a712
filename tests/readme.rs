//! Every shell block of README.md runs as written, each in a fresh working
//! directory that holds the files the README names (`old.pdf`, `new.img`,
//! ...), with `rsync-tool` (and Debian's `rdiff`) on PATH, a fresh HOME and
//! an `ssh` that runs its command on "host" (another fresh directory). A block preceded by
//! `<!-- readme: not run here (REASON) -->` is skipped, and REASON says who
//! runs it instead (`.ci/run` runs the first block, the build, itself).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{Input, gen_bytes, rdiff, run, scattered_edits, tempdir, tool};

const SKIP: &str = "<!-- readme: not run here (";

/// The ```sh blocks of `text`: (line of the fence, code, skipped).
fn shell_blocks(text: &str) -> Vec<(usize, String, bool)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() == "```sh" {
            let skipped = i > 0 && lines[i - 1].starts_with(SKIP);
            let start = i;
            let mut code = String::new();
            i += 1;
            while i < lines.len() && lines[i].trim_end() != "```" {
                code.push_str(lines[i]);
                code.push('\n');
                i += 1;
            }
            blocks.push((start + 1, code, skipped));
        }
        i += 1;
    }
    blocks
}

fn executable(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn every_shell_block_of_the_readme_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = shell_blocks(&readme);
    assert!(blocks.len() >= 5, "README.md has too few shell blocks");

    let Some(rdiff) = rdiff() else {
        return;
    };
    let mut ran = 0;
    for (line, code, skipped) in &blocks {
        if *skipped {
            continue;
        }
        let dir = tempdir();
        let (work, host, home, bin) = (
            dir.path().join("work"),
            dir.path().join("host"),
            dir.path().join("home"),
            dir.path().join("home/.cargo/bin"),
        );
        for d in [&work, &host, &bin] {
            fs::create_dir_all(d).unwrap();
        }
        // The files the README's examples name, here and on "host".
        for (name, len, seed) in [("pdf", 300_000, 11), ("img", 3 << 20, 12)] {
            let old = gen_bytes(seed, len);
            let new = scattered_edits(&old, seed + 100, 20, 300);
            for d in [&work, &host] {
                fs::write(d.join(format!("old.{name}")), &old).unwrap();
                fs::write(d.join(format!("new.{name}")), &new).unwrap();
            }
        }
        // Where `cargo install` puts it, and rdiff beside it.
        std::os::unix::fs::symlink(tool(), bin.join("rsync-tool")).unwrap();
        std::os::unix::fs::symlink(&rdiff, bin.join("rdiff")).unwrap();
        // ssh HOST COMMAND...: the remote shell runs the words joined by spaces.
        executable(
            &bin.join("ssh"),
            &format!(
                "#!/bin/sh\nshift\ncd '{}' && exec sh -c \"$*\"\n",
                host.display()
            ),
        );
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
        let script = format!("set -euo pipefail\n{code}");
        let r = run(
            Path::new("/usr/bin/env"),
            &[
                "-i",
                &format!("PATH={path}"),
                &format!("HOME={}", home.display()),
                "TERM=dumb",
                "bash",
                "-c",
                &script,
            ],
            Input::Null,
            Some(&work),
        );
        assert!(
            r.status.success(),
            "README.md line {line}: {}\n{code}\nstdout: {}\nstderr: {}",
            r.status,
            String::from_utf8_lossy(&r.stdout),
            String::from_utf8_lossy(&r.stderr)
        );
        ran += 1;
    }
    assert!(ran >= 4, "only {ran} README blocks ran");
}
