//! Man pages and shell completions, generated from the clap definition in
//! [`crate::cli`], so they say what `--help` says, with the same examples.
//!
//! The pages carry no date, so the same binary always prints the same bytes
//! and the copies committed under `man/` can be checked for freshness.

use std::io::{self, Write};

use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::{
    DELTA_EXAMPLES, Example, MAIN_EXAMPLES, PATCH_EXAMPLES, Page, SIGNATURE_EXAMPLES, ShellArg,
    USAGE_LINES,
};
use crate::error::ExitStatus;
use rsync_tool_core::BufferSizes;

/// What each exit status means, for the man pages.
const EXIT_STATUSES: &[(ExitStatus, &str)] = &[
    (ExitStatus::Success, "Done (also --help, --version)."),
    (
        ExitStatus::Io,
        "I/O error: missing input, permission, disk full, output exists without -f, \
         basis is a directory or a pipe.",
    ),
    (
        ExitStatus::Syntax,
        "Usage error: bad or unknown option (including -z), unknown -H/-R value, \
         no or unknown command, too many or too few arguments, malformed --expect-sha256.",
    ),
    (
        ExitStatus::InputEnded,
        "Input ended early: truncated signature or delta, COPY past the end of the basis.",
    ),
    (
        ExitStatus::BadMagic,
        "Bad magic number: not a signature, not a delta.",
    ),
    (
        ExitStatus::Corrupt,
        "Corrupt input: implausible header, zero-length or negative COPY or LITERAL, \
         reserved opcode; the result does not match --expect-sha256.",
    ),
    (
        ExitStatus::Internal,
        "Internal error (should never be seen).",
    ),
    (
        ExitStatus::Param,
        "Bad parameter: -S longer than the hash or below -1, negative or absurd -b.",
    ),
];

/// The exit status of a run ended by a signal, after the others.
const SIGNAL_STATUS: (&str, &str) = (
    "128+N",
    "Ended by signal N (SIGHUP, SIGINT, SIGTERM, SIGPIPE on a closed stdout...), after removing the unfinished output, as rdiff.",
);

/// Environment variables the program reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "When set and not empty, the progress bar has no colours.",
    ),
    ("TERM", "When dumb, no progress is shown."),
];

/// What `-v` adds on stderr, per command (as src/cmd/*.rs print it).
const VERBOSE: [(Page, &str); 3] = [
    (
        Page::Signature,
        "the signature's parameters, before it is made: rolling sum and strong hash, \
         block length, strong sum length",
    ),
    (
        Page::Delta,
        "the parameters of the signature read: rolling sum and strong hash, block length, \
         strong sum length",
    ),
    (
        Page::Patch,
        "whether the result was verified against the delta's trailer, or why not \
         (the delta has none, or --no-verify)",
    ),
];

/// What `-v` adds for every command with a file output.
const VERBOSE_OUTPUT: &str = "a line when a file output cannot be made beside its target or \
     cannot be replaced, and so is built elsewhere and written into it at the end";

/// Writes the completion script for `shell`.
pub fn completions(shell: ShellArg, out: &mut dyn Write) -> io::Result<()> {
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Elvish => Shell::Elvish,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Powershell => Shell::PowerShell,
        ShellArg::Zsh => Shell::Zsh,
    };
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::command(), "rsync-tool", &mut buf);
    if shell == Shell::Bash {
        buf = fix_bash_states(&buf);
    }
    out.write_all(&buf)
}

/// clap_complete 4.6 spells the bash state of a subcommand of a hyphenated
/// binary two ways (clap-rs/clap#6421): the loop that reads the words
/// reaches `rsync__tool__subcmd__patch`, the case arms expect
/// `rsync__subcmd__tool__subcmd__patch`, so nothing after a command word
/// would complete. Spell the arms as the loop does (a no-op once fixed
/// upstream; tests/generated.rs checks that completion works).
fn fix_bash_states(script: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(script)
        .replace("rsync__subcmd__tool__subcmd__", "rsync__tool__subcmd__")
        .into_bytes()
}

