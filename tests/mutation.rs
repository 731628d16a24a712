//! Mutation test: a few hundred damaged signatures and deltas, made from real
//! rdiff files (tests/golden/delta/, written by rdiff 2.3.2) by bit flips,
//! byte overwrites, truncation, extension, insertion and splicing with
//! deterministic seeds, fed to the binary: `delta MUT_SIG new out` and
//! `patch basis MUT_DELTA out`, each killed after 10 s.
//!
//! For every input: no crash (no signal, status one of rdiff's 0, 100, 103,
//! 104, 106, 108), no panic text, on failure exactly one `rsync-tool: `
//! stderr line and no output or temporary file left behind. With rdiff:
//! whenever we succeed, rdiff succeeds too (patch: byte-identical output;
//! delta: both deltas patch the basis to the same result), and wherever
//! rdiff exits normally our status is rdiff's, except for the known
//! differences in `known_difference` (bugs reported in tests/errors.rs and
//! intended limits), which are counted and printed.
//!
//! Inputs that fail a check are kept in target/tmp/mutation-failures/.

use std::collections::HashSet;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{Rng, build_spec, rdiff, read_on_thread, tempdir, tool};
use rsync_tool_core::format::{Command as DeltaCommand, DeltaParser};

/// Mutants per source file and kind: 6 sources x 2 kinds x 50 = 600 inputs,
/// about 7 s in a debug build. RSYNC_TOOL_MUTANTS=N runs N per source and
/// kind instead, for a deeper run by hand.
const PER_SOURCE: usize = 50;
/// A run taking longer than this is a hang: killed, and a failure.
const TIMEOUT: Duration = Duration::from_secs(10);
const STATUSES: [i32; 6] = [0, 100, 103, 104, 106, 108];

// ------------------------------------------------------------------ sources

/// A golden (basis, NEW) pair with rdiff's signature and delta.
struct Source {
    name: &'static str,
    basis: Vec<u8>,
    new: Vec<u8>,
    sig: Vec<u8>,
    delta: Vec<u8>,
}

/// The small golden delta cases: every signature kind rdiff writes by default
/// and with -b 64 and -S 8, an empty basis, and one of a single byte.
const SOURCES: &[&str] = &[
    "append",
    "prepend",
    "S8-scattered",
    "b64-shifting",
    "empty-basis",
    "one-to-two",
];

fn golden() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn sources() -> Vec<Source> {
    let cases = fs::read_to_string(golden().join("cases.txt")).expect("tests/golden/cases.txt");
    SOURCES
        .iter()
        .map(|&name| {
            let line = cases
                .lines()
                .find(|l| l.starts_with(&format!("delta\t{name}\t")))
                .unwrap_or_else(|| panic!("no delta case {name} in cases.txt"));
            let f: Vec<&str> = line.split('\t').collect();
            Source {
                name,
                basis: build_spec(f[2]),
                new: build_spec(f[4]),
                sig: fs::read(golden().join(format!("delta/{name}.sig"))).unwrap(),
                delta: fs::read(golden().join(format!("delta/{name}.delta"))).unwrap(),
            }
        })
        .collect()
}

// ------------------------------------------------------------------ mutations

/// Values that mean something to a parser: zero, sign bits, all ones, delta
/// opcode boundaries.
const INTERESTING: [u8; 12] = [
    0x00, 0x01, 0x20, 0x40, 0x41, 0x44, 0x45, 0x54, 0x55, 0x7f, 0x80, 0xff,
];

/// Where a mutation lands: the header and first commands half of the time,
/// since that is where the parsing decisions are.
fn position(rng: &mut Rng, len: usize) -> usize {
    if rng.below(2) == 0 {
        rng.below_usize(len.min(16))
    } else {
        rng.below_usize(len)
    }
}

