//! Arbitrary command lines through the binary's parser: rdiff-spelling
//! normalisation (`cli::rdiff_args::normalize_args`) and clap (`Cli::try_parse_from`),
//! plus the rendering of clap's error, which the binary prints.
//!
//! The input is split on NUL bytes into arguments (not necessarily UTF-8).
//! Checks: no panic; normalisation maps arguments one to one and is
//! idempotent.
#![no_main]

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

use clap::Parser;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../src/cli/mod.rs"]
mod cli;

fuzz_target!(|data: &[u8]| {
    let args: Vec<OsString> = std::iter::once(OsString::from("rsync-tool"))
        .chain(
            data.split(|&b| b == 0)
                .map(|a| OsString::from_vec(a.to_vec())),
        )
        .collect();
    let normalized = cli::rdiff_args::normalize_args(args.clone());
    assert_eq!(
        normalized.len(),
        args.len(),
        "normalize_args dropped or added arguments"
    );
    let again = cli::rdiff_args::normalize_args(normalized.clone());
    assert_eq!(again, normalized, "normalize_args is not idempotent");
    match cli::Cli::try_parse_from(normalized) {
        Ok(parsed) => {
            let _ = format!("{parsed:?}");
        }
        Err(err) => {
            let _ = err.kind();
            let _ = err.render().to_string();
        }
    }
});
