"""rdiff-compatible signature, delta and patch: rsync-tool's engine for Python.

A drop-in for python-librsync (``import rsync_tool as librsync``)::

    sig = rsync_tool.signature(open("old", "rb"))           # old copy's signature
    delta = rsync_tool.delta(open("new", "rb"), sig)         # new file against it
    patched = rsync_tool.patch(open("old", "rb"), delta)     # old + delta = new

and beyond it: signature options, bytes helpers (:func:`signature_bytes`...),
path functions with atomic outputs (:func:`signature_file`...), a reusable
:class:`Signature`, streaming readers (:class:`SignatureReader`...) and push
objects (:class:`SignatureMaker`...), exceptions by kind. Signatures are
librsync 2.3's formats (RabinKarp + BLAKE2b by default), interchangeable
with Debian's ``rdiff`` both ways. The engine runs with the GIL released.

Every delta ends with a 45-byte verification trailer after END (NEW's
length and BLAKE3), which rdiff ignores; every patch checks its result
against it and raises :class:`CorruptError` (``code`` 106) on a mismatch,
typically a basis other than the one the signature was made from. The
keyword ``trailer=False`` (on :func:`delta`, :func:`delta_bytes`,
:func:`delta_file`, :meth:`Signature.delta`, :class:`DeltaReader`,
:class:`DeltaMaker`) writes exactly rdiff's delta, for readers that reject
bytes after END; ``verify=False`` (on :func:`patch`, :func:`patch_bytes`,
:func:`patch_file`, :class:`PatchReader`, :class:`PatchMaker`) skips the
check, patching as rdiff would.
"""

from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from typing import IO, Any, BinaryIO, Optional, Union

from . import _native
from ._errors import (
    BadMagicError,
    CorruptError,
    LibrsyncError,
    LibrsyncIOError,
    OutputExistsError,
    ParameterError,
    SameFileError,
    TruncatedError,
)
from ._native import (
    Signature,
    delta_bytes,
    delta_file,
    patch_bytes,
    patch_file,
    signature_bytes,
    signature_file,
)

__version__: str = _native.__version__

__all__ = [
    # python-librsync's API
    "signature",
    "delta",
    "patch",
    "debug",
    "LibrsyncError",
    "MAX_SPOOL",
    "TRACE_LEVELS",
    "RS_DONE",
    "RS_BLOCKED",
    "RS_JOB_BLOCKSIZE",
    "RS_DEFAULT_STRONG_LEN",
    "RS_DEFAULT_BLOCK_LEN",
    # beyond it
    "Signature",
    "signature_bytes",
    "delta_bytes",
    "patch_bytes",
    "signature_file",
    "delta_file",
    "patch_file",
    "SignatureReader",
    "DeltaReader",
    "PatchReader",
    "SignatureMaker",
    "DeltaMaker",
    "PatchMaker",
    "BadMagicError",
    "CorruptError",
    "TruncatedError",
    "ParameterError",
    "SameFileError",
    "LibrsyncIOError",
    "OutputExistsError",
]

#: Results held in memory before a returned spool file moves to disk.
MAX_SPOOL = 5 * 1024**2

# syslog's levels, spelled out: the syslog module does not exist on Windows.
LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR = 0, 1, 2, 3
LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG = 4, 5, 6, 7
#: The levels :func:`debug` accepts.
TRACE_LEVELS = (
    LOG_EMERG,
    LOG_ALERT,
    LOG_CRIT,
    LOG_ERR,
    LOG_WARNING,
    LOG_NOTICE,
    LOG_INFO,
    LOG_DEBUG,
)

# librsync's rs_result values.
RS_DONE = 0
RS_BLOCKED = 1
RS_RUNNING = 2
RS_TEST_SKIPPED = 77
RS_IO_ERROR = 100
RS_SYNTAX_ERROR = 101
RS_MEM_ERROR = 102
RS_INPUT_ENDED = 103
RS_BAD_MAGIC = 104
RS_UNIMPLEMENTED = 105
RS_CORRUPT = 106
RS_INTERNAL_ERROR = 107
RS_PARAM_ERROR = 108