/// One mutant of `data`; `other` is a second file to splice with.
fn mutate(rng: &mut Rng, data: &[u8], other: &[u8]) -> (String, Vec<u8>) {
    let mut v = data.to_vec();
    let kind = rng.below(7);
    let desc = match kind {
        0 if !v.is_empty() => {
            let n = 1 + rng.below_usize(3);
            let mut at = Vec::new();
            for _ in 0..n {
                let i = position(rng, v.len());
                let bit = rng.below(8);
                v[i] ^= 1 << bit;
                at.push(format!("{i}.{bit}"));
            }
            format!("flip bits {}", at.join(","))
        }
        1 if !v.is_empty() => {
            let i = position(rng, v.len());
            let b = INTERESTING[rng.below_usize(INTERESTING.len())];
            v[i] = b;
            format!("set byte {i} to {b:#04x}")
        }
        2 => {
            let cut = rng.below_usize(v.len() + 1);
            v.truncate(cut);
            format!("truncate to {cut}")
        }
        3 => {
            let n = 1 + rng.below_usize(64);
            if rng.below(2) == 0 || v.is_empty() {
                v.extend((0..n).map(|_| rng.below(256) as u8));
                format!("append {n} random bytes")
            } else {
                let from = rng.below_usize(v.len());
                let chunk: Vec<u8> = v[from..(from + n).min(v.len())].to_vec();
                v.extend_from_slice(&chunk);
                format!("append a copy of {} bytes from {from}", chunk.len())
            }
        }
        4 if !v.is_empty() => {
            let i = position(rng, v.len());
            if rng.below(2) == 0 {
                v.remove(i);
                format!("delete byte {i}")
            } else {
                let b = rng.below(256) as u8;
                v.insert(i, b);
                format!("insert {b:#04x} at {i}")
            }
        }
        5 => {
            let cut = rng.below_usize(v.len() + 1);
            let from = rng.below_usize(other.len() + 1);
            v.truncate(cut);
            v.extend_from_slice(&other[from..]);
            format!("first {cut} bytes + the other file from {from}")
        }
        _ => {
            // a range of the file replaced by one repeated interesting byte
            if v.is_empty() {
                return mutate(rng, data, other);
            }
            let i = position(rng, v.len());
            let n = (1 + rng.below_usize(12)).min(v.len() - i);
            let b = INTERESTING[rng.below_usize(INTERESTING.len())];
            v[i..i + n].fill(b);
            format!("fill {n} bytes at {i} with {b:#04x}")
        }
    };
    if v == data {
        // a no-op (e.g. truncation to the full length): try again
        return mutate(rng, data, other);
    }
    (desc, v)
}

// ------------------------------------------------------------------ running

struct Outcome {
    code: Option<i32>,
    signal: Option<i32>,
    stderr: String,
}

fn run_in(prog: &Path, args: &[&str], dir: &Path) -> Result<Outcome, String> {
    let mut child = Command::new(prog)
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {}: {e}", prog.display()))?;
    let err = child.stderr.take().unwrap();
    let err_t = read_on_thread(err);
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            break st;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "`{} {}` did not finish within {TIMEOUT:?}: killed",
                prog.display(),
                args.join(" ")
            ));
        }
        thread::sleep(Duration::from_millis(1));
    };
    Ok(Outcome {
        code: status.code(),
        signal: status.signal(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap()).into_owned(),
    })
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn clear(dir: &Path) {
    for name in entries(dir) {
        fs::remove_file(dir.join(name)).unwrap();
    }
}

/// Our checks that need no rdiff; returns the failures.
fn check_ours(out: &Outcome, outdir: &Path) -> Vec<String> {
    let mut fails = Vec::new();
    if let Some(sig) = out.signal {
        fails.push(format!("killed by signal {sig}"));
    }
    match out.code {
        Some(c) if STATUSES.contains(&c) => {}
        other => fails.push(format!("status {other:?} is not one of {STATUSES:?}")),
    }
    for w in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "internal error",
    ] {
        if out.stderr.contains(w) {
            fails.push(format!("stderr contains {w:?}"));
        }
    }
    let left = entries(outdir);
    if out.code == Some(0) {
        if left != ["out"] {
            fails.push(format!("after success the output directory holds {left:?}"));
        }
    } else {
        if out.stderr.lines().count() != 1 || !out.stderr.starts_with("rsync-tool: ") {
            fails.push("not exactly one `rsync-tool: ` line on stderr".to_string());
        }
        if !left.is_empty() {
            fails.push(format!("failure left {left:?} behind"));
        }
    }
    fails
}

