//! Outputs that are never half-written and never clobbered by accident:
//! the one implementation behind rsync-tool's command line and its Python
//! path functions.
//!
//! A regular-file output is written to a temporary file: unnamed
//! (`O_TMPFILE`) in the target's directory where the file system has it, so
//! that no death (`kill -9`, the OOM killer) can leave it behind; a named
//! one there otherwise. [`commit`] puts it in place with a few system calls
//! and never a copy of the data: `linkat` to the name, which fails if a file
//! appeared there meanwhile (no force), or a rename (force), by
//! `RENAME_EXCHANGE` where it can be undone should a second output fail.
//! A replaced file's owner, group, mode and extended attributes are kept.
//!
//! Where nothing can be put beside the target (force over a writable file
//! in a directory we can't write, a sticky directory, a bind-mounted file),
//! or what is put there could not have the target's owner and group (not
//! root, over another user's file), the complete result is built in a temporary file elsewhere and copied
//! into the existing file only at the end, as `inplace` always does.
//!
//! Outputs that are not regular files (stdout, a FIFO, `/dev/null`, bash's
//! `>(...)`) are written through, as rdiff does.
//!
//! A dropped [`Output`] leaves nothing behind: its named temporary file, if
//! it has one, is removed. What a process must do when a signal ends it
//! (remove named temporaries, let a commit under way finish) is the
//! caller's, through [`Hooks`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod error;
mod identity;
mod sha256sum;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rustix::fs::{AtFlags, CWD, Mode, OFlags, RenameFlags};
use rustix::io::Errno;

pub use error::{Error, ErrorKind, Result, plain_io_message};
use identity::resolve;
pub use identity::{FileId, SameFile, file_id, same_files, was_closed_at_start, where_written};
pub use sha256sum::{
    HashingReader, HashingWriter, SHA256_LEN, Sha256Digest, sha256_of_file, sha256sum_line,
};

/// Mode of a new output before the umask, as rdiff's `fopen` gives.
const NEW_FILE_MODE: u32 = 0o666;

/// What a process does around outputs: the command line removes named
/// temporaries when a signal ends it and makes a signal wait for a commit
/// under way; a library caller (Python) needs none of it, as [`NoHooks`].
pub trait Hooks: Sync {
    /// A named temporary file is about to be created at `path` (it may not
    /// be, then [`Hooks::temp_gone`] follows): remove it if the process dies.
    fn temp_created(&self, path: &Path) {
        let _ = path;
    }

    /// The named temporary file at `path` was removed or put in place.
    fn temp_gone(&self, path: &Path) {
        let _ = path;
    }

    /// Runs `place`, which puts the outputs of one [`commit`] in place and
    /// returns true when all are. The command line holds its signal lock
    /// around it and, on true, lets a later signal end the run as a success.
    fn commit(&self, place: &mut dyn FnMut() -> bool) {
        place();
    }

    /// A remark for a verbose run, such as "building the result elsewhere";
    /// it begins with the output's name.
    fn notice(&self, message: &str) {
        let _ = message;
    }
}

/// Hooks that do nothing: a dropped output still removes its temporaries.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHooks;

impl Hooks for NoHooks {}

/// How an output may treat an existing file, and whom it tells.
#[derive(Clone, Copy)]
pub struct Options {
    /// An existing output may be replaced (`-f`).
    pub force: bool,
    /// Write into the existing file at the end instead of replacing it
    /// (`--inplace`).
    pub inplace: bool,
    /// How the caller asks for force, for messages: "use -f to overwrite".
    pub overwrite_hint: &'static str,
    /// The process's hooks.
    pub hooks: &'static dyn Hooks,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            force: false,
            inplace: false,
            overwrite_hint: "use force to overwrite",
            hooks: &NoHooks,
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("force", &self.force)
            .field("inplace", &self.inplace)
            .field("overwrite_hint", &self.overwrite_hint)
            .finish_non_exhaustive()
    }
}

