//! The line a `--sha256-file` (or Python's `sha256_file=`) holds.

/// One line of `sha256sum` output for `name`: `HEX  NAME`, `hex` the digest
/// in lower-case hex. A name holding a backslash, newline or carriage
/// return is escaped as coreutils does (a leading `\` and `\\`, `\n`,
/// `\r`), so that `sha256sum -c` reads it back.
pub fn sha256sum_line(hex: &str, name: &[u8]) -> Vec<u8> {
    let escape = name.iter().any(|b| matches!(b, b'\\' | b'\n' | b'\r'));
    let mut line = Vec::with_capacity(name.len() + hex.len() + 4);
    if escape {
        line.push(b'\\');
    }
    line.extend_from_slice(hex.as_bytes());
    line.extend_from_slice(b"  ");
    for &b in name {
        match b {
            b'\\' if escape => line.extend_from_slice(b"\\\\"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            _ => line.push(b),
        }
    }
    line.push(b'\n');
    line
}
