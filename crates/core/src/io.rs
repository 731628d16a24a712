//! Reading the inputs: the source a step reads validated bytes from, and
//! the buffer sizes it reads and writes with.

use std::io::Read;

use crate::error::{Error, Result, Role};

/// Where a job reads its input from: a source of already-validated bytes.
pub(crate) trait Input {
    /// Reads up to `buf.len()` bytes; 0 means the end of the input.
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize>;
}

/// A plain reader as job input; read errors are blamed on `role`.
pub(crate) struct PlainInput<R> {
    pub reader: R,
    pub role: Role,
}

impl<R: Read> Input for PlainInput<R> {
    fn read_into(&mut self, buf: &mut [u8]) -> Result<usize> {
        loop {
            match self.reader.read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(self.role, "read failed", e)),
            }
        }
    }
}

/// Buffer sizes for driving a job (rdiff's `-I` and `-O`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Buffers {
    pub input: usize,
    pub output: usize,
}
