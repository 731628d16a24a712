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


def test_sparse_file_over_4_gib(tmp_path):
    """Offsets past 2^32 round-trip: a sparse 4 GiB + 3 MiB basis with data
    near its end; NEW changes bytes past 4 GiB. Holes cost no disk; the
    result is checked as a stream, never written."""
    size = 2**32 + 3 * 2**20
    tail = random_bytes(2**20, 21)
    basis, new = tmp_path / "basis", tmp_path / "new"
    for path, edit in ((basis, b""), (new, b"EDITED")):
        with open(path, "wb") as f:
            f.truncate(size)
            f.seek(2**32 + 2**20)
            f.write(tail)
            f.seek(2**32 + 2**19)
            f.write(edit)
    try:
        rsync_tool.signature_file(basis, tmp_path / "sig", block_size=1 << 20)
        sig = rsync_tool.Signature.load(tmp_path / "sig")
        assert sig.block_count == size // (1 << 20)
        rsync_tool.delta_file(sig, new, tmp_path / "delta")
        assert (tmp_path / "delta").stat().st_size < 4 * 2**20
        with open(tmp_path / "delta", "rb") as d, rsync_tool.PatchReader(basis, d) as out, open(new, "rb") as expected:
            total = 0
            while chunk := out.read(8 << 20):
                assert chunk == expected.read(len(chunk))
                total += len(chunk)
        assert total == size
    finally:
        for name in ("basis", "new", "sig", "delta"):
            (tmp_path / name).unlink(missing_ok=True)
