//! The command line: clap definition, and the rewriting of rdiff's spellings
//! that clap does not know (command-word prefixes, `-?`).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// `--version` text: ours, and the engine and formats it speaks.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (librsync 2.2.2 engine, rdiff 2.3 file formats)"
);

/// Signature, delta and patch files, compatible with librsync's rdiff.
///
/// Sync a file in three steps: a signature of the old copy, a delta of the new
/// file against it, then patch the old copy with the delta. A missing path or
/// `-` means stdin or stdout.
#[derive(Debug, Parser)]
#[command(
    name = "rsync-tool",
    version = VERSION,
    disable_help_subcommand = true,
    after_help = "Example:\n  rsync-tool signature old.pdf old.sig\n  rsync-tool delta old.sig new.pdf out.delta\n  rsync-tool patch old.pdf out.delta synced.pdf"
)]
pub struct Cli {
    #[command(flatten)]
    pub options: Options,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// rdiff's options; they may stand anywhere on the command line.
#[derive(Debug, Args)]
pub struct Options {
    /// Signature block length in bytes; 0 picks the recommended length
    #[arg(
        short = 'b',
        long = "block-size",
        value_name = "BYTES",
        global = true,
        allow_negative_numbers = true,
        default_value_t = 0,
        hide_default_value = true
    )]
    pub block_size: i64,

    /// Strong sum length in bytes: 0 = the full hash, -1 = the recommended minimum
    #[arg(
        short = 'S',
        long = "sum-size",
        value_name = "BYTES",
        global = true,
        allow_negative_numbers = true,
        default_value_t = 0,
        hide_default_value = true
    )]
    pub sum_size: i64,

    /// Strong hash of a new signature
    #[arg(short = 'H', long = "hash", value_name = "ALG", global = true, value_enum,
          default_value_t = HashArg::Blake2)]
    pub hash: HashArg,

    /// Weak rolling sum of a new signature
    #[arg(short = 'R', long = "rollsum", value_name = "ALG", global = true, value_enum,
          default_value_t = RollsumArg::Rabinkarp)]
    pub rollsum: RollsumArg,

    /// Overwrite an existing output file
    #[arg(short = 'f', long = "force", global = true)]
    pub force: bool,

    /// Print rdiff's statistics lines on stderr when done
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

    /// Input buffer size in bytes
    #[arg(
        short = 'I',
        long = "input-size",
        value_name = "BYTES",
        global = true,
        allow_negative_numbers = true,
        default_value_t = 0,
        hide_default_value = true
    )]
    pub input_size: i64,

    /// Worker threads for signature and delta; outputs are identical for every N
    /// [default: number of cores]
    #[arg(short = 'j', long = "jobs", value_name = "N", global = true,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,

    /// Output buffer size in bytes
    #[arg(
        short = 'O',
        long = "output-size",
        value_name = "BYTES",
        global = true,
        allow_negative_numbers = true,
        default_value_t = 0,
        hide_default_value = true
    )]
    pub output_size: i64,
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

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the signature of BASIS to SIGNATURE
    Signature {
        /// The old file (default: stdin)
        basis: Option<PathBuf>,
        /// Where to write the signature (default: stdout)
        signature: Option<PathBuf>,
    },
    /// Write the delta of NEWFILE against SIGNATURE to DELTA
    Delta {
        /// The signature of the old file (`-`: stdin)
        signature: PathBuf,
        /// The new file (default: stdin)
        newfile: Option<PathBuf>,
        /// Where to write the delta (default: stdout)
        delta: Option<PathBuf>,
    },
    /// Apply DELTA to BASIS and write the result to NEWFILE
    Patch {
        /// The old file; it must be seekable (a file, not a pipe)
        basis: PathBuf,
        /// The delta (default: stdin)
        delta: Option<PathBuf>,
        /// Where to write the new file (default: stdout)
        newfile: Option<PathBuf>,
    },
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
];
/// The command words in rdiff's order of prefix matching.
const PREFIXED_COMMANDS: &[&str] = &["signature", "delta", "patch"];

/// Rewrites rdiff's spellings into clap's: `-?` becomes `-h`, and a prefix of
/// a command word (`s`, `del`, `pat`, as rdiff's `isprefix`) the full word.
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    let mut command_seen = false;
    let mut value_next = false;
    let mut options_ended = false;
    for (i, arg) in args.into_iter().enumerate() {
        if i == 0 || command_seen {
            out.push(arg);
            continue;
        }
        if value_next {
            value_next = false;
            out.push(arg);
            continue;
        }
        let text = arg.to_string_lossy().into_owned();
        if !options_ended && text == "--" {
            options_ended = true;
            out.push(arg);
            continue;
        }
        if !options_ended && text.starts_with("--") {
            value_next = LONG_WITH_VALUE.contains(&text.as_str());
            out.push(arg);
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
            out.push(arg);
            continue;
        }
        command_seen = true;
        out.push(expand_command(&arg));
    }
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
        assert_eq!(norm(&["r", "-", "s"]), ["r", "-", "s"]);
    }

    #[test]
    fn the_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
