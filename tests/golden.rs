//! Golden files written by rdiff 2.3.2 (tests/golden/, made by make.py):
//! rsync-tool's signatures must equal them byte for byte, it must patch
//! rdiff's deltas, and its own deltas against rdiff's signatures must patch
//! back to NEW and be no bigger than rdiff's (+1% +64 bytes).
//!
//! These tests need no rdiff: inputs are regenerated from the data specs in
//! tests/golden/cases.txt.

use crate::util::*;
use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

struct SigCase {
    name: String,
    input: String,
    input_fnv: u64,
    args: String,
}

struct DeltaCase {
    name: String,
    basis: String,
    basis_fnv: u64,
    new: String,
    new_fnv: u64,
    args: String,
}

fn parse_fnv(s: &str, line: &str) -> u64 {
    assert_eq!(
        s.len(),
        16,
        "FNV field {s:?} is not 16 hex digits in line {line:?}"
    );
    u64::from_str_radix(s, 16).unwrap_or_else(|_| panic!("bad FNV {s:?} in line {line:?}"))
}

fn manifest() -> (Vec<SigCase>, Vec<DeltaCase>) {
    let path = golden_dir().join("cases.txt");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (mut sigs, mut deltas) = (Vec::new(), Vec::new());
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        match f[0] {
            "sig" => {
                assert_eq!(f.len(), 5, "sig line needs 5 fields: {line:?}");
                sigs.push(SigCase {
                    name: f[1].into(),
                    input: f[2].into(),
                    input_fnv: parse_fnv(f[3], line),
                    args: f[4].into(),
                });
            }
            "delta" => {
                assert_eq!(f.len(), 7, "delta line needs 7 fields: {line:?}");
                deltas.push(DeltaCase {
                    name: f[1].into(),
                    basis: f[2].into(),
                    basis_fnv: parse_fnv(f[3], line),
                    new: f[4].into(),
                    new_fnv: parse_fnv(f[5], line),
                    args: f[6].into(),
                });
            }
            other => panic!("unknown case kind {other:?} in {line:?}"),
        }
    }
    (sigs, deltas)
}

