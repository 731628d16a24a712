//! Opening inputs: files or stdin, with what `fstat` says about them.

use std::fs::{File, Metadata};
use std::io;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use crate::error::{Error, ExitStatus, Result};

/// An open input file or stdin.
pub struct Input {
    /// The name to show in messages.
    pub name: String,
    /// The open file (stdin is a duplicate of descriptor 0).
    pub file: File,
    meta: Metadata,
}

impl Input {
    /// Opens `path`; `None` or `-` is stdin. A directory is an error, and so
    /// is a pipe when `seekable` is asked for (checked before opening, so that
    /// a FIFO cannot block us).
    pub fn open(path: Option<&Path>, seekable: bool) -> Result<Input> {
        let (name, file) = match path.filter(|p| p.as_os_str() != "-") {
            None => {
                if super::was_closed_at_start(io::stdin().as_fd()) {
                    return Err(Error::new(ExitStatus::Io, "stdin: is closed"));
                }
                let fd = io::stdin()
                    .as_fd()
                    .try_clone_to_owned()
                    .map_err(|e| Error::io("stdin: cannot read", e))?;
                ("stdin".to_string(), File::from(fd))
            }
            Some(path) => {
                let name = path.display().to_string();
                if let Ok(meta) = std::fs::metadata(path) {
                    check_kind(&name, &meta, seekable)?;
                }
                let file = File::open(path)
                    .map_err(|e| Error::io(format_args!("{name}: cannot open"), e))?;
                (name, file)
            }
        };
        let meta = file
            .metadata()
            .map_err(|e| Error::io(format_args!("{name}: cannot read"), e))?;
        check_kind(&name, &meta, seekable)?;
        Ok(Input { name, file, meta })
    }

    /// Device and inode, to tell when two paths are the same file.
    /// (A regular file only: two pipes or devices are not compared.)
    pub fn id(&self) -> Option<(u64, u64)> {
        self.meta
            .is_file()
            .then(|| (self.meta.dev(), self.meta.ino()))
    }

    /// The size when it is known: a regular file (stdin redirected from one
    /// included), as rdiff decides with `fstat`.
    pub fn size(&self) -> Option<u64> {
        self.meta.is_file().then_some(self.meta.len())
    }
}

/// Rejects a directory, and when `seekable` a pipe or socket, which cannot
/// be read by position as a patch basis must be. (A device such as
/// `/dev/null` is let through: seeking tells.)
fn check_kind(name: &str, meta: &Metadata, seekable: bool) -> Result<()> {
    let kind = meta.file_type();
    let what = if kind.is_dir() {
        "is a directory"
    } else if seekable && kind.is_fifo() {
        "is a pipe; patch reads the basis by position, so it must be a file"
    } else if seekable && kind.is_socket() {
        "is a socket; patch reads the basis by position, so it must be a file"
    } else {
        return Ok(());
    };
    Err(Error::new(ExitStatus::Io, format!("{name}: {what}")))
}
