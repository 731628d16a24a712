"""File objects that are regular files go through the engine directly (the
CLI's code: delta by position, patch by splice); everything else through
their methods. Both give the same bytes and leave the objects at the same
positions."""

import gzip
import io
import os
import sys
import tempfile

import pytest

import rsync_tool
from conftest import random_bytes

OLD = random_bytes(3_000_000, seed=7)
NEW = OLD[:5000] + b"changed" + OLD[5000:1_500_000] + random_bytes(70_000, seed=8) + OLD[1_600_000:]
PREFIX = b"not part of the data " * 3

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fast path is Linux-only")


@pytest.fixture(params=["fast", "slow"])
def path_kind(request, monkeypatch):
    if request.param == "slow":
        monkeypatch.setattr(rsync_tool, "_fd", lambda f, write=False: None)
    return request.param


def run_all(tmp_path):
    """signature, delta and patch on files whose data starts after PREFIX,
    into outputs that already hold PREFIX; returns the outputs' bytes and
    every object's position after its call (outputs: before the rewind)."""
    (tmp_path / "basis").write_bytes(OLD)  # COPY offsets count from the file's start
    for name, data in (("old", OLD), ("new", NEW)):
        (tmp_path / name).write_bytes(PREFIX + data)
    positions = {}
    seen = {}
    settle = rsync_tool._settle

    def spy(f, end):
        settle(f, end)
        seen[id(f)] = f.tell()

    rsync_tool._settle = spy
    try:
        with open(tmp_path / "old", "rb") as old, open(tmp_path / "sig", "w+b") as sig:
            sig.write(PREFIX)
            old.seek(len(PREFIX))
            got = rsync_tool.signature(old, sig, block_size=4096)
            assert got is sig and sig.tell() == 0
            positions["sig.in"] = old.tell()
            positions["sig.out"] = seen[id(sig)]
        with open(tmp_path / "sig", "rb") as sig, open(tmp_path / "new", "rb") as new, open(tmp_path / "delta", "w+b") as delta:
            delta.write(PREFIX)
            sig.seek(len(PREFIX))
            new.seek(len(PREFIX))
            rsync_tool.delta(new, sig, delta)
            assert delta.tell() == 0
            positions.update({"delta.sig": sig.tell(), "delta.new": new.tell(), "delta.out": seen[id(delta)]})
        with open(tmp_path / "basis", "rb") as old, open(tmp_path / "delta", "rb") as delta, open(tmp_path / "out", "w+b") as out:
            out.write(PREFIX)
            delta.seek(len(PREFIX))
            rsync_tool.patch(old, delta, out)
            assert out.tell() == 0
            positions.update({"patch.delta": delta.tell(), "patch.out": seen[id(out)]})
    finally:
        rsync_tool._settle = settle
    outputs = {name: (tmp_path / name).read_bytes() for name in ("sig", "delta", "out")}
    return outputs, positions


def test_fast_and_slow_paths_agree(tmp_path, path_kind):
    outputs, positions = run_all(tmp_path)
    sig = rsync_tool.signature_bytes(OLD, block_size=4096)
    delta = rsync_tool.delta_bytes(sig, NEW)
    assert outputs == {"sig": PREFIX + sig, "delta": PREFIX + delta, "out": PREFIX + NEW}
    p = len(PREFIX)
    assert positions == {
        "sig.in": p + len(OLD),
        "sig.out": p + len(sig),
        "delta.sig": p + len(sig),
        "delta.new": p + len(NEW),
        "delta.out": p + len(delta),
        "patch.delta": p + len(delta),
        "patch.out": p + len(NEW),
    }


