//! Outputs that are never half-written and never clobbered by accident.
//!
//! A regular-file output is written to a temporary file beside it and renamed
//! into place only by [`Output::commit`]; dropping an uncommitted output
//! removes the temporary file. Outputs that are not regular files (stdout, a
//! FIFO, `/dev/null`, bash's `>(...)`) are written through, as rdiff does.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rsync_tool::{Error, Status};

/// Mode of a new output before the umask, as rdiff's `fopen` gives.
const NEW_FILE_MODE: u32 = 0o666;

/// Where a command writes its result.
pub struct Output {
    name: String,
    kind: Kind,
}

enum Kind {
    /// Written directly: stdout, a FIFO, a character device.
    Through(File),
    /// A temporary file renamed over `dest` on commit.
    Atomic {
        temp: tempfile::NamedTempFile,
        dest: PathBuf,
    },
}

impl Output {
    /// Opens the output named by `path` (`None` or `-`: stdout). An existing
    /// path is an error unless `force` is set.
    pub fn open(path: Option<&Path>, force: bool) -> Result<Output> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            let stdout = io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| io_error("stdout: cannot write".to_string(), e))?;
            return Ok(Output {
                name: "stdout".to_string(),
                kind: Kind::Through(File::from(stdout)),
            });
        };
        let name = path.display().to_string();
        let existing = match fs::metadata(path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(format!("{name}: cannot write"), e)),
        };
        if existing.is_some() && !force {
            return Err(status_error(
                Status::Io,
                format!("{name}: output exists (use -f to overwrite)"),
            ));
        }
        match existing {
            Some(meta) if meta.is_dir() => {
                Err(status_error(Status::Io, format!("{name}: is a directory")))
            }
            Some(meta) if !meta.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| io_error(format!("{name}: cannot write"), e))?;
                Ok(Output {
                    name,
                    kind: Kind::Through(file),
                })
            }
            existing => {
                let mode = existing
                    .as_ref()
                    .map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777);
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let temp = tempfile::Builder::new()
                    .prefix(&format!(".{file_name}."))
                    .suffix(".tmp")
                    .permissions(Permissions::from_mode(mode))
                    .tempfile_in(dir)
                    .map_err(|e| io_error(format!("{name}: cannot create"), e))?;
                if existing.is_some() {
                    temp.as_file()
                        .set_permissions(Permissions::from_mode(mode))
                        .map_err(|e| io_error(format!("{name}: cannot set permissions"), e))?;
                }
                Ok(Output {
                    name,
                    kind: Kind::Atomic {
                        temp,
                        dest: path.to_path_buf(),
                    },
                })
            }
        }
    }

    /// The name to show in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        match &mut self.kind {
            Kind::Through(file) => file,
            Kind::Atomic { temp, .. } => temp.as_file_mut(),
        }
    }

    /// Puts a finished output in place: renames a temporary file over its
    /// destination.
    pub fn commit(self) -> Result<()> {
        let name = self.name;
        match self.kind {
            Kind::Through(mut file) => file
                .flush()
                .map_err(|e| io_error(format!("{name}: write failed"), e)),
            Kind::Atomic { temp, dest } => {
                temp.persist(&dest).map_err(|e| {
                    io_error(
                        format!("{name}: cannot rename the finished output into place"),
                        e.error,
                    )
                })?;
                Ok(())
            }
        }
    }
}

/// An I/O error about `what` (which names the file), with status 100.
pub fn io_error(what: String, err: io::Error) -> anyhow::Error {
    anyhow::Error::new(Error::io(rsync_tool::Role::Output, &what, err))
}

/// An error with a message and an rdiff status.
pub fn status_error(status: Status, message: String) -> anyhow::Error {
    anyhow::Error::new(Error::new(status, message))
}
