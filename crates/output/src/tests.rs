use std::io::Write;
use std::os::unix::fs::PermissionsExt;

use super::*;

fn force() -> Options {
    Options {
        force: true,
        ..Options::default()
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_new_output_appears_only_when_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let mut out = Output::open(&path, Options::default()).unwrap();
    out.file().write_all(b"result").unwrap();
    assert!(entries(dir.path()).iter().all(|n| n != "out"));
    out.commit().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"result");
    assert_eq!(entries(dir.path()), ["out"]);
}

#[test]
fn an_existing_output_is_refused_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    fs::write(&path, b"precious").unwrap();
    let err = Output::open(&path, Options::default()).err().unwrap();
    assert_eq!(err.kind(), ErrorKind::Exists);
    let hint = Options::default().overwrite_hint;
    assert_eq!(
        err.to_string(),
        format!("{}: output exists ({hint})", path.display())
    );
    assert_eq!(
        Output::precheck(&path, Options::default())
            .unwrap_err()
            .kind(),
        ErrorKind::Exists
    );
}

#[test]
fn an_output_that_appears_meanwhile_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let mut out = Output::open(&path, Options::default()).unwrap();
    out.file().write_all(b"result").unwrap();
    fs::write(&path, b"precious").unwrap();
    let err = out.commit().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Appeared);
    assert_eq!(fs::read(&path).unwrap(), b"precious");
    assert_eq!(entries(dir.path()), ["out"]);
}

#[test]
fn force_keeps_the_mode_of_the_replaced_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    fs::write(&path, b"old").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    let mut out = Output::open(&path, force()).unwrap();
    out.file().write_all(b"new").unwrap();
    out.commit().unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"new");
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640);
    assert_eq!(entries(dir.path()), ["out"]);
}

#[test]
fn a_dropped_output_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    fs::write(&path, b"old").unwrap();
    let mut out = Output::open(&path, force()).unwrap();
    out.file().write_all(b"new").unwrap();
    drop(out);
    let mut out = Output::open(&dir.path().join("new"), Options::default()).unwrap();
    out.file().write_all(b"new").unwrap();
    drop(out);
    assert_eq!(entries(dir.path()), ["out"]);
    assert_eq!(fs::read(&path).unwrap(), b"old");
}

#[test]
fn outputs_are_committed_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    fs::write(&a, b"old a").unwrap();
    let mut out_a = Output::open(&a, force()).unwrap();
    let mut out_b = Output::open(&b, Options::default()).unwrap();
    out_a.file().write_all(b"new a").unwrap();
    out_b.file().write_all(b"new b").unwrap();
    fs::write(&b, b"appeared").unwrap();
    let err = commit(vec![out_a, out_b]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Appeared);
    assert_eq!(fs::read(&a).unwrap(), b"old a");
    assert_eq!(fs::read(&b).unwrap(), b"appeared");
    assert_eq!(entries(dir.path()), ["a", "b"]);
}

#[test]
fn a_dangling_symlink_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink("target", &link).unwrap();
    let mut out = Output::open(&link, Options::default()).unwrap();
    out.file().write_all(b"x").unwrap();
    out.commit().unwrap();
    assert_eq!(fs::read(dir.path().join("target")).unwrap(), b"x");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

struct Counting {
    commits: std::sync::atomic::AtomicUsize,
}

impl Hooks for Counting {
    fn commit(&self, place: &mut dyn FnMut() -> bool) {
        if place() {
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[test]
fn the_commit_runs_inside_the_hook() {
    static HOOKS: Counting = Counting {
        commits: std::sync::atomic::AtomicUsize::new(0),
    };
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        hooks: &HOOKS,
        ..Options::default()
    };
    let out = Output::open(&dir.path().join("out"), options).unwrap();
    out.commit().unwrap();
    assert_eq!(HOOKS.commits.load(Ordering::Relaxed), 1);
}

#[test]
fn same_files_pairs_outputs_with_inputs_then_earlier_outputs() {
    let (a, b) = (Some((1, 2)), Some((1, 3)));
    assert_eq!(same_files(&[a, None], &[b, None]), []);
    assert_eq!(
        same_files(&[None, a], &[b, a, a]),
        [
            SameFile::Input {
                output: 1,
                input: 1
            },
            SameFile::Input {
                output: 2,
                input: 1
            },
            SameFile::Outputs {
                first: 1,
                second: 2
            },
        ]
    );
    assert_eq!(
        same_files(&[None], &[None, None]),
        [],
        "None is never one file"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    fs::write(&path, b"x").unwrap();
    let link = dir.path().join("link");
    fs::hard_link(&path, &link).unwrap();
    let id = |p: &Path| file_id(&fs::metadata(p).unwrap());
    assert!(id(&path).is_some());
    assert_eq!(id(&path), id(&link));
    assert_eq!(id(dir.path()), None, "a directory has none");
}
