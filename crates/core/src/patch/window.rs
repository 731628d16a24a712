//! The last stretch of the basis read, which serves runs of short COPYs.

use crate::error::{Error, Result, Role};
use crate::io::retry;

/// COPYs shorter than this are read through a [`Window`].
pub(crate) const SHORT_COPY: u64 = 16 * 1024;

/// The least a [`Window`] reads.
const WINDOW_MIN: usize = 8 * 1024;

/// The last stretch of the basis read for short COPYs: they tend to come in
/// runs that read near each other (a delta of small blocks), and one read
/// then serves many, as stdio's buffer does for rdiff.
#[derive(Default)]
pub(crate) struct Window {
    start: u64,
    /// Bytes of `data` read from `start`.
    len: usize,
    /// Only grows: each read lands in memory zeroed once.
    data: Vec<u8>,
}

impl Window {
    /// Whether the `len` bytes at `pos` were read already.
    pub fn holds(&self, pos: u64, len: usize) -> bool {
        pos >= self.start && pos + len as u64 <= self.start + self.len as u64
    }

    /// The `len` (< [`SHORT_COPY`]) bytes of the basis at `pos`, fewer where
    /// it ends; `read_at` reads the basis at an offset.
    pub fn get(
        &mut self,
        pos: u64,
        len: usize,
        mut read_at: impl FnMut(&mut [u8], u64) -> std::io::Result<usize>,
    ) -> Result<&[u8]> {
        if !self.holds(pos, len) {
            let want = len.clamp(WINDOW_MIN, 2 * SHORT_COPY as usize);
            if self.data.len() < want {
                self.data.resize(want, 0);
            }
            (self.start, self.len) = (pos, 0);
            while self.len < want {
                match retry(|| read_at(&mut self.data[self.len..want], pos + self.len as u64)) {
                    Ok(0) => break,
                    Ok(n) => self.len += n,
                    Err(e) => return Err(Error::io(Role::Basis, "read failed", e)),
                }
            }
        }
        let from = (pos - self.start) as usize;
        Ok(&self.data[from..(from + len).min(self.len)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_serves_nearby_copies_from_one_read() {
        let basis: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        let mut reads = 0;
        let mut window = Window::default();
        let mut read_at = |buf: &mut [u8], at: u64| {
            reads += 1;
            let at = (at as usize).min(basis.len());
            let n = buf.len().min(basis.len() - at);
            buf[..n].copy_from_slice(&basis[at..at + n]);
            Ok(n)
        };
        for (pos, len) in [(10, 3), (14, 100), (5000, 3000), (9, 1)] {
            let piece = window.get(pos, len, &mut read_at).unwrap().to_vec();
            assert_eq!(piece, &basis[pos as usize..pos as usize + len]);
        }
        let piece = window.get(60_000, 16_000, &mut read_at).unwrap().to_vec();
        assert_eq!(piece, &basis[60_000..76_000]);
        // near the end: fewer bytes than asked, as the basis has
        let piece = window.get(99_990, 20, &mut read_at).unwrap().to_vec();
        assert_eq!(piece, &basis[99_990..]);
        // windows at 10 (serving 14 and 5000 too), 9, 60000 and 99990, whose
        // second read finds the end
        assert_eq!(reads, 5);
    }
}