/// Writes the man page of rsync-tool (`None`) or of one of its commands.
pub fn man_page(page: Option<Page>, out: &mut dyn Write) -> io::Result<()> {
    let mut top = crate::cli::command();
    top.build();
    let top = for_man(with_details(top));
    let mut buf = Vec::new();
    match page {
        None => {
            let man = Man::new(top.clone()).date("").source(SOURCE);
            standard_sections(&man, &mut buf)?;
            section(&mut buf, &commands_section(&top))?;
            section(&mut buf, &exit_status_section())?;
            section(&mut buf, &list_section("ENVIRONMENT", ENVIRONMENT))?;
            section(&mut buf, &examples_section(MAIN_EXAMPLES))?;
            let see_also: Vec<String> = Page::ALL
                .iter()
                .map(|p| format!("rsync-tool-{}(1)", p.name()))
                .chain(["rdiff(1)".to_string(), "sha256sum(1)".to_string()])
                .collect();
            section(&mut buf, &see_also_section(&see_also))?;
            section_with(&mut buf, |w| man.render_version_section(w))?;
        }
        Some(page) => {
            let sub = top
                .find_subcommand(page.name())
                .expect("every page is a command")
                .clone();
            let man = Man::new(for_man(sub)).date("").source(SOURCE);
            standard_sections(&man, &mut buf)?;
            section(&mut buf, &exit_status_section())?;
            let examples = match page {
                Page::Signature => SIGNATURE_EXAMPLES,
                Page::Delta => DELTA_EXAMPLES,
                Page::Patch => PATCH_EXAMPLES,
            };
            section(&mut buf, &examples_section(examples))?;
            let see_also: Vec<String> = std::iter::once("rsync-tool(1)".to_string())
                .chain(
                    Page::ALL
                        .iter()
                        .filter(|p| **p != page)
                        .map(|p| format!("rsync-tool-{}(1)", p.name())),
                )
                .chain(["rdiff(1)".to_string()])
                .collect();
            section(&mut buf, &see_also_section(&see_also))?;
            section_with(&mut buf, |w| man.render_version_section(w))?;
        }
    }
    out.write_all(&buf)
}

/// The footer of every page.
const SOURCE: &str = concat!("rsync-tool ", env!("CARGO_PKG_VERSION"));

/// The command with what only the man pages say: the `-I`/`-O` defaults
/// (the library's) and what `-v` prints, for each command.
fn with_details(top: clap::Command) -> clap::Command {
    let buffers = BufferSizes::default();
    let with_default = |arg: clap::Arg, bytes: usize| {
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        arg.long_help(format!(
            "{help}; any positive size works, 1 included.\n\nDefault: {bytes} ({}).",
            binary_size(bytes)
        ))
    };
    let verbose = |arg: clap::Arg, what: &str| {
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        arg.long_help(format!("{help}\n\n{what}."))
    };
    let all: Vec<String> = VERBOSE
        .iter()
        .map(|(page, what)| format!("{}: {what}", page.name()))
        .collect();
    let all = format!("{}; and for each, {VERBOSE_OUTPUT}", all.join("; "));
    let top = top
        .mut_arg("input_size", |a| with_default(a, buffers.input))
        .mut_arg("output_size", |a| with_default(a, buffers.output))
        .mut_arg("verbose", |a| verbose(a, &all));
    top.mut_subcommands(|sub| {
        let Some((_, what)) = VERBOSE.iter().find(|(p, _)| p.name() == sub.get_name()) else {
            return sub;
        };
        sub.mut_arg("input_size", |a| with_default(a, buffers.input))
            .mut_arg("output_size", |a| with_default(a, buffers.output))
            .mut_arg("verbose", |a| {
                verbose(a, &format!("Prints {what}; and {VERBOSE_OUTPUT}"))
            })
    })
}

/// A size in bytes as a person reads it: 256 KiB, 1 MiB.
fn binary_size(bytes: usize) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

/// The command as a man page shows it: the paths under a heading of their
/// own, and the description without the summary line NAME already gives.
fn for_man(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.mut_args(|arg| {
        if arg.is_positional() {
            arg.help_heading("Arguments")
        } else {
            arg
        }
    });
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    let long = cmd.get_long_about().map(|a| a.to_string());
    match long.as_deref().and_then(|l| l.strip_prefix(about.as_str())) {
        Some(rest) if !rest.trim().is_empty() => {
            let rest = rest.trim().to_string();
            cmd.long_about(rest)
        }
        _ => cmd,
    }
}

/// Title, NAME, SYNOPSIS, DESCRIPTION and the options, as clap_mangen
/// renders them.
fn standard_sections(man: &Man, buf: &mut Vec<u8>) -> io::Result<()> {
    man.render_title(buf)?;
    section_with(buf, |w| man.render_name_section(w))?;
    section_with(buf, |w| man.render_synopsis_section(w))?;
    section_with(buf, |w| man.render_description_section(w))?;
    section_with(buf, |w| man.render_options_section(w))
}

/// Appends a part rendered by `render`, without the preamble every roff
/// rendering starts with (the title's copy is the one the page needs).
fn section_with(
    buf: &mut Vec<u8>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let preamble = Roff::new().render();
    let mut part = Vec::new();
    render(&mut part)?;
    buf.extend_from_slice(part.strip_prefix(preamble.as_bytes()).unwrap_or(&part));
    Ok(())
}

fn section(buf: &mut Vec<u8>, roff: &Roff) -> io::Result<()> {
    section_with(buf, |w| roff.to_writer(w))
}

