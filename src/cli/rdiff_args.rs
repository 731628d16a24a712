//! rdiff's spellings of a command line that clap does not know: command-word
//! prefixes (`s`, `del`, `pat`, as rdiff's `isprefix`), `-?`, options
//! of one command written before its word, and `help [COMMAND]`.

use std::ffi::{OsStr, OsString};

use clap::CommandFactory;

use super::Cli;

/// What the rewriting needs to know of the options, read from the clap
/// definition so that a new option cannot be forgotten.
struct Known {
    /// Short options that take a value, so the command word can be found.
    short_with_value: Vec<char>,
    /// Long options that take a value (when not written `--opt=V`).
    long_with_value: Vec<String>,
    /// Options of one command; written before the command word, they are
    /// moved after it, so that they too may stand anywhere.
    command_options: Vec<String>,
    /// The short letters of those options (`-z`).
    command_shorts: Vec<char>,
    /// Short options whose value is optional and attached (`-z9`), which
    /// clap reads only as `-z=9`.
    short_optional_value: Vec<char>,
}

impl Known {
    fn new() -> Known {
        let top = Cli::command();
        let mut known = Known {
            short_with_value: Vec::new(),
            long_with_value: Vec::new(),
            command_options: Vec::new(),
            command_shorts: Vec::new(),
            short_optional_value: Vec::new(),
        };
        let commands = top.get_subcommands().map(|sub| (sub, true));
        for (cmd, of_one_command) in std::iter::once((&top, false)).chain(commands) {
            for arg in cmd.get_arguments().filter(|a| !a.is_positional()) {
                let longs: Vec<String> = arg
                    .get_long()
                    .into_iter()
                    .chain(arg.get_all_aliases().unwrap_or_default())
                    .map(|l| format!("--{l}"))
                    .collect();
                // `-z[LEVEL]`'s level is attached (`-z9`, `--gzip=9`): the
                // next word is not its value
                if arg.get_action().takes_values() && arg.is_require_equals_set() {
                    known.short_optional_value.extend(arg.get_short());
                } else if arg.get_action().takes_values() {
                    known.short_with_value.extend(arg.get_short());
                    known
                        .short_with_value
                        .extend(arg.get_all_short_aliases().unwrap_or_default());
                    known.long_with_value.extend(longs.iter().cloned());
                }
                if of_one_command && !arg.is_global_set() {
                    known.command_shorts.extend(arg.get_short());
                    known.command_options.extend(longs);
                }
            }
        }
        known
    }
}

/// The command words in rdiff's order of prefix matching.
const PREFIXED_COMMANDS: &[&str] = &["signature", "delta", "patch"];

/// Rewrites rdiff's spellings into clap's: `-?` becomes `-h`, a prefix of
/// a command word (`s`, `del`, `pat`, as rdiff's `isprefix`) the full word,
/// an option of one command written before the word moves after it, and
/// `help [COMMAND]` becomes `[COMMAND] -h` (the same short help; `h` stays
/// an unknown command, as in rdiff).
pub fn normalize_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let known = Known::new();
    let mut out: Vec<OsString> = Vec::new();
    let mut moved: Vec<OsString> = Vec::new();
    let mut command_seen = false;
    let mut value_next = false;
    let mut move_value = false;
    let mut options_ended = false;
    let mut command_at = None;
    for (i, arg) in args.into_iter().enumerate() {
        if i == 0 || (command_seen && (options_ended || arg != "-?")) {
            if arg == "--" {
                options_ended = true;
            }
            let text = arg.to_string_lossy().into_owned();
            let short = !options_ended && i > 0 && text.starts_with('-') && !text.starts_with("--");
            out.push(if short {
                attach_level(&known, arg, &text)
            } else {
                arg
            });
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
            value_next = known.long_with_value.contains(&text);
            move_value = known.command_options.iter().any(|o| o == name);
            (if move_value { &mut moved } else { &mut out }).push(arg);
            continue;
        }
        if !options_ended && text.starts_with('-') && text.len() > 1 {
            if text == "-?" {
                out.push(OsString::from("-h"));
                continue;
            }
            let mut of_one_command = false;
            for (pos, c) in text.char_indices().skip(1) {
                of_one_command |= known.command_shorts.contains(&c);
                if known.short_with_value.contains(&c) {
                    value_next = pos + c.len_utf8() == text.len();
                    break;
                }
            }
            move_value = of_one_command;
            let arg = attach_level(&known, arg, &text);
            (if move_value { &mut moved } else { &mut out }).push(arg);
            continue;
        }
        command_seen = true;
        command_at = Some(out.len());
        out.push(expand_command(&arg));
        out.append(&mut moved);
    }
    out.append(&mut moved);
    if let Some(at) = command_at.filter(|&at| out[at] == "help") {
        out.remove(at);
        let topic = (at..out.len()).find(|&i| !out[i].to_string_lossy().starts_with('-'));
        if let Some(i) = topic {
            // the command word goes first, before its moved options
            let word = match expand_command(&out.remove(i)) {
                // (help help is the main help)
                word if word == "help" => OsString::from("-h"),
                word => word,
            };
            out.insert(at, word);
        }
        out.push(OsString::from("-h"));
    }
    out
}