@linux
def test_which_objects_are_read_directly(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"data")
    with open(path, "rb") as f:
        assert rsync_tool._fd(f) == (f.fileno(), 0)
        assert rsync_tool._fd(f, write=True) is None  # read-only
    with open(path, "rb", buffering=0) as f:
        f.read(2)
        assert rsync_tool._fd(f) == (f.fileno(), 2)
    with open(path, "ab") as f:
        assert rsync_tool._fd(f, write=True) is None  # appending
    with open(path, "wb") as f:
        f.write(b"buffered")
        assert rsync_tool._fd(f, write=True) == (f.fileno(), 8)
        assert path.read_bytes() == b"buffered"  # flushed first
        assert rsync_tool._fd(f) is None  # write-only
    with tempfile.TemporaryFile() as f, tempfile.NamedTemporaryFile() as g:
        assert rsync_tool._fd(f, write=True) is not None
        assert rsync_tool._fd(g, write=True) is not None
    with tempfile.SpooledTemporaryFile(max_size=10) as f:
        assert rsync_tool._fd(f, write=True) is None  # still in memory
        f.write(b"x" * 20)
        assert rsync_tool._fd(f, write=True) is not None  # spilled
    with gzip.open(tmp_path / "g.gz", "wb") as g:
        assert rsync_tool._fd(g, write=True) is None  # a fileno() that is not its data
    r, w = os.pipe()
    with open(r, "rb") as fr, open(w, "wb") as fw:
        assert rsync_tool._fd(fr) is None and rsync_tool._fd(fw, write=True) is None
    assert rsync_tool._fd(io.BytesIO(b"x")) is None


def test_mixed_objects(tmp_path):
    """A real file with a BytesIO: each side takes its own path."""
    (tmp_path / "old").write_bytes(OLD)
    (tmp_path / "new").write_bytes(NEW)
    with open(tmp_path / "old", "rb") as old:
        sig = rsync_tool.signature(old).read()  # file -> spool
    assert sig == rsync_tool.signature_bytes(OLD, block_size=2048)
    with open(tmp_path / "new", "rb") as new:
        delta = rsync_tool.delta(new, io.BytesIO(sig), io.BytesIO()).read()
    with open(tmp_path / "delta", "wb") as out:
        rsync_tool.delta(io.BytesIO(NEW), rsync_tool.Signature.load(sig), out)
    assert (tmp_path / "delta").read_bytes() == delta
    with open(tmp_path / "old", "rb") as old:
        assert rsync_tool.patch(old, io.BytesIO(delta)).read() == NEW
    with open(tmp_path / "delta", "rb") as d, open(tmp_path / "out", "wb") as out:
        rsync_tool.patch(io.BytesIO(OLD), d, out)
    assert (tmp_path / "out").read_bytes() == NEW


def test_fast_path_errors(tmp_path):
    (tmp_path / "old").write_bytes(OLD)
    (tmp_path / "bad").write_bytes(b"rs\x026\x45")  # a COPY cut short
    with open(tmp_path / "old", "rb") as old, open(tmp_path / "bad", "rb") as d, open(tmp_path / "out", "wb") as out:
        with pytest.raises(rsync_tool.TruncatedError):
            rsync_tool.patch(old, d, out)
    with open(tmp_path / "old", "rb") as old, open(tmp_path / "bad", "rb") as s, open(tmp_path / "new", "wb") as out:
        with pytest.raises(rsync_tool.LibrsyncError, match="not a signature"):
            rsync_tool.delta(old, s, out)


@linux
def test_patch_spool_spills_early_for_a_big_basis(tmp_path):
    """A default result that would spill anyway is a file from the start,
    so the engine writes it directly; it is still a rewound spool."""
    (tmp_path / "big").write_bytes(bytes(rsync_tool.MAX_SPOOL + 1))
    with open(tmp_path / "big", "rb") as b:
        got = rsync_tool.patch(b, io.BytesIO(b"rs\x026\x03abc\x00"))
    assert isinstance(got, tempfile.SpooledTemporaryFile) and got._rolled
    assert got.read() == b"abc"
    with open(tmp_path / "old", "wb") as f:
        f.write(b"small")
    with open(tmp_path / "old", "rb") as b:
        assert not rsync_tool.patch(b, io.BytesIO(b"rs\x026\x03abc\x00"))._rolled
