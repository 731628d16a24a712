//! Live interop against the installed rdiff (librsync 2.3.x).
//!
//! For each (basis, NEW) pair and option set: every combination of
//! signature by {rdiff, rsync-tool} x delta by {rdiff, rsync-tool} x patch by
//! {rdiff, rsync-tool} must reproduce NEW exactly; our delta must be at most
//! rdiff's x 1.01 + 64 bytes for the same signature; our signature must
//! equal rdiff's byte for byte, also with the basis on stdin redirected from
//! a file and on stdin from a pipe (where both use 2048-byte blocks).
//!
//! Without rdiff these tests warn loudly and pass; under CI=true they fail.

use crate::util::*;
use std::fs;
use std::path::{Path, PathBuf};

/// The option sets each pair runs with (signature options; delta and patch take none).
const OPTION_SETS: &[&str] = &["", "-b 512", "-H md4", "-R rollsum", "-S 8"];

struct Tools {
    rdiff: PathBuf,
    ours: PathBuf,
}

impl Tools {
    fn get() -> Option<Tools> {
        Some(Tools {
            rdiff: rdiff()?,
            ours: tool(),
        })
    }

    fn pick(&self, who: Who) -> &Path {
        match who {
            Who::Rdiff => &self.rdiff,
            Who::Ours => &self.ours,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Rdiff,
    Ours,
}

const BOTH: [Who; 2] = [Who::Rdiff, Who::Ours];

impl Who {
    fn tag(self) -> &'static str {
        match self {
            Who::Rdiff => "rdiff",
            Who::Ours => "ours",
        }
    }
}

/// Collects failures so one run reports all of them.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    /// Runs a command; on a non-zero exit records it and returns None.
    fn run(
        &mut self,
        ctx: &str,
        prog: &Path,
        args: &[std::ffi::OsString],
        stdin: Input,
    ) -> Option<Run> {
        self.run_in(ctx, prog, args, stdin, None)
    }

    fn run_in(
        &mut self,
        ctx: &str,
        prog: &Path,
        args: &[std::ffi::OsString],
        stdin: Input,
        cwd: Option<&Path>,
    ) -> Option<Run> {
        let r = run(prog, args, stdin, cwd);
        if r.status.success() {
            Some(r)
        } else {
            self.0.push(format!(
                "{ctx}: `{}` exited {}: {}",
                r.cmdline,
                r.status,
                String::from_utf8_lossy(&r.stderr).trim()
            ));
            None
        }
    }

    fn same(&mut self, ctx: &str, actual: &[u8], expected: &[u8]) {
        if let Some(d) = diff_bytes(actual, expected) {
            self.0.push(format!("{ctx}: {d}"));
        }
    }

    fn file_is(&mut self, ctx: &str, path: &Path, expected: &[u8]) {
        match fs::read(path) {
            Ok(got) => self.same(ctx, &got, expected),
            Err(e) => self
                .0
                .push(format!("{ctx}: cannot read {}: {e}", path.display())),
        }
    }

    fn finish(self, what: &str) {
        assert!(
            self.0.is_empty(),
            "{what}: {} failure(s):\n  {}",
            self.0.len(),
            self.0.join("\n  ")
        );
    }
}