/// Where a command writes its result.
pub struct Output {
    name: String,
    kind: Kind,
    options: Options,
}

enum Kind {
    /// Written directly: stdout, a FIFO, a character device.
    Through(File),
    /// A temporary file put in place by [`commit`].
    Staged(Staged),
}

struct Staged {
    /// The temporary file holding the result.
    file: File,
    /// Its name, when it has one (no `O_TMPFILE`): registered for removal.
    named: Option<TempName>,
    /// Where the result goes.
    place: Place,
    /// The existing target, opened for writing (force over a file).
    target: Option<File>,
}

enum Place {
    /// Linked or renamed to `name` in `dir`.
    Beside {
        dir: File,
        name: OsString,
        replace: bool,
    },
    /// Copied into `target` at the end.
    Into,
}

/// A named temporary file in `dir`, removed when dropped unless taken.
struct TempName {
    dir: File,
    name: OsString,
    path: PathBuf,
    hooks: &'static dyn Hooks,
}

impl Drop for TempName {
    fn drop(&mut self) {
        let _ = rustix::fs::unlinkat(&self.dir, self.name.as_os_str(), AtFlags::empty());
        self.hooks.temp_gone(&self.path);
    }
}

/// A short name for a temporary file (it must fit beside a 255-byte name).
fn temp_name() -> OsString {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = u64::from(nanos) ^ (u64::from(std::process::id()) << 32);
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    x ^= COUNTER.fetch_add(1, Ordering::Relaxed);
    OsString::from(format!(".rsync-tool.{:012x}", x & 0xffff_ffff_ffff))
}

/// True where unnamed temporary files can be given a name: `/proc` lets
/// `linkat` reach an open descriptor.
fn can_link_unnamed() -> bool {
    Path::new("/proc/self/fd").is_dir()
}

/// Opens `path` as a directory handle for the `*at` calls.
fn open_dir(path: &Path) -> io::Result<File> {
    let fd = rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(File::from(fd))
}

/// A temporary file in `dir` with `mode` (before the umask): unnamed where
/// possible, named (and registered for removal) otherwise.
fn create_temp(
    dir: &File,
    dir_path: &Path,
    mode: u32,
    hooks: &'static dyn Hooks,
) -> io::Result<(File, Option<TempName>)> {
    let mode = Mode::from_raw_mode(mode);
    if can_link_unnamed() {
        match rustix::fs::openat(
            dir,
            ".",
            OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
            mode,
        ) {
            Ok(fd) => return Ok((File::from(fd), None)),
            Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOENT) => {}
            Err(e) => return Err(e.into()),
        }
    }
    for _ in 0..100 {
        let name = temp_name();
        let path = dir_path.join(&name);
        hooks.temp_created(&path);
        match rustix::fs::openat(
            dir,
            name.as_os_str(),
            OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC,
            mode,
        ) {
            Ok(fd) => {
                let temp = TempName {
                    dir: dir.try_clone()?,
                    name,
                    path,
                    hooks,
                };
                return Ok((File::from(fd), Some(temp)));
            }
            Err(Errno::EXIST) => hooks.temp_gone(&path),
            Err(e) => {
                hooks.temp_gone(&path);
                return Err(e.into());
            }
        }
    }
    Err(io::Error::from(io::ErrorKind::AlreadyExists))
}

fn exists(name: &str, options: Options) -> Error {
    Error::new(
        ErrorKind::Exists,
        name,
        format!("output exists ({})", options.overwrite_hint),
    )
}

impl Output {
    /// Fails early, before any work, when `path` exists and force is not
    /// given; [`Output::open`] and [`commit`] check again.
    pub fn precheck(path: &Path, options: Options) -> Result<()> {
        if !options.force && fs::metadata(path).is_ok() {
            return Err(exists(&path.display().to_string(), options));
        }
        Ok(())
    }

