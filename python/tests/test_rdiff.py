"""Byte-identity with Debian's rdiff and interop both ways; big sparse files."""

import os
import subprocess

import pytest

import rsync_tool
from conftest import random_bytes

OPTION_SETS = [
    ({}, []),
    ({"block_size": 2048}, ["-b", "2048"]),
    ({"block_size": 300}, ["-b", "300"]),
    ({"strong_len": -1}, ["-S", "-1"]),
    ({"strong_len": 10}, ["-S", "10"]),
    ({"hash": "md4"}, ["-H", "md4"]),
    ({"rollsum": "rollsum"}, ["-R", "rollsum"]),
    ({"hash": "md4", "rollsum": "rollsum", "strong_len": 8}, ["-H", "md4", "-R", "rollsum", "-S", "8"]),
]


@pytest.mark.parametrize("size", [0, 1, 1000, 70_000, 300_000])
@pytest.mark.parametrize("options, args", OPTION_SETS)
def test_signatures_equal_rdiffs(rdiff, tmp_path, size, options, args):
    data = random_bytes(size, seed=size)
    basis = tmp_path / "basis"
    basis.write_bytes(data)
    subprocess.run([rdiff, *args, "signature", basis, tmp_path / "rdiff.sig"], check=True)
    expected = (tmp_path / "rdiff.sig").read_bytes()
    assert rsync_tool.signature_bytes(data, **options) == expected
    rsync_tool.signature_file(basis, tmp_path / "ours.sig", **options)
    assert (tmp_path / "ours.sig").read_bytes() == expected
    with open(basis, "rb") as f:
        assert rsync_tool.signature(f, block_size=options.get("block_size", 0),
                                    **{k: v for k, v in options.items() if k != "block_size"}).read() == expected


def test_default_signature_equals_rdiff_b_2048(rdiff, tmp_path):
    data = random_bytes(100_000, 7)
    (tmp_path / "basis").write_bytes(data)
    subprocess.run([rdiff, "-b", "2048", "signature", tmp_path / "basis", tmp_path / "sig"], check=True)
    with open(tmp_path / "basis", "rb") as f:
        assert rsync_tool.signature(f).read() == (tmp_path / "sig").read_bytes()


@pytest.mark.parametrize("options, args", OPTION_SETS[:2] + OPTION_SETS[-1:])
def test_interop_both_ways(rdiff, tmp_path, options, args):
    old = random_bytes(400_000, 1)
    new = old[:5000] + b"changed" + old[9000:300_000] + random_bytes(3000, 2) + old[300_000:]
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "new").write_bytes(new)
    # rdiff's signature and delta, patched by us.
    subprocess.run([rdiff, *args, "signature", tmp_path / "old", tmp_path / "r.sig"], check=True)
    subprocess.run([rdiff, "delta", tmp_path / "r.sig", tmp_path / "new", tmp_path / "r.delta"], check=True)
    r_delta = (tmp_path / "r.delta").read_bytes()
    assert rsync_tool.patch_bytes(old, r_delta) == new
    rsync_tool.patch_file(tmp_path / "old", tmp_path / "r.delta", tmp_path / "ours.out")
    assert (tmp_path / "ours.out").read_bytes() == new
    # Our delta against rdiff's signature, patched by rdiff.
    rsync_tool.delta_file(tmp_path / "r.sig", tmp_path / "new", tmp_path / "o.delta")
    subprocess.run([rdiff, "patch", tmp_path / "old", tmp_path / "o.delta", tmp_path / "r.out"], check=True)
    assert (tmp_path / "r.out").read_bytes() == new
    # Our signature, rdiff's delta.
    (tmp_path / "o.sig").write_bytes(rsync_tool.signature_bytes(old, **options))
    subprocess.run([rdiff, "delta", tmp_path / "o.sig", tmp_path / "new", tmp_path / "r2.delta"], check=True)
    assert rsync_tool.patch_bytes(old, (tmp_path / "r2.delta").read_bytes()) == new


BLOCK = 1 << 20
#: A sparse basis: a hole, then its last MiB is data, 1 MiB past 4 GiB.
SIZE = 2**32 + 2 * BLOCK
DATA_AT = 2**32 + BLOCK


def copy_cmd(pos, length):
    """A COPY with an 8-byte offset and a 4-byte length (opcode 0x53)."""
    return b"\x53" + pos.to_bytes(8, "big") + length.to_bytes(4, "big")


def test_offsets_over_4_gib(tmp_path, monkeypatch):
    """64-bit offsets without hashing gigabytes (a second or so): the
    basis's signature is assembled from the entries of one zero block and
    one data block; the delta of a small NEW must COPY from past 4 GiB; a
    hand-made delta COPYs across the hole's end and from the last bytes.
    Both are patched by paths, file objects (direct and through their
    methods), readers and makers."""
    data = random_bytes(BLOCK, 21)
    basis = tmp_path / "basis"
    with open(basis, "wb") as f:
        f.truncate(SIZE)
        f.seek(DATA_AT)
        f.write(data)
    two = rsync_tool.signature_bytes(bytes(BLOCK) + data, block_size=BLOCK, strong_len=16)
    entry = (len(two) - 12) // 2
    sig = two[:12] + two[12 : 12 + entry] * (SIZE // BLOCK - 1) + two[12 + entry :]
    (tmp_path / "sig").write_bytes(sig)
    assert rsync_tool.Signature.load(sig).block_count == SIZE // BLOCK

    new = b"head" + data + bytes(BLOCK) + b"tail"
    (tmp_path / "new").write_bytes(new)
    made = rsync_tool.delta_bytes(sig, new)
    assert copy_cmd(DATA_AT, BLOCK)[1:9] in made and len(made) < 100
    rsync_tool.delta_file(tmp_path / "sig", tmp_path / "new", tmp_path / "d1")
    with open(tmp_path / "new", "rb") as n, open(tmp_path / "sig", "rb") as s:
        assert rsync_tool.delta(n, s).read() == made == (tmp_path / "d1").read_bytes()

    by_hand = b"rs\x026" + b"\x01x" + copy_cmd(DATA_AT - 10, 30) + copy_cmd(SIZE - 5, 5) + b"\x00"
    expected_by_hand = b"x" + bytes(10) + data[:20] + data[-5:]
    for delta, expected in ((made, new), (by_hand, expected_by_hand)):
        (tmp_path / "delta").write_bytes(delta)
        rsync_tool.patch_file(basis, tmp_path / "delta", tmp_path / "out", force=True)
        assert (tmp_path / "out").read_bytes() == expected
        for fd in (rsync_tool._fd, lambda f, write=False: None):
            monkeypatch.setattr(rsync_tool, "_fd", fd)
            with open(basis, "rb") as b, open(tmp_path / "delta", "rb") as d:
                assert rsync_tool.patch(b, d).read() == expected
            with open(basis, "rb") as b, open(tmp_path / "delta", "rb") as d, open(tmp_path / "out", "wb") as o:
                rsync_tool.patch(b, d, o)
            assert (tmp_path / "out").read_bytes() == expected
        with open(tmp_path / "delta", "rb") as d, rsync_tool.PatchReader(basis, d) as r:
            assert r.read() == expected
        with rsync_tool.PatchMaker(str(basis)) as m:
            assert m.update(delta) + m.finish() == expected