/// What a delta's commands ask for, as far as they parse.
#[derive(Default)]
struct Scan {
    longest_literal: u64,
    furthest_copy: u64,
}

fn scan_delta(d: &[u8]) -> Scan {
    let mut s = Scan::default();
    if d.len() < 4 || d[..4] != [0x72, 0x73, 0x02, 0x36] {
        return s;
    }
    let mut i = 4;
    let num = |i: &mut usize, w: usize| -> Option<u64> {
        let b = d.get(*i..*i + w)?;
        *i += w;
        Some(b.iter().fold(0u64, |v, &x| (v << 8) | x as u64))
    };
    const W: [usize; 4] = [1, 2, 4, 8];
    while let Some(&op) = d.get(i) {
        i += 1;
        match op {
            0 => break,
            1..=0x40 => {
                s.longest_literal = s.longest_literal.max(op as u64);
                i += op as usize;
            }
            0x41..=0x44 => {
                let Some(len) = num(&mut i, W[(op - 0x41) as usize]) else {
                    break;
                };
                s.longest_literal = s.longest_literal.max(len);
                match usize::try_from(len).ok().and_then(|l| i.checked_add(l)) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            0x45..=0x54 => {
                let k = (op - 0x45) as usize;
                let (Some(pos), Some(_)) = (num(&mut i, W[k / 4]), num(&mut i, W[k % 4])) else {
                    break;
                };
                s.furthest_copy = s.furthest_copy.max(pos);
            }
            _ => break,
        }
    }
    s
}

/// Why our status may differ from rdiff's for this input, if it may: a bug
/// already reported (tests/errors.rs regression tests) or an intended limit.
fn known_difference(kind: Kind, input: &[u8], ours: i32, theirs: i32) -> Option<&'static str> {
    match kind {
        Kind::Sig if input.len() >= 12 => {
            let be = |i: usize| u32::from_be_bytes(input[i..i + 4].try_into().unwrap());
            let strong_len = be(8);
            if strong_len == 0 && ours == 106 {
                Some("known bug: strong length 0 means the full hash in rdiff")
            } else {
                None
            }
        }
        Kind::Sig if input.len() >= 8 => {
            let block_len = u32::from_be_bytes(input[4..8].try_into().unwrap());
            let bogus = block_len == 0 || block_len > i32::MAX as u32;
            (bogus && ours == 103 && theirs == 106)
                .then_some("known bug: bogus block length in a truncated header")
        }
        Kind::Sig => None,
        Kind::Delta => {
            let s = scan_delta(input);
            if s.longest_literal > u32::MAX as u64 {
                Some("known bug: LITERAL of 2^32 bytes or more")
            } else if s.furthest_copy >= 1 << 40 && ours == 103 && theirs == 100 {
                Some("known bug: COPY at an offset the file system cannot seek to")
            } else {
                None
            }
        }
    }
}

/// Checks that a delta we wrote is well formed and rebuilds `new_len` bytes.
fn check_our_delta(delta: &[u8], new_len: usize) -> Option<String> {
    let mut p = DeltaParser::new(None);
    let (mut i, mut total) = (0usize, 0u64);
    while i < delta.len() && !p.is_done() {
        match p.advance(&delta[i..]) {
            Ok((n, cmd)) => {
                i += n;
                match cmd {
                    Some(DeltaCommand::Literal { len }) | Some(DeltaCommand::Copy { len, .. }) => {
                        total += len
                    }
                    _ => {}
                }
            }
            Err(e) => return Some(format!("our delta does not parse: {e}")),
        }
    }
    if let Err(e) = p.finish() {
        return Some(format!("our delta is incomplete: {e}"));
    }
    (total != new_len as u64)
        .then(|| format!("our delta rebuilds {total} bytes, NEW has {new_len}"))
}

