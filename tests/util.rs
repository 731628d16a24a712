//! Shared helpers for the integration tests: the deterministic data generator
//! (the same one tests/golden/make.py implements), the data-spec interpreter
//! of tests/golden/cases.txt, edits that make a NEW file from a basis, and
//! running `rsync-tool` and `rdiff`.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ generator

pub use rsync_tool_core::testdata::{Rng, gen_bytes};

/// FNV-1a 64, as in cases.txt's *_FNV fields.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Lines of English-looking text (words from a small vocabulary).
pub fn gen_text(seed: u64, len: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "signature",
        "of",
        "a",
        "file",
        "is",
        "made",
        "from",
        "blocks",
        "and",
        "each",
        "block",
        "has",
        "weak",
        "strong",
        "sum",
        "delta",
        "copy",
        "literal",
        "patch",
        "basis",
        "new",
        "old",
        "rolling",
        "checksum",
        "match",
        "search",
        "hash",
        "table",
        "byte",
        "stream",
        "output",
        "input",
        "rsync",
        "librsync",
        "rdiff",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "lazy",
        "dog",
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "data",
        "test",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 16);
    let mut col = 0;
    while out.len() < len {
        let w = WORDS[rng.below_usize(WORDS.len())];
        if col > 0 {
            if col + w.len() > 72 || rng.below(17) == 0 {
                out.push(b'\n');
                col = 0;
            } else {
                out.push(b' ');
                col += 1;
            }
        }
        out.extend_from_slice(w.as_bytes());
        col += w.len();
    }
    out.truncate(len);
    out
}

// ------------------------------------------------------------------ edits

/// One edit of a data spec (see tests/golden/cases.txt's header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// Overwrite `len` bytes at `off` with gen_bytes(seed, len).
    Replace { off: usize, len: usize, seed: u64 },
    /// Insert gen_bytes(seed, len) before byte `off`.
    Insert { off: usize, len: usize, seed: u64 },
    /// Delete `len` bytes at `off`.
    Delete { off: usize, len: usize },
}

pub fn apply_edit(buf: &mut Vec<u8>, e: &Edit) {
    match *e {
        Edit::Replace { off, len, seed } => {
            assert!(
                off + len <= buf.len(),
                "{e:?} past the end of {} bytes",
                buf.len()
            );
            buf[off..off + len].copy_from_slice(&gen_bytes(seed, len));
        }
        Edit::Insert { off, len, seed } => {
            assert!(
                off <= buf.len(),
                "{e:?} past the end of {} bytes",
                buf.len()
            );
            buf.splice(off..off, gen_bytes(seed, len));
        }
        Edit::Delete { off, len } => {
            assert!(
                off + len <= buf.len(),
                "{e:?} past the end of {} bytes",
                buf.len()
            );
            buf.drain(off..off + len);
        }
    }
}

pub fn apply_edits(basis: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut buf = basis.to_vec();
    for e in edits {
        apply_edit(&mut buf, e);
    }
    buf
}

/// `count` overwrites of 1..=max_len bytes at pseudo-random offsets: the
/// length and the alignment of everything else stay the same.
pub fn scattered_edits(basis: &[u8], seed: u64, count: usize, max_len: usize) -> Vec<u8> {
    if basis.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng::new(seed);
    let edits: Vec<Edit> = (0..count)
        .map(|k| {
            let len = (1 + rng.below_usize(max_len)).min(basis.len());
            let off = rng.below_usize(basis.len() - len + 1);
            Edit::Replace {
                off,
                len,
                seed: seed.wrapping_mul(1000) + k as u64 + 1,
            }
        })
        .collect();
    apply_edits(basis, &edits)
}

/// Alternating inserts and deletes of 1..=max_len bytes: everything after
/// each edit moves off the basis's block alignment.
pub fn shifting_edits(basis: &[u8], seed: u64, count: usize, max_len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut buf = basis.to_vec();
    for k in 0..count {
        let len = 1 + rng.below_usize(max_len);
        let e = if k % 2 == 0 || buf.len() < len {
            let off = rng.below_usize(buf.len() + 1);
            Edit::Insert {
                off,
                len,
                seed: seed.wrapping_mul(1000) + k as u64 + 1,
            }
        } else {
            let off = rng.below_usize(buf.len() - len + 1);
            Edit::Delete { off, len }
        };
        apply_edit(&mut buf, &e);
    }
    buf
}

