//! The files a command reads and writes: inputs (files or stdin, with what
//! `fstat` says of them) and outputs that are never half-written.

mod input;
mod output;

pub use input::Input;
pub use output::{Output, OutputMode, commit, was_closed_at_start, where_written};
pub use output::{open as open_output, precheck as precheck_output};
