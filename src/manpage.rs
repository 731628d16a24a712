//! Man pages and shell completions, generated from the clap definition in
//! [`crate::cli`], so they say what `--help` says.
//!
//! The pages carry no date, so the same binary always prints the same bytes
//! and the copies committed under `man/` can be checked for freshness.

use std::io::{self, Write};

use clap::CommandFactory;
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::{Cli, Page, USAGE_LINES};

/// rdiff's exit statuses (librsync's `rs_result`), as the contract gives them.
const EXIT_STATUSES: &[(&str, &str)] = &[
    ("0", "Done (also --help, --version)."),
    (
        "100",
        "I/O error: missing input, permission, disk full, output exists without -f, \
         basis is a directory or a pipe.",
    ),
    (
        "101",
        "Usage error: bad or unknown option (including -z), unknown -H/-R value, \
         no or unknown command, too many or too few arguments, malformed --expect-sha256.",
    ),
    (
        "103",
        "Input ended early: truncated signature or delta, COPY past the end of the basis.",
    ),
    ("104", "Bad magic number: not a signature, not a delta."),
    (
        "106",
        "Corrupt input: implausible header, zero-length or negative COPY or LITERAL, \
         reserved opcode; the result does not match --expect-sha256.",
    ),
    ("107", "Internal error (should never be seen)."),
    (
        "108",
        "Bad parameter: -S longer than the hash or below -1, negative or absurd -b.",
    ),
    (
        "128+N",
        "Ended by signal N (SIGHUP, SIGINT, SIGTERM), after removing the unfinished output.",
    ),
];

/// Environment variables the program reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "NO_COLOR",
        "When set and not empty, the progress bar has no colours.",
    ),
    ("TERM", "When dumb, no progress is shown."),
];

/// The examples of one page: a sentence, then the command lines it explains.
type Examples = &'static [(&'static str, &'static [&'static str])];

const MAIN_EXAMPLES: Examples = &[
    (
        "Sync old.pdf to the content of new.pdf in three steps:",
        &[
            "rsync-tool signature old.pdf old.sig",
            "rsync-tool delta old.sig new.pdf out.delta",
            "rsync-tool patch old.pdf out.delta synced.pdf",
        ],
    ),
    (
        "Update /srv/old.img on host from a local new.img; only the signature and the delta cross the network:",
        &[
            "ssh host rsync-tool signature /srv/old.img |",
            "  rsync-tool delta - new.img |",
            "  ssh host rsync-tool patch /srv/old.img - /srv/new.img",
        ],
    ),
    (
        "Make sure the result is right before it replaces anything:",
        &[
            "rsync-tool delta --sha256-file new.sha256 old.sig new.img new.delta",
            "rsync-tool patch -f --expect-sha256 \"$(cut -d' ' -f1 new.sha256)\" old.img new.delta old.img",
        ],
    ),
];

const SIGNATURE_EXAMPLES: Examples = &[
    (
        "The signature of a file, with rdiff's default parameters:",
        &["rsync-tool signature old.img old.sig"],
    ),
    (
        "The signature of a remote file, brought here:",
        &["ssh host rsync-tool signature /srv/old.img > old.sig"],
    ),
    (
        "An old-style signature (rsync's rollsum and MD4, as librsync before 1.0 made):",
        &["rsync-tool signature -R rollsum -H md4 old.img old.sig"],
    ),
];

const DELTA_EXAMPLES: Examples = &[
    (
        "The delta of new.img against the signature of an old copy:",
        &["rsync-tool delta old.sig new.img new.delta"],
    ),
    (
        "The same, also recording new.img's SHA-256 for checking the patched result:",
        &["rsync-tool delta --sha256-file new.sha256 old.sig new.img new.delta"],
    ),
    (
        "A delta of data arriving on a pipe:",
        &["pg_dump db | rsync-tool delta old.sig - dump.delta"],
    ),
];

const PATCH_EXAMPLES: Examples = &[
    (
        "Rebuild the new file from the old copy and the delta:",
        &["rsync-tool patch old.img new.delta new.img"],
    ),
    (
        "Update the old copy in place, only if the result has the expected digest:",
        &[
            "rsync-tool patch -f --expect-sha256 \"$(cut -d' ' -f1 new.sha256)\" old.img new.delta old.img",
        ],
    ),
    (
        "Check a delta without writing anything:",
        &["rsync-tool patch --expect-sha256 \"$HEX\" old.img new.delta /dev/null"],
    ),
];

/// Writes the completion script for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "rsync-tool", &mut buf);
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
    let mut top = Cli::command();
    top.build();
    let top = for_man(top);
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
    list_section("EXIT STATUS", EXIT_STATUSES)
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

fn examples_section(examples: Examples) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for (i, (text, lines)) in examples.iter().enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(*text)]);
        roff.control("PP", []);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in *lines {
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
        assert!(page(Some(Page::Patch)).contains("expect\\-sha256"));
    }

    #[test]
    fn the_usage_lines_follow_the_commands() {
        let top = Cli::command();
        for (sub, line) in top.get_subcommands().zip(USAGE_LINES) {
            assert!(line.contains(&format!(" {} ", sub.get_name())), "{line}");
        }
        assert_eq!(top.get_subcommands().count(), USAGE_LINES.len());
    }
}