/// `-z9` as clap reads it, `-z=9`: digits right after a short option whose
/// value is optional are its value (rdiff's popt reads `-z9` so).
fn attach_level(known: &Known, arg: OsString, text: &str) -> OsString {
    let mut chars = text.char_indices().skip(1);
    let Some((pos, c)) = chars.find(|(_, c)| known.short_optional_value.contains(c)) else {
        return arg;
    };
    let rest = &text[pos + c.len_utf8()..];
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return arg;
    }
    OsString::from(format!("{}={rest}", &text[..pos + c.len_utf8()]))
}

pub(super) fn expand_command(word: &OsStr) -> OsString {
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
    fn help_becomes_dash_h_after_the_command() {
        assert_eq!(norm(&["r", "help"]), ["r", "-h"]);
        assert_eq!(norm(&["r", "help", "pat"]), ["r", "patch", "-h"]);
        assert_eq!(
            norm(&["r", "-v", "help", "-f", "d"]),
            ["r", "-v", "delta", "-f", "-h"]
        );
        assert_eq!(norm(&["r", "help", "man"]), ["r", "man", "-h"]);
        assert_eq!(norm(&["r", "help", "help"]), ["r", "-h", "-h"]);
        assert_eq!(
            norm(&["r", "--no-verify", "help", "p"]),
            ["r", "patch", "--no-verify", "-h"]
        );
        assert_eq!(norm(&["r", "h"]), ["r", "h"]);
        assert_eq!(norm(&["r", "patch", "help"]), ["r", "patch", "help"]);
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
    fn options_with_values_come_from_the_definition() {
        let known = Known::new();
        let mut short = known.short_with_value.clone();
        short.sort();
        assert_eq!(short, ['H', 'I', 'O', 'R', 'S', 'b', 'j']);
        let mut long = known.long_with_value.clone();
        long.sort();
        assert_eq!(
            long,
            [
                "--block-size",
                "--engine",
                "--expect-sha256",
                "--hash",
                "--input-size",
                "--jobs",
                "--output-size",
                "--rollsum",
                "--sha256-file",
                "--sum-size",
            ]
        );
        assert_eq!(
            known.command_options,
            [
                "--sha256-file",
                "--no-trailer",
                "--gzip",
                "--zstd",
                "--expect-sha256",
                "--no-verify"
            ]
        );
        assert_eq!(known.command_shorts, ['z']);
        assert_eq!(known.short_optional_value, ['z']);
    }

    #[test]
    fn an_optional_level_is_attached_never_the_next_word() {
        assert_eq!(
            norm(&["r", "delta", "-z", "sig", "new"]),
            ["r", "delta", "-z", "sig", "new"]
        );
        assert_eq!(
            norm(&["r", "delta", "-z9", "sig"]),
            ["r", "delta", "-z=9", "sig"]
        );
        assert_eq!(
            norm(&["r", "delta", "--zstd", "sig"]),
            ["r", "delta", "--zstd", "sig"]
        );
        assert_eq!(norm(&["r", "-z", "d", "s"]), ["r", "delta", "-z", "s"]);
        assert_eq!(norm(&["r", "-z1", "d", "s"]), ["r", "delta", "-z=1", "s"]);
        assert_eq!(
            norm(&["r", "--zstd=19", "d", "s"]),
            ["r", "delta", "--zstd=19", "s"]
        );
        assert_eq!(
            norm(&["r", "delta", "--", "-z9"]),
            ["r", "delta", "--", "-z9"]
        );
    }
}
