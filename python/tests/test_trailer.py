"""The verification trailer: ``trailer=False`` on every delta entry point
gives rdiff's delta; every patch entry point checks its result against the
trailer (``CorruptError``, code 106) unless ``verify=False``."""

import io
import subprocess

import pytest

import rsync_tool
from conftest import random_bytes

TRAILER_LEN = 45
OLD = random_bytes(300_000, seed=40)
LITERAL = random_bytes(5000, seed=41)
NEW = OLD[:1000] + b"inserted" + OLD[1000:200_000] + LITERAL + OLD[205_000:]
SIG = rsync_tool.signature_bytes(OLD)
#: A basis of OLD's length that the delta patches without error, into
#: wrong bytes: one byte of a copied block differs.
WRONG = OLD[:100_000] + bytes([OLD[100_000] ^ 1]) + OLD[100_001:]


def wrong_result(delta):
    """What the commands of ``delta`` make from WRONG (rdiff's result)."""
    return rsync_tool.patch_bytes(WRONG, delta, verify=False)


# --- trailer=False ------------------------------------------------------------


def deltas(sig, new, tmp_path, **kw):
    """The delta of ``new`` from each delta entry point, keywords ``kw``."""
    loaded = rsync_tool.Signature.load(sig)
    (tmp_path / "sig").write_bytes(sig)
    (tmp_path / "new").write_bytes(new)
    made = {
        "delta_bytes": rsync_tool.delta_bytes(sig, new, **kw),
        "delta_bytes(Signature)": rsync_tool.delta_bytes(loaded, new, **kw),
        "Signature.delta": loaded.delta(new, **kw),
        "delta(BytesIO)": rsync_tool.delta(io.BytesIO(new), io.BytesIO(sig), **kw).read(),
        "DeltaReader": rsync_tool.DeltaReader(loaded, io.BytesIO(new), **kw).read(),
    }
    out = io.BytesIO()
    loaded.delta(io.BytesIO(new), out, **kw)
    made["Signature.delta(out)"] = out.getvalue()
    with open(tmp_path / "new", "rb") as f, open(tmp_path / "sig", "rb") as s:
        made["delta(files)"] = rsync_tool.delta(f, s, **kw).read()
    with open(tmp_path / "new", "rb") as f, open(tmp_path / "d", "wb") as d:
        rsync_tool.delta(f, loaded, d, **kw)
    made["delta(file out)"] = (tmp_path / "d").read_bytes()
    maker = rsync_tool.DeltaMaker(sig, **kw)
    made["DeltaMaker"] = maker.update(new) + maker.finish()
    for jobs in (1, 0):
        out = tmp_path / f"delta{jobs}"
        rsync_tool.delta_file(tmp_path / "sig", tmp_path / "new", out, jobs=jobs, force=True, **kw)
        made[f"delta_file(jobs={jobs})"] = out.read_bytes()
    rsync_tool.delta_file(loaded, tmp_path / "new", tmp_path / "dl", force=True, **kw)
    made["delta_file(Signature)"] = (tmp_path / "dl").read_bytes()
    return made


def test_trailer_false_is_the_delta_without_its_trailer(tmp_path):
    with_trailer = deltas(SIG, NEW, tmp_path)
    without = deltas(SIG, NEW, tmp_path, trailer=False)
    (full,) = set(with_trailer.values())
    assert set(without.values()) == {full[:-TRAILER_LEN]}, without.keys()
    assert len(full) - len(without["delta_bytes"]) == TRAILER_LEN
    trailer = full[-TRAILER_LEN:]
    assert trailer[:5] == b"RTvf\x01" and int.from_bytes(trailer[5:13], "big") == len(NEW)
    # Both patch to NEW; only one can be checked.
    assert rsync_tool.patch_bytes(OLD, full) == rsync_tool.patch_bytes(OLD, full[:-TRAILER_LEN]) == NEW
    assert rsync_tool.delta_bytes(SIG, NEW, trailer=True) == full


