//! The command line: the clap definition, with the examples that `--help`
//! and the man pages share, and (in [`rdiff_args`]) the rewriting of rdiff's
//! spellings that clap does not know.
//!
//! `--help`, the man pages and the completion scripts all come from this one
//! definition. A doc comment's first paragraph is the help line; the rest
//! appears only in the man page. It imports only clap and std, so that the
//! fuzz crate can include it with `#[path]`.

pub mod quick;
pub mod rdiff_args;

use std::path::PathBuf;

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum, ValueHint};

/// `--version` text: ours, and the engine and formats it speaks.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (native engine, librsync 2.2.2 as --engine librsync; rdiff 2.3 file formats)"
);

/// The last line of `--version`.
pub const COPYRIGHT: &str =
    "Copyright (C) the rsync-tool authors. Licensed under MIT OR Apache-2.0.";

/// Each command's usage line, in the order the commands are defined: rdiff's
/// three, then ours.
pub const USAGE_LINES: [&str; 6] = [
    "rsync-tool [OPTIONS] signature [BASIS [SIGNATURE]]",
    "rsync-tool [OPTIONS] delta SIGNATURE [NEWFILE [DELTA]]",
    "rsync-tool [OPTIONS] patch BASIS [DELTA [NEWFILE]]",
    "rsync-tool completions SHELL",
    "rsync-tool man [COMMAND]",
    "rsync-tool help [COMMAND]",
];