    /// The process's standard output, written through.
    pub fn stdout(options: Options) -> Result<Output> {
        let stdout = io::stdout();
        if was_closed_at_start(stdout.as_fd()) {
            return Err(Error::new(ErrorKind::Io, "stdout", "is closed"));
        }
        let stdout = stdout
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::io("stdout", "cannot write", e))?;
        Ok(Output {
            name: "stdout".to_string(),
            kind: Kind::Through(File::from(stdout)),
            options,
        })
    }

    /// Opens the output named by `path` (symlinks followed, a dangling one
    /// to the file it names). An existing path is an error
    /// ([`ErrorKind::Exists`]) unless force is given; then, as rdiff's
    /// `fopen`, write permission on the file itself is needed.
    pub fn open(path: &Path, options: Options) -> Result<Output> {
        let name = path.display().to_string();
        let cannot_write = |e| Error::io(&name, "cannot write", e);
        let hooks = options.hooks;
        let target_path = resolve(path).map_err(cannot_write)?;
        let existing = match fs::metadata(&target_path) {
            Ok(meta) => Some(meta),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(cannot_write(e)),
        };
        let Some(meta) = existing else {
            let (dir, dir_path, file_name) = parent_of(&target_path).map_err(cannot_write)?;
            let (file, named) = create_temp(&dir, &dir_path, NEW_FILE_MODE, hooks)
                .map_err(|e| Error::io(&name, "cannot create", e))?;
            return Ok(Output {
                name,
                kind: Kind::Staged(Staged {
                    file,
                    named,
                    place: Place::Beside {
                        dir,
                        name: file_name,
                        replace: options.force,
                    },
                    target: None,
                }),
                options,
            });
        };
        if !options.force {
            return Err(exists(&name, options));
        }
        if meta.is_dir() {
            return Err(Error::new(ErrorKind::Io, &name, "is a directory"));
        }
        // As rdiff's fopen: write permission on the file itself is needed.
        let target = fs::OpenOptions::new()
            .write(true)
            .custom_flags(OFlags::NOCTTY.bits() as i32)
            .open(&target_path)
            .map_err(cannot_write)?;
        if !meta.is_file() {
            return Ok(Output {
                name,
                kind: Kind::Through(target),
                options,
            });
        }
        let (dir, dir_path, file_name) = parent_of(&target_path).map_err(cannot_write)?;
        if !options.inplace {
            match create_temp(&dir, &dir_path, 0o600, hooks) {
                Ok((file, named)) if !keep_owner(&file, &meta) => {
                    // A new file cannot be given its owner and group (not
                    // root, and another user's file or a group we are not
                    // in): written into at the end instead, as rdiff does,
                    // so that they stay. The temporary serves as it is.
                    hooks.notice(&format!(
                        "{name}: a new file cannot have its owner and group; building the result beside it, to write into it at the end"
                    ));
                    return Ok(Output {
                        name,
                        kind: Kind::Staged(Staged {
                            file,
                            named,
                            place: Place::Into,
                            target: Some(target),
                        }),
                        options,
                    });
                }
                Ok((file, named)) => {
                    keep_metadata(&target, &file, &meta)
                        .map_err(|e| Error::io(&name, "cannot set permissions", e))?;
                    return Ok(Output {
                        name,
                        kind: Kind::Staged(Staged {
                            file,
                            named,
                            place: Place::Beside {
                                dir,
                                name: file_name,
                                replace: true,
                            },
                            target: Some(target),
                        }),
                        options,
                    });
                }
                Err(e) => hooks.notice(&format!(
                    "{name}: cannot make a file beside it ({}); building the result elsewhere, to write into it at the end",
                    plain_io_message(&e)
                )),
            }
        }
        let (file, named) = create_temp(&dir, &dir_path, 0o600, hooks)
            .or_else(|_| {
                let tmp = std::env::temp_dir();
                create_temp(&open_dir(&tmp)?, &tmp, 0o600, hooks)
            })
            .map_err(|e| Error::io(&name, "cannot create a temporary file", e))?;
        Ok(Output {
            name,
            kind: Kind::Staged(Staged {
                file,
                named,
                place: Place::Into,
                target: Some(target),
            }),
            options,
        })
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

    /// Device and inode of the file this output replaces or writes, if any.
    pub fn id(&self) -> Option<FileId> {
        let file = match &self.kind {
            Kind::Through(file) => file,
            Kind::Staged(staged) => staged.target.as_ref()?,
        };
        file_id(&file.metadata().ok()?)
    }

    /// True when `inplace` or a fallback writes into the existing file.
    pub fn writes_into_target(&self) -> bool {
        matches!(
            &self.kind,
            Kind::Staged(Staged {
                place: Place::Into,
                ..
            })
        )
    }

    /// The file to write to.
    pub fn file(&mut self) -> &mut File {
        match &mut self.kind {
            Kind::Through(file) => file,
            Kind::Staged(staged) => &mut staged.file,
        }
    }

    /// The file to write to, shared (`&File` is a writer too).
    pub fn as_file(&self) -> &File {
        match &self.kind {
            Kind::Through(file) => file,
            Kind::Staged(staged) => &staged.file,
        }
    }

    /// Puts a finished output in place (see [`commit`]).
    pub fn commit(self) -> Result<()> {
        commit(vec![self])
    }
}