/// Moves a chunk of the file elsewhere (block order changes, content kept).
pub fn move_chunk(basis: &[u8], from: usize, len: usize, to: usize) -> Vec<u8> {
    let mut buf = basis.to_vec();
    let chunk: Vec<u8> = buf.drain(from..from + len).collect();
    let to = to.min(buf.len());
    buf.splice(to..to, chunk);
    buf
}

/// Line-level edits of text: change words, insert and delete lines.
pub fn edit_text(text: &[u8], seed: u64, count: usize) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = text.split(|&b| b == b'\n').map(|l| l.to_vec()).collect();
    let mut rng = Rng::new(seed);
    for k in 0..count {
        let i = rng.below_usize(lines.len());
        match k % 3 {
            0 => {
                let extra = gen_text(
                    seed.wrapping_mul(31) + k as u64 + 1,
                    20 + rng.below_usize(120),
                );
                lines.splice(i..i, extra.split(|&b| b == b'\n').map(|l| l.to_vec()));
            }
            1 if lines.len() > 1 => {
                let n = (1 + rng.below_usize(4)).min(lines.len() - i);
                lines.drain(i..i + n);
            }
            _ => {
                let line = &mut lines[i];
                if line.is_empty() {
                    line.extend_from_slice(b"new words here");
                } else {
                    let at = rng.below_usize(line.len());
                    line.splice(at..at, b"EDITED ".iter().copied());
                }
            }
        }
    }
    lines.join(&b'\n')
}

// ------------------------------------------------------------------ data specs

fn spec_nums(s: &str, n: usize, whole: &str) -> Vec<u64> {
    let v: Vec<u64> = s
        .split(':')
        .map(|x| {
            x.parse()
                .unwrap_or_else(|_| panic!("bad number {x:?} in spec {whole:?}"))
        })
        .collect();
    assert_eq!(v.len(), n, "wrong field count in {s:?} of spec {whole:?}");
    v
}

/// Materialises a data spec of tests/golden/cases.txt (format in its header).
pub fn build_spec(spec: &str) -> Vec<u8> {
    let mut parts = spec.split(',');
    let base = parts.next().unwrap_or("");
    let (kind, rest) = base.split_at(base.char_indices().nth(1).map_or(base.len(), |(i, _)| i));
    let mut buf = match kind {
        "g" => {
            let v = spec_nums(rest, 2, spec);
            gen_bytes(v[0], v[1] as usize)
        }
        "p" => {
            let v = spec_nums(rest, 3, spec);
            let pat = gen_bytes(v[0], v[1] as usize);
            pat.iter().copied().cycle().take(v[2] as usize).collect()
        }
        _ => panic!("bad base {base:?} in spec {spec:?}"),
    };
    for e in parts {
        let (op, rest) = e.split_at(e.char_indices().nth(1).map_or(e.len(), |(i, _)| i));
        let edit = match op {
            "r" => {
                let v = spec_nums(rest, 3, spec);
                Edit::Replace {
                    off: v[0] as usize,
                    len: v[1] as usize,
                    seed: v[2],
                }
            }
            "i" => {
                let v = spec_nums(rest, 3, spec);
                Edit::Insert {
                    off: v[0] as usize,
                    len: v[1] as usize,
                    seed: v[2],
                }
            }
            "d" => {
                let v = spec_nums(rest, 2, spec);
                Edit::Delete {
                    off: v[0] as usize,
                    len: v[1] as usize,
                }
            }
            _ => panic!("bad edit {e:?} in spec {spec:?}"),
        };
        apply_edit(&mut buf, &edit);
    }
    buf
}

// ------------------------------------------------------------------ tools

/// The binary under test.
pub fn tool() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rsync-tool"))
}

fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

