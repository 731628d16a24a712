//! The command line: clap definition, and the rewriting of rdiff's spellings
//! that clap does not know (command-word prefixes, `-?`, options of one
//! command written before its word).
//!
//! `--help`, the man pages and the completion scripts all come from this one
//! definition. A doc comment's first paragraph is the help line; the rest
//! appears only in the man page.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum, ValueHint};
use clap_complete::Shell;

use crate::verify::{self, Sha256Digest};

/// `--version` text: ours, and the engine and formats it speaks.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (native engine, librsync 2.2.2 as --engine librsync; rdiff 2.3 file formats)"
);

/// Each command's usage line, in the order the commands are defined: rdiff's
/// three, then ours.
pub const USAGE_LINES: [&str; 5] = [
    "rsync-tool [OPTIONS] signature [BASIS [SIGNATURE]]",
    "rsync-tool [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]",
    "rsync-tool [OPTIONS] patch BASIS [DELTA [NEWFILE]]",
    "rsync-tool completions SHELL",
    "rsync-tool man [COMMAND]",
];

/// The usage block of `--help`: every command's line, aligned.
fn usage() -> String {
    USAGE_LINES.join("\n       ")
}

/// The example at the end of `--help`: the three steps.
pub const EXAMPLE: &str = "\
A missing path or '-' is stdin or stdout; options may stand anywhere.

Example (sync old.pdf to new.pdf's content in three steps):
  rsync-tool signature old.pdf old.sig
  rsync-tool delta old.sig new.pdf out.delta
  rsync-tool patch old.pdf out.delta synced.pdf";

/// Heading of the options that shape a new signature.
const SIGNATURE_OPTIONS: &str = "Signature options";
/// Heading of the I/O buffer options.
const BUFFER_OPTIONS: &str = "Buffer options";

/// Signature, delta and patch files, compatible with librsync's rdiff
///
/// rsync-tool syncs a file in three steps, as rdiff does: a signature of the
/// old copy (a few bytes per block of it), a delta of the new file against
/// that signature (the new file described as pieces of the old one plus the
/// bytes that changed), then a patch of the old copy with the delta, which
/// rebuilds the new file. Only the signature and the delta need to travel.
///
/// The command lines, the file formats and the exit statuses are rdiff's
/// (librsync 2.3), so rsync-tool and rdiff can stand in for each other on
/// either end. A command word may be shortened to any prefix (s, del, pat);
/// options may stand anywhere on the line; a missing path or - is stdin (for
/// an input) or stdout (for an output).
///
/// Outputs are never half-written: a file output is written beside its place
/// and renamed into it only when complete, an existing output is replaced
/// only with -f, and an error or a signal (SIGINT, SIGTERM, SIGHUP) leaves no
/// output and no temporary file. Stdout, pipes and devices are written
/// through. Errors are one line on stderr, with rdiff's exit status.
#[derive(Debug, Parser)]
#[command(
    name = "rsync-tool",
    version = VERSION,
    override_usage = usage(),
    disable_help_subcommand = true,
    disable_help_flag = true,
    propagate_version = true,
    args_override_self = true,
    after_help = EXAMPLE
)]
pub struct Cli {
    #[command(flatten)]
    pub options: Options,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// rdiff's options and ours that apply to every command; they may stand
/// anywhere on the command line.
#[derive(Debug, Args)]
pub struct Options {
    /// Overwrite an existing output file
    ///
    /// Without -f an existing output is an error (status 100) and is left
    /// untouched. With -f it is replaced atomically, keeping its permissions.
    #[arg(short = 'f', long = "force", global = true)]
    pub force: bool,