def commands_end_at_end(delta):
    """True when the delta's last byte is its END command (nothing after
    it, as strict readers such as fast_rsync require)."""
    at, cut = 4, len(delta)
    while at < cut:
        op = delta[at]
        at += 1
        if op == 0:
            return at == cut
        if 0x41 <= op <= 0x44:  # LITERAL with a 1..8-byte length
            n = 1 << (op - 0x41)
            at += n + int.from_bytes(delta[at : at + n], "big")
        elif 0x45 <= op <= 0x54:  # COPY: 1..8-byte offset and length
            at += (1 << ((op - 0x45) // 4)) + (1 << ((op - 0x45) % 4))
        else:
            raise AssertionError(f"unexpected command {op:#x}")
    return False


def edited(size):
    old = random_bytes(size, seed=size)
    return old, old[: size // 2] + b"changed" + old[size // 2 + 10 :] + random_bytes(3000, 42)


@pytest.mark.parametrize("size", [0, 1, 70_000])
def test_trailer_false_equals_the_clis_no_trailer(cli, tmp_path, size):
    old, new = edited(size)
    (tmp_path / "sig").write_bytes(rsync_tool.signature_bytes(old))
    (tmp_path / "new").write_bytes(new)
    subprocess.run([cli, "delta", "--no-trailer", tmp_path / "sig", tmp_path / "new", tmp_path / "c"], check=True)
    expected = (tmp_path / "c").read_bytes()
    made = deltas((tmp_path / "sig").read_bytes(), new, tmp_path, trailer=False)
    assert set(made.values()) == {expected}, made.keys()


@pytest.mark.parametrize("size", [0, 1, 70_000])
def test_trailer_false_is_rdiffs_format(rdiff, tmp_path, size):
    old, new = edited(size)
    sig = rsync_tool.signature_bytes(old)
    (tmp_path / "sig").write_bytes(sig)
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "new").write_bytes(new)
    plain = rsync_tool.delta_bytes(sig, new, trailer=False)
    assert commands_end_at_end(plain)
    assert not commands_end_at_end(rsync_tool.delta_bytes(sig, new))
    (tmp_path / "plain").write_bytes(plain)
    subprocess.run([rdiff, "patch", tmp_path / "old", tmp_path / "plain", tmp_path / "r.out"], check=True)
    assert (tmp_path / "r.out").read_bytes() == new
    subprocess.run([rdiff, "delta", tmp_path / "sig", tmp_path / "new", tmp_path / "r.delta"], check=True)
    r_delta = (tmp_path / "r.delta").read_bytes()
    if size:
        # The same matches and one short literal run: rdiff's very bytes.
        # (Against an empty signature rdiff cuts the literal every block.)
        assert plain == r_delta
    assert len(rsync_tool.delta_bytes(sig, new)) == len(plain) + TRAILER_LEN


def test_new_options_are_keyword_only(tmp_path):
    """python-librsync's positional signatures are unchanged."""
    sig = rsync_tool.signature(io.BytesIO(OLD))
    d = io.BytesIO()
    assert rsync_tool.delta(io.BytesIO(NEW), sig, d) is d
    o = io.BytesIO()
    assert rsync_tool.patch(io.BytesIO(OLD), d, o) is o and o.getvalue() == NEW
    with pytest.raises(TypeError):
        rsync_tool.delta(io.BytesIO(NEW), io.BytesIO(SIG), io.BytesIO(), False)
    with pytest.raises(TypeError):
        rsync_tool.patch(io.BytesIO(OLD), io.BytesIO(), io.BytesIO(), False)
    with pytest.raises(TypeError):
        rsync_tool.delta_bytes(SIG, NEW, False)
    with pytest.raises(TypeError):
        rsync_tool.patch_bytes(OLD, b"", False)


# --- verify -------------------------------------------------------------------


def patches(basis, delta, tmp_path, **kw):
    """Runs each patch entry point; yields (name, thunk) pairs."""
    (tmp_path / "basis").write_bytes(basis)
    (tmp_path / "delta").write_bytes(delta)

    def with_files():
        with open(tmp_path / "basis", "rb") as b, open(tmp_path / "delta", "rb") as d:
            return rsync_tool.patch(b, d, **kw).read()

    def with_file_out():
        with open(tmp_path / "basis", "rb") as b, open(tmp_path / "delta", "rb") as d, open(
            tmp_path / "o", "w+b"
        ) as o:
            rsync_tool.patch(b, d, o, **kw)
        return (tmp_path / "o").read_bytes()

    def by_path():
        rsync_tool.patch_file(tmp_path / "basis", tmp_path / "delta", tmp_path / "out", force=True, **kw)
        return (tmp_path / "out").read_bytes()

    def maker():
        m = rsync_tool.PatchMaker(basis, **kw)
        return m.update(delta) + m.finish()

    def maker_in_pieces():
        m = rsync_tool.PatchMaker(io.BytesIO(basis), **kw)
        return b"".join(m.update(delta[i : i + 7]) for i in range(0, len(delta), 7)) + m.finish()

    return {
        "patch_bytes": lambda: rsync_tool.patch_bytes(basis, delta, **kw),
        "patch(BytesIO)": lambda: rsync_tool.patch(io.BytesIO(basis), io.BytesIO(delta), **kw).read(),
        "patch(files)": with_files,
        "patch(file out)": with_file_out,
        "patch_file": by_path,
        "PatchReader": lambda: rsync_tool.PatchReader(basis, io.BytesIO(delta), **kw).read(),
        "PatchReader(path)": lambda: rsync_tool.PatchReader(tmp_path / "basis", io.BytesIO(delta), **kw).read(),
        "PatchMaker": maker,
        "PatchMaker(pieces)": maker_in_pieces,
    }


DELTA = rsync_tool.delta_bytes(SIG, NEW)


def damaged_literal():
    at = DELTA.index(LITERAL) + 1234
    return DELTA[:at] + bytes([DELTA[at] ^ 0x40]) + DELTA[at + 1 :]


@pytest.mark.parametrize(
    "basis, delta, what",
    [(WRONG, DELTA, "wrong basis"), (OLD, damaged_literal(), "damaged literal")],
)
def test_a_bad_result_is_corrupt_unless_verify_is_false(tmp_path, basis, delta, what):
    expected_wrong = rsync_tool.patch_bytes(basis, delta, verify=False)
    assert expected_wrong != NEW and len(expected_wrong) == len(NEW)
    for name, run in patches(basis, delta, tmp_path).items():
        with pytest.raises(rsync_tool.CorruptError) as info:
            run()
        assert info.value.code == 106, name
        assert "basis is probably not the one" in str(info.value), name
    for name, run in patches(basis, delta, tmp_path, verify=False).items():
        assert run() == expected_wrong, name
    for name, run in patches(OLD, DELTA, tmp_path, verify=True).items():
        assert run() == NEW, name


def test_verify_false_gives_rdiffs_result(rdiff, tmp_path):
    (tmp_path / "wrong").write_bytes(WRONG)
    (tmp_path / "delta").write_bytes(DELTA)
    subprocess.run([rdiff, "patch", tmp_path / "wrong", tmp_path / "delta", tmp_path / "r.out"], check=True)
    assert wrong_result(DELTA) == (tmp_path / "r.out").read_bytes() != NEW


def test_a_delta_without_trailer_is_not_checked(tmp_path):
    plain = rsync_tool.delta_bytes(SIG, NEW, trailer=False)
    for name, run in patches(WRONG, plain, tmp_path).items():
        assert run() == wrong_result(plain), name


def test_patch_file_with_a_wrong_basis_leaves_the_output_untouched(tmp_path):
    (tmp_path / "wrong").write_bytes(WRONG)
    (tmp_path / "delta").write_bytes(DELTA)
    (tmp_path / "out").write_bytes(b"precious")
    for out in (tmp_path / "out", tmp_path / "wrong"):
        with pytest.raises(rsync_tool.CorruptError) as info:
            rsync_tool.patch_file(tmp_path / "wrong", tmp_path / "delta", out, force=True)
        assert info.value.code == 106 and "wrong: " in str(info.value)
    with pytest.raises(rsync_tool.CorruptError):
        rsync_tool.patch_file(tmp_path / "wrong", tmp_path / "delta", tmp_path / "new")
    assert (tmp_path / "out").read_bytes() == b"precious"
    assert (tmp_path / "wrong").read_bytes() == WRONG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["delta", "out", "wrong"]
    rsync_tool.patch_file(tmp_path / "wrong", tmp_path / "delta", tmp_path / "out", force=True, verify=False)
    assert (tmp_path / "out").read_bytes() == wrong_result(DELTA)