#: python-librsync's job buffer size (kept for compatibility).
RS_JOB_BLOCKSIZE = 65536
#: python-librsync's constant (its signatures in fact kept the full hash).
RS_DEFAULT_STRONG_LEN = 8
#: The block length :func:`signature` uses by default, as python-librsync did.
RS_DEFAULT_BLOCK_LEN = 2048

_trace_level = LOG_WARNING


def debug(level: int = LOG_DEBUG) -> None:
    """Sets the trace level, one of syslog's levels 0..7 (as python-librsync;
    the engine has no trace output, so the level is only recorded)."""
    global _trace_level
    assert level in TRACE_LEVELS, f"Invalid log level {level!r}"
    _trace_level = level


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=MAX_SPOOL, mode="w+b")


def _check_seekable(f: Any) -> None:
    assert callable(getattr(f, "seek", None)), "Must provide seekable file-like object"


def _check_readable(f: Any) -> None:
    assert callable(getattr(f, "read", None)), "Must provide a readable file-like object"


try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

# open()'s own classes: their read/write/seek are the file's. A subclass or
# a wrapper (gzip.GzipFile has a fileno() too) may change the bytes.
_PLAIN_FILES = (io.FileIO, io.BufferedReader, io.BufferedWriter, io.BufferedRandom)
_FAST = fcntl is not None and sys.platform.startswith("linux")


def _fd(f: Any, write: bool = False) -> Optional[tuple]:
    """``(fd, position)`` of a file object the engine may read (or, with
    ``write``, write) directly: a plain ``open()`` of a regular file on
    Linux, or a temporary file holding one; flushed first. None for anything
    else (BytesIO, pipes, sockets, a spool still in memory...), which is
    then read and written through its methods."""
    if not _FAST:
        return None
    try:
        if isinstance(f, tempfile.SpooledTemporaryFile):
            if not getattr(f, "_rolled", False):
                return None
            f = f._file  # type: ignore[attr-defined]
        elif isinstance(f, getattr(tempfile, "_TemporaryFileWrapper", ())):
            f = f.file
        kind = type(f)
        if kind not in _PLAIN_FILES or f.closed:
            return None
        if kind is not io.FileIO and type(f.raw) is not io.FileIO:
            return None
        fd = f.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        access = flags & os.O_ACCMODE
        if write:
            if access == os.O_RDONLY or flags & os.O_APPEND:
                return None
        elif access == os.O_WRONLY:
            return None
        if write or kind is io.BufferedRandom:
            # Pending writes reach the file; a read buffer is dropped.
            f.flush()
        return fd, f.tell()
    except (AttributeError, OSError, ValueError, TypeError):
        return None


def _settle(f: Any, end: Optional[int]) -> None:
    """Leaves a file object the engine read or wrote directly where the data
    ended, as reading or writing through its methods would have."""
    if end is not None:
        f.seek(end)


def _size(f: Any) -> Optional[int]:
    """A plain file's size, else None (nothing is called on other objects)."""
    spec = _fd(f)
    if spec is None:
        return None
    try:
        return os.fstat(spec[0]).st_size
    except OSError:
        return None


def _remaining(f: Any) -> Optional[int]:
    """Bytes from a seekable file object's position to its end, else None."""
    try:
        seekable = getattr(f, "seekable", None)
        if seekable is not None and not seekable():
            return None
        pos = f.tell()
        end = f.seek(0, io.SEEK_END)
        f.seek(pos)
        if end is None:  # a file-like whose seek returns nothing
            return None
        return max(end - pos, 0)
    except (AttributeError, OSError, ValueError, TypeError):
        return None