/// The directory of `path` (opened), its path, and the file's name in it.
fn parent_of(path: &Path) -> io::Result<(File, PathBuf, OsString)> {
    let dir_path = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?
        .to_os_string();
    Ok((open_dir(&dir_path)?, dir_path, name))
}

/// Gives `file` the owner and group of the file it replaces; false when
/// that is not allowed.
fn keep_owner(file: &File, meta: &fs::Metadata) -> bool {
    rustix::fs::fchown(
        file,
        Some(rustix::fs::Uid::from_raw(meta.uid())),
        Some(rustix::fs::Gid::from_raw(meta.gid())),
    )
    .is_ok()
}

/// Gives `file`, which already has the owner and group of the file it
/// replaces ([`keep_owner`]), its mode (setuid and setgid too) and extended
/// attributes.
fn keep_metadata(old: &File, file: &File, meta: &fs::Metadata) -> io::Result<()> {
    rustix::fs::fchmod(file, Mode::from_raw_mode(meta.mode() & 0o7777))?;
    copy_xattrs(old, file);
    Ok(())
}

/// Copies what extended attributes it can (none where the file system has
/// none, or where we may not set them).
fn copy_xattrs(from: &File, to: &File) {
    let Ok(len) = rustix::fs::flistxattr_query(from) else {
        return;
    };
    let mut names = vec![0u8; len];
    let Ok(len) = rustix::fs::flistxattr(from, &mut names[..]) else {
        return;
    };
    for attr in names[..len].split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let attr = OsStr::from_bytes(attr);
        let Ok(size) = rustix::fs::fgetxattr_query(from, attr) else {
            continue;
        };
        let mut value = vec![0u8; size];
        if let Ok(size) = rustix::fs::fgetxattr(from, attr, &mut value[..]) {
            let _ =
                rustix::fs::fsetxattr(to, attr, &value[..size], rustix::fs::XattrFlags::empty());
        }
    }
}

/// How to take back a step of a commit, if a later one fails.
enum Undo {
    /// We created `name`: unlink it.
    Unlink { dir: File, name: OsString },
    /// We swapped `name` with the old file, now at `old`: swap back; when
    /// all went well, `old` is unlinked.
    Exchanged {
        dir: File,
        name: OsString,
        old: OsString,
    },
    /// Written into an existing file: cannot be taken back.
    Written,
    /// Nothing to take back (written through).
    Nothing,
}

