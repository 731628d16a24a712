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
    """A corrupt signature or delta, or a result whose SHA-256 differs from
    the expected one (status 106)."""


class TruncatedError(LibrsyncError):
    """A signature or delta that ends early, or a delta that copies past the
    end of the basis (status 103)."""


class ParameterError(LibrsyncError, ValueError):
    """A bad option value, such as a strong length longer than the hash
    (status 108, or 101 for an unknown name)."""


class LibrsyncIOError(LibrsyncError, OSError):
    """Reading or writing a file failed (status 100). ``errno`` and
    ``filename`` are set when the system gave an error number."""

    def __init__(self, message: object = "", code: Optional[int] = 100) -> None:
        LibrsyncError.__init__(self, message, code)


class OutputExistsError(LibrsyncIOError, FileExistsError):
    """The output path exists and ``force`` was not given (status 100); the
    existing file is untouched."""
