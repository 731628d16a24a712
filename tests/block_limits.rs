//! Signatures declaring huge block lengths (the case 15): every
//! length rdiff reads, up to 2^31 - 1, gives a right delta with memory
//! bounded by NEW and the block (checked under `ulimit -v`), and `-b` takes
//! every length rdiff can make a signature with. A signature too big for
//! memory is status 102, not an abort (case 12).

use crate::util::{Input, delta_up_to_end, gen_bytes, rdiff, read, run, sh, tempdir, tool, write};

/// The block lengths of the issue: 2^28 (slow before), 0x20000000 (rdiff
/// aborts), 2^30 and 2^31 - 1 (refused with 106 before; rdiff works).
const LENGTHS: [u32; 4] = [1 << 28, 1 << 29, 1 << 30, i32::MAX as u32];
/// Address space allowed to a delta (KiB): far below any of those blocks.
const VM_LIMIT_KB: u32 = 1 << 20;

#[test]
fn signatures_with_huge_blocks_give_right_deltas_in_bounded_memory() {
    let dir = tempdir();
    let d = dir.path();
    let basis = gen_bytes(151, 60_000);
    write(d, "basis", &basis);
    // A basis shorter than any block: its one entry is the same for every
    // block length, so the signature made with -b 2^29-1 only needs its header.
    run(
        &tool(),
        &["-b", "536870911", "signature", "basis", "base.sig"],
        Input::Null,
        Some(d),
    )
    .ok();
    let sig = read(&d.join("base.sig"));
    assert_eq!(sig.len(), 12 + 4 + 32);
    // NEW: small, and a few MiB; both end with the basis, so the short last
    // block matches the end of NEW (a COPY), as in rdiff.
    let small = [gen_bytes(152, 5_000), basis.clone()].concat();
    let big = [gen_bytes(153, 3 << 20), basis.clone()].concat();
    write(d, "small", &small);
    write(d, "big", &big);
    let rdiff = rdiff();
    for len in LENGTHS {
        let mut s = sig.clone();
        s[4..8].copy_from_slice(&len.to_be_bytes());
        write(d, "sig", &s);
        for (name, new) in [("small", &small), ("big", &big)] {
            for how in ["file", "pipe"] {
                let input = if how == "file" {
                    name.to_string()
                } else {
                    format!("- < {name}")
                };
                let what = format!("block length {len}, NEW {name} from a {how}");
                let r = sh(
                    &format!(
                        "ulimit -v {VM_LIMIT_KB} && \"$T\" -f delta sig {input} out && \"$T\" -f patch basis out patched"
                    ),
                    d,
                    None,
                );
                assert!(
                    r.status.success(),
                    "{what}: {}\n{}",
                    r.status,
                    String::from_utf8_lossy(&r.stderr)
                );
                assert!(read(&d.join("patched")) == *new, "{what}: patched differs");
                let ours = read(&d.join("out"));
                assert!(
                    ours.len() < new.len() - basis.len() + 1000,
                    "{what}: the basis at the end of NEW is a COPY ({} bytes)",
                    ours.len()
                );
                // rdiff reads it (except 0x20000000: it aborts) and patches ours
                if let Some(r) = rdiff
                    .as_deref()
                    .filter(|_| len != 1 << 29 && name == "small")
                {
                    for f in ["rd", "rp"] {
                        let _ = std::fs::remove_file(d.join(f));
                    }
                    let theirs = run(r, &["delta", "sig", name, "rd"], Input::Null, Some(d));
                    assert_eq!(theirs.code(), Some(0), "{what}: rdiff's status");
                    // the commands, not counting our verification trailer
                    assert!(
                        delta_up_to_end(&ours).len() <= read(&d.join("rd")).len(),
                        "{what}: larger than rdiff's"
                    );
                    run(r, &["patch", "basis", "out", "rp"], Input::Null, Some(d)).ok();
                    assert!(
                        read(&d.join("rp")) == *new,
                        "{what}: rdiff patches ours wrong"
                    );
                }
            }
        }
    }
}

/// `-b` takes every block length rdiff makes a signature with (up to
/// 2^29 - 1, where 2^28 was the limit) and refuses, with 108, those rdiff
/// aborts on.
#[test]
fn block_size_option_goes_as_far_as_rdiff() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "basis", &gen_bytes(154, 100_000));
    for b in ["268435457", "536870911"] {
        run(
            &tool(),
            &["-f", "-b", b, "signature", "basis", "ours"],
            Input::Null,
            Some(d),
        )
        .ok();
        if let Some(r) = rdiff() {
            run(
                &r,
                &["-b", b, "signature", "basis", "theirs"],
                Input::Null,
                Some(d),
            )
            .ok();
            assert!(read(&d.join("ours")) == read(&d.join("theirs")), "-b {b}");
            std::fs::remove_file(d.join("theirs")).unwrap();
        }
    }
    for b in ["536870912", "1073741824", "2147483647"] {
        let r = run(
            &tool(),
            &["-b", b, "signature", "basis", "refused"],
            Input::Null,
            Some(d),
        );
        assert_eq!(r.code(), Some(108), "-b {b}");
        assert!(!d.join("refused").exists());
    }
}

/// The case 12 (core half): a signature whose index does not fit in
/// memory (4,000,000 one-byte-strong-sum blocks: 20 MB of file, ~240 MB of
/// tables) aborted (134) under a memory limit; now it is status 102 with a
/// message.
#[test]
fn a_signature_too_big_for_memory_is_status_102() {
    let dir = tempdir();
    let d = dir.path();
    let mut sig = vec![0x72, 0x73, 0x01, 0x47, 0, 0, 8, 0, 0, 0, 0, 1];
    sig.extend(gen_bytes(155, 4_000_000 * 5));
    write(d, "big.sig", &sig);
    write(d, "new", &gen_bytes(156, 10_000));
    let r = sh(
        "ulimit -v 150000 && exec \"$T\" delta big.sig new out",
        d,
        None,
    );
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.code(), Some(102), "{stderr}");
    assert!(
        stderr.contains("big.sig") && stderr.contains("out of memory"),
        "{stderr}"
    );
    assert!(!d.join("out").exists());
}