    /// Print rdiff's statistics lines on stderr when done
    ///
    /// Also spelled --stats. The lines are librsync's, one per step (a delta
    /// has three: loading the signature, matching, writing the delta).
    #[arg(
        short = 's',
        long = "statistics",
        visible_alias = "stats",
        global = true
    )]
    pub statistics: bool,

    /// Print more detail on stderr
    #[arg(short = 'v', long = "verbose", global = true)]
    pub verbose: bool,

    /// Show progress at once (on a terminal)
    ///
    /// Progress goes to stderr, and only when it is a terminal: a bar with
    /// bytes, total, rate and time left when the input's size is known (the
    /// basis for signature, NEWFILE for delta, the delta for patch), a spinner
    /// with bytes and rate for a pipe. Without --progress it appears once the
    /// work has run for a second. It is cleared before any other output on
    /// stderr. NO_COLOR turns its colours off; TERM=dumb turns it off.
    #[arg(long = "progress", global = true, overrides_with = "no_progress")]
    pub progress: bool,

    /// Never show progress
    #[arg(long = "no-progress", global = true, overrides_with = "progress")]
    pub no_progress: bool,

    /// Worker threads; outputs are the same for every N [default: cores]
    #[arg(short = 'j', long = "jobs", value_name = "N",
        value_hint = ValueHint::Other, global = true,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Engine for signatures and deltas: native (parallel) or librsync (the reference)
    #[arg(long = "engine", value_name = "ENGINE", global = true, value_enum,
          default_value_t = EngineArg::Native)]
    pub engine: EngineArg,

    /// Print help (-? too)
    #[arg(short = 'h', long = "help", global = true, action = ArgAction::HelpShort)]
    pub help: Option<bool>,

    /// Block length in bytes; 0 (default) for the recommended one
    ///
    /// The recommended length is rdiff 2.3's: 256 for a basis of up to
    /// 64 KiB, else the square root of its size rounded down to a multiple
    /// of 128; 2048 when the size is unknown (a pipe).
    #[arg(
        short = 'b',
        long = "block-size",
        value_name = "BYTES",
        value_hint = ValueHint::Other,
        global = true,
        allow_negative_numbers = true,
        value_parser = c_int,
        default_value_t = 0,
        hide_default_value = true,
        help_heading = SIGNATURE_OPTIONS
    )]
    pub block_size: i32,

    /// Strong sum length; 0 (default) for the whole hash, -1 for the minimum
    ///
    /// A length below the recommended minimum prints a warning and goes on,
    /// as in rdiff; one longer than the hash is an error (status 108).
    #[arg(
        short = 'S',
        long = "sum-size",
        value_name = "BYTES",
        value_hint = ValueHint::Other,
        global = true,
        allow_negative_numbers = true,
        value_parser = c_int,
        default_value_t = 0,
        hide_default_value = true,
        help_heading = SIGNATURE_OPTIONS
    )]
    pub sum_size: i32,

    /// Strong hash
    #[arg(short = 'H', long = "hash", value_name = "ALG", global = true, value_enum,
          default_value_t = HashArg::Blake2, help_heading = SIGNATURE_OPTIONS)]
    pub hash: HashArg,

    /// Rolling sum
    #[arg(short = 'R', long = "rollsum", value_name = "ALG", global = true, value_enum,
          default_value_t = RollsumArg::Rabinkarp, help_heading = SIGNATURE_OPTIONS)]
    pub rollsum: RollsumArg,

    /// Input buffer size in bytes
    #[arg(
        short = 'I',
        long = "input-size",
        value_name = "BYTES",
        value_hint = ValueHint::Other,
        global = true,
        allow_negative_numbers = true,
        value_parser = c_int,
        default_value_t = 0,
        hide_default_value = true,
        help_heading = BUFFER_OPTIONS
    )]
    pub input_size: i32,

    /// Output buffer size in bytes
    #[arg(
        short = 'O',
        long = "output-size",
        value_name = "BYTES",
        value_hint = ValueHint::Other,
        global = true,
        allow_negative_numbers = true,
        value_parser = c_int,
        default_value_t = 0,
        hide_default_value = true,
        help_heading = BUFFER_OPTIONS
    )]
    pub output_size: i32,
}

/// The engines `--engine` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// rsync-tool's own: parallel, SIMD hashing (default)
    Native,
    /// librsync 2.2, one thread: the reference the native engine is tested against
    Librsync,
}

/// The strong hash names rdiff's `-H` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    /// BLAKE2b, 32 bytes (default)
    Blake2,
    /// MD4, 16 bytes (librsync before 1.0)
    Md4,
}

/// The rolling sum names rdiff's `-R` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RollsumArg {
    /// RabinKarp polynomial hash (default)
    Rabinkarp,
    /// rsync's Adler-style rollsum
    Rollsum,
}