/// True when two block entries of a signature are equal: a delta may then
/// COPY from either, and rdiff and we may pick differently.
fn has_duplicate_entries(sig: &[u8]) -> bool {
    if sig.len() < 12 {
        return false;
    }
    let strong = u32::from_be_bytes(sig[8..12].try_into().unwrap()) as usize;
    let entry = if strong == 0 { 36 } else { 4 + strong.min(32) };
    let mut seen = HashSet::new();
    sig[12..].chunks_exact(entry).any(|e| !seen.insert(e))
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Sig,
    Delta,
}

struct Tally {
    cases: usize,
    ours_ok: usize,
    compared: usize,
    known: Vec<String>,
    failures: Vec<String>,
}

/// One damaged input.
struct Mutant {
    kind: Kind,
    id: String,
    desc: String,
    input: Vec<u8>,
}

/// Runs one mutant in `dir` (which holds basis, new, o/ and r/); records
/// failures in `tally`.
fn run_case(dir: &Path, rdiff: Option<&Path>, src: &Source, m: &Mutant, tally: &mut Tally) {
    let (kind, id, desc, input) = (m.kind, m.id.as_str(), m.desc.as_str(), &m.input[..]);
    tally.cases += 1;
    let (file, args): (&str, [&str; 4]) = match kind {
        Kind::Sig => ("m.sig", ["delta", "m.sig", "new", "o/out"]),
        Kind::Delta => ("m.delta", ["patch", "basis", "m.delta", "o/out"]),
    };
    fs::write(dir.join(file), input).unwrap();
    let outdir = dir.join("o");
    let rdir = dir.join("r");
    clear(&outdir);
    clear(&rdir);
    let mut fails = Vec::new();
    let ours = match run_in(&tool(), &args, dir) {
        Ok(o) => o,
        Err(e) => {
            fails.push(e);
            Outcome {
                code: None,
                signal: None,
                stderr: String::new(),
            }
        }
    };
    if fails.is_empty() {
        fails.extend(check_ours(&ours, &outdir));
    }
    let ok = ours.code == Some(0) && fails.is_empty();
    if ok {
        tally.ours_ok += 1;
        if kind == Kind::Sig {
            let d = fs::read(outdir.join("out")).unwrap();
            fails.extend(check_our_delta(&d, src.new.len()));
        }
    }
    if let (Some(rdiff), Some(code)) = (rdiff, ours.code.filter(|_| fails.is_empty())) {
        let rargs = [args[0], args[1], args[2], "r/out"];
        match run_in(rdiff, &rargs, dir) {
            Err(e) => eprintln!("note: {id}: rdiff: {e} (not compared)"),
            Ok(r) if r.signal.is_some() => {} // rdiff crashed: nothing to compare
            Ok(r) => {
                tally.compared += 1;
                let theirs = r.code.unwrap();
                if code != theirs {
                    match known_difference(kind, input, code, theirs) {
                        Some(why) => tally.known.push(format!("{id}: {code} vs {theirs}: {why}")),
                        None => fails.push(format!(
                            "status {code}, rdiff {theirs}; ours: {:?}; rdiff: {:?}",
                            ours.stderr.trim_end(),
                            r.stderr.trim_end()
                        )),
                    }
                } else if code == 0 {
                    fails.extend(compare_success(dir, kind, input, rdiff));
                }
            }
        }
    }
    if !fails.is_empty() {
        let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mutation-failures");
        fs::create_dir_all(&keep).unwrap();
        let saved = keep.join(format!(
            "{id}.{}",
            if kind == Kind::Sig { "sig" } else { "delta" }
        ));
        fs::write(&saved, input).unwrap();
        tally.failures.push(format!(
            "[{id}] {} ({desc}; kept in {})\n    {}",
            args.join(" "),
            saved.display(),
            fails.join("\n    ")
        ));
    }
}