def signature(
    f: BinaryIO,
    s: Optional[BinaryIO] = None,
    block_size: int = RS_DEFAULT_BLOCK_LEN,
    *,
    strong_len: int = 0,
    hash: str = "blake2",
    rollsum: str = "rabinkarp",
    jobs: int = 0,
) -> BinaryIO:
    """The signature of the file object ``f`` (the old file, read from its
    position to its end), written to ``s`` (default: a new spooled temporary
    file) and returned rewound to 0.

    With the defaults it is byte-identical to ``rdiff -b 2048 signature``.
    ``block_size=0`` picks rdiff's recommendation for ``f``'s size (2048 if
    unknown); ``strong_len`` 0 keeps the full hash, -1 the recommended
    minimum, N the first N bytes; ``hash`` "blake2" or "md4"; ``rollsum``
    "rabinkarp" or "rollsum" ("md4" with "rollsum" and ``strong_len=8`` is
    what rdiff-backup and duplicity store); ``jobs`` threads (0: one per core).
    """
    _check_readable(f)
    if s is None:
        s = _spool()  # type: ignore[assignment]
    ends = _native.signature_io(
        f,
        s,
        block_size=block_size,
        strong_len=strong_len,
        hash=hash,
        rollsum=rollsum,
        jobs=jobs,
        size=_remaining(f),
        basis_fd=_fd(f),
        out_fd=_fd(s, write=True),
    )
    _settle(f, ends[0])
    _settle(s, ends[1])
    s.seek(0)  # type: ignore[union-attr]
    return s  # type: ignore[return-value]


def delta(
    f: BinaryIO,
    s: Union[BinaryIO, Signature],
    d: Optional[BinaryIO] = None,
    *,
    trailer: bool = True,
) -> BinaryIO:
    """The delta of the file object ``f`` (the new file) against the
    signature ``s`` (a file object holding one, or a loaded
    :class:`Signature`), written to ``d`` (default: a new spooled temporary
    file) and returned rewound to 0. Neither input needs to be seekable.
    ``trailer=False`` leaves out the 45-byte verification trailer: the
    delta is then byte for byte rdiff's."""
    _check_readable(f)
    if d is None:
        d = _spool()  # type: ignore[assignment]
    sig_fd = None if isinstance(s, Signature) else _fd(s)
    ends = _native.delta_io(
        s, f, d, sig_fd=sig_fd, new_fd=_fd(f), out_fd=_fd(d, write=True), trailer=trailer
    )
    _settle(s, ends[0])
    _settle(f, ends[1])
    _settle(d, ends[2])
    d.seek(0)  # type: ignore[union-attr]
    return d  # type: ignore[return-value]


def patch(
    f: BinaryIO, d: BinaryIO, o: Optional[BinaryIO] = None, *, verify: bool = True
) -> BinaryIO:
    """The file object ``f`` (the basis: seekable, read by position)
    patched with the delta ``d``, written to ``o`` (default: a new spooled
    temporary file) and returned rewound to 0. ``f`` without a ``seek``
    method is an ``AssertionError``, as in python-librsync.

    A result that differs from what the delta's trailer records raises
    :class:`CorruptError` (``code`` 106; what was written to ``o`` is not
    the new file); ``verify=False`` skips that check (a delta without a
    trailer, such as rdiff's, is never checked)."""
    _check_seekable(f)
    if o is None:
        o = _spool()  # type: ignore[assignment]
        if (_size(f) or 0) > MAX_SPOOL:
            # The result (about the basis's size) would spill anyway: spill
            # now, so the engine writes the file directly.
            o.rollover()  # type: ignore[union-attr]
    ends = _native.patch_io(
        f, d, o, basis_fd=_fd(f), delta_fd=_fd(d), out_fd=_fd(o, write=True), verify=verify
    )
    _settle(d, ends[0])
    _settle(o, ends[1])
    o.seek(0)  # type: ignore[union-attr]
    return o  # type: ignore[return-value]


class _StreamReader(io.RawIOBase):
    """A read-only raw stream over a native stream."""

    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._checkClosed()  # type: ignore[attr-defined]
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: Optional[int] = -1) -> bytes:
        self._checkClosed()  # type: ignore[attr-defined]
        return self._stream.read(-1 if size is None else size)

    def readall(self) -> bytes:
        self._checkClosed()  # type: ignore[attr-defined]
        return self._stream.read(-1)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


