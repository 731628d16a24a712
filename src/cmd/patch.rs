//! `patch`: rebuild NEWFILE from BASIS and a delta, checking its SHA-256 if asked.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use rsync_tool_core::PatchOptions;
use rsync_tool_core::format::{Command, DeltaParser};

use super::{Names, buffers, check_distinct, output_mode, progress_when, report};
use crate::cli::Options;
use crate::compress::{self, Delta};
use crate::error::{Error, ExitStatus, Result};
use crate::fs::Input;
use crate::progress::{self, Progress};
use crate::sha256::{HashingWriter, Sha256Digest};

/// Applies `delta` (plain, or gzip or zstd compressed) to `basis` and writes
/// the result to `new`, checking it against the delta's trailer if `verify`.
pub fn run(
    opts: &Options,
    basis: &Path,
    delta: Option<&Path>,
    new: Option<&Path>,
    expect_sha256: Option<Sha256Digest>,
    verify: bool,
) -> Result<()> {
    let basis_input = Input::open(Some(basis), true)?;
    let delta_input = Input::open(delta, false)?;
    let mut out = crate::fs::open_output(new, output_mode(opts))?;
    check_distinct(opts, &[&basis_input, &delta_input], &[&out], Some((0, 0)))?;
    let out_name = out.name().to_string();
    let names = Names {
        basis: &basis_input.name,
        signature: "",
        new: &out_name,
        delta: &delta_input.name,
        output: &out_name,
    };
    let buffers = buffers(opts)?;
    // The bar counts the result's bytes written; a plain delta file tells
    // their total (a pipe or a compressed delta: a spinner). Found only when
    // a bar can be shown.
    let when = progress_when(opts);
    let total = progress::can_show(when)
        .then(|| {
            delta_input
                .size()
                .and_then(|_| result_len(&delta_input.file))
        })
        .flatten();
    let progress = Progress::start(when, format!("patch {out_name}"), total);
    let mut delta_reader = compress::open_delta(&delta_input)?;
    let splice_ok = matches!(delta_reader, Delta::File);
    let mut source: Box<dyn Read + '_> = match &mut delta_reader {
        Delta::File => Box::new(&delta_input.file),
        Delta::Replayed(replayed) => Box::new(replayed),
        Delta::Compressed(decompressor) => Box::new(decompressor),
    };
    let options = PatchOptions {
        buffers,
        progress: Some(progress.counter()),
        verify,
        cancel: None,
    };
    let patched = |writer: &mut dyn Write, source: &mut dyn Read| {
        rsync_tool_core::patch(&basis_input.file, source, writer, &options)
    };
    let written_through = out.is_written_through();
    let (result, digest) = match expect_sha256 {
        None if splice_ok => {
            let result = rsync_tool_core::patch_file(
                &basis_input.file,
                &delta_input.file,
                out.file(),
                &options,
            );
            (result, None)
        }
        None => (patched(out.file(), &mut source), None),
        Some(_) => {
            let mut writer = HashingWriter::new(out.file());
            let result = patched(&mut writer, &mut source);
            (result, Some(writer.finish()))
        }
    };
    drop(source);
    let stats = match (result, &mut delta_reader) {
        (Ok(stats), Delta::Compressed(decompressor)) => {
            decompressor.finish()?;
            stats
        }
        (Ok(stats), _) => stats,
        (Err(e), Delta::Compressed(decompressor)) => {
            return Err(decompressor.failure().unwrap_or_else(|| names.blame(e)));
        }
        (Err(e), _) => return Err(names.blame(e)),
    };
    if let (Some(expected), Some(got)) = (expect_sha256, digest)
        && expected != got
    {
        let fate = if written_through {
            "it was written through already, as a stream cannot be taken back"
        } else {
            "nothing was written"
        };
        return Err(Error::new(
            ExitStatus::Corrupt,
            format!(
                "{out_name}: the result's SHA-256 is {got}, not the expected {expected}; {fate}"
            ),
        ));
    }
    progress.finish();
    out.commit()?;
    if opts.verbose {
        let how = if stats.verified {
            "verified: the result's length and BLAKE3 hash match the delta's trailer"
        } else if verify {
            "not verified: no trailer follows the delta's END"
        } else {
            "not verified (--no-verify)"
        };
        eprintln!("rsync-tool: {out_name}: {how}");
    }
    report(opts, || [stats.rdiff_line()]);
    Ok(())
}

/// The length of the result of a delta file, read from its current
/// position: the sum of its LITERAL and COPY lengths, found from the
/// commands alone (LITERAL data is skipped, not read). `None` for anything
/// but a complete, plain delta; the file's position is left as it was.
fn result_len(delta: &File) -> Option<u64> {
    const READ_LEN: usize = 64 * 1024;
    let mut pos = (&*delta).stream_position().ok()?;
    let mut parser = DeltaParser::new(None);
    let mut buf = vec![0; READ_LEN];
    // buf[..buf_len] holds the delta from offset buf_pos
    let (mut buf_pos, mut buf_len) = (pos, 0);
    let mut total = 0u64;
    while !parser.is_done() {
        let literal = parser.literal_remaining();
        if literal > 0 {
            parser.skip_literal(literal);
            pos = pos.checked_add(literal)?;
            continue;
        }
        if pos < buf_pos || pos >= buf_pos + buf_len as u64 {
            buf_len = delta.read_at(&mut buf, pos).ok()?;
            buf_pos = pos;
            if buf_len == 0 {
                return None;
            }
        }
        let at = (pos - buf_pos) as usize;
        let (n, command) = parser.advance(&buf[at..buf_len]).ok()?;
        pos += n as u64;
        if let Some(Command::Literal { len } | Command::Copy { len, .. }) = command {
            total = total.checked_add(len)?;
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use super::*;

    #[test]
    fn the_result_length_is_read_from_the_commands() {
        let mut delta = tempfile::tempfile().unwrap();
        // a header before the delta; LITERAL 3 "abc", COPY 2 at 1, LITERAL
        // of 100000 bytes (4-byte length), COPY 2^32 at 0 (8-byte fields), END
        delta.write_all(b"xx").unwrap();
        delta.write_all(&[0x72, 0x73, 0x02, 0x36]).unwrap();
        delta
            .write_all(&[0x03, b'a', b'b', b'c', 0x45, 1, 2])
            .unwrap();
        delta.write_all(&[0x43, 0, 1, 0x86, 0xa0]).unwrap();
        delta.write_all(&vec![7; 100_000]).unwrap();
        delta.write_all(&[0x54, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        delta.write_all(&[0, 0, 0, 1, 0, 0, 0, 0, 0]).unwrap();
        delta.seek(SeekFrom::Start(2)).unwrap();
        assert_eq!(result_len(&delta), Some(3 + 2 + 100_000 + (1 << 32)));
        assert_eq!(delta.stream_position().unwrap(), 2);
        // truncated: no END
        delta.set_len(delta.metadata().unwrap().len() - 1).unwrap();
        assert_eq!(result_len(&delta), None);
        // not a delta
        delta.seek(SeekFrom::Start(0)).unwrap();
        assert_eq!(result_len(&delta), None);
    }
}