/// Puts finished outputs in place, all or none where that can be: each is
/// linked or swapped into place, and if one fails those already placed are
/// put back. Writing into an existing file (no other way) is done last and
/// cannot be taken back; the error then says what was written
/// ([`Error::written`]). The placing runs inside [`Hooks::commit`] of the
/// first output's hooks.
pub fn commit(mut outputs: Vec<Output>) -> Result<()> {
    for out in &mut outputs {
        if let Kind::Through(file) = &mut out.kind {
            file.flush()
                .map_err(|e| Error::io(&out.name, "write failed", e))?;
        }
    }
    let Some(hooks) = outputs.first().map(|out| out.options.hooks) else {
        return Ok(());
    };
    // The ones that can be undone first.
    outputs.sort_by_key(Output::writes_into_target);
    let mut outputs = Some(outputs);
    let mut result = Ok(());
    hooks.commit(&mut || {
        let Some(outputs) = outputs.take() else {
            return false;
        };
        result = place_all(outputs);
        result.is_ok()
    });
    result
}

fn place_all(outputs: Vec<Output>) -> Result<()> {
    let mut done: Vec<(String, Undo)> = Vec::new();
    for out in outputs {
        let name = out.name.clone();
        match out.place() {
            Ok(undo) => done.push((name, undo)),
            Err(err) => {
                let mut written = Vec::new();
                for (name, undo) in done.into_iter().rev() {
                    if !undo.take_back() {
                        written.push(name);
                    }
                }
                return Err(err.with_written(written));
            }
        }
    }
    for (_, undo) in done {
        undo.finish();
    }
    Ok(())
}

/// Errors of a rename that mean "not here": the result is written into the
/// existing file instead (sticky directory, bind mount, no write permission
/// on the directory, a read-only directory entry).
fn rename_impossible(e: Errno) -> bool {
    matches!(e, Errno::PERM | Errno::ACCESS | Errno::BUSY | Errno::XDEV)
}

impl Output {
    fn place(self) -> Result<Undo> {
        let name = self.name;
        let options = self.options;
        let staged = match self.kind {
            Kind::Through(_) => return Ok(Undo::Nothing),
            Kind::Staged(staged) => staged,
        };
        let Staged {
            mut file,
            named,
            place,
            target,
        } = staged;
        let cannot_write_into = |e| Error::io(&name, "cannot write the result into it", e);
        let (dir, file_name, replace) = match place {
            Place::Into => {
                let target = target.expect("writing into a file needs it open");
                write_into(&mut file, target).map_err(cannot_write_into)?;
                drop(named);
                return Ok(Undo::Written);
            }
            Place::Beside {
                dir, name, replace, ..
            } => (dir, name, replace),
        };
        let placed = if replace {
            replace_beside(&file, named.as_ref(), &dir, &file_name)
        } else {
            link_new(&file, named.as_ref(), &dir, &file_name)
        };
        match placed {
            Ok(undo) => {
                if let Some(mut named) = named {
                    // The temporary's name was renamed away, or is removed now.
                    if matches!(undo, Undo::Exchanged { .. }) {
                        named.name = OsString::new();
                    }
                }
                Ok(undo)
            }
            Err(Errno::EXIST) if !replace => Err(Error::new(
                ErrorKind::Appeared,
                &name,
                format!(
                    "output appeared while we worked; it is kept, our result discarded ({})",
                    options.overwrite_hint
                ),
            )),
            Err(e) if rename_impossible(e) && target.is_some() => {
                options.hooks.notice(&format!(
                    "{name}: cannot replace it ({}); writing the finished result into it",
                    plain_io_message(&e.into())
                ));
                write_into(&mut file, target.expect("checked")).map_err(cannot_write_into)?;
                Ok(Undo::Written)
            }
            Err(e) => Err(Error::io(
                &name,
                "cannot put the finished output in place",
                e.into(),
            )),
        }
    }
}

