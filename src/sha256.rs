//! SHA-256 of what a command reads or writes, in `sha256sum`'s notation:
//! `delta --sha256-file` records NEWFILE's digest, `patch --expect-sha256`
//! checks the result's before putting it in place. The hashing is
//! [`rsync_tool_output`]'s, which the Python package uses too.

pub use rsync_tool_output::{
    HashingReader, HashingWriter, Sha256Digest, sha256_of_file, sha256sum_line,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// `printf abc | sha256sum`
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn expect_sha256_reads_what_sha256sum_lines_hold() {
        let d = Sha256Digest::from(crate::cli::sha256_hex(ABC).unwrap());
        assert_eq!(
            sha256sum_line(&d, b"new.img"),
            format!("{ABC}  new.img\n").into_bytes()
        );
    }
}
