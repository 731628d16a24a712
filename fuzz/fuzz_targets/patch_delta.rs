//! Arbitrary bytes as a delta, applied to a small fixed basis.
//!
//! Checks: no panic, no hang, no unbounded memory; the result agrees with an
//! independent reference (rsync_tool_fuzz::reference_patch): the same bytes
//! on success, rdiff's status on failure, the verification trailer after END
//! checked; and patching between files (`patch_file`, splice(2) on Linux)
//! agrees with patching streams, on a longer basis file (run with
//! -max_len=40000 or so for LITERALs long enough to be spliced).
//! (A LITERAL of 2^32 bytes or more, which librsync 2.2.2's patch job cut to
//! 32 bits, was found here; tests/regressions/ keeps it.)
#![no_main]

use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom, Write};
use std::sync::{Mutex, OnceLock};

use libfuzzer_sys::fuzz_target;
use rsync_tool_core::{BufferSizes, PatchOptions};
use rsync_tool_fuzz::{buffer_len, reference_patch};

fn basis() -> &'static [u8] {
    static BASIS: OnceLock<Vec<u8>> = OnceLock::new();
    BASIS.get_or_init(rsync_tool_fuzz::basis)
}

/// Basis, delta and output files, reused from input to input. The basis
/// file is the basis followed by more bytes, 96 KiB in all, so that COPYs
/// long enough to be spliced (16 KiB) can succeed.
fn files() -> &'static Mutex<[File; 3]> {
    static FILES: OnceLock<Mutex<[File; 3]>> = OnceLock::new();
    FILES.get_or_init(|| {
        let mut basis_file = tempfile::tempfile().unwrap();
        basis_file.write_all(basis()).unwrap();
        basis_file
            .write_all(&rsync_tool_fuzz::gen_bytes(96, 96 * 1024 - basis().len()))
            .unwrap();
        Mutex::new([
            basis_file,
            tempfile::tempfile().unwrap(),
            tempfile::tempfile().unwrap(),
        ])
    })
}

/// Patches the basis in a file: with `patch` from `delta` in memory, and
/// with `patch_file` from `delta` in a file. (The basis is a file in both:
/// how far a file can seek decides some statuses.)
fn patch_files(
    delta: &[u8],
    options: &PatchOptions,
) -> (
    rsync_tool_core::Result<Vec<u8>>,
    rsync_tool_core::Result<Vec<u8>>,
) {
    let mut files = files().lock().unwrap();
    let [basis_file, delta_file, out_file] = &mut *files;
    delta_file.set_len(0).unwrap();
    delta_file.seek(SeekFrom::Start(0)).unwrap();
    delta_file.write_all(delta).unwrap();
    delta_file.seek(SeekFrom::Start(0)).unwrap();
    out_file.set_len(0).unwrap();
    out_file.seek(SeekFrom::Start(0)).unwrap();
    let mut streamed = Vec::new();
    let streamed =
        rsync_tool_core::patch(&*basis_file, delta, &mut streamed, options).map(|_| streamed);
    let spliced =
        rsync_tool_core::patch_file(basis_file, delta_file, out_file, options).map(|_| {
            let mut out = Vec::new();
            out_file.seek(SeekFrom::Start(0)).unwrap();
            out_file.read_to_end(&mut out).unwrap();
            out
        });
    (streamed, spliced)
}

fuzz_target!(|data: &[u8]| {
    let options = PatchOptions {
        buffers: BufferSizes {
            input: buffer_len(data.len()),
            output: buffer_len(data.len() / 5 + data.first().copied().unwrap_or(0) as usize),
        },
        ..PatchOptions::default()
    };
    let mut out = Vec::new();
    let ours = rsync_tool_core::patch(Cursor::new(basis()), data, &mut out, &options);
    let reference = reference_patch(basis(), data);
    match patch_files(data, &options) {
        (Ok(streamed), Ok(spliced)) => assert!(spliced == streamed, "patch_file wrote other bytes"),
        (Err(a), Err(b)) => assert_eq!(a.status(), b.status(), "{a} / {b}"),
        (a, b) => panic!("patch and patch_file disagree: {a:?} / {b:?}"),
    }
    match (ours, reference.result) {
        (Ok(_), Ok(expected)) => {
            assert!(out == expected, "patched bytes differ from the reference")
        }
        (Ok(_), Err(status)) => {
            panic!("rsync-tool patched a delta the reference rejects with {status}")
        }
        (Err(e), Ok(_)) => panic!(
            "rsync-tool rejected a valid delta: {e} (status {})",
            e.status().code()
        ),
        (Err(e), Err(status)) => {
            let ours = e.status().code();
            assert!(
                ours == status,
                "rsync-tool says {ours} ({e}), rdiff would say {status}"
            );
        }
    }
});
