"""python-librsync's public tests (HEAD 1859a5f, tests.py), recreated
clean-room with the same checks, and its README example as written."""

import os
import unittest
from io import BytesIO

import rsync_tool as librsync


class TraceLevelTestCase(unittest.TestCase):
    def test_set(self):
        librsync.debug()

    def test_set_invalid(self):
        self.assertRaises(AssertionError, librsync.debug, level=40)


class SingleFileTestCase(unittest.TestCase):
    def setUp(self):
        self.rand = BytesIO(os.urandom(1024**2))


class DoubleFileTestCase(unittest.TestCase):
    def setUp(self):
        self.rand1 = BytesIO(os.urandom(1024**2))
        self.rand2 = BytesIO(os.urandom(1024**2))


class SignatureTestCase(SingleFileTestCase):
    def test_signature(self):
        s = librsync.signature(self.rand)
        self.assertTrue(len(s.read()) > 0)


class DeltaTestCase(DoubleFileTestCase):
    def test_signature(self):
        s = librsync.signature(self.rand1)
        d = librsync.delta(self.rand2, s)
        self.assertTrue(len(d.read()) > 0)

    def test_failure(self):
        "Ensure delta aborts when provided invalid signature."
        self.assertRaises(librsync.LibrsyncError, librsync.delta, self.rand2, self.rand1)


class PatchTestCase(DoubleFileTestCase):
    def test_patch(self):
        s = librsync.signature(self.rand1)
        d = librsync.delta(self.rand2, s)
        self.rand1.seek(0)
        self.rand2.seek(0)
        o = librsync.patch(self.rand1, d)
        self.assertEqual(o.read(), self.rand2.read())

    def test_nonseek(self):
        self.assertRaises(AssertionError, librsync.patch, None, self.rand2)

    def test_failure(self):
        "Ensure patch aborts when provided invalid delta."
        self.assertRaises(librsync.LibrsyncError, librsync.patch, self.rand1, self.rand2)


class BigPatchTestCase(PatchTestCase):
    def setUp(self):
        "Use large enough test files to cause temp files to hit disk."
        self.rand1 = BytesIO(os.urandom(1024**2 * 5))
        self.rand2 = BytesIO(os.urandom(1024**2 * 5))


class Issue3TestCase(PatchTestCase):
    def setUp(self):
        "Use test data provided in issue #3."
        self.rand1 = BytesIO(b"Text.")
        self.rand2 = BytesIO(b"New text.\nText.")


class SimpleStringTestCase(PatchTestCase):
    def setUp(self):
        self.rand1 = BytesIO(b"FF")
        self.rand2 = BytesIO(b"FF123FF")


def test_readme_example(tmp_path, monkeypatch):
    """The example of python-librsync's README, with open() for file()."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Der Bauer.mp3").write_bytes(os.urandom(300_000))
    # The destination file.
    dst = open("Der Bauer.mp3", "rb")
    # Get a signature of the destination file.
    signature = librsync.signature(dst)
    # The source file.
    src = open("Der Bauer.mp3", "rb")
    # Get a delta from the source file and the destination signature.
    delta = librsync.delta(src, signature)
    # Apply the delta to the destination file.
    dst.seek(0)
    patched = librsync.patch(dst, delta)

    assert patched.read() == (tmp_path / "Der Bauer.mp3").read_bytes()
    dst.close()
    src.close()
