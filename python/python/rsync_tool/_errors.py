"""Exception classes. Each engine error is a :class:`LibrsyncError` whose
``code`` is rdiff's exit status for it (librsync's ``rs_result``)."""

from __future__ import annotations

from typing import Optional

__all__ = [
    "LibrsyncError",
    "BadMagicError",
    "CorruptError",
    "TruncatedError",
    "ParameterError",
    "SameFileError",
    "LibrsyncIOError",
    "OutputExistsError",
]


class LibrsyncError(Exception):
    """A signature, delta or patch failed. ``code`` is rdiff's exit status
    (100..108); ``str(err)`` says what went wrong and, for path functions,
    about which file."""

    code: int

    def __init__(self, message: object = "", code: Optional[int] = None) -> None:
        # python-librsync built its error from an rs_result number alone.
        if code is None and isinstance(message, int):
            code, message = message, f"librsync error {message}"
        super().__init__(message)
        self.code = 107 if code is None else code

    def __reduce__(self):  # keeps the code through pickling
        return (type(self), (str(self), self.code))


class BadMagicError(LibrsyncError):
    """Not a signature, or not a delta (status 104)."""


class CorruptError(LibrsyncError):
    """A corrupt signature or delta, or a result that differs from what the
    delta's verification trailer records (NEW's length and BLAKE3: the basis
    is probably not the one the signature was made from, or the delta is
    damaged) or from the expected SHA-256 (status 106)."""


class TruncatedError(LibrsyncError):
    """A signature or delta that ends early, or a delta that copies past the
    end of the basis (status 103)."""


class ParameterError(LibrsyncError, ValueError):
    """A bad option value, such as a strong length longer than the hash
    (status 108, or 101 for an unknown name)."""


class SameFileError(ParameterError):
    """Two paths of one path-function call are the same file (compared by
    device and inode, or for an output that does not exist yet by where it
    would be written), such as ``delta_file(sig, new, new)``; raised before
    anything is read or written, as the CLI's usage error (status 101).
    ``patch_file(b, d, b, force=True)`` (the result replacing the basis) is
    allowed."""


class LibrsyncIOError(LibrsyncError, OSError):
    """Reading or writing a file failed (status 100). ``errno`` and
    ``filename`` are set when the system gave an error number."""

    def __init__(self, message: object = "", code: Optional[int] = 100) -> None:
        LibrsyncError.__init__(self, message, code)


class OutputExistsError(LibrsyncIOError, FileExistsError):
    """The output path exists and ``force`` was not given (status 100); the
    existing file is untouched."""
