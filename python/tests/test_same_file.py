"""Path functions refuse, before any work, two paths of one call that are the
same file, as the CLI does (status 101): compared by device and inode
whatever the spelling, or for outputs that do not exist yet by where they
would be written. ``patch_file(b, d, b, force=True)`` stays allowed."""

import os

import pytest

import rsync_tool
from conftest import random_bytes

OLD = random_bytes(100_000, seed=50)
NEW = OLD[:30_000] + random_bytes(2000, seed=51) + OLD[30_000:]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "old").write_bytes(OLD)
    (tmp_path / "new").write_bytes(NEW)
    rsync_tool.signature_file(tmp_path / "old", tmp_path / "sig")
    rsync_tool.delta_file(tmp_path / "sig", tmp_path / "new", tmp_path / "delta")
    return tmp_path


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and not p.is_symlink()}


def refused(call, directory, *names):
    """``call`` raises SameFileError naming ``names``, for either force,
    and changes nothing."""
    before = snapshot(directory)
    for force in (False, True):
        with pytest.raises(rsync_tool.SameFileError) as info:
            call(force)
        err = info.value
        assert isinstance(err, rsync_tool.ParameterError) and isinstance(err, ValueError)
        assert err.code == 101
        for name in names:
            assert name in str(err), str(err)
        assert snapshot(directory) == before


def test_signature_file_onto_its_basis(files):
    old = files / "old"
    refused(lambda force: rsync_tool.signature_file(old, old, force=force), files, "same file")
    refused(lambda force: rsync_tool.signature_file(old, files / "." / "old", force=force), files)
    os.symlink("old", files / "link")
    os.link(old, files / "hard")
    refused(lambda force: rsync_tool.signature_file(old, files / "link", force=force), files)
    refused(lambda force: rsync_tool.signature_file(files / "link", files / "hard", force=force), files)


@pytest.mark.parametrize("output", ["new", "sig"])
def test_delta_file_onto_an_input(files, output):
    out = files / output
    refused(
        lambda force: rsync_tool.delta_file(files / "sig", files / "new", str(out), force=force),
        files,
        str(out),
        "same file",
    )
    refused(
        lambda force: rsync_tool.delta_file(
            files / "sig", files / "new", files / "d2", sha256_file=out, force=force
        ),
        files,
    )
    assert not (files / "d2").exists()


def test_delta_file_with_a_loaded_signature_onto_new(files):
    sig = rsync_tool.Signature.load(files / "sig")
    refused(lambda force: rsync_tool.delta_file(sig, files / "new", files / "new", force=force), files)
    # The signature's file is no input here.
    rsync_tool.delta_file(sig, files / "new", files / "sig", force=True)
    assert (files / "sig").read_bytes() == (files / "delta").read_bytes()


def test_delta_file_outputs_that_are_one_file(files):
    (files / "d").write_bytes(b"x")
    os.link(files / "d", files / "d-hard")
    os.symlink("d-missing", files / "d-link")
    for sha, delta in (
        (files / "d", files / "d"),
        (files / "d-hard", files / "d"),
        (files / "d-link", files / "d-missing"),  # neither exists yet
        (files / "sub" / ".." / "e", files / "e"),
    ):
        (files / "sub").mkdir(exist_ok=True)
        refused(
            lambda force: rsync_tool.delta_file(
                files / "sig", files / "new", delta, sha256_file=sha, force=force
            ),
            files,
            "sha256_file",
        )


def test_patch_file_onto_its_delta(files):
    refused(
        lambda force: rsync_tool.patch_file(files / "old", files / "delta", files / "delta", force=force),
        files,
        "same file",
    )
    os.link(files / "delta", files / "delta-hard")
    refused(
        lambda force: rsync_tool.patch_file(files / "old", files / "delta", files / "delta-hard", force=force),
        files,
    )


def test_patch_file_onto_its_basis_needs_force_and_is_allowed(files):
    with pytest.raises(rsync_tool.OutputExistsError):
        rsync_tool.patch_file(files / "old", files / "delta", files / "old")
    assert (files / "old").read_bytes() == OLD
    rsync_tool.patch_file(files / "old", files / "delta", files / "old", force=True)
    assert (files / "old").read_bytes() == NEW
    # With a verify failure the basis is kept.
    with pytest.raises(rsync_tool.CorruptError):
        rsync_tool.patch_file(files / "old", files / "delta", files / "old", force=True)
    assert (files / "old").read_bytes() == NEW


def test_distinct_files_with_equal_contents_are_fine(files):
    (files / "copy").write_bytes(NEW)
    rsync_tool.delta_file(files / "sig", files / "new", files / "copy", force=True)
    assert (files / "copy").read_bytes() == (files / "delta").read_bytes()
