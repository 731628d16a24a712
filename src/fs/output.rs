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

use std::sync::Mutex;

use crate::error::{Error, ExitStatus, Result};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Mode of a new output before the umask, as rdiff's `fopen` gives.
const NEW_FILE_MODE: u32 = 0o666;

/// Temporary files not yet renamed into place, removed if a signal ends us.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Makes SIGINT, SIGTERM and SIGHUP remove every pending temporary file
/// before the process exits with the shell's status for the signal (128 + N),
/// so an interrupted run leaves nothing behind.
pub fn remove_temporaries_on_signal() -> Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| Error::io("cannot install signal handlers", e))?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
            for path in pending.iter() {
                let _ = fs::remove_file(path);
            }
            crate::progress::clear_for_exit();
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

fn set_pending(path: &Path, pending: bool) {
    let mut list = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if pending {
        list.push(path.to_path_buf());
    } else {
        list.retain(|p| p != path);
    }
}

/// Where a command writes its result.
pub struct Output {
    name: String,
    kind: Kind,
}

/// A temporary output registered for removal on a signal while it lives.
struct PendingTemp(Option<tempfile::NamedTempFile>);

impl PendingTemp {
    fn file(&mut self) -> &mut File {
        self.0
            .as_mut()
            .expect("a pending temporary file is present until persisted")
            .as_file_mut()
    }

    fn persist(mut self, dest: &Path) -> io::Result<()> {
        let temp = self
            .0
            .take()
            .expect("a pending temporary file is present until persisted");
        let path = temp.path().to_path_buf();
        let result = temp.persist(dest).map(drop).map_err(|e| e.error);
        set_pending(&path, false);
        result
    }
}

impl Drop for PendingTemp {
    fn drop(&mut self) {
        if let Some(temp) = &self.0 {
            set_pending(temp.path(), false);
        }
    }
}

enum Kind {
    /// Written directly: stdout, a FIFO, a character device.
    Through(File),
    /// A temporary file renamed over `dest` on commit.
    Atomic { temp: PendingTemp, dest: PathBuf },
}

impl Output {
    /// Opens the output named by `path` (`None` or `-`: stdout). An existing
    /// path is an error unless `force` is set.
    pub fn open(path: Option<&Path>, force: bool) -> Result<Output> {
        let Some(path) = path.filter(|p| p.as_os_str() != "-") else {
            let stdout = io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| Error::io("stdout: cannot write", e))?;
            return Ok(Output {
                name: "stdout".to_string(),
                kind: Kind::Through(File::from(stdout)),
            });
        };
        let name = path.display().to_string();
        let existing = match fs::metadata(path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io(format_args!("{name}: cannot write"), e)),
        };
        if existing.is_some() && !force {
            return Err(Error::new(
                ExitStatus::Io,
                format!("{name}: output exists (use -f to overwrite)"),
            ));
        }
        match existing {
            Some(meta) if meta.is_dir() => Err(Error::new(
                ExitStatus::Io,
                format!("{name}: is a directory"),
            )),
            Some(meta) if !meta.is_file() => {
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| Error::io(format_args!("{name}: cannot write"), e))?;
                Ok(Output {
                    name,
                    kind: Kind::Through(file),
                })
            }
            existing => {
                let mode = existing
                    .as_ref()
                    .map_or(NEW_FILE_MODE, |m| m.permissions().mode() & 0o7777);
                // Through a symlink, as rdiff writes: replace its target, keep the link.
                let target = match existing {
                    Some(_) => fs::canonicalize(path)
                        .map_err(|e| Error::io(format_args!("{name}: cannot resolve"), e))?,
                    None => path.to_path_buf(),
                };
                let path = target.as_path();
                let dir = match path.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
                let temp = tempfile::Builder::new()
                    .prefix(&format!(".{file_name}."))
                    .suffix(".tmp")
                    .permissions(Permissions::from_mode(mode))
                    .tempfile_in(dir)
                    .map_err(|e| Error::io(format_args!("{name}: cannot create"), e))?;
                pending.push(temp.path().to_path_buf());
                drop(pending);
                if existing.is_some() {
                    temp.as_file()
                        .set_permissions(Permissions::from_mode(mode))
                        .map_err(|e| {
                            Error::io(format_args!("{name}: cannot set permissions"), e)
                        })?;
                }
                Ok(Output {
                    name,
                    kind: Kind::Atomic {
                        temp: PendingTemp(Some(temp)),
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

    /// True when the output is written as it goes (stdout, a FIFO, a
    /// device), so that what is written cannot be taken back.
    pub fn is_written_through(&self) -> bool {
        matches!(self.kind, Kind::Through(_))
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        match &mut self.kind {
            Kind::Through(file) => file,
            Kind::Atomic { temp, .. } => temp.file(),
        }
    }

    /// Puts a finished output in place: renames a temporary file over its
    /// destination.
    pub fn commit(self) -> Result<()> {
        let name = self.name;
        match self.kind {
            Kind::Through(mut file) => file
                .flush()
                .map_err(|e| Error::io(format_args!("{name}: write failed"), e)),
            Kind::Atomic { temp, dest } => temp.persist(&dest).map_err(|e| {
                Error::io(
                    format_args!("{name}: cannot rename the finished output into place"),
                    e,
                )
            }),
        }
    }
}
