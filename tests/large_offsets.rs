//! Offsets beyond 4 GiB: COPY commands with 8-byte offsets into a sparse
//! 5 GiB basis, made by our delta and by rdiff's, applied by both tools.
//!
//! Cheap enough for every run: the basis is a hole with 1 MiB of data at
//! 4.5 GiB, and its signature is assembled from the signature of one zero
//! block and one data block (every zero block has the same entry), so nothing
//! reads 5 GiB. The full 5 GiB signature, compared byte for byte with rdiff's,
//! is checked by `benches/bench.sh --big` (it takes rdiff ~11 s).

use crate::util::*;
use sha2::{Digest, Sha256};
use std::os::unix::fs::FileExt;
use std::path::Path;

const BLOCK: u64 = 1 << 20;
const SIZE: u64 = 5 << 30;
/// 4.5 GiB, a block boundary.
const DATA_AT: u64 = 9 << 29;
const SIG_HEADER: usize = 12;

/// The commands of a delta, as (opcode, offset, length) for COPYs; panics on
/// anything but a well-formed delta.
fn copies(delta: &[u8]) -> Vec<(u8, u64, u64)> {
    let int = |at: &mut usize, n: usize| {
        let v = delta[*at..*at + n]
            .iter()
            .fold(0u64, |v, &b| (v << 8) | u64::from(b));
        *at += n;
        v
    };
    assert_eq!(&delta[..4], &[0x72, 0x73, 0x02, 0x36]);
    let mut at = 4;
    let mut found = Vec::new();
    loop {
        let op = delta[at];
        at += 1;
        match op {
            0 => return found,
            1..=0x40 => at += usize::from(op),
            0x41..=0x44 => {
                let len = int(&mut at, 1 << (op - 0x41));
                at += len as usize;
            }
            0x45..=0x54 => {
                let k = op - 0x45;
                let pos = int(&mut at, 1 << (k / 4));
                let len = int(&mut at, 1 << (k % 4));
                found.push((op, pos, len));
            }
            _ => panic!("opcode {op:#x}"),
        }
    }
}

/// The sparse basis, its signature (assembled) and a NEW that copies from
/// above 4 GiB, below it, and adds literal data.
fn setup(dir: &Path) -> Vec<u8> {
    let data = gen_bytes(5051, BLOCK as usize);
    let basis = std::fs::File::create(dir.join("basis")).unwrap();
    basis.set_len(SIZE).unwrap();
    basis.write_all_at(&data, DATA_AT).unwrap();

    let two_blocks = [vec![0; BLOCK as usize], data.clone()].concat();
    write(dir, "two", &two_blocks);
    run(
        &tool(),
        &argv(
            "-b 1048576 -S 16",
            "signature",
            &[&dir.join("two"), &dir.join("two.sig")],
        ),
        Input::Null,
        None,
    )
    .ok();
    let two_sig = read(&dir.join("two.sig"));
    let entry = (two_sig.len() - SIG_HEADER) / 2;
    let (zero, data_entry) = two_sig[SIG_HEADER..].split_at(entry);
    let mut sig = two_sig[..SIG_HEADER].to_vec();
    for block in 0..SIZE / BLOCK {
        sig.extend_from_slice(if block == DATA_AT / BLOCK {
            data_entry
        } else {
            zero
        });
    }
    write(dir, "sig", &sig);

    let new = [
        &data[..],
        &gen_bytes(5052, 1000)[..],
        &vec![0; BLOCK as usize][..],
        &data[..],
    ]
    .concat();
    write(dir, "new", &new);
    new
}

#[test]
fn copies_from_above_4_gib_round_trip() {
    let tmp = tempdir();
    let dir = tmp.path();
    let new = setup(dir);
    let t = tool();
    let path = |name: &str| dir.join(name);
    run(
        &t,
        &argv("", "delta", &[&path("sig"), &path("new"), &path("d")]),
        Input::Null,
        None,
    )
    .ok();
    let commands = copies(&read(&path("d")));
    assert!(
        commands
            .iter()
            .any(|&(op, pos, len)| op >= 0x51 && pos == DATA_AT && len >= BLOCK),
        "no COPY with an 8-byte offset at 4.5 GiB: {commands:?}"
    );

    // Between files (splice) and through the streaming patch, which
    // --expect-sha256 selects.
    let digest: String = Sha256::digest(&new)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for (out, options) in [
        ("out1", String::new()),
        ("out2", format!("--expect-sha256 {digest}")),
    ] {
        run(
            &t,
            &argv(&options, "patch", &[&path("basis"), &path("d"), &path(out)]),
            Input::Null,
            None,
        )
        .ok();
        assert_bytes_eq(&read(&path(out)), &new, out);
    }

    let Some(r) = rdiff() else { return };
    run(
        &r,
        &argv("", "patch", &[&path("basis"), &path("d"), &path("out3")]),
        Input::Null,
        None,
    )
    .ok();
    assert_bytes_eq(&read(&path("out3")), &new, "rdiff's patch of our delta");
    run(
        &r,
        &argv("", "delta", &[&path("sig"), &path("new"), &path("rd")]),
        Input::Null,
        None,
    )
    .ok();
    assert!(
        copies(&read(&path("rd")))
            .iter()
            .any(|&(op, ..)| op >= 0x51)
    );
    run(
        &t,
        &argv("", "patch", &[&path("basis"), &path("rd"), &path("out4")]),
        Input::Null,
        None,
    )
    .ok();
    assert_bytes_eq(&read(&path("out4")), &new, "our patch of rdiff's delta");
}
