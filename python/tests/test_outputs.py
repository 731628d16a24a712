"""Path outputs have the CLI's guarantees (they are the same code): no
clobbering at commit time, owner/group/mode/xattrs kept with force, and
Ctrl-C stops the engine and leaves nothing behind."""

import _thread
import os
import stat
import threading
import time

import pytest

import rsync_tool
from conftest import random_bytes

OLD = random_bytes(1, 300_000)


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".rsync-tool."))


def test_an_output_that_appears_during_the_work_is_not_replaced(tmp_path):
    # The basis is a FIFO: its writer feeds it once the call has opened the
    # output (a full pipe waits for the reader, who starts after the open),
    # then creates the output, then ends the input.
    fifo = tmp_path / "basis"
    os.mkfifo(fifo)
    sig = tmp_path / "sig"

    def feed():
        with open(fifo, "wb") as w:
            w.write(OLD)
            sig.write_bytes(b"precious")

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        with pytest.raises(rsync_tool.OutputExistsError) as info:
            rsync_tool.signature_file(fifo, sig)
    finally:
        writer.join()
    assert info.value.code == 100 and isinstance(info.value, FileExistsError)
    assert "appeared" in str(info.value) and "force=True" in str(info.value)
    assert sig.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []


def test_an_existing_output_names_force(tmp_path):
    (tmp_path / "old").write_bytes(OLD)
    (tmp_path / "sig").write_bytes(b"precious")
    with pytest.raises(rsync_tool.OutputExistsError) as info:
        rsync_tool.signature_file(tmp_path / "old", tmp_path / "sig")
    assert str(info.value) == f"{tmp_path / 'sig'}: output exists (pass force=True to overwrite)"


def test_sha256_file_and_delta_are_committed_together(tmp_path):
    (tmp_path / "old").write_bytes(OLD)
    rsync_tool.signature_file(tmp_path / "old", tmp_path / "sig")
    with pytest.raises(rsync_tool.ParameterError):
        rsync_tool.delta_file(
            tmp_path / "sig", tmp_path / "old", tmp_path / "d", sha256_file=tmp_path / "." / "d"
        )
    rsync_tool.delta_file(tmp_path / "sig", tmp_path / "old", tmp_path / "d", sha256_file=tmp_path / "d.sha")
    assert (tmp_path / "d.sha").read_text().endswith(f"  {tmp_path / 'old'}\n")


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_force_keeps_owner_group_mode_and_xattrs(tmp_path):
    (tmp_path / "old").write_bytes(OLD)
    out = tmp_path / "sig"
    out.write_bytes(b"old signature")
    os.chown(out, 4321, 8765)
    os.chmod(out, 0o2640)
    try:
        os.setxattr(out, "user.rsync_tool_test", b"kept")
        xattrs = True
    except OSError:
        xattrs = False  # the file system has no user xattrs
    rsync_tool.signature_file(tmp_path / "old", out, force=True)
    st = out.stat()
    assert (st.st_uid, st.st_gid) == (4321, 8765)
    assert stat.S_IMODE(st.st_mode) == 0o2640
    if xattrs:
        assert os.getxattr(out, "user.rsync_tool_test") == b"kept"
    assert out.read_bytes() == rsync_tool.signature_bytes(OLD)
    assert leftovers(tmp_path) == []


def engine_threads():
    """The worker threads the path functions run the engine on."""
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return sum(1 for n in names if n == "rsync-tool")


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")
def test_ctrl_c_stops_a_long_delta_file(tmp_path):
    # A sparse file of zeros against a signature of zeros: every block
    # matches, so the delta is small and written rarely; only the engine's
    # own cancel check can stop it early.
    (tmp_path / "zeros").write_bytes(bytes(1 << 20))
    rsync_tool.signature_file(tmp_path / "zeros", tmp_path / "sig")
    sig = rsync_tool.Signature.load(tmp_path / "sig")
    new = tmp_path / "new"
    with open(new, "wb") as f:
        f.truncate(64 << 30)
    before = engine_threads()
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        rsync_tool.delta_file(sig, new, tmp_path / "delta")
    assert time.perf_counter() - start < 1.3
    timer.join()
    deadline = time.perf_counter() + 1.0
    while engine_threads() > before and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert engine_threads() <= before, "the engine still runs after Ctrl-C"
    assert not (tmp_path / "delta").exists()
    assert leftovers(tmp_path) == []
