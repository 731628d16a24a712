//! `-s` prints rdiff's statistics lines: the same lines, in the same order,
//! identical but for the speed figures (and the match line's counters, which
//! describe each engine's own hash table).

use crate::util::*;
use std::path::Path;

/// The stderr lines with each `speed[...]` replaced, since times differ.
fn stat_lines(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.contains("Warning"))
        .map(|l| match l.find(" speed[") {
            Some(i) => format!("{} speed[...]", &l[..i]),
            None => l.to_string(),
        })
        .collect()
}

fn both(
    rdiff: &Path,
    dir: &Path,
    options: &str,
    command: &str,
    paths: &[&str],
) -> (Vec<String>, Vec<String>) {
    let mut ours_paths: Vec<std::path::PathBuf> = paths.iter().map(|p| dir.join(p)).collect();
    let mut rdiff_paths = ours_paths.clone();
    let last = ours_paths.len() - 1;
    ours_paths[last] = dir.join(format!("{}.ours", paths[last]));
    rdiff_paths[last] = dir.join(format!("{}.rdiff", paths[last]));
    let refs = |v: &Vec<std::path::PathBuf>| v.iter().map(|p| p.to_path_buf()).collect::<Vec<_>>();
    let o = refs(&ours_paths);
    let r = refs(&rdiff_paths);
    let ours = run(
        &tool(),
        &argv(
            &format!("-s -f {options}"),
            command,
            &o.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        ),
        Input::Null,
        None,
    )
    .ok();
    let theirs = run(
        rdiff,
        &argv(
            &format!("-s -f {options}"),
            command,
            &r.iter().map(|p| p.as_path()).collect::<Vec<_>>(),
        ),
        Input::Null,
        None,
    )
    .ok();
    (stat_lines(&ours.stderr), stat_lines(&theirs.stderr))
}

#[test]
fn statistics_lines_match_rdiffs() {
    let Some(rdiff) = rdiff() else { return };
    let dir = tempdir();
    let d = dir.path();
    let basis = gen_bytes(11, 300_000);
    write(d, "old", &basis);
    write(d, "new", &shifting_edits(&basis, 12, 6, 900));
    write(d, "same", &basis);
    for options in ["", "-b 1024 -H md4", "-R rollsum -S 8"] {
        let (ours, theirs) = both(&rdiff, d, options, "signature", &["old", "sig"]);
        assert_eq!(ours, theirs, "signature -s {options}");
        assert_eq!(ours.len(), 1);
        // Both deltas against rdiff's signature, so the loadsig lines agree.
        std::fs::copy(d.join("sig.rdiff"), d.join("sig")).unwrap();
        for new in ["new", "same"] {
            let (ours, theirs) = both(&rdiff, d, options, "delta", &["sig", new, "delta"]);
            assert_eq!(ours.len(), 3, "loadsig, match and delta lines: {ours:?}");
            assert_eq!(ours[0], theirs[0], "loadsig line, {options} {new}");
            assert!(
                ours[1].starts_with("librsync: match statistics: signature["),
                "{}",
                ours[1]
            );
            assert!(theirs[1].starts_with("librsync: match statistics: signature["));
            if new == "same" {
                assert_eq!(ours[2], theirs[2], "delta line, {options} {new}");
            } else {
                assert!(
                    ours[2].starts_with("librsync: delta statistics: "),
                    "{}",
                    ours[2]
                );
            }
            // Patch the same (rdiff's) delta with both: identical counters.
            std::fs::copy(d.join("delta.rdiff"), d.join("delta")).unwrap();
            let (ours, theirs) = both(&rdiff, d, options, "patch", &["old", "delta", "out"]);
            assert_eq!(ours, theirs, "patch -s {options} {new}");
            assert_eq!(read(&d.join("out.ours")), read(&d.join(new)));
        }
    }
}