/// Runs every case, collects the failures and reports them all at once.
fn report(failures: Vec<String>, total: usize, what: &str) {
    assert!(
        failures.is_empty(),
        "{} of {total} {what} failed:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

fn build_checked(spec: &str, fnv: u64, case: &str) -> Vec<u8> {
    let data = build_spec(spec);
    assert_eq!(
        fnv1a64(&data),
        fnv,
        "case {case}: the data built from {spec:?} is not what make.py generated (generator mismatch)"
    );
    data
}

/// Our signature of `input` with `args` against the golden file; Err describes a difference.
fn check_signature(
    dir: &Path,
    case: &str,
    input: &[u8],
    args: &str,
    golden: &Path,
) -> Result<(), String> {
    let inp = write(dir, &format!("{case}.in"), input);
    let out = dir.join(format!("{case}.sig"));
    let r = run(
        &tool(),
        &argv(args, "signature", &[&inp, &out]),
        Input::Null,
        None,
    );
    let _ = fs::remove_file(&inp);
    if !r.status.success() {
        return Err(format!(
            "{case} (`{args}`): rsync-tool exited {}: {}",
            r.status,
            String::from_utf8_lossy(&r.stderr).trim()
        ));
    }
    let ours = fs::read(&out).map_err(|e| format!("{case}: no output file: {e}"))?;
    match diff_bytes(&ours, &read(golden)) {
        None => Ok(()),
        Some(d) => Err(format!(
            "{case} (`{args}`, {} input bytes): {d}",
            input.len()
        )),
    }
}

#[test]
fn generator_matches_make_py() {
    // the same values make.py asserts
    assert_eq!(gen_bytes(1, 16), hex("41208240000000004114010c06410010"));
    assert_eq!(
        gen_bytes(0xDEAD_BEEF_CAFE_BABE, 20),
        hex("4b28042d1b5cdc27db52eb7a723996a2be52edeb")
    );
    assert_eq!(fnv1a64(&gen_bytes(42, 1000)), 0xF997_5F82_CDE1_7BB0);
    // truncation is a prefix of the longer stream
    assert_eq!(gen_bytes(7, 13), gen_bytes(7, 64)[..13]);
    assert!(gen_bytes(9, 0).is_empty());
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn data_specs() {
    let b = gen_bytes(5, 100);
    assert_eq!(build_spec("g5:100"), b);
    let mut e = b.clone();
    e[10..13].copy_from_slice(&gen_bytes(6, 3));
    e.splice(50..50, gen_bytes(8, 4));
    e.drain(0..2);
    assert_eq!(build_spec("g5:100,r10:3:6,i50:4:8,d0:2"), e);
    let p = gen_bytes(3, 7);
    let rep = build_spec("p3:7:30");
    assert_eq!(rep.len(), 30);
    assert!(rep.chunks(7).all(|c| c == &p[..c.len()]));
}

/// The manifest and the files agree, the goldens are well-formed
/// signatures, the inputs regenerate to what make.py hashed, and the cases
/// cover what they must.
#[test]
fn manifest_is_consistent() {
    let (sigs, deltas) = manifest();
    let dir = golden_dir();
    let mut expected_files = BTreeSet::new();
    let mut names = BTreeSet::new();
    for c in &sigs {
        assert!(
            names.insert(format!("sig/{}", c.name)),
            "duplicate case {}",
            c.name
        );
        expected_files.insert(format!("sig/{}.sig", c.name));
        let data = build_checked(&c.input, c.input_fnv, &c.name);
        check_sig_shape(
            &read(&dir.join(format!("sig/{}.sig", c.name))),
            data.len(),
            &c.name,
        );
    }
    for c in &deltas {
        assert!(
            names.insert(format!("delta/{}", c.name)),
            "duplicate case {}",
            c.name
        );
        expected_files.insert(format!("delta/{}.sig", c.name));
        expected_files.insert(format!("delta/{}.delta", c.name));
        let basis = build_checked(&c.basis, c.basis_fnv, &c.name);
        build_checked(&c.new, c.new_fnv, &c.name);
        check_sig_shape(
            &read(&dir.join(format!("delta/{}.sig", c.name))),
            basis.len(),
            &c.name,
        );
        let d = read(&dir.join(format!("delta/{}.delta", c.name)));
        assert!(
            d.len() >= 5 && d[..4] == [0x72, 0x73, 0x02, 0x36],
            "{}: not a delta",
            c.name
        );
    }
    let mut present = BTreeSet::new();
    for sub in ["sig", "delta"] {
        for e in fs::read_dir(dir.join(sub)).unwrap() {
            present.insert(format!(
                "{sub}/{}",
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    assert_eq!(
        present, expected_files,
        "golden files and cases.txt disagree: rerun make.py"
    );

    // the sizes the brief asks for, under default options
    for n in [
        0, 1, 255, 256, 257, 2047, 2048, 2049, 4095, 4096, 4097, 65536, 65537, 1048576, 1048577,
    ] {
        assert!(
            sigs.iter()
                .any(|c| c.args.is_empty() && build_spec(&c.input).len() == n),
            "no default-options signature case of {n} bytes"
        );
    }
    for args in [
        "-b 64",
        "-b 512",
        "-b 4096",
        "-S 8",
        "-S 16",
        "-S -1",
        "-H md4",
        "-R rollsum",
        "-H md4 -R rollsum -b 2048 -S 8",
    ] {
        assert!(
            sigs.iter().filter(|c| c.args == args).count() >= 2,
            "few cases for `{args}`"
        );
    }
    assert!(deltas.len() >= 5);
}

/// A signature of a `len`-byte basis: header, then ceil(len/block) entries.
fn check_sig_shape(sig: &[u8], len: usize, case: &str) {
    let (magic, block, strong) = sig_header(sig);
    assert!(
        [0x7273_0136, 0x7273_0137, 0x7273_0146, 0x7273_0147].contains(&magic),
        "{case}: bad magic {magic:x}"
    );
    assert!(
        block > 0 && strong > 0 && strong <= 32,
        "{case}: bad header"
    );
    let blocks = len.div_ceil(block as usize);
    assert_eq!(
        sig.len(),
        12 + blocks * (4 + strong as usize),
        "{case}: signature length"
    );
}

#[test]
fn signatures_equal_rdiff_goldens() {
    let (sigs, _) = manifest();
    let dir = golden_dir();
    let tmp = tempdir();
    let mut failures = Vec::new();
    for c in &sigs {
        let input = build_checked(&c.input, c.input_fnv, &c.name);
        let golden = dir.join(format!("sig/{}.sig", c.name));
        if let Err(e) = check_signature(tmp.path(), &c.name, &input, &c.args, &golden) {
            failures.push(e);
        }
    }
    report(failures, sigs.len(), "signature goldens");
}

#[test]
fn delta_case_signatures_equal_rdiff_goldens() {
    let (_, deltas) = manifest();
    let dir = golden_dir();
    let tmp = tempdir();
    let mut failures = Vec::new();
    for c in &deltas {
        let basis = build_checked(&c.basis, c.basis_fnv, &c.name);
        let golden = dir.join(format!("delta/{}.sig", c.name));
        if let Err(e) = check_signature(tmp.path(), &c.name, &basis, &c.args, &golden) {
            failures.push(e);
        }
    }
    report(failures, deltas.len(), "delta-case signature goldens");
}

fn patch_to(dir: &Path, basis: &Path, delta: &Path, out: &Path) -> Result<Vec<u8>, String> {
    let r = run(
        &tool(),
        &argv("", "patch", &[basis, delta, out]),
        Input::Null,
        Some(dir),
    );
    if !r.status.success() {
        return Err(format!(
            "patch exited {}: {}",
            r.status,
            String::from_utf8_lossy(&r.stderr).trim()
        ));
    }
    fs::read(out).map_err(|e| format!("patch wrote no output: {e}"))
}

#[test]
fn patch_of_rdiff_deltas_gives_new() {
    let (_, deltas) = manifest();
    let dir = golden_dir();
    let tmp = tempdir();
    let mut failures = Vec::new();
    for c in &deltas {
        let basis = write(
            tmp.path(),
            &format!("{}.basis", c.name),
            &build_checked(&c.basis, c.basis_fnv, &c.name),
        );
        let new = build_checked(&c.new, c.new_fnv, &c.name);
        let out = tmp.path().join(format!("{}.out", c.name));
        match patch_to(
            tmp.path(),
            &basis,
            &dir.join(format!("delta/{}.delta", c.name)),
            &out,
        ) {
            Err(e) => failures.push(format!("{}: {e}", c.name)),
            Ok(got) => {
                if let Some(d) = diff_bytes(&got, &new) {
                    failures.push(format!("{}: patched output is not NEW: {d}", c.name));
                }
            }
        }
    }
    report(failures, deltas.len(), "patches of rdiff deltas");
}

#[test]
fn our_deltas_against_rdiff_signatures() {
    let (_, deltas) = manifest();
    let dir = golden_dir();
    let tmp = tempdir();
    let mut failures = Vec::new();
    for c in &deltas {
        let basis = write(
            tmp.path(),
            &format!("{}.basis", c.name),
            &build_checked(&c.basis, c.basis_fnv, &c.name),
        );
        let new_data = build_checked(&c.new, c.new_fnv, &c.name);
        let new = write(tmp.path(), &format!("{}.new", c.name), &new_data);
        let sig = dir.join(format!("delta/{}.sig", c.name));
        let ours = tmp.path().join(format!("{}.delta", c.name));
        let r = run(
            &tool(),
            &argv("", "delta", &[&sig, &new, &ours]),
            Input::Null,
            None,
        );
        if !r.status.success() {
            failures.push(format!(
                "{}: delta exited {}: {}",
                c.name,
                r.status,
                String::from_utf8_lossy(&r.stderr).trim()
            ));
            continue;
        }
        let our_len = fs::metadata(&ours).map(|m| m.len() as usize).unwrap_or(0);
        let rdiff_len = read(&dir.join(format!("delta/{}.delta", c.name))).len();
        if !delta_size_ok(our_len, rdiff_len) {
            failures.push(format!(
                "{}: our delta is {our_len} bytes, rdiff's {rdiff_len} (limit {})",
                c.name,
                rdiff_len * 101 / 100 + 64
            ));
        }
        let out = tmp.path().join(format!("{}.out", c.name));
        match patch_to(tmp.path(), &basis, &ours, &out) {
            Err(e) => failures.push(format!("{}: our delta: {e}", c.name)),
            Ok(got) => {
                if let Some(d) = diff_bytes(&got, &new_data) {
                    failures.push(format!(
                        "{}: our delta patches to something else: {d}",
                        c.name
                    ));
                }
            }
        }
    }
    report(failures, deltas.len(), "deltas against rdiff signatures");
}