/// The commands with their usage lines, pointing at their own pages.
fn commands_section(top: &clap::Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for (sub, line) in top.get_subcommands().zip(USAGE_LINES) {
        roff.control("TP", []);
        roff.text([bold(line)]);
        if let Some(about) = sub.get_about() {
            roff.text([roman(format!("{about}."))]);
        }
        let own: Vec<String> = sub
            .get_arguments()
            .filter(|a| !a.is_positional() && !a.is_global_set() && !a.is_hide_set())
            .filter(|a| a.get_id() != "version")
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        if !own.is_empty() {
            roff.text([roman(format!("Its own options: {}.", own.join(", ")))]);
        }
        if Page::ALL.iter().any(|p| p.name() == sub.get_name()) {
            roff.text([
                roman("See "),
                bold(format!("rsync-tool-{}", sub.get_name())),
                roman("(1)."),
            ]);
        }
    }
    roff
}

fn exit_status_section() -> Roff {
    let codes: Vec<(String, &str)> = EXIT_STATUSES
        .iter()
        .map(|(status, text)| (status.code().to_string(), *text))
        .chain([(SIGNAL_STATUS.0.to_string(), SIGNAL_STATUS.1)])
        .collect();
    let items: Vec<(&str, &str)> = codes.iter().map(|(c, t)| (c.as_str(), *t)).collect();
    list_section("EXIT STATUS", &items)
}

/// A section of tagged paragraphs.
fn list_section(title: &str, items: &[(&str, &str)]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", [title]);
    for (tag, text) in items {
        roff.control("TP", []);
        roff.text([bold(*tag)]);
        roff.text([roman(*text)]);
    }
    roff
}

/// The examples that have a sentence for the man page.
fn examples_section(examples: &[Example]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    let in_man = examples.iter().filter_map(|e| Some((e.man?, e.lines)));
    for (i, (text, lines)) in in_man.enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(text)]);
        roff.control("PP", []);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in lines {
            roff.text([roman(*line)]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
    }
    roff
}

fn see_also_section(pages: &[String]) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, page) in pages.iter().enumerate() {
        let (name, section) = page.split_once('(').unwrap_or((page, ""));
        if i > 0 {
            line.push(roman(", "));
        }
        line.push(bold(name));
        line.push(roman(format!("({section}")));
    }
    roff.text(line);
    roff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(p: Option<Page>) -> String {
        let mut out = Vec::new();
        man_page(p, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn pages_have_the_sections_and_no_date() {
        for p in [
            None,
            Some(Page::Signature),
            Some(Page::Delta),
            Some(Page::Patch),
        ] {
            let text = page(p);
            for heading in [
                ".SH NAME",
                ".SH SYNOPSIS",
                ".SH OPTIONS",
                ".SH \"EXIT STATUS\"",
                ".SH EXAMPLES",
            ] {
                assert!(text.contains(heading), "{p:?} lacks {heading}");
            }
            assert!(text.starts_with(".ie"), "{p:?}: one preamble first");
            assert_eq!(text.matches(".ie").count(), 1, "{p:?}: one preamble only");
            let title = text.lines().find(|l| l.starts_with(".TH ")).unwrap();
            assert!(title.starts_with(".TH rsync-tool"), "{title}");
            assert!(
                !title.contains("20"),
                "{title}: a date makes the page change"
            );
        }
        assert!(page(None).contains(".SH COMMANDS"));
        // the library's buffer defaults, and what -v prints on each page
        for p in [None, Some(Page::Signature), Some(Page::Patch)] {
            let text = page(p);
            let default = BufferSizes::default().input.to_string();
            assert!(
                text.contains(&format!("Default: {default} (256 KiB)")),
                "{p:?}"
            );
        }
        assert!(page(Some(Page::Patch)).contains("verified against the delta"));
        assert!(page(Some(Page::Signature)).contains("before it is made"));
        assert!(page(None).contains("Its own options: \\-\\-expect\\-sha256"));
        assert!(page(Some(Page::Patch)).contains("expect\\-sha256"));
    }

    #[test]
    fn every_shell_of_clap_complete_is_offered() {
        use clap::ValueEnum;
        let names = |values: Vec<Option<clap::builder::PossibleValue>>| -> Vec<String> {
            values
                .into_iter()
                .map(|v| v.unwrap().get_name().to_string())
                .collect()
        };
        assert_eq!(
            names(
                ShellArg::value_variants()
                    .iter()
                    .map(ShellArg::to_possible_value)
                    .collect()
            ),
            names(
                Shell::value_variants()
                    .iter()
                    .map(Shell::to_possible_value)
                    .collect()
            )
        );
    }

    #[test]
    fn the_usage_lines_follow_the_commands() {
        let mut top = crate::cli::command();
        top.build();
        for (sub, line) in top.get_subcommands().zip(USAGE_LINES) {
            assert!(line.contains(&format!(" {} ", sub.get_name())), "{line}");
        }
        assert_eq!(top.get_subcommands().count(), USAGE_LINES.len());
    }
}