class SignatureReader(_StreamReader):
    """A readable stream of the signature of ``basis`` (a binary file object,
    read as the signature is read; need not be seekable). Options as for
    :func:`signature_bytes`; ``size`` is the basis size when known (it
    decides ``block_size=0``'s length; found by seeking if not given)."""

    def __init__(
        self,
        basis: BinaryIO,
        *,
        block_size: int = 0,
        strong_len: int = 0,
        hash: str = "blake2",
        rollsum: str = "rabinkarp",
        jobs: int = 0,
        size: Optional[int] = None,
    ) -> None:
        if size is None:
            size = _remaining(basis)
        super().__init__(
            _native.signature_stream(
                basis,
                block_size=block_size,
                strong_len=strong_len,
                hash=hash,
                rollsum=rollsum,
                jobs=jobs,
                size=size,
            )
        )


class DeltaReader(_StreamReader):
    """A readable stream of the delta of ``new`` (a binary file object, read
    as the delta is read) against ``signature`` (a :class:`Signature`, or
    anything :meth:`Signature.load` takes). ``trailer=False`` leaves out the
    verification trailer (the stream is then rdiff's delta)."""

    def __init__(self, signature: Any, new: BinaryIO, *, trailer: bool = True) -> None:
        super().__init__(_native.delta_stream(signature, new, trailer=trailer))


class PatchReader(_StreamReader):
    """A readable stream of ``basis`` (a path, a seekable binary file object
    or bytes) patched with ``delta`` (a binary file object, read as the
    result is read). The result is checked against the delta's trailer
    when its end is read: the last read raises :class:`CorruptError` on a
    mismatch (discard what was read); ``verify=False`` skips the check."""

    def __init__(self, basis: Any, delta: BinaryIO, *, verify: bool = True) -> None:
        super().__init__(_native.patch_stream(basis, delta, verify=verify))


class _Maker:
    """Push input with :meth:`update`, end it with :meth:`finish`; each
    returns the output made so far."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def update(self, data: Any) -> bytes:
        """Adds input (any bytes-like object); returns the output made so far."""
        return self._stream.update(data)

    def finish(self) -> bytes:
        """Ends the input; returns the rest of the output. Raises the
        :class:`LibrsyncError` of bad input."""
        return self._stream.finish()

    def close(self) -> None:
        """Abandons the work."""
        self._stream.close()

    def __enter__(self) -> "_Maker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class SignatureMaker(_Maker):
    """Makes a signature of data pushed in pieces. Options as for
    :func:`signature_bytes`; ``size`` (the total, when known) decides
    ``block_size=0``'s length (2048 when unknown)."""

    def __init__(
        self,
        *,
        block_size: int = 0,
        strong_len: int = 0,
        hash: str = "blake2",
        rollsum: str = "rabinkarp",
        jobs: int = 0,
        size: Optional[int] = None,
    ) -> None:
        super().__init__(
            _native.signature_stream(
                None,
                block_size=block_size,
                strong_len=strong_len,
                hash=hash,
                rollsum=rollsum,
                jobs=jobs,
                size=size,
            )
        )


class DeltaMaker(_Maker):
    """Makes the delta of data pushed in pieces against ``signature`` (a
    :class:`Signature`, or anything :meth:`Signature.load` takes).
    ``trailer=False`` leaves out the verification trailer (rdiff's delta)."""

    def __init__(self, signature: Any, *, trailer: bool = True) -> None:
        super().__init__(_native.delta_stream(signature, None, trailer=trailer))


class PatchMaker(_Maker):
    """Patches ``basis`` (a path, a seekable binary file object or bytes)
    with a delta pushed in pieces. The result is checked against the
    delta's trailer: :meth:`finish` (or the :meth:`update` that reaches the
    end) raises :class:`CorruptError` on a mismatch (discard what was
    returned); ``verify=False`` skips the check."""

    def __init__(self, basis: Any, *, verify: bool = True) -> None:
        super().__init__(_native.patch_stream(basis, None, verify=verify))