/// The commands that have a man page of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Page {
    /// rsync-tool-signature(1)
    Signature,
    /// rsync-tool-delta(1)
    Delta,
    /// rsync-tool-patch(1)
    Patch,
}

impl Page {
    /// Every page of a command, in the order of the steps.
    pub const ALL: [Page; 3] = [Page::Signature, Page::Delta, Page::Patch];

    /// The command word.
    pub fn name(self) -> &'static str {
        match self {
            Page::Signature => "signature",
            Page::Delta => "delta",
            Page::Patch => "patch",
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the signature of BASIS to SIGNATURE
    ///
    /// The signature describes each block of BASIS by a weak rolling sum and
    /// a strong hash; it is what a delta is made against. With no -b, the
    /// block length is rdiff 2.3's recommendation for BASIS's size, so the
    /// signature is byte for byte the one rdiff writes.
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[0], after_help = SIGNATURE_EXAMPLE)]
    Signature {
        /// The old file [default: stdin]
        #[arg(value_hint = ValueHint::FilePath)]
        basis: Option<PathBuf>,
        /// Where to write the signature [default: stdout]
        #[arg(value_hint = ValueHint::FilePath)]
        signature: Option<PathBuf>,
    },
    /// Write the delta of NEWFILE against SIGNATURE to DELTA
    ///
    /// The delta rebuilds NEWFILE from the basis the signature was made of:
    /// pieces of the basis that NEWFILE still contains are copied, the rest
    /// is carried in the delta. The signature is held in memory; NEWFILE is
    /// read once, from start to end.
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[1], after_help = DELTA_EXAMPLE)]
    Delta {
        /// The signature of the old file ('-': stdin)
        #[arg(value_hint = ValueHint::FilePath)]
        signature: PathBuf,
        /// The new file [default: stdin]
        #[arg(value_hint = ValueHint::FilePath)]
        newfile: Option<PathBuf>,
        /// Where to write the delta [default: stdout]
        #[arg(value_hint = ValueHint::FilePath)]
        delta: Option<PathBuf>,
        /// Also write NEWFILE's SHA-256 to PATH, as sha256sum does
        ///
        /// The line is "HEX  NAME", NAME being NEWFILE as given (- for stdin),
        /// so that sha256sum -c PATH checks a copy and patch --expect-sha256
        /// can check the result. The digest is computed in the same pass that
        /// makes the delta, also when NEWFILE is a pipe. PATH is written like
        /// any output: atomically, and replaced only with -f.
        #[arg(long = "sha256-file", value_name = "PATH", value_hint = ValueHint::FilePath)]
        sha256_file: Option<PathBuf>,
    },
    /// Apply DELTA to BASIS and write the result to NEWFILE
    ///
    /// BASIS must be the file the delta's signature was made of, and it must
    /// be seekable (a file, not a pipe): the delta copies pieces of it by
    /// position.
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[2], after_help = PATCH_EXAMPLE)]
    Patch {
        /// The old file; a file, not a pipe
        #[arg(value_hint = ValueHint::FilePath)]
        basis: PathBuf,
        /// The delta [default: stdin]
        #[arg(value_hint = ValueHint::FilePath)]
        delta: Option<PathBuf>,
        /// Where to write the new file [default: stdout]
        #[arg(value_hint = ValueHint::FilePath)]
        newfile: Option<PathBuf>,
        /// Fail (status 106) unless the result's SHA-256 is HEX
        ///
        /// HEX is 64 hex digits in either case, as sha256sum prints them. The
        /// result is hashed as it is written; a file output is put in place
        /// only if the digest matches, so on a mismatch nothing is written
        /// and an existing NEWFILE (or BASIS, with -f BASIS DELTA BASIS) is
        /// left as it was. An output that is written through (stdout, a
        /// pipe, a device) cannot be taken back: it has received the result
        /// by the time the mismatch is known, and the mismatch is reported
        /// with status 106 all the same. Patching to /dev/null checks a
        /// delta without writing anything.
        #[arg(long = "expect-sha256", value_name = "HEX",
        value_hint = ValueHint::Other, value_parser = verify::parse_digest)]
        expect_sha256: Option<Sha256Digest>,
    },
    /// Print a completion script for SHELL
    ///
    /// For bash: rsync-tool completions bash > /etc/bash_completion.d/rsync-tool
    /// (or source it from ~/.bashrc). The same scripts are in the
    /// completions/ directory of the source.
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[3])]
    Completions {
        /// The shell
        shell: Shell,
    },
    /// Print a man page (roff) for rsync-tool or one of its commands
    ///
    /// Read it with: rsync-tool man delta | man -l -
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[4])]
    Man {
        /// The command [default: the page for rsync-tool itself]
        command: Option<Page>,
    },
}