/// The whole matrix for one pair and one option set.
fn check_pair_with(
    t: &Tools,
    f: &mut Failures,
    dir: &Path,
    name: &str,
    old: &[u8],
    new: &[u8],
    options: &str,
) {
    let ctx = format!("{name} [{options}]");
    let old_p = write(dir, "old", old);
    let new_p = write(dir, "new", new);

    // signatures by both tools, from a path
    let mut sigs = Vec::new();
    for who in BOTH {
        let out = dir.join(format!("sig.{}", who.tag()));
        if f.run(
            &ctx,
            t.pick(who),
            &argv(options, "signature", &[&old_p, &out]),
            Input::Null,
        )
        .is_some()
        {
            sigs.push((who, out));
        }
    }
    let rdiff_sig = read(&dir.join("sig.rdiff"));
    if sigs.len() == 2 {
        f.file_is(
            &format!("{ctx}: our signature vs rdiff's"),
            &sigs[1].1,
            &rdiff_sig,
        );
    }
    check_stdin_signatures(t, f, &ctx, &old_p, old, options, &rdiff_sig);

    // deltas by both tools against both signatures, patched by both tools
    for (sig_who, sig) in &sigs {
        let mut delta_len = [0usize; 2];
        for (i, delta_who) in BOTH.into_iter().enumerate() {
            let delta = dir.join(format!("delta.{}-{}", sig_who.tag(), delta_who.tag()));
            let c = format!(
                "{ctx} sig by {} delta by {}",
                sig_who.tag(),
                delta_who.tag()
            );
            if f.run(
                &c,
                t.pick(delta_who),
                &argv("", "delta", &[sig, &new_p, &delta]),
                Input::Null,
            )
            .is_none()
            {
                continue;
            }
            delta_len[i] = read(&delta).len();
            for patch_who in BOTH {
                let out = dir.join(format!(
                    "out.{}-{}-{}",
                    sig_who.tag(),
                    delta_who.tag(),
                    patch_who.tag()
                ));
                let c = format!("{c} patch by {}", patch_who.tag());
                if f.run(
                    &c,
                    t.pick(patch_who),
                    &argv("", "patch", &[&old_p, &delta, &out]),
                    Input::Null,
                )
                .is_some()
                {
                    f.file_is(&format!("{c}: result vs NEW"), &out, new);
                }
            }
        }
        let [r, o] = delta_len;
        if r > 0 && o > 0 && !delta_size_ok(o, r) {
            f.0.push(format!(
                "{ctx} sig by {}: our delta is {o} bytes, rdiff's {r} (limit {})",
                sig_who.tag(),
                r * 101 / 100 + 64
            ));
        }
    }
}

/// Signatures with the basis on stdin: redirected from the file (size
/// known: same bytes as from the path) and through a pipe (size unknown:
/// 2048-byte blocks unless -b says otherwise, and the same bytes as rdiff's).
fn check_stdin_signatures(
    t: &Tools,
    f: &mut Failures,
    ctx: &str,
    old_p: &Path,
    old: &[u8],
    options: &str,
    from_path: &[u8],
) {
    // rdiff itself: the assumption the contract makes
    if let Some(r) = f.run(
        ctx,
        &t.rdiff,
        &argv(options, "signature", &[]),
        Input::File(old_p),
    ) {
        f.same(
            &format!("{ctx}: rdiff's signature of `< file` vs of the path (rdiff behaviour!)"),
            &r.stdout,
            from_path,
        );
    }
    // ours: missing paths and `-`, output on stdout and to a file
    if let Some(r) = f.run(
        ctx,
        &t.ours,
        &argv(options, "signature", &[]),
        Input::File(old_p),
    ) {
        f.same(
            &format!("{ctx}: our `signature < old` (stdout) vs rdiff"),
            &r.stdout,
            from_path,
        );
    }
    let dir = old_p.parent().unwrap();
    let out = dir.join("sig.ours-stdin");
    if f.run(
        ctx,
        &t.ours,
        &argv(options, "signature", &[Path::new("-"), &out]),
        Input::File(old_p),
    )
    .is_some()
    {
        f.file_is(
            &format!("{ctx}: our `signature - out < old` vs rdiff"),
            &out,
            from_path,
        );
    }

    let Some(rp) = f.run(
        ctx,
        &t.rdiff,
        &argv(options, "signature", &[]),
        Input::Pipe(old),
    ) else {
        return;
    };
    if !options.contains("-b") {
        let (_, block, _) = sig_header(&rp.stdout);
        if block != 2048 {
            f.0.push(format!(
                "{ctx}: rdiff's block length on a pipe is {block}, not 2048 (rdiff behaviour!)"
            ));
        }
    }
    if let Some(r) = f.run(
        ctx,
        &t.ours,
        &argv(options, "signature", &[]),
        Input::Pipe(old),
    ) {
        f.same(
            &format!("{ctx}: our `cat old | signature` vs rdiff's"),
            &r.stdout,
            &rp.stdout,
        );
    }
    let out = dir.join("sig.ours-pipe");
    if f.run(
        ctx,
        &t.ours,
        &argv(options, "signature", &[Path::new("-"), &out]),
        Input::Pipe(old),
    )
    .is_some()
    {
        f.file_is(
            &format!("{ctx}: our `cat old | signature - out` vs rdiff's"),
            &out,
            &rp.stdout,
        );
    }
}

fn check_pair(name: &str, old: &[u8], new: &[u8], option_sets: &[&str]) {
    let Some(t) = Tools::get() else { return };
    let tmp = tempdir();
    let mut f = Failures::default();
    for (i, options) in option_sets.iter().enumerate() {
        let dir = tmp.path().join(format!("set{i}"));
        fs::create_dir(&dir).unwrap();
        check_pair_with(&t, &mut f, &dir, name, old, new, options);
    }
    f.finish(name);
}

