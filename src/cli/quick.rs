//! The plain command lines, read without building clap's command: a command
//! word (or its rdiff prefix), its operands, and the switches `-f`, `-s`,
//! `-v`, `--inplace` anywhere. Building and parsing with clap's command is
//! most of the work of a run on a small file; [`parse`] returns `None` for
//! every other line, which clap then reads. A test holds the two equal.

use std::ffi::OsString;
use std::path::PathBuf;

use super::rdiff_args::expand_command;
use super::{Cli, Command, EngineArg, HashArg, Options, RollsumArg};

/// The options of a line that sets none: clap's defaults.
fn defaults() -> Options {
    Options {
        force: false,
        inplace: false,
        statistics: false,
        verbose: false,
        progress: false,
        no_progress: false,
        jobs: None,
        engine: EngineArg::Native,
        help: None,
        block_size: 0,
        sum_size: 0,
        hash: HashArg::Blake2,
        rollsum: RollsumArg::Rabinkarp,
        input_size: 0,
        output_size: 0,
    }
}

/// The command line `args` (the program's name first) as clap would read
/// it, if it is a plain one; `None` otherwise.
pub fn parse(args: &[OsString]) -> Option<Cli> {
    let mut options = defaults();
    let mut word: Option<OsString> = None;
    let mut operands: Vec<PathBuf> = Vec::new();
    for arg in args.iter().skip(1) {
        let text = arg.to_str()?;
        match text {
            "-f" | "--force" => options.force = true,
            "-s" | "--statistics" | "--stats" => options.statistics = true,
            "-v" | "--verbose" => options.verbose = true,
            "--inplace" => options.inplace = true,
            "" => return None,
            "-" if word.is_some() => operands.push(PathBuf::from(arg)),
            _ if text.starts_with('-') => return None,
            _ if word.is_none() => word = Some(expand_command(arg)),
            _ => operands.push(PathBuf::from(arg)),
        }
    }
    let mut operands = operands.into_iter();
    let (first, second, third) = (operands.next(), operands.next(), operands.next());
    if operands.next().is_some() {
        return None;
    }
    let command = match word?.to_str()? {
        "signature" if third.is_none() => Command::Signature {
            basis: first,
            signature: second,
        },
        "delta" => Command::Delta {
            signature: first?,
            newfile: second,
            delta: third,
            sha256_file: None,
            no_trailer: false,
            gzip: None,
            zstd: None,
        },
        "patch" => Command::Patch {
            basis: first?,
            delta: second,
            newfile: third,
            expect_sha256: None,
            no_verify: false,
        },
        _ => return None,
    };
    Some(Cli {
        options,
        command: Some(command),
    })
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::*;

    /// What clap makes of `args`, as text.
    fn by_clap(args: &[OsString]) -> Result<String, String> {
        let args = crate::cli::rdiff_args::normalize_args(args.iter().cloned());
        crate::cli::command()
            .try_get_matches_from(args)
            .and_then(|m| Cli::from_arg_matches(&m))
            .map(|cli| format!("{cli:?}"))
            .map_err(|e| e.to_string())
    }

    fn line(words: &[&str]) -> Vec<OsString> {
        std::iter::once("rsync-tool")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn plain_lines_are_read_as_clap_reads_them() {
        for words in [
            &["signature", "old", "old.sig"][..],
            &["signature"],
            &["s", "-", "-"],
            &["delta", "old.sig", "new", "out.delta"],
            &["del", "old.sig"],
            &["-f", "patch", "old", "d", "new", "-v"],
            &["pat", "old", "--inplace", "-s", "--stats", "--force", "x"],
            &["p", "signature", "delta", "patch"],
            &["--verbose", "--statistics", "signature", "a b", "-"],
        ] {
            let args = line(words);
            let quick = parse(&args).map(|cli| format!("{cli:?}"));
            assert_eq!(quick, Some(by_clap(&args).unwrap()), "{words:?}");
        }
    }

    #[test]
    fn other_lines_are_left_to_clap() {
        for words in [
            &["signature", "a", "b", "c"][..],
            &["delta"],
            &["patch"],
            &["help"],
            &["man", "delta"],
            &["completions", "bash"],
            &["x", "a"],
            &["-fv", "signature"],
            &["signature", "-b", "512", "a"],
            &["signature", "--", "a"],
            &["signature", ""],
            &["delta", "--no-trailer", "a"],
            &["patch", "a", "-?"],
            &[],
        ] {
            assert!(parse(&line(words)).is_none(), "{words:?}");
        }
    }

    /// Every line of up to four words from a vocabulary of words, operands
    /// and options: where the quick reading gives an answer, it is clap's.
    #[test]
    fn quick_reading_never_differs_from_clap() {
        let vocabulary = [
            "signature",
            "s",
            "delta",
            "pat",
            "help",
            "a",
            "-",
            "--",
            "-f",
            "-v",
            "--stats",
            "--inplace",
            "-j",
            "2",
            "-fv",
            "",
        ];
        let mut read = 0;
        let mut words = Vec::new();
        for n in 0..=4u32 {
            for mut code in 0..vocabulary.len().pow(n) {
                words.clear();
                for _ in 0..n {
                    words.push(vocabulary[code % vocabulary.len()]);
                    code /= vocabulary.len();
                }
                let args = line(&words);
                if let Some(cli) = parse(&args) {
                    read += 1;
                    assert_eq!(Ok(format!("{cli:?}")), by_clap(&args), "{words:?}");
                }
            }
        }
        assert!(read > 1000, "only {read} lines were read quickly");
    }
}
