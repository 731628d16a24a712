"""rsync_tool's compiled engine. Every call releases the GIL while it works;
Ctrl-C stops a long call with ``KeyboardInterrupt``.

Bytes-like arguments: bytes are read in place; other buffers (``bytearray``,
``mmap``, ``array``, NumPy arrays, views of them) are copied once, when the
call begins, so that another thread changing one during the call does not
affect it. Errors are
:class:`rsync_tool.LibrsyncError` subclasses with rdiff's status as ``code``;
an exception raised by a file object you pass comes out unchanged.
"""

import os
from typing import Any, Optional, Protocol, Tuple, Union

from typing_extensions import Buffer

StrPath = Union[str, "os.PathLike[str]"]

__version__: str

class _Reader(Protocol):
    def read(self, size: int, /) -> bytes: ...

class _Writer(Protocol):
    def write(self, data: bytes, /) -> Optional[int]: ...

class Signature:
    """A signature loaded into memory, ready to make many deltas against.
    One delta runs at a time on one signature (others wait)."""

    @staticmethod
    def load(source: Union[StrPath, _Reader, Buffer]) -> "Signature":
        """Loads a signature from a path, a binary file object (read to its
        end) or a bytes-like object. Raises ``BadMagicError`` for something
        that is not a signature, ``TruncatedError``/``CorruptError`` for a
        damaged one."""

    def delta(
        self, new: Union[_Reader, Buffer], out: Optional[_Writer] = None, *, trailer: bool = True
    ) -> Optional[bytes]:
        """The delta of ``new`` (a binary file object, read to its end, or a
        bytes-like object) against this signature: written to ``out`` and
        None returned, or returned as bytes when ``out`` is None.
        ``trailer=False`` leaves out the 45-byte verification trailer after
        END (NEW's length and BLAKE3): the delta is then byte for byte
        rdiff's, for readers that reject bytes after END."""

    @property
    def block_size(self) -> int:
        """Bytes per block."""
    @property
    def strong_len(self) -> int:
        """Bytes of each block's strong sum."""
    @property
    def hash(self) -> str:
        """The strong hash: "blake2" or "md4"."""
    @property
    def rollsum(self) -> str:
        """The weak rolling sum: "rabinkarp" or "rollsum"."""
    @property
    def magic(self) -> int:
        """The signature's magic number (0x72730147 for RabinKarp + BLAKE2b)."""
    @property
    def block_count(self) -> int:
        """Blocks of the basis the signature describes."""
    def __len__(self) -> int:
        """Same as ``block_count``."""

def signature_bytes(
    data: Buffer,
    *,
    block_size: int = 0,
    strong_len: int = 0,
    hash: str = "blake2",
    rollsum: str = "rabinkarp",
    jobs: int = 0,
) -> bytes:
    """The signature of ``data``. ``block_size`` 0 is rdiff's recommendation
    for ``len(data)`` (so the result equals ``rdiff signature``'s on a file
    of these bytes); ``strong_len`` 0 is the full hash, -1 the recommended
    minimum, N the first N bytes; ``hash`` "blake2" or "md4"; ``rollsum``
    "rabinkarp" or "rollsum"; ``jobs`` threads (0: one per core; the
    result is the same for any). Bad values raise ``ParameterError``."""

def delta_bytes(signature: Union[Signature, Buffer], new: Buffer, *, trailer: bool = True) -> bytes:
    """The delta of ``new`` against ``signature`` (a loaded Signature or the
    bytes of one), ending with the verification trailer (45 bytes after
    END: NEW's length and BLAKE3; rdiff ignores it). ``trailer=False``
    leaves it out: the delta is then byte for byte rdiff's."""

def patch_bytes(basis: Buffer, delta: Buffer, *, verify: bool = True) -> bytes:
    """``basis`` patched with ``delta``. A result that differs from what the
    delta's trailer records raises ``CorruptError`` (``code`` 106: the
    basis is probably not the one the signature was made from, or the
    delta is damaged); ``verify=False`` skips the check and returns what
    the commands make, as rdiff would. A delta without a trailer is not
    checked."""

def signature_io(
    basis: _Reader,
    out: _Writer,
    *,
    block_size: int = 0,
    strong_len: int = 0,
    hash: str = "blake2",
    rollsum: str = "rabinkarp",
    jobs: int = 0,
    size: Optional[int] = None,
    basis_fd: Optional[Tuple[int, int]] = None,
    out_fd: Optional[Tuple[int, int]] = None,
) -> Tuple[Optional[int], Optional[int]]:
    """Writes the signature of the file object ``basis`` into ``out``;
    ``size`` is the basis size when known (for ``block_size=0``). ``*_fd``:
    ``(fd, position)`` of an object that is a plain regular file, read or
    written directly; returns where each of those ended (else None)."""