/// Gives the temporary file `file` the name `to` in `dir`.
fn link_to(
    file: &File,
    named: Option<&TempName>,
    dir: &File,
    to: &OsStr,
) -> rustix::io::Result<()> {
    match named {
        Some(temp) => {
            rustix::fs::linkat(&temp.dir, temp.name.as_os_str(), dir, to, AtFlags::empty())
        }
        // The descriptor itself (AT_EMPTY_PATH) links in half the time of
        // its /proc name (20 against 40 us a link here, mostly resolving
        // /proc's path), but before Linux 6.10 only with
        // CAP_DAC_READ_SEARCH: without it, ENOENT, and /proc.
        None => match rustix::fs::linkat(file, "", dir, to, AtFlags::EMPTY_PATH) {
            Err(Errno::NOENT | Errno::PERM | Errno::ACCESS | Errno::INVAL) => {
                use std::os::fd::AsRawFd;
                let proc_path = format!("/proc/self/fd/{}", file.as_raw_fd());
                rustix::fs::linkat(CWD, proc_path.as_str(), dir, to, AtFlags::SYMLINK_FOLLOW)
            }
            linked => linked,
        },
    }
}

/// A new output: linked to its name, which fails if a file is there now.
fn link_new(
    file: &File,
    named: Option<&TempName>,
    dir: &File,
    to: &OsStr,
) -> rustix::io::Result<Undo> {
    link_to(file, named, dir, to)?;
    Ok(Undo::Unlink {
        dir: dir.try_clone().map_err(|_| Errno::NOMEM)?,
        name: to.to_os_string(),
    })
}

/// Force: the result swapped with the old file (renamed over it where a
/// swap is not available); the old file stays at the temporary name until
/// all outputs are in place.
fn replace_beside(
    file: &File,
    named: Option<&TempName>,
    dir: &File,
    to: &OsStr,
) -> rustix::io::Result<Undo> {
    let temp = match named {
        Some(temp) => temp.name.clone(),
        None => {
            let mut last = Errno::EXIST;
            let mut linked = None;
            for _ in 0..100 {
                let name = temp_name();
                match link_to(file, None, dir, &name) {
                    Ok(()) => {
                        linked = Some(name);
                        break;
                    }
                    Err(e) => last = e,
                }
                if last != Errno::EXIST {
                    break;
                }
            }
            linked.ok_or(last)?
        }
    };
    match rustix::fs::renameat_with(dir, &temp, dir, to, RenameFlags::EXCHANGE) {
        Ok(()) => {
            return Ok(Undo::Exchanged {
                dir: dir.try_clone().map_err(|_| Errno::NOMEM)?,
                name: to.to_os_string(),
                old: temp,
            });
        }
        Err(Errno::NOENT | Errno::INVAL | Errno::NOSYS) => {}
        Err(e) => {
            if named.is_none() {
                let _ = rustix::fs::unlinkat(dir, &temp, AtFlags::empty());
            }
            return Err(e);
        }
    }
    match rustix::fs::renameat(dir, &temp, dir, to) {
        Ok(()) => Ok(Undo::Written),
        Err(e) => {
            if named.is_none() {
                let _ = rustix::fs::unlinkat(dir, &temp, AtFlags::empty());
            }
            Err(e)
        }
    }
}

/// Copies the finished result from `file` into the existing `target`,
/// keeping its inode (and so its owner, links and attributes).
fn write_into(file: &mut File, mut target: File) -> io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    target.seek(SeekFrom::Start(0))?;
    let len = io::copy(file, &mut target)?;
    target.set_len(len)?;
    target.flush()
}

impl Undo {
    /// Takes the step back; false when it could not be.
    fn take_back(self) -> bool {
        match self {
            Undo::Unlink { dir, name } => {
                let _ = rustix::fs::unlinkat(&dir, &name, AtFlags::empty());
                true
            }
            Undo::Exchanged { dir, name, old } => {
                let back =
                    rustix::fs::renameat_with(&dir, &old, &dir, &name, RenameFlags::EXCHANGE);
                let _ = rustix::fs::unlinkat(&dir, &old, AtFlags::empty());
                back.is_ok()
            }
            Undo::Written => false,
            Undo::Nothing => true,
        }
    }

    /// All outputs are in place: removes the old files.
    fn finish(self) {
        if let Undo::Exchanged { dir, old, .. } = self {
            let _ = rustix::fs::unlinkat(&dir, &old, AtFlags::empty());
        }
    }
}

#[cfg(test)]
mod tests;