/// The usage block of `--help`: every command's line, aligned.
fn usage() -> String {
    USAGE_LINES.join("\n       ")
}

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
/// Outputs are never half-written: a file output is written to a temporary
/// file and linked or renamed into place only when complete, an existing
/// output is replaced only with -f (checked again at that moment), and an
/// error, a signal or a kill leaves no output and no temporary file; a signal
/// ends the process by the signal, as rdiff. Stdout, pipes and devices are
/// written through. Errors are one line on stderr, with rdiff's exit status.
#[derive(Debug, Parser)]
#[command(
    name = "rsync-tool",
    version = VERSION,
    override_usage = usage(),
    disable_help_flag = true,
    propagate_version = true,
    args_override_self = true
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
    /// untouched, also when it appears while we work. With -f it is replaced
    /// atomically, keeping its mode, owner, group and extended attributes;
    /// like rdiff, -f needs write permission on the file.
    #[arg(short = 'f', long = "force", global = true)]
    pub force: bool,

    /// Write into the existing output file instead of replacing it
    ///
    /// As rsync's --inplace: the output keeps its inode, hard links, owner,
    /// group and extended attributes. The complete result is still built
    /// first, in a temporary file (beside the output, or in TMPDIR), and
    /// written into the output only at the end; that last copy is not atomic.
    /// Not allowed when the output is also an input (patch -f B D B).
    #[arg(long = "inplace", global = true)]
    pub inplace: bool,

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
    /// bytes, total, rate and time left when the size is known (the basis
    /// read for signature, NEWFILE for delta; for patch the result written,
    /// of the length a delta file's commands tell), a spinner with bytes and
    /// rate for a pipe. Without --progress it appears once the work has run
    /// for a second. It is cleared before any other output on stderr, and
    /// when a signal ends the run. NO_COLOR turns its colours off; TERM=dumb
    /// turns it off.
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
    /// of 128; 2048 when the size is unknown (a pipe). At most 536870911
    /// (2^29 - 1), the largest rdiff makes a signature with; a larger value
    /// is status 108. Signatures with longer blocks (up to 2^31 - 1) are
    /// read, as rdiff reads them.
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
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[0], after_help = help_examples(SIGNATURE_EXAMPLES))]
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
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[1], after_help = help_examples(DELTA_EXAMPLES))]
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
        /// Write no verification trailer: exactly the delta rdiff would write
        ///
        /// By default the delta ends, after its END command, with a 45-byte
        /// trailer holding NEWFILE's length and BLAKE3 hash, computed in the
        /// same pass; patch checks the result against it. rdiff (every
        /// librsync) stops reading at END and ignores it. Use --no-trailer
        /// for readers that reject bytes after END, such as fast_rsync.
        #[arg(long = "no-trailer")]
        no_trailer: bool,
        /// Compress the delta with gzip, at LEVEL 1-9 [default: 6]
        ///
        /// As rdiff's --help promises (rdiff itself rejects -z). The level is
        /// written attached: -z9, --gzip=9. The whole delta, its trailer
        /// included, is one gzip stream, as `gzip -c` of a plain delta would
        /// be; patch recognises it by its magic number, from a file or a
        /// pipe. bzip2 (-i, --bzip2) is not supported (status 101).
        #[arg(short = 'z', long = "gzip", value_name = "LEVEL", num_args = 0..=1,
            require_equals = true, default_missing_value = "6",
            value_parser = clap::value_parser!(u32).range(1..=9), conflicts_with = "zstd")]
        gzip: Option<u32>,
        /// Compress the delta with zstd on every core, at LEVEL 1-22 [default: 3]
        ///
        /// The level is written attached: --zstd=19. -j sets the number of
        /// compression threads. patch recognises a zstd delta (ours or the
        /// zstd tool's) by its magic number, from a file or a pipe.
        #[arg(long = "zstd", value_name = "LEVEL", num_args = 0..=1,
            require_equals = true, default_missing_value = "3",
            value_parser = clap::value_parser!(i32).range(1..=22))]
        zstd: Option<i32>,
    },
    /// Apply DELTA to BASIS and write the result to NEWFILE
    ///
    /// BASIS must be the file the delta's signature was made of, and it must
    /// be seekable (a file, not a pipe): the delta copies pieces of it by
    /// position.
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[2], after_help = help_examples(PATCH_EXAMPLES))]
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
        value_hint = ValueHint::Other, value_parser = sha256_hex)]
        expect_sha256: Option<[u8; SHA256_LEN]>,
        /// Do not check the result against the delta's trailer
        ///
        /// A delta made by rsync-tool ends with NEWFILE's length and BLAKE3
        /// hash. By default patch checks the result against them: a mismatch
        /// (the basis is not the one the signature was made from, or has
        /// changed since, or the delta is damaged) is status 106 and a file
        /// output is not put in place. Deltas without a trailer (rdiff's) are
        /// applied unchecked either way; -v says whether the result was
        /// verified.
        #[arg(long = "no-verify")]
        no_verify: bool,
    },
    /// Print a completion script for SHELL
    ///
    /// For bash: rsync-tool completions bash > /etc/bash_completion.d/rsync-tool
    /// (or source it from ~/.bashrc). The same scripts are in the
    /// completions/ directory of the source.
    #[command(disable_help_flag = true, override_usage = USAGE_LINES[3])]
    Completions {
        /// The shell
        shell: ShellArg,
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

/// The options only `signature` acts on (`-b -S -H -R`): every command
/// accepts them, as rdiff does, but only `signature` lists them.
const SIGNATURE_ONLY: [&str; 4] = ["block_size", "sum_size", "hash", "rollsum"];

/// Whether the global option `id` acts on the command `name`, and so is
/// listed in its help, man page and completions (all are accepted).
fn acts_on(name: &str, id: &str) -> bool {
    match name {
        "signature" => true,
        "delta" => !SIGNATURE_ONLY.contains(&id),
        "patch" => !SIGNATURE_ONLY.contains(&id) && !["jobs", "engine"].contains(&id),
        _ => id == "help",
    }
}

/// The command line as parsed and documented: [`Cli`], with each command
/// listing only the options that act on it, and `--help` naming the
/// options of one command.
pub fn command() -> clap::Command {
    let top = Cli::command();
    let globals: Vec<clap::Arg> = top
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let own: Vec<String> = top
        .get_subcommands()
        .filter_map(|sub| {
            let longs: Vec<String> = sub
                .get_arguments()
                .filter(|a| !a.is_positional() && !a.is_hide_set())
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect();
            (!longs.is_empty()).then(|| format!("{} {}", sub.get_name(), longs.join(", ")))
        })
        .collect();
    // A hidden copy of a global option in a command keeps clap from
    // propagating the visible one there; the value still reaches Options.
    top.after_help(format!(
        "Options of one command: {} (see rsync-tool help COMMAND). {}",
        own.join("; "),
        main_after_help()
    ))
    .mut_subcommands(|sub| {
        let name = sub.get_name().to_string();
        globals
            .iter()
            .filter(|a| !acts_on(&name, a.get_id().as_str()))
            .fold(sub, |sub, a| sub.arg(a.clone().hide(true)))
    })
}

/// An example of a page: what it does (for the man page), its command
/// lines, and whether `--help` shows it too.
pub struct Example {
    /// The sentence before the lines in the man page; `None` for an example
    /// only `--help` shows.
    pub man: Option<&'static str>,
    /// The command lines.
    pub lines: &'static [&'static str],
    /// Whether `--help` shows the lines too.
    pub help: bool,
}

/// Examples of `rsync-tool(1)`; `--help` shows the first.
pub const MAIN_EXAMPLES: &[Example] = &[
    Example {
        man: Some("Sync old.pdf to the content of new.pdf in three steps:"),
        lines: &[
            "rsync-tool signature old.pdf old.sig",
            "rsync-tool delta old.sig new.pdf out.delta",
            "rsync-tool patch old.pdf out.delta synced.pdf",
        ],
        help: true,
    },
    Example {
        man: Some(
            "Update /srv/old.img on host from a local new.img; only the signature and the delta cross the network:",
        ),
        lines: &[
            "ssh host rsync-tool signature /srv/old.img |",
            "  rsync-tool delta - new.img |",
            "  ssh host rsync-tool patch /srv/old.img - /srv/new.img",
        ],
        help: false,
    },
    Example {
        man: Some("Make sure the result is right before it replaces anything:"),
        lines: &[
            "rsync-tool delta --sha256-file new.sha256 old.sig new.img new.delta",
            "rsync-tool patch -f --expect-sha256 \"$(cut -d' ' -f1 new.sha256)\" old.img new.delta old.img",
        ],
        help: false,
    },
];

