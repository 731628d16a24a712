"""The contents of bytes-like arguments under the limited C API of Python
3.9, which has no buffer protocol: ``bytes`` are read in place, other
buffers are copied once. Used by the native module only."""

from __future__ import annotations

from typing import Any


def contents(obj: Any) -> bytes:
    """The bytes of a bytes-like object: the ``bytes`` object itself when a
    view spans one whole (its memory cannot change), else a copy made once,
    which no other thread can write into while the engine reads it."""
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError(
            f"a bytes-like object is required, not {type(obj).__name__!r}"
        ) from None
    with view:
        base = view.obj
        if isinstance(base, bytes) and view.c_contiguous and view.nbytes == len(base):
            return base
        return view.tobytes()