#[test]
fn scattered_edits_pair() {
    let old = gen_bytes(201, 300_000);
    let new = scattered_edits(&old, 2011, 30, 300);
    assert_ne!(old, new);
    check_pair("scattered", &old, &new, OPTION_SETS);
}

#[test]
fn shifting_edits_pair() {
    let old = gen_bytes(202, 250_000);
    let new = shifting_edits(&old, 2021, 20, 2000);
    assert_ne!(old.len(), new.len());
    check_pair("shifting", &old, &new, OPTION_SETS);
}

#[test]
fn identical_pair() {
    let old = gen_bytes(203, 200_000);
    check_pair("identical", &old, &old, OPTION_SETS);
}

#[test]
fn unrelated_pair() {
    check_pair(
        "unrelated",
        &gen_bytes(204, 100_000),
        &gen_bytes(205, 120_000),
        OPTION_SETS,
    );
}

#[test]
fn empty_new_pair() {
    check_pair("empty NEW", &gen_bytes(206, 10_000), &[], OPTION_SETS);
}

#[test]
fn empty_basis_pair() {
    check_pair("empty basis", &[], &gen_bytes(207, 10_000), OPTION_SETS);
}

#[test]
fn both_empty_pair() {
    check_pair("both empty", &[], &[], OPTION_SETS);
}

#[test]
fn one_byte_to_two_bytes_pair() {
    check_pair(
        "1 B -> 2 B",
        &gen_bytes(208, 1),
        &gen_bytes(209, 2),
        OPTION_SETS,
    );
}

#[test]
fn edited_text_pair() {
    let old = gen_text(210, 200_000);
    let new = edit_text(&old, 211, 40);
    assert_ne!(old, new);
    check_pair("text", &old, &new, OPTION_SETS);
}

#[test]
fn repetitive_pair() {
    let pattern = gen_bytes(212, 1024);
    let old: Vec<u8> = pattern.iter().copied().cycle().take(256 * 1024).collect();
    let new = shifting_edits(&scattered_edits(&old, 2121, 20, 5), 2122, 4, 100);
    assert_ne!(old, new);
    check_pair("repetitive", &old, &new, OPTION_SETS);
}

#[test]
fn reordered_blocks_pair() {
    let old = gen_bytes(213, 200_000);
    let new = move_chunk(
        &move_chunk(&old, 150_000, 30_000, 1_000),
        60_000,
        5_000,
        199_000,
    );
    check_pair("reordered", &old, &new, OPTION_SETS);
}

/// A 20+ MiB pair, default options only (it runs in a debug build on 2 cores).
#[test]
fn large_pair() {
    let old = gen_bytes(220, 20 * 1024 * 1024 + 12_345);
    let new = shifting_edits(&scattered_edits(&old, 2201, 200, 500), 2202, 20, 4000);
    check_pair("20 MiB", &old, &new, &[""]);
}

/// Signature equality, path vs `< file` vs pipe, for sizes around block
/// boundaries and option sets the pairs above do not use.
#[test]
fn signatures_from_stdin_equal_rdiffs() {
    let Some(t) = Tools::get() else { return };
    let tmp = tempdir();
    let mut f = Failures::default();
    for (i, &len) in [
        0usize, 1, 256, 257, 2048, 2049, 65536, 65537, 300_000, 1_048_577,
    ]
    .iter()
    .enumerate()
    {
        let data = gen_bytes(300 + i as u64, len);
        for (j, options) in [
            "",
            "-S -1",
            "-b 0",
            "-H md4 -R rollsum -S 8",
            "-b 4096 -S 16",
        ]
        .iter()
        .enumerate()
        {
            let dir = tmp.path().join(format!("{i}-{j}"));
            fs::create_dir(&dir).unwrap();
            let old_p = write(&dir, "old", &data);
            let ctx = format!("{len} bytes [{options}]");
            let sig = dir.join("sig.rdiff");
            if f.run(
                &ctx,
                &t.rdiff,
                &argv(options, "signature", &[&old_p, &sig]),
                Input::Null,
            )
            .is_none()
            {
                continue;
            }
            let rdiff_sig = read(&sig);
            let ours = dir.join("sig.ours");
            if f.run(
                &ctx,
                &t.ours,
                &argv(options, "signature", &[&old_p, &ours]),
                Input::Null,
            )
            .is_some()
            {
                f.file_is(
                    &format!("{ctx}: our signature vs rdiff's"),
                    &ours,
                    &rdiff_sig,
                );
            }
            check_stdin_signatures(&t, &mut f, &ctx, &old_p, &data, options, &rdiff_sig);
        }
    }
    f.finish("signatures from stdin");
}