/// Examples of `signature`.
pub const SIGNATURE_EXAMPLES: &[Example] = &[
    Example {
        man: Some("The signature of a file, with rdiff's default parameters:"),
        lines: &["rsync-tool signature old.img old.sig"],
        help: true,
    },
    Example {
        man: Some("The signature of a remote file, brought here:"),
        lines: &["ssh host rsync-tool signature /srv/old.img > old.sig"],
        help: true,
    },
    Example {
        man: Some("An old-style signature (rsync's rollsum and MD4, as librsync before 1.0 made):"),
        lines: &["rsync-tool signature -R rollsum -H md4 old.img old.sig"],
        help: false,
    },
];

/// Examples of `delta`.
pub const DELTA_EXAMPLES: &[Example] = &[
    Example {
        man: Some("The delta of new.img against the signature of an old copy:"),
        lines: &["rsync-tool delta old.sig new.img new.delta"],
        help: true,
    },
    Example {
        man: Some("The same, also recording new.img's SHA-256 for checking the patched result:"),
        lines: &["rsync-tool delta --sha256-file new.sha256 old.sig new.img new.delta"],
        help: true,
    },
    Example {
        man: Some("A delta of data arriving on a pipe:"),
        lines: &["pg_dump db | rsync-tool delta old.sig - dump.delta"],
        help: false,
    },
];

/// Examples of `patch`.
pub const PATCH_EXAMPLES: &[Example] = &[
    Example {
        man: Some("Rebuild the new file from the old copy and the delta:"),
        lines: &["rsync-tool patch old.img new.delta new.img"],
        help: true,
    },
    Example {
        man: None,
        lines: &[
            "rsync-tool patch --expect-sha256 \"$(cut -d' ' -f1 new.sha256)\" old.img new.delta new.img",
        ],
        help: true,
    },
    Example {
        man: Some("Update the old copy in place, only if the result has the expected digest:"),
        lines: &[
            "rsync-tool patch -f --expect-sha256 \"$(cut -d' ' -f1 new.sha256)\" old.img new.delta old.img",
        ],
        help: false,
    },
    Example {
        man: Some("Check a delta without writing anything:"),
        lines: &["rsync-tool patch --expect-sha256 \"$HEX\" old.img new.delta /dev/null"],
        help: false,
    },
];

/// The lines of the examples `--help` shows, indented under "Examples:".
fn help_examples(examples: &[Example]) -> String {
    help_lines("Examples:", examples)
}

fn help_lines(heading: &str, examples: &[Example]) -> String {
    let mut text = heading.to_string();
    for line in examples.iter().filter(|e| e.help).flat_map(|e| e.lines) {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text
}

/// The end of `rsync-tool --help`: a reminder and the three steps.
fn main_after_help() -> String {
    let steps = help_lines(
        "Example (sync old.pdf to new.pdf's content in three steps):",
        MAIN_EXAMPLES,
    );
    format!("A missing path or '-' is stdin or stdout; options may stand anywhere.\n\n{steps}")
}

/// The shells `completions` writes scripts for (clap_complete's, named here
/// so that this file needs only clap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    Bash,
    Elvish,
    Fish,
    Powershell,
    Zsh,
}

/// Length of a SHA-256 digest in bytes.
pub const SHA256_LEN: usize = 32;

/// Reads `--expect-sha256`: 64 hex digits, in either case, as `sha256sum`
/// prints them.
pub fn sha256_hex(text: &str) -> Result<[u8; SHA256_LEN], String> {
    let malformed = || {
        format!(
            "expected 64 hex digits (as sha256sum prints), got {} characters",
            text.chars().count()
        )
    };
    if text.len() != 2 * SHA256_LEN || !text.is_ascii() {
        return Err(malformed());
    }
    let mut bytes = [0; SHA256_LEN];
    for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| malformed())?;
        *byte = u8::from_str_radix(pair, 16)
            .map_err(|_| format!("'{pair}' is not a pair of hex digits"))?;
    }
    Ok(bytes)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf abc | sha256sum`
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn digests_read_in_either_case() {
        let upper = sha256_hex(&ABC.to_uppercase()).unwrap();
        assert_eq!(sha256_hex(ABC).unwrap(), upper);
        assert_eq!(upper[..2], [0xba, 0x78]);
    }

    #[test]
    fn malformed_digests_are_refused() {
        for bad in [
            "",
            "abc",
            &ABC[1..],
            &format!("{ABC}0"),
            &ABC.replace('b', "g"),
            &ABC.replacen("ba", "é", 1),
            &format!(" {}", &ABC[1..]),
        ] {
            assert!(sha256_hex(bad).is_err(), "{bad:?} was accepted");
        }
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
