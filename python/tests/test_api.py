"""rsync_tool beyond python-librsync: options, bytes, paths, Signature,
streams, exceptions, threads."""

import array
import hashlib
import io
import os
import signal
import stat
import threading
import time
from pathlib import Path

import pytest

import rsync_tool
from conftest import random_bytes

OLD = random_bytes(300_000, seed=2)
NEW = OLD[:1000] + b"inserted" + OLD[1000:200_000] + random_bytes(5000, seed=3) + OLD[205_000:]


def roundtrip_bytes(old, new, **options):
    sig = rsync_tool.signature_bytes(old, **options)
    delta = rsync_tool.delta_bytes(sig, new)
    assert rsync_tool.patch_bytes(old, delta) == new
    return sig, delta


# --- constants and compatibility details -------------------------------------


def test_constants():
    assert rsync_tool.MAX_SPOOL == 5 * 1024**2
    assert rsync_tool.RS_DEFAULT_BLOCK_LEN == 2048
    assert rsync_tool.RS_DEFAULT_STRONG_LEN == 8
    assert rsync_tool.RS_JOB_BLOCKSIZE == 65536
    assert (rsync_tool.RS_DONE, rsync_tool.RS_BLOCKED) == (0, 1)
    assert rsync_tool.TRACE_LEVELS == tuple(range(8))


@pytest.mark.parametrize("level", range(8))
def test_debug_levels(level):
    rsync_tool.debug(level)
    rsync_tool.debug(level=level)


@pytest.mark.parametrize("level", [-1, 8, 40, "7"])
def test_debug_bad_levels(level):
    with pytest.raises(AssertionError):
        rsync_tool.debug(level=level)


def test_results_are_rewound_spools_that_spill():
    old, new = random_bytes(5 * 2**20 + 1, 4), random_bytes(5 * 2**20 + 1, 5)
    sig = rsync_tool.signature(io.BytesIO(old))
    delta = rsync_tool.delta(io.BytesIO(new), sig)
    out = rsync_tool.patch(io.BytesIO(old), delta)
    assert out._rolled  # spilled to disk, still readable
    assert out.tell() == 0 and out.read() == new


def test_given_outputs_are_written_and_rewound():
    s, d, o = io.BytesIO(), io.BytesIO(), io.BytesIO()
    assert rsync_tool.signature(io.BytesIO(OLD), s) is s and s.tell() == 0
    assert rsync_tool.delta(io.BytesIO(NEW), s, d) is d and d.tell() == 0
    assert rsync_tool.patch(io.BytesIO(OLD), d, o) is o and o.getvalue() == NEW


def test_default_signature_is_rdiff_b_2048():
    sig = rsync_tool.signature(io.BytesIO(OLD)).read()
    assert sig == rsync_tool.signature_bytes(OLD, block_size=2048)
    assert sig[:12] == bytes.fromhex("72730147" "00000800" "00000020")


def test_first_arguments_are_checked():
    with pytest.raises(AssertionError):
        rsync_tool.patch(None, io.BytesIO())
    with pytest.raises(AssertionError):
        rsync_tool.patch(b"not a file", io.BytesIO())
    with pytest.raises(AssertionError):
        rsync_tool.signature(None)
    with pytest.raises(AssertionError):
        rsync_tool.delta(None, io.BytesIO())


def test_signature_reads_from_the_current_position():
    f = io.BytesIO(b"skip" + OLD)
    f.seek(4)
    assert rsync_tool.signature(f, block_size=0).read() == rsync_tool.signature_bytes(OLD)


# --- signature options --------------------------------------------------------