/// rdiff accepts options anywhere and any prefix of the command word; the
/// same command lines must give rsync-tool's output the same bytes.
#[test]
fn same_command_lines_as_rdiff() {
    let Some(t) = Tools::get() else { return };
    let tmp = tempdir();
    let dir = tmp.path();
    let old = gen_bytes(230, 70_000);
    write(dir, "old", &old);
    write(dir, "new", &scattered_edits(&old, 2301, 5, 100));
    let mut f = Failures::default();
    let lines: &[&[&str]] = &[
        &["-b", "512", "signature", "old", "OUT"],
        &["signature", "-b", "512", "old", "OUT"],
        &["signature", "old", "-b", "512", "OUT"],
        &["signature", "old", "OUT", "-b", "512"],
        &["-b512", "sig", "old", "OUT"],
        &["--block-size=512", "s", "old", "OUT"],
        &["--block-size", "512", "signatur", "old", "OUT"],
        &["-H", "md4", "--sum-size", "8", "signature", "old", "OUT"],
        &["-R", "rollsum", "-S", "-1", "signature", "old", "OUT"],
        &["delta", "sig.ref", "new", "OUT"],
        &["d", "sig.ref", "new", "OUT"],
        &["del", "sig.ref", "new", "OUT"],
        &["patch", "old", "delta.ref", "OUT"],
        &["p", "old", "delta.ref", "OUT"],
        &["pat", "old", "delta.ref", "OUT"],
    ];
    let prep = [
        &["signature", "old", "sig.ref"][..],
        &["delta", "sig.ref", "new", "delta.ref"][..],
    ];
    if prep.iter().all(|a| {
        f.run_in("prep", &t.rdiff, &os(a), Input::Null, Some(dir))
            .is_some()
    }) {
        for (i, line) in lines.iter().enumerate() {
            let mut outs = Vec::new();
            for who in BOTH {
                let out = format!("out{i}.{}", who.tag());
                let args: Vec<&str> = line
                    .iter()
                    .map(|a| if *a == "OUT" { out.as_str() } else { a })
                    .collect();
                let ctx = format!("`{}` by {}", line.join(" "), who.tag());
                if f.run_in(&ctx, t.pick(who), &os(&args), Input::Null, Some(dir))
                    .is_some()
                {
                    outs.push(dir.join(&out));
                }
            }
            if outs.len() == 2 {
                let want = read(&outs[0]);
                let ctx = format!("`{}`: ours vs rdiff's", line.join(" "));
                if line[0].starts_with('d') {
                    // ours ends with the verification trailer after END
                    let ours = read(&outs[1]);
                    f.same(&ctx, delta_up_to_end(&ours), &want);
                } else {
                    f.file_is(&ctx, &outs[1], &want);
                }
            }
        }
    }
    f.finish("same command lines");
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(Into::into).collect()
}

/// rdiff sizes a basis on stdin with fstat, so when stdin is a regular file
/// whose offset is not 0 (the shell's `(skip part; rdiff signature) < f`),
/// the block length and -S -1 come from the whole file's size although only
/// the rest is read. A drop-in must print the same bytes.
#[test]
fn signature_of_stdin_file_at_an_offset_matches_rdiff() {
    let Some(rdiff) = rdiff() else { return };
    let tmp = tempdir();
    write(tmp.path(), "f", &gen_bytes(240, 300_000));
    for options in ["", "-S -1"] {
        let script = format!(
            r#"set -e
(dd bs=100000 skip=1 count=0 2>/dev/null; "$R" {options} signature > sig.rdiff) < f
(dd bs=100000 skip=1 count=0 2>/dev/null; "$T" {options} signature > sig.ours) < f"#
        );
        let r = sh(&script, tmp.path(), Some(&rdiff));
        assert!(
            r.status.success(),
            "`{script}`: {}; stderr:\n{}",
            r.status,
            String::from_utf8_lossy(&r.stderr)
        );
        let want = read(&tmp.path().join("sig.rdiff"));
        // 200,000 bytes read, 512-byte blocks chosen for the file's 300,000
        assert_eq!(sig_header(&want).1, 512, "rdiff behaviour changed");
        assert_bytes_eq(
            &read(&tmp.path().join("sig.ours")),
            &want,
            &format!("[{options}] ours vs rdiff's"),
        );
    }
}