/// Examples at the end of `signature --help`.
pub const SIGNATURE_EXAMPLE: &str = "\
Examples:
  rsync-tool signature old.img old.sig
  ssh host rsync-tool signature /srv/old.img > old.sig";

/// Examples at the end of `delta --help`.
pub const DELTA_EXAMPLE: &str = "\
Examples:
  rsync-tool delta old.sig new.img new.delta
  rsync-tool delta --sha256-file new.sha256 old.sig new.img new.delta";

/// Examples at the end of `patch --help`.
pub const PATCH_EXAMPLE: &str = "\
Examples:
  rsync-tool patch old.img new.delta new.img
  rsync-tool patch --expect-sha256 \"$(cut -d' ' -f1 new.sha256)\" old.img new.delta new.img";

/// Parses a number as rdiff's option parser (popt) does: C's `strtol` with
/// base 0 (`010` is octal, `0x10` hex, leading blanks skipped, an empty
/// string is 0), and it must fit a C `int`.
fn c_int(text: &str) -> Result<i32, String> {
    let bad = || format!("'{text}' is not a number");
    if text.is_empty() {
        return Ok(0);
    }
    let t = text.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(hex) = t.strip_prefix("0x").or(t.strip_prefix("0X")) {
        (16, hex)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(bad());
    }
    let too_big = || format!("'{text}' is too large or too small");
    let magnitude = i64::from_str_radix(digits, radix).map_err(|_| too_big())?;
    let value = if negative { -magnitude } else { magnitude };
    i32::try_from(value).map_err(|_| too_big())
}

/// Short options that take a value, so the command word can be found.
const SHORT_WITH_VALUE: &[char] = &['b', 'S', 'H', 'R', 'I', 'O', 'j'];
/// Long options that take a value (when not written `--opt=V`).
const LONG_WITH_VALUE: &[&str] = &[
    "--block-size",
    "--sum-size",
    "--hash",
    "--rollsum",
    "--input-size",
    "--output-size",
    "--jobs",
    "--engine",
    "--sha256-file",
    "--expect-sha256",
];
/// Options of one command; written before the command word, they are moved
/// after it, so that they too may stand anywhere.
const COMMAND_OPTIONS: &[&str] = &["--sha256-file", "--expect-sha256"];
/// The command words in rdiff's order of prefix matching.
const PREFIXED_COMMANDS: &[&str] = &["signature", "delta", "patch"];

/// Rewrites rdiff's spellings into clap's: `-?` becomes `-h`, a prefix of
/// a command word (`s`, `del`, `pat`, as rdiff's `isprefix`) the full word,
/// and an option of one command written before the word moves after it.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    let mut moved: Vec<OsString> = Vec::new();
    let mut command_seen = false;
    let mut value_next = false;
    let mut move_value = false;
    let mut options_ended = false;
    for (i, arg) in args.into_iter().enumerate() {
        if i == 0 || (command_seen && (options_ended || arg != "-?")) {
            if arg == "--" {
                options_ended = true;
            }
            out.push(arg);
            continue;
        }
        if value_next {
            value_next = false;
            (if move_value { &mut moved } else { &mut out }).push(arg);
            continue;
        }
        let text = arg.to_string_lossy().into_owned();
        if !options_ended && text == "--" {
            options_ended = true;
            out.push(arg);
            continue;
        }
        if !options_ended && text.starts_with("--") {
            let name = text.split('=').next().unwrap_or_default();
            value_next = LONG_WITH_VALUE.contains(&text.as_str());
            move_value = COMMAND_OPTIONS.contains(&name);
            (if move_value { &mut moved } else { &mut out }).push(arg);
            continue;
        }
        if !options_ended && text.starts_with('-') && text.len() > 1 {
            if text == "-?" {
                out.push(OsString::from("-h"));
                continue;
            }
            for (pos, c) in text.char_indices().skip(1) {
                if SHORT_WITH_VALUE.contains(&c) {
                    value_next = pos + c.len_utf8() == text.len();
                    break;
                }
            }
            move_value = false;
            out.push(arg);
            continue;
        }
        command_seen = true;
        out.push(expand_command(&arg));
        out.append(&mut moved);
    }
    out.append(&mut moved);
    out
}

