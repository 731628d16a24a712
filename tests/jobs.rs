//! Outputs are the same for every `-j`: signatures byte-identical to rdiff's,
//! deltas byte-identical across thread counts, patching back to NEW and
//! within rdiff's size x 1.01 + 64 bytes. Sizes cover the edges: empty, one
//! block, one block + 1, and several parallel chunks (2 MiB each) that do
//! not divide the file.

use crate::util::*;

const SIZES: [usize; 5] = [0, 2048, 2049, 300_007, (5 << 20) + 12_345];
const JOBS: [&str; 4] = ["1", "2", "3", "8"];

#[test]
fn every_thread_count_writes_the_same_bytes() {
    let rdiff = rdiff();
    let dir = tempdir();
    let d = dir.path();
    for (i, &len) in SIZES.iter().enumerate() {
        let basis = gen_bytes(100 + i as u64, len);
        let new = shifting_edits(&basis, 200 + i as u64, 6, 3000);
        let basis_path = write(d, &format!("basis{i}"), &basis);
        let new_path = write(d, &format!("new{i}"), &new);
        for options in ["-b 2048", "", "-H md4 -R rollsum -S 8"] {
            let mut sigs = Vec::new();
            let mut deltas = Vec::new();
            for jobs in JOBS {
                let sig = d.join(format!("sig{i}-{jobs}"));
                let delta = d.join(format!("delta{i}-{jobs}"));
                let out = d.join(format!("out{i}-{jobs}"));
                let o = format!("-f -j {jobs} {options}");
                run(
                    &tool(),
                    &argv(&o, "signature", &[&basis_path, &sig]),
                    Input::Null,
                    None,
                )
                .ok();
                run(
                    &tool(),
                    &argv(&o, "delta", &[&sig, &new_path, &delta]),
                    Input::Null,
                    None,
                )
                .ok();
                run(
                    &tool(),
                    &argv(&o, "patch", &[&basis_path, &delta, &out]),
                    Input::Null,
                    None,
                )
                .ok();
                assert_bytes_eq(
                    &read(&out),
                    &new,
                    &format!("patched, {len} bytes, -j {jobs} {options}"),
                );
                sigs.push(read(&sig));
                deltas.push(read(&delta));
            }
            for (jobs, (sig, delta)) in JOBS.iter().zip(sigs.iter().zip(&deltas)).skip(1) {
                assert!(
                    sig == &sigs[0],
                    "signature differs at -j {jobs}, {len} bytes {options}"
                );
                assert!(
                    delta == &deltas[0],
                    "delta differs at -j {jobs}, {len} bytes {options}"
                );
            }
            let Some(rdiff) = rdiff.as_deref() else {
                continue;
            };
            let rsig = d.join(format!("rsig{i}"));
            let rdelta = d.join(format!("rdelta{i}"));
            let o = format!("-f {options}");
            run(
                rdiff,
                &argv(&o, "signature", &[&basis_path, &rsig]),
                Input::Null,
                None,
            )
            .ok();
            assert!(
                read(&rsig) == sigs[0],
                "signature differs from rdiff's, {len} bytes {options}"
            );
            run(
                rdiff,
                &argv(&o, "delta", &[&rsig, &new_path, &rdelta]),
                Input::Null,
                None,
            )
            .ok();
            let (ours, theirs) = (deltas[0].len(), read(&rdelta).len());
            assert!(
                delta_size_ok(ours, theirs),
                "delta of {ours} bytes against rdiff's {theirs}, {len} bytes {options}"
            );
        }
    }
}

/// Where the system refuses every new thread (`prlimit --nproc`, as a
/// container's PID limit does), each command still works with `-j 4`, on
/// the calling thread alone, and writes what `-j 1` writes. Run as a
/// non-root user the test creates: root is exempt from the limit.
#[test]
fn refused_threads_give_the_same_outputs() {
    use std::os::unix::fs::PermissionsExt;
    if crate::outputs::test_user().is_none() {
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    let basis = gen_bytes(31, (5 << 20) + 77);
    let new = shifting_edits(&basis, 32, 6, 3000);
    write(d, "basis", &basis);
    write(d, "new", &new);
    let tool = tool();
    let tool = tool.to_str().unwrap();
    let limited = |args: &[&str]| {
        let mut argv = vec!["--nproc=1", "--", tool];
        argv.extend_from_slice(args);
        let out = crate::outputs::as_user(std::path::Path::new("/usr/bin/prlimit"), &argv, d);
        assert!(
            out.status.success(),
            "{args:?} under --nproc=1: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    limited(&["-j", "4", "signature", "basis", "sig4"]);
    limited(&[
        "-j",
        "4",
        "delta",
        "--sha256-file",
        "sha4",
        "sig4",
        "new",
        "d4",
    ]);
    limited(&["-j", "4", "patch", "basis", "d4", "out4"]);
    for args in [
        ["-j", "1", "signature", "basis", "sig1"].as_slice(),
        &[
            "-j",
            "1",
            "delta",
            "--sha256-file",
            "sha1",
            "sig1",
            "new",
            "d1",
        ],
    ] {
        run(tool.as_ref(), args, Input::Null, Some(d)).ok();
    }
    assert!(
        read(&d.join("sig4")) == read(&d.join("sig1")),
        "signatures differ"
    );
    assert!(read(&d.join("d4")) == read(&d.join("d1")), "deltas differ");
    assert!(read(&d.join("out4")) == new, "patch differs from NEW");
    let sha = |f: &str| String::from_utf8(read(&d.join(f))).unwrap();
    assert_eq!(sha("sha4").split(' ').next(), sha("sha1").split(' ').next());
}
