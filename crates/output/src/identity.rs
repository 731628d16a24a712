//! Which file a path names: device and inode, where a path puts a file
//! before it exists, and standard descriptors closed at start.

use std::fs;
use std::io;
use std::os::fd::BorrowedFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, OFlags};
use rustix::io::Errno;

/// Follows `path` through symlinks to the file it names, which need not
/// exist (a dangling link names its target, as rdiff's `fopen` creates it).
pub(crate) fn resolve(path: &Path) -> io::Result<PathBuf> {
    let mut path = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&path)?;
                path = match path.parent() {
                    Some(dir) => dir.join(link),
                    None => link,
                };
            }
            _ => return Ok(path),
        }
    }
    Err(io::Error::from_raw_os_error(Errno::LOOP.raw_os_error()))
}

/// Where `path` puts a file: its directory's canonical path and its name,
/// after following symlinks; so `./D`, `D` and a link to `D` compare equal
/// before any of them exists.
pub fn where_written(path: &Path) -> Option<PathBuf> {
    let path = resolve(path).ok()?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(fs::canonicalize(dir).ok()?.join(path.file_name()?))
}

/// True when `fd` is the `/dev/null` that Rust's runtime opens (read-write)
/// in place of a standard descriptor the process was started without
/// (`>&-`, `<&-`); a shell's `</dev/null` or `>/dev/null` is one-way.
pub fn was_closed_at_start(fd: BorrowedFd<'_>) -> bool {
    let Ok(stat) = rustix::fs::fstat(fd) else {
        return true;
    };
    let dev_null = FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
        && rustix::fs::major(stat.st_rdev) == 1
        && rustix::fs::minor(stat.st_rdev) == 3;
    dev_null
        && rustix::fs::fcntl_getfl(fd).is_ok_and(|flags| flags & OFlags::RWMODE == OFlags::RDWR)
}

/// Device and inode of a regular file: what makes two paths one file,
/// whatever their spelling (`./x`, a symlink, a hard link).
pub type FileId = (u64, u64);

/// The [`FileId`] of a regular file; `None` for anything else (two pipes
/// or devices are not compared).
pub fn file_id(meta: &fs::Metadata) -> Option<FileId> {
    meta.is_file().then(|| (meta.dev(), meta.ino()))
}

/// Two files of one call that are one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameFile {
    /// `outputs[output]` is `inputs[input]`.
    Input {
        /// The output's index.
        output: usize,
        /// The input's index.
        input: usize,
    },
    /// `outputs[second]` is `outputs[first]`, an earlier one.
    Outputs {
        /// The earlier output's index.
        first: usize,
        /// The later output's index.
        second: usize,
    },
}

/// Every pair of one call's files that are one file, by [`FileId`] (`None`:
/// not compared): for each output in turn, the inputs it is, then the
/// earlier outputs it is.
pub fn same_files(inputs: &[Option<FileId>], outputs: &[Option<FileId>]) -> Vec<SameFile> {
    let mut pairs = Vec::new();
    for (o, id) in outputs.iter().enumerate() {
        let Some(id) = id else { continue };
        for (i, input) in inputs.iter().enumerate() {
            if input.as_ref() == Some(id) {
                pairs.push(SameFile::Input {
                    output: o,
                    input: i,
                });
            }
        }
        for (first, other) in outputs[..o].iter().enumerate() {
            if other.as_ref() == Some(id) {
                pairs.push(SameFile::Outputs { first, second: o });
            }
        }
    }
    pairs
}