fn expand_command(word: &OsStr) -> OsString {
    let text = word.to_string_lossy();
    if !text.is_empty()
        && let Some(full) = PREFIXED_COMMANDS.iter().find(|c| c.starts_with(&*text))
    {
        return OsString::from(full);
    }
    word.to_os_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize_args(args.iter().map(OsString::from))
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn command_prefixes_expand_like_rdiff() {
        assert_eq!(norm(&["r", "s", "a"]), ["r", "signature", "a"]);
        assert_eq!(norm(&["r", "sig", "a"]), ["r", "signature", "a"]);
        assert_eq!(norm(&["r", "del", "x"]), ["r", "delta", "x"]);
        assert_eq!(norm(&["r", "pat", "x"]), ["r", "patch", "x"]);
        assert_eq!(norm(&["r", "patchy", "x"]), ["r", "patchy", "x"]);
        assert_eq!(norm(&["r", "p", "s"]), ["r", "patch", "s"]);
    }

    #[test]
    fn option_values_are_not_taken_for_the_command() {
        assert_eq!(
            norm(&["r", "-b", "512", "s"]),
            ["r", "-b", "512", "signature"]
        );
        assert_eq!(norm(&["r", "-b512", "d"]), ["r", "-b512", "delta"]);
        assert_eq!(
            norm(&["r", "-fsb", "64", "p"]),
            ["r", "-fsb", "64", "patch"]
        );
        assert_eq!(
            norm(&["r", "--hash", "md4", "s"]),
            ["r", "--hash", "md4", "signature"]
        );
        assert_eq!(
            norm(&["r", "--hash=md4", "s"]),
            ["r", "--hash=md4", "signature"]
        );
        assert_eq!(norm(&["r", "-?"]), ["r", "-h"]);
        assert_eq!(norm(&["r", "s", "-?"]), ["r", "signature", "-h"]);
        assert_eq!(
            norm(&["r", "s", "--", "-?"]),
            ["r", "signature", "--", "-?"]
        );
        assert_eq!(norm(&["r", "-", "s"]), ["r", "-", "s"]);
    }

    #[test]
    fn options_of_one_command_move_after_its_word() {
        assert_eq!(
            norm(&["r", "--expect-sha256", "ab", "-f", "p", "x"]),
            ["r", "-f", "patch", "--expect-sha256", "ab", "x"]
        );
        assert_eq!(
            norm(&["r", "--sha256-file=h", "d", "s", "n"]),
            ["r", "delta", "--sha256-file=h", "s", "n"]
        );
        assert_eq!(
            norm(&["r", "--sha256-file", "h"]),
            ["r", "--sha256-file", "h"]
        );
    }

    #[test]
    fn numbers_read_like_strtol_base_0() {
        assert_eq!(c_int("512"), Ok(512));
        assert_eq!(c_int("010"), Ok(8));
        assert_eq!(c_int("0x10"), Ok(16));
        assert_eq!(c_int(" 5"), Ok(5));
        assert_eq!(c_int(""), Ok(0));
        assert_eq!(c_int("-1"), Ok(-1));
        assert_eq!(c_int("0"), Ok(0));
        assert_eq!(c_int("-2147483648"), Ok(i32::MIN));
        assert!(c_int("2147483648").is_err());
        assert!(c_int("08").is_err());
        assert!(c_int("5k").is_err());
        assert!(c_int("0x").is_err());
        assert!(c_int("99999999999999999999999").is_err());
    }

    #[test]
    fn the_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