def delta_io(
    signature: Union[Signature, _Reader],
    new: _Reader,
    out: _Writer,
    *,
    sig_fd: Optional[Tuple[int, int]] = None,
    new_fd: Optional[Tuple[int, int]] = None,
    out_fd: Optional[Tuple[int, int]] = None,
    trailer: bool = True,
) -> Tuple[Optional[int], Optional[int], Optional[int]]:
    """Writes the delta of the file object ``new`` against ``signature``
    into ``out``; ``*_fd`` and the result as for :func:`signature_io`;
    ``trailer`` as for :func:`delta_bytes`."""

def patch_io(
    basis: Any,
    delta: _Reader,
    out: _Writer,
    *,
    basis_fd: Optional[Tuple[int, int]] = None,
    delta_fd: Optional[Tuple[int, int]] = None,
    out_fd: Optional[Tuple[int, int]] = None,
    verify: bool = True,
) -> Tuple[Optional[int], Optional[int]]:
    """Writes ``basis`` (a seekable binary file object) patched with
    ``delta`` into ``out``; ``*_fd`` as for :func:`signature_io` (all three
    files: the CLI's splice path); ``verify`` as for :func:`patch_bytes`;
    returns the end of ``delta`` and ``out``."""

def load_signature(source: Union[StrPath, _Reader, Buffer]) -> Signature:
    """Same as :meth:`Signature.load`."""

def signature_file(
    basis: StrPath,
    signature: StrPath,
    *,
    force: bool = False,
    block_size: int = 0,
    strong_len: int = 0,
    hash: str = "blake2",
    rollsum: str = "rabinkarp",
    jobs: int = 0,
) -> None:
    """Writes the signature of the file ``basis`` to the file ``signature``,
    as ``rsync-tool signature`` does: through a temporary file renamed into
    place on success, never over an existing file unless ``force`` (then
    keeping its permissions). Options as for :func:`signature_bytes`.
    ``OutputExistsError`` if the output exists; ``SameFileError`` (a
    ``ParameterError``, status 101) if it is ``basis``."""

def delta_file(
    signature: Union[StrPath, Signature],
    new: StrPath,
    delta: StrPath,
    *,
    force: bool = False,
    jobs: int = 0,
    sha256_file: Optional[StrPath] = None,
    trailer: bool = True,
) -> None:
    """Writes the delta of the file ``new`` against ``signature`` (a path or
    a loaded Signature) to the file ``delta``, searching on ``jobs``
    threads (0: one per core), with atomic outputs as
    :func:`signature_file`. ``sha256_file`` also writes ``new``'s SHA-256
    there in ``sha256sum`` format, for ``patch_file(expect_sha256=...)``.
    ``trailer`` as for :func:`delta_bytes` (``rsync-tool delta
    --no-trailer``). An output that is an input (``signature`` or
    ``new``) or the other output raises ``SameFileError`` before any
    work."""

def patch_file(
    basis: StrPath,
    delta: StrPath,
    out: StrPath,
    *,
    force: bool = False,
    expect_sha256: Optional[str] = None,
    verify: bool = True,
) -> None:
    """Writes the file ``basis`` patched with the file ``delta`` to the file
    ``out`` (which may be ``basis`` itself, with ``force``; ``out`` being
    ``delta`` raises ``SameFileError`` before any work), with atomic
    outputs and the CLI's splice(2) fast path. A result that differs from
    the delta's trailer raises ``CorruptError`` (``code`` 106) and nothing
    is written (an existing ``out`` is untouched); ``verify=False`` skips
    that check (``rsync-tool patch --no-verify``). ``expect_sha256`` (64
    hex digits): a result with another SHA-256 raises ``CorruptError`` and
    nothing is written."""

class Stream:
    """A signature, delta or patch made on a worker thread as its input is
    pushed or read; memory stays bounded."""

    def update(self, data: Buffer) -> bytes:
        """Pushes input; returns the output made so far."""
    def finish(self) -> bytes:
        """Ends the input; returns the rest of the output."""
    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of output (all for -1); b"" at the end."""
    def close(self) -> None:
        """Abandons the work."""

def signature_stream(
    source: Optional[_Reader] = None,
    *,
    block_size: int = 0,
    strong_len: int = 0,
    hash: str = "blake2",
    rollsum: str = "rabinkarp",
    jobs: int = 0,
    size: Optional[int] = None,
) -> Stream:
    """A stream making the signature of ``source`` (or of pushed data)."""

def delta_stream(
    signature: Union[Signature, StrPath, _Reader, Buffer],
    source: Optional[_Reader] = None,
    *,
    trailer: bool = True,
) -> Stream:
    """A stream making the delta of ``source`` (or of pushed data);
    ``trailer`` as for :func:`delta_bytes`."""

def patch_stream(
    basis: Union[StrPath, Any, Buffer], source: Optional[_Reader] = None, *, verify: bool = True
) -> Stream:
    """A stream patching ``basis`` with the delta ``source`` (or pushed
    data); ``verify`` as for :func:`patch_bytes`, checked at the end of the
    output (the error comes with its last piece)."""