fn find_rdiff() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("RDIFF") {
        Some(p) => vec![PathBuf::from(p)],
        None => std::env::var_os("PATH")
            .map(|p| {
                std::env::split_paths(&p)
                    .map(|d| d.join("rdiff"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
            .into_iter()
            .chain([PathBuf::from("/usr/bin/rdiff")])
            .collect(),
    };
    let Some(path) = candidates.into_iter().find(|p| p.is_file()) else {
        return Err("rdiff not found (PATH, /usr/bin/rdiff; or set RDIFF=/path/to/rdiff)".into());
    };
    let out = Command::new(&path)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
    let version = String::from_utf8_lossy(&out.stdout);
    if !version.contains("librsync 2.3.") {
        return Err(format!(
            "{} is not librsync 2.3.x's rdiff: {:?}",
            path.display(),
            version.lines().next().unwrap_or("")
        ));
    }
    Ok(path)
}

/// The installed reference rdiff (librsync 2.3.x). None when it is missing:
/// the caller returns early, after a loud warning. Under CI=true a missing
/// rdiff is a failure instead.
pub fn rdiff() -> Option<PathBuf> {
    static RDIFF: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match RDIFF.get_or_init(find_rdiff) {
        Ok(p) => Some(p.clone()),
        Err(why) => {
            if is_ci() {
                panic!("CI=true and {why}: install it (apt-get install rdiff)");
            }
            // straight to the stderr descriptor: libtest captures eprintln!
            // of passing tests, and this warning must be seen
            let msg = format!(
                "\n**************************************************************\n\
                 ** WARNING: {why}\n\
                 ** SKIPPING an interop test ({}): nothing was checked.\n\
                 ** Install rdiff (apt-get install rdiff); CI=true makes this fail.\n\
                 **************************************************************\n",
                thread::current().name().unwrap_or("?")
            );
            let _ = std::io::stderr().write_all(msg.as_bytes());
            None
        }
    }
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("rsync-tool-test-")
        .tempdir()
        .expect("create temp dir")
}

pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, data).unwrap_or_else(|e| panic!("write {}: {e}", p.display()));
    p
}

pub fn read(p: &Path) -> Vec<u8> {
    fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// What a command reads on stdin.
pub enum Input<'a> {
    Null,
    /// Redirected from a file (`< file`): a regular file of known size.
    File(&'a Path),
    /// Written into a pipe (`cat file | ...`): the size is unknown.
    Pipe(&'a [u8]),
}

pub struct Run {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub cmdline: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Panics, with the command line and its stderr, unless it exited 0.
    pub fn ok(self) -> Run {
        assert!(
            self.status.success(),
            "`{}` failed ({}); stderr:\n{}",
            self.cmdline,
            self.status,
            String::from_utf8_lossy(&self.stderr)
        );
        self
    }
}

/// Any command is killed after this long: a hang is a failure, not a stuck test run.
pub const TIMEOUT: Duration = Duration::from_secs(300);

fn wait_timeout(child: &mut Child, cmdline: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().expect("wait") {
            return st;
        }
        let waited = start.elapsed();
        if waited > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{cmdline}` did not finish within {TIMEOUT:?}: killed");
        }
        // poll fast at first: most runs take a few milliseconds
        thread::sleep(Duration::from_millis(
            if waited < Duration::from_millis(200) {
                1
            } else {
                10
            },
        ));
    }
}

/// Runs `prog args...` with the given stdin, capturing stdout and stderr.
pub fn run<S: AsRef<OsStr>>(prog: &Path, args: &[S], stdin: Input, cwd: Option<&Path>) -> Run {
    let cmdline = std::iter::once(prog.as_os_str())
        .chain(args.iter().map(|a| a.as_ref()))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(prog);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let mut feed: Option<Vec<u8>> = None;
    match stdin {
        Input::Null => {
            cmd.stdin(Stdio::null());
        }
        Input::File(p) => {
            let f = fs::File::open(p).unwrap_or_else(|e| panic!("open {}: {e}", p.display()));
            cmd.stdin(Stdio::from(f));
        }
        Input::Pipe(data) => {
            cmd.stdin(Stdio::piped());
            feed = Some(data.to_vec());
        }
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("spawn `{cmdline}`: {e}"));
    let writer = feed.map(|data| {
        let mut w = child.stdin.take().unwrap();
        // a tool that stops reading early gets EPIPE here: not our business
        thread::spawn(move || {
            let _ = w.write_all(&data);
        })
    });
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let out_t = read_on_thread(out);
    let err_t = read_on_thread(err);
    let status = wait_timeout(&mut child, &cmdline);
    if let Some(w) = writer {
        let _ = w.join();
    }
    Run {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        cmdline,
    }
}

/// Runs a shell command line with `sh -c` in `dir`; `$T` is rsync-tool and
/// `$R` is rdiff (when given).
pub fn sh(script: &str, dir: &Path, rdiff: Option<&Path>) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("T", tool())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(r) = rdiff {
        cmd.env("R", r);
    }
    let mut child = cmd.spawn().expect("spawn sh");
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let out_t = read_on_thread(out);
    let err_t = read_on_thread(err);
    let cmdline = format!("sh -c '{script}'");
    let status = wait_timeout(&mut child, &cmdline);
    Run {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        cmdline,
    }
}

/// Reads `r` to the end on a thread of its own, so that a child's pipes
/// cannot fill up and block it while we wait for it.
pub fn read_on_thread<R: Read + Send + 'static>(mut r: R) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// Splits an option string such as "-H md4 -S 8" into arguments.
pub fn opts(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

/// `[opts..., command, paths...]` as OsStrings.
pub fn argv(options: &str, command: &str, paths: &[&Path]) -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> = opts(options).into_iter().map(Into::into).collect();
    v.push(command.into());
    v.extend(paths.iter().map(|p| p.as_os_str().to_owned()));
    v
}

// ------------------------------------------------------------------ checks

/// None when equal, else a short description of the first difference.
pub fn diff_bytes(actual: &[u8], expected: &[u8]) -> Option<String> {
    if actual == expected {
        return None;
    }
    let first = actual.iter().zip(expected).position(|(a, b)| a != b);
    Some(match first {
        Some(i) => format!(
            "{} bytes vs {} expected; first difference at offset {i} (0x{i:x}): {:02x?} vs {:02x?}",
            actual.len(),
            expected.len(),
            &actual[i..actual.len().min(i + 8)],
            &expected[i..expected.len().min(i + 8)]
        ),
        None => format!(
            "{} bytes vs {} expected; equal up to the shorter length",
            actual.len(),
            expected.len()
        ),
    })
}

#[track_caller]
pub fn assert_bytes_eq(actual: &[u8], expected: &[u8], what: &str) {
    if let Some(d) = diff_bytes(actual, expected) {
        panic!("{what}: {d}");
    }
}

/// A delta up to and including its END command (parsed by the core's
/// [`DeltaParser`](rsync_tool_core::format::DeltaParser)): ours without its
/// verification trailer, to compare with rdiff's bytes.
pub fn delta_up_to_end(delta: &[u8]) -> &[u8] {
    let mut parser = rsync_tool_core::format::DeltaParser::new(None);
    let mut at = 0;
    while at < delta.len() && !parser.is_done() {
        match parser.advance(&delta[at..]) {
            Ok((n, _)) => at += n,
            Err(_) => return delta,
        }
    }
    &delta[..at]
}

/// Our delta may be at most 1% + 64 bytes larger than rdiff's.
pub fn delta_size_ok(ours: usize, rdiffs: usize) -> bool {
    (ours as u128) * 100 <= (rdiffs as u128) * 101 + 6400
}

/// The header of a signature: (magic, block_len, strong_len).
pub fn sig_header(sig: &[u8]) -> (u32, u32, u32) {
    assert!(
        sig.len() >= 12,
        "signature of {} bytes has no header",
        sig.len()
    );
    let be = |i: usize| u32::from_be_bytes(sig[i..i + 4].try_into().unwrap());
    (be(0), be(4), be(8))
}

/// A pseudo-terminal of 30 rows and 100 columns: (master, slave).
pub fn open_pty() -> (std::fs::File, std::os::fd::OwnedFd) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let size = rustix::termios::Winsize {
        ws_row: 30,
        ws_col: 100,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    rustix::termios::tcsetwinsize(&master, size).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(rustix::fs::OFlags::NOCTTY.bits() as i32)
        .open(std::ffi::OsStr::from_bytes(name.as_bytes()))
        .unwrap();
    (std::fs::File::from(master), slave.into())
}