/// Both succeeded: patch outputs must be identical; deltas must patch the
/// basis (with rdiff) to the same result.
fn compare_success(dir: &Path, kind: Kind, input: &[u8], rdiff: &Path) -> Vec<String> {
    let ours = fs::read(dir.join("o/out")).unwrap();
    let theirs = fs::read(dir.join("r/out")).unwrap();
    match kind {
        Kind::Delta => {
            if ours != theirs {
                return vec![format!(
                    "patched output differs from rdiff's: {}",
                    crate::util::diff_bytes(&ours, &theirs).unwrap()
                )];
            }
        }
        Kind::Sig => {
            let mut results = Vec::new();
            for (delta, out) in [("o/out", "r/p-ours"), ("r/out", "r/p-rdiff")] {
                let r = run_in(rdiff, &["patch", "basis", delta, out], dir);
                let code = r.ok().and_then(|r| r.code);
                results.push((
                    code,
                    fs::read(dir.join(out)).ok().filter(|_| code == Some(0)),
                ));
            }
            if results[0] != results[1] && !has_duplicate_entries(input) {
                return vec![format!(
                    "our delta and rdiff's patch the basis differently: statuses {:?} and {:?}",
                    results[0].0, results[1].0
                )];
            }
        }
    }
    Vec::new()
}

#[test]
fn mutated_signatures_and_deltas_never_crash_and_agree_with_rdiff() {
    let started = Instant::now();
    let rdiff = rdiff();
    let sources = sources();
    let per_source = std::env::var("RSYNC_TOOL_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(PER_SOURCE);
    let mut tally = Tally {
        cases: 0,
        ours_ok: 0,
        compared: 0,
        known: Vec::new(),
        failures: Vec::new(),
    };
    for (n, src) in sources.iter().enumerate() {
        let work = tempdir();
        let dir = work.path();
        fs::write(dir.join("basis"), &src.basis).unwrap();
        fs::write(dir.join("new"), &src.new).unwrap();
        fs::create_dir(dir.join("o")).unwrap();
        fs::create_dir(dir.join("r")).unwrap();
        // splice partners: the next source's files of both kinds
        let next = &sources[(n + 1) % sources.len()];
        let mut rng = Rng::new(0x6d75_7461_7465 + n as u64);
        for k in 0..per_source {
            let other = if k % 2 == 0 { &next.sig } else { &next.delta };
            let (desc, input) = mutate(&mut rng, &src.sig, other);
            let id = format!("{}-sig-{k}", src.name);
            let m = Mutant {
                kind: Kind::Sig,
                id,
                desc,
                input,
            };
            run_case(dir, rdiff.as_deref(), src, &m, &mut tally);
            let other = if k % 2 == 0 { &next.delta } else { &src.sig };
            let (desc, input) = mutate(&mut rng, &src.delta, other);
            let id = format!("{}-delta-{k}", src.name);
            let m = Mutant {
                kind: Kind::Delta,
                id,
                desc,
                input,
            };
            run_case(dir, rdiff.as_deref(), src, &m, &mut tally);
        }
    }
    eprintln!(
        "mutation: {} inputs in {:.1?}: {} accepted; {} compared with rdiff; {} known differences{}",
        tally.cases,
        started.elapsed(),
        tally.ours_ok,
        tally.compared,
        tally.known.len(),
        tally
            .known
            .iter()
            .map(|k| format!("\n  {k}"))
            .collect::<String>()
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {} mutants failed:\n{}",
        tally.failures.len(),
        tally.cases,
        tally.failures.join("\n")
    );
}

/// The scanner used to recognise known differences reads what it should.
#[test]
fn delta_scanner_finds_long_literals_and_far_copies() {
    let mut d = vec![0x72, 0x73, 0x02, 0x36, 0x44];
    d.extend((1u64 << 33).to_be_bytes());
    assert_eq!(scan_delta(&d).longest_literal, 1 << 33);
    let mut d = vec![0x72, 0x73, 0x02, 0x36, 0x03, 1, 2, 3, 0x51];
    d.extend((1u64 << 62).to_be_bytes());
    d.extend([1, 0]);
    let s = scan_delta(&d);
    assert_eq!((s.longest_literal, s.furthest_copy), (3, 1 << 62));
}
