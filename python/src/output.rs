//! Path outputs as the CLI writes them: never half-written, never clobbered
//! by accident.
//!
//! A regular-file output is written to a temporary file beside it and put in
//! place only on success: linked without replacing (an output that appeared
//! meanwhile is not clobbered) or, with `force`, renamed over the old one,
//! whose permissions it takes. A failure, an exception or Ctrl-C drops the
//! temporary file. Outputs that are not regular files (a FIFO, `/dev/null`)
//! are written through.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Mode of a new output before the umask, as rdiff's `fopen` gives.
const NEW_FILE_MODE: u32 = 0o666;

/// Why an output could not be opened or committed.
pub struct OutputError {
    pub what: &'static str,
    pub err: io::Error,
}

fn fail(what: &'static str) -> impl FnOnce(io::Error) -> OutputError {
    move |err| OutputError { what, err }
}

/// Where a path function writes its result.
pub enum Output {
    /// Written directly: a FIFO, a character device.
    Through(File),
    /// A temporary file put in place by [`Output::commit`].
    Atomic {
        temp: tempfile::NamedTempFile,
        dest: PathBuf,
        force: bool,
    },
}

impl Output {
    /// Opens the output at `path`; an existing path is an error
    /// (`AlreadyExists`) unless `force`.
    pub fn open(path: &Path, force: bool) -> Result<Output, OutputError> {
        let existing = match fs::metadata(path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(fail("cannot write")(e)),
        };
        if existing.is_some() && !force {
            return Err(OutputError {
                what: "output exists (pass force=True to overwrite)",
                err: io::Error::from(io::ErrorKind::AlreadyExists),
            });
        }
        match &existing {
            Some(meta) if meta.is_dir() => Err(OutputError {
                what: "cannot write",
                err: io::Error::from(io::ErrorKind::IsADirectory),
            }),
            Some(meta) if !meta.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(fail("cannot write"))?;
                Ok(Output::Through(file))
            }
            _ => {
                let mode = existing
                    .as_ref()
                    .map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777);
                // Through a symlink, as rdiff writes: replace its target, keep the link.
                let dest = match existing {
                    Some(_) => fs::canonicalize(path).map_err(fail("cannot resolve"))?,
                    None => path.to_path_buf(),
                };
                let dir = match dest.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let file_name = dest
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let temp = tempfile::Builder::new()
                    .prefix(&format!(".{file_name}."))
                    .suffix(".tmp")
                    .permissions(Permissions::from_mode(mode))
                    .tempfile_in(dir)
                    .map_err(fail("cannot create"))?;
                if existing.is_some() {
                    // Creation applied the umask; an overwritten file keeps its mode.
                    temp.as_file()
                        .set_permissions(Permissions::from_mode(mode))
                        .map_err(fail("cannot set permissions"))?;
                }
                Ok(Output::Atomic { temp, dest, force })
            }
        }
    }

    /// The file to write to.
    pub fn file(&self) -> &File {
        match self {
            Output::Through(file) => file,
            Output::Atomic { temp, .. } => temp.as_file(),
        }
    }

    /// True when what is written cannot be taken back.
    pub fn is_written_through(&self) -> bool {
        matches!(self, Output::Through(_))
    }

    /// Puts a finished output in place.
    pub fn commit(self) -> Result<(), OutputError> {
        match self {
            Output::Through(_) => Ok(()),
            Output::Atomic { temp, dest, force } => {
                let result = if force {
                    temp.persist(&dest)
                } else {
                    temp.persist_noclobber(&dest)
                };
                match result {
                    Ok(_) => Ok(()),
                    Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Err(OutputError {
                        what: "output appeared while it was being made; not replaced",
                        err: e.error,
                    }),
                    Err(e) => Err(fail("cannot rename the finished output into place")(
                        e.error,
                    )),
                }
            }
        }
    }
}