@pytest.mark.parametrize(
    "options, header",
    [
        ({}, "72730147" "00000200" "00000020"),  # 300,000 bytes: block 512
        ({"block_size": 1024}, "72730147" "00000400" "00000020"),
        ({"strong_len": -1}, "72730147" "00000200" "00000007"),
        ({"strong_len": 12}, "72730147" "00000200" "0000000c"),
        ({"hash": "md4"}, "72730146" "00000200" "00000010"),
        ({"rollsum": "rollsum"}, "72730137" "00000200" "00000020"),
        ({"hash": "md4", "rollsum": "rollsum", "strong_len": 8}, "72730136" "00000200" "00000008"),
    ],
)
def test_signature_options(options, header):
    sig, _ = roundtrip_bytes(OLD, NEW, **options)
    assert sig[:12].hex() == header
    loaded = rsync_tool.Signature.load(sig)
    assert loaded.magic == int(header[:8], 16)
    assert loaded.block_size == int(header[8:16], 16)
    assert loaded.strong_len == int(header[16:], 16)
    assert loaded.block_count == len(loaded) == -(-len(OLD) // loaded.block_size)
    assert loaded.hash == options.get("hash", "blake2")
    assert loaded.rollsum == options.get("rollsum", "rabinkarp")


@pytest.mark.parametrize("jobs", [1, 2, 3, 0])
def test_jobs_give_the_same_signature(jobs):
    assert rsync_tool.signature_bytes(OLD, jobs=jobs) == rsync_tool.signature_bytes(OLD, jobs=1)


@pytest.mark.parametrize(
    "options",
    [
        {"strong_len": 33},
        {"hash": "md4", "strong_len": 17},
        {"strong_len": -2},
        {"block_size": -5},
        {"block_size": 2**40},
        {"hash": "sha1"},
        {"rollsum": "adler"},
    ],
)
def test_bad_parameters(options, tmp_path):
    with pytest.raises(rsync_tool.ParameterError) as info:
        rsync_tool.signature_bytes(OLD, **options)
    assert info.value.code in (101, 108)
    assert isinstance(info.value, ValueError)
    out = tmp_path / "sig"
    with pytest.raises(rsync_tool.ParameterError):
        rsync_tool.signature_file(__file__, out, **options)
    assert not out.exists()


# --- bytes --------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2048, 2049, 300_001])
def test_roundtrip_sizes(size):
    old = random_bytes(size, seed=size)
    new = random_bytes(size, seed=size + 1)
    roundtrip_bytes(old, new)
    roundtrip_bytes(old, old)
    roundtrip_bytes(old, b"")
    roundtrip_bytes(b"", old)


@pytest.mark.parametrize(
    "wrap",
    [bytes, bytearray, memoryview, lambda b: array.array("B", b), lambda b: memoryview(bytearray(b))[::1]],
)
def test_any_buffer(wrap):
    sig = rsync_tool.signature_bytes(wrap(OLD))
    assert sig == rsync_tool.signature_bytes(OLD)
    delta = rsync_tool.delta_bytes(wrap(sig), wrap(NEW))
    assert rsync_tool.patch_bytes(wrap(OLD), wrap(delta)) == NEW


def test_bytes_are_read_in_place_other_buffers_copied_once():
    # A buffer another thread may write into while the engine reads it
    # without the GIL is copied first; bytes cannot change, so are not.
    from rsync_tool._buffers import contents

    data = bytes(range(256)) * 4
    assert contents(data) is data
    assert contents(memoryview(data)) is data
    assert contents(memoryview(data)[1:]) == data[1:]
    assert contents(memoryview(data)[::-1]) == data[::-1]
    for buf in (bytearray(data), array.array("B", data), memoryview(bytearray(data))):
        got = contents(buf)
        assert type(got) is bytes and got == data
        buf[0] = 255
        assert got[0] == 0, "a copy, not a view"
    with pytest.raises(TypeError):
        contents("text")


def test_not_a_buffer():
    with pytest.raises(TypeError):
        rsync_tool.signature_bytes("text")
    with pytest.raises(TypeError):
        rsync_tool.patch_bytes(OLD, 5)


def test_identical_delta_is_one_copy():
    sig = rsync_tool.signature_bytes(OLD)
    delta = rsync_tool.delta_bytes(sig, OLD)
    # one COPY and END (rdiff's 11 bytes), then the 45-byte verification trailer
    assert len(delta) < 16 + 45


# --- exceptions ---------------------------------------------------------------


# A bad magic number followed by plausible lengths, as rdiff reads it: 104.
BAD_MAGIC = b"ABCD" + (2048).to_bytes(4, "big") + (32).to_bytes(4, "big")


def test_error_kinds():
    sig = rsync_tool.signature_bytes(OLD)
    delta = rsync_tool.delta_bytes(sig, NEW)
    cases = [
        (lambda: rsync_tool.delta_bytes(BAD_MAGIC, NEW), rsync_tool.BadMagicError, 104),
        (lambda: rsync_tool.delta_bytes(b"garbage garbage", NEW), rsync_tool.CorruptError, 106),
        (lambda: rsync_tool.delta_bytes(delta, NEW), rsync_tool.CorruptError, 106),
        (lambda: rsync_tool.delta_bytes(sig[:100], NEW), rsync_tool.TruncatedError, 103),
        (lambda: rsync_tool.delta_bytes(b"", NEW), rsync_tool.TruncatedError, 103),
        (lambda: rsync_tool.patch_bytes(OLD, delta[:-3]), rsync_tool.TruncatedError, 103),
        (lambda: rsync_tool.patch_bytes(OLD, sig), rsync_tool.BadMagicError, 104),
        (lambda: rsync_tool.patch_bytes(b"", delta), rsync_tool.TruncatedError, 103),
        (lambda: rsync_tool.patch_bytes(OLD, bytes.fromhex("72730236ff")), rsync_tool.CorruptError, 106),
        (lambda: rsync_tool.delta_bytes(bytes.fromhex("72730147000008000000ffff"), NEW), rsync_tool.CorruptError, 106),
    ]
    for call, kind, code in cases:
        with pytest.raises(kind) as info:
            call()
        assert info.value.code == code
        assert isinstance(info.value, rsync_tool.LibrsyncError)
        assert str(info.value)


def test_librsync_error_is_picklable_and_compatible():
    import pickle

    err = pickle.loads(pickle.dumps(rsync_tool.CorruptError("bad", 106)))
    assert type(err) is rsync_tool.CorruptError and err.code == 106 and str(err) == "bad"
    assert rsync_tool.LibrsyncError(104).code == 104


class Boom(Exception):
    pass


class Exploding(io.RawIOBase):
    def __init__(self, after):
        self.left = after

    def readable(self):
        return True

    def read(self, n=-1):
        if self.left <= 0:
            raise Boom("from the caller's file")
        self.left -= 1
        return b"x" * min(n, 1000)

    def seek(self, *a):
        return 0


def test_callers_exceptions_pass_through():
    for call in [
        lambda: rsync_tool.signature(Exploding(3)),
        lambda: rsync_tool.delta(Exploding(3), rsync_tool.signature(io.BytesIO(OLD))),
        lambda: rsync_tool.delta(io.BytesIO(NEW), Exploding(0)),
        lambda: rsync_tool.patch(io.BytesIO(OLD), Exploding(0)),
        lambda: rsync_tool.SignatureReader(Exploding(3)).read(),
        lambda: rsync_tool.Signature.load(Exploding(0)),
    ]:
        with pytest.raises(Boom, match="caller's file"):
            call()

    class BadWriter:
        def write(self, data):
            raise Boom("from the caller's file")

    with pytest.raises(Boom):
        rsync_tool.signature(io.BytesIO(OLD), BadWriter())


def test_read_returning_text_is_a_type_error():
    with pytest.raises(TypeError):
        rsync_tool.signature(io.StringIO("text"))


# --- paths --------------------------------------------------------------------


@pytest.fixture
def files(tmp_path):
    (tmp_path / "old").write_bytes(OLD)
    (tmp_path / "new").write_bytes(NEW)
    return tmp_path


def leftovers(directory):
    return sorted(
        p.name
        for p in directory.iterdir()
        if p.name.endswith(".tmp") or p.name.startswith(".rsync-tool.")
    )


@pytest.mark.parametrize("as_str", [False, True])
def test_path_roundtrip(files, as_str):
    p = (lambda x: str(x)) if as_str else (lambda x: x)
    rsync_tool.signature_file(p(files / "old"), p(files / "sig"))
    assert (files / "sig").read_bytes() == rsync_tool.signature_bytes(OLD)
    rsync_tool.delta_file(p(files / "sig"), p(files / "new"), p(files / "delta"))
    rsync_tool.patch_file(p(files / "old"), p(files / "delta"), p(files / "out"))
    assert (files / "out").read_bytes() == NEW
    assert leftovers(files) == []
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((files / "out").stat().st_mode) == 0o666 & ~umask


def test_path_outputs_are_not_clobbered(files):
    (files / "sig").write_bytes(b"precious")
    with pytest.raises(rsync_tool.OutputExistsError) as info:
        rsync_tool.signature_file(files / "old", files / "sig")
    assert info.value.code == 100 and isinstance(info.value, FileExistsError)
    assert (files / "sig").read_bytes() == b"precious"
    os.chmod(files / "sig", 0o640)
    rsync_tool.signature_file(files / "old", files / "sig", force=True)
    assert (files / "sig").read_bytes() == rsync_tool.signature_bytes(OLD)
    assert stat.S_IMODE((files / "sig").stat().st_mode) == 0o640


def test_bad_inputs_leave_outputs_untouched(files):
    (files / "out").write_bytes(b"precious")
    (files / "garbage").write_bytes(BAD_MAGIC)
    with pytest.raises(rsync_tool.BadMagicError):
        rsync_tool.patch_file(files / "old", files / "garbage", files / "out", force=True)
    with pytest.raises(rsync_tool.BadMagicError) as info:
        rsync_tool.delta_file(files / "garbage", files / "new", files / "out", force=True)
    assert "garbage" in str(info.value)
    with pytest.raises(rsync_tool.LibrsyncIOError) as info:
        rsync_tool.signature_file(files / "missing", files / "out", force=True)
    assert info.value.errno == 2 and info.value.code == 100
    assert (files / "out").read_bytes() == b"precious"
    assert leftovers(files) == []


def test_patch_in_place_and_sha256(files):
    rsync_tool.signature_file(files / "old", files / "sig")
    rsync_tool.delta_file(files / "sig", files / "new", files / "delta", sha256_file=files / "new.sha256")
    line = (files / "new.sha256").read_text()
    digest = hashlib.sha256(NEW).hexdigest()
    assert line == f"{digest}  {files / 'new'}\n"
    with pytest.raises(rsync_tool.CorruptError) as info:
        rsync_tool.patch_file(files / "old", files / "delta", files / "out", expect_sha256="0" * 64)
    assert info.value.code == 106 and not (files / "out").exists()
    with pytest.raises(rsync_tool.ParameterError):
        rsync_tool.patch_file(files / "old", files / "delta", files / "out", expect_sha256="xyz")
    rsync_tool.patch_file(files / "old", files / "delta", files / "old", force=True, expect_sha256=digest.upper())
    assert (files / "old").read_bytes() == NEW
    assert leftovers(files) == []


def test_delta_file_with_loaded_signature(files):
    sig = rsync_tool.Signature.load(rsync_tool.signature_bytes(OLD))
    for jobs in (1, 2, 0):
        out = files / f"delta{jobs}"
        rsync_tool.delta_file(sig, files / "new", out, jobs=jobs)
        assert out.read_bytes() == rsync_tool.delta_bytes(sig, NEW)


# --- a loaded signature -------------------------------------------------------


def test_signature_reuse(files):
    sig_bytes = rsync_tool.signature_bytes(OLD)
    (files / "sig").write_bytes(sig_bytes)
    for source in (sig_bytes, bytearray(sig_bytes), files / "sig", str(files / "sig"), io.BytesIO(sig_bytes)):
        sig = rsync_tool.Signature.load(source)
        assert "blake2" in repr(sig)
        for new in (NEW, OLD, b"", random_bytes(10_000, 9)):
            d1 = sig.delta(new)
            d2 = io.BytesIO()
            assert sig.delta(io.BytesIO(new), d2) is None
            assert d1 == d2.getvalue() == rsync_tool.delta_bytes(sig_bytes, new)
            assert rsync_tool.patch_bytes(OLD, d1) == new
    assert rsync_tool.delta(io.BytesIO(NEW), sig).read() == rsync_tool.delta_bytes(sig, NEW)


# --- streaming ----------------------------------------------------------------


class Chunks(io.RawIOBase):
    """A generator wrapped in a reader: no seek, pieces of any size."""

    def __init__(self, chunks):
        self.it = iter(chunks)
        self.rest = b""

    def readable(self):
        return True

    def readinto(self, b):
        while not self.rest:
            self.rest = next(self.it, None)
            if self.rest is None:
                return 0
        n = min(len(b), len(self.rest))
        b[:n] = self.rest[:n]
        self.rest = self.rest[n:]
        return n


def pieces(data, size=7777):
    return (data[i : i + size] for i in range(0, len(data), size))


def test_non_seekable_inputs_signature_and_delta():
    sig = rsync_tool.signature(Chunks(pieces(OLD))).read()
    assert sig == rsync_tool.signature_bytes(OLD, block_size=2048)
    delta = rsync_tool.delta(Chunks(pieces(NEW)), Chunks(pieces(sig, 100))).read()
    assert rsync_tool.patch_bytes(OLD, delta) == NEW
    assert rsync_tool.SignatureReader(Chunks(pieces(OLD))).read() == sig  # unknown size: 2048
    assert rsync_tool.DeltaReader(sig, Chunks(pieces(NEW))).read() == delta


def test_pipes(tmp_path):
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb") as f:
            for piece in pieces(NEW, 65536):
                f.write(piece)

    t = threading.Thread(target=feed)
    t.start()
    sig = rsync_tool.Signature.load(rsync_tool.signature_bytes(OLD))
    with os.fdopen(r, "rb") as f:
        delta = rsync_tool.delta(f, sig).read()
    t.join()
    assert rsync_tool.patch_bytes(OLD, delta) == NEW


def test_readers():
    sig_reader = rsync_tool.SignatureReader(io.BytesIO(OLD))
    assert isinstance(sig_reader, io.RawIOBase) and sig_reader.readable()
    sig = io.BufferedReader(sig_reader).read()
    assert sig == rsync_tool.signature_bytes(OLD)
    delta_reader = rsync_tool.DeltaReader(rsync_tool.Signature.load(sig), io.BytesIO(NEW))
    delta = b"".join(iter(lambda: delta_reader.read(1000), b""))
    assert rsync_tool.patch_bytes(OLD, delta) == NEW
    for basis in (OLD, io.BytesIO(OLD)):
        with rsync_tool.PatchReader(basis, io.BytesIO(delta)) as reader:
            buf = bytearray(4096)
            out = bytearray()
            while n := reader.readinto(buf):
                out += buf[:n]
        assert out == NEW
        assert reader.closed
    with pytest.raises(rsync_tool.BadMagicError):
        rsync_tool.PatchReader(OLD, io.BytesIO(b"garbage")).read()


def test_makers():
    maker = rsync_tool.SignatureMaker(size=len(OLD))
    sig = b"".join(maker.update(p) for p in pieces(OLD)) + maker.finish()
    assert sig == rsync_tool.signature_bytes(OLD)
    maker = rsync_tool.DeltaMaker(sig)
    delta = b"".join(maker.update(memoryview(p)) for p in pieces(NEW, 100_000)) + maker.finish()
    assert rsync_tool.patch_bytes(OLD, delta) == NEW
    maker = rsync_tool.PatchMaker(OLD)
    out = b"".join(maker.update(p) for p in pieces(delta, 3)) + maker.finish()
    assert out == NEW
    with rsync_tool.PatchMaker(io.BytesIO(OLD)) as maker:
        maker.update(b"garbage")
        with pytest.raises(rsync_tool.BadMagicError):
            maker.finish()
    with pytest.raises(rsync_tool.TruncatedError):
        rsync_tool.DeltaMaker(sig[:60])


# --- threads and signals ------------------------------------------------------


def test_other_threads_run_during_a_long_call():
    data = random_bytes(64 * 2**20, 11)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    time.sleep(0.01)
    start = time.perf_counter()
    for _ in range(3):
        rsync_tool.signature_bytes(data, jobs=1)
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    assert end - start > 0.05
    assert len(during) > (end - start) / 0.001 / 10


class Endless(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, b):
        n = len(b)
        b[:n] = bytes(n)
        return n


@pytest.mark.parametrize(
    "call",
    [
        lambda: rsync_tool.signature(Endless(), io.BytesIO()),
        lambda: rsync_tool.signature_file("/dev/zero", "/dev/null", force=True),
        lambda: rsync_tool.SignatureReader(Endless()).read(),
    ],
)
def test_ctrl_c_interrupts(call):
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        call()
    assert time.perf_counter() - start < 1.3
    timer.join()
