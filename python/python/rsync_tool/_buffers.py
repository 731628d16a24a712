"""Borrowing buffers without copying under the limited C API of Python 3.9,
which has no buffer protocol: ctypes pins a writable buffer and tells its
address. Used by the native module only."""

from __future__ import annotations

from typing import Any, Tuple, Union

try:
    import ctypes
except ImportError:  # pragma: no cover - interpreters built without ctypes
    ctypes = None  # type: ignore[assignment]


def pin(obj: Any) -> Union[bytes, Tuple[int, int, Any]]:
    """``(address, length, keep_alive)`` for a writable contiguous buffer,
    else the object's bytes (one copy)."""
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError(
            f"a bytes-like object is required, not {type(obj).__name__!r}"
        ) from None
    if ctypes is not None and not view.readonly and view.c_contiguous and view.nbytes:
        array = (ctypes.c_char * view.nbytes).from_buffer(view)
        return ctypes.addressof(array), view.nbytes, array
    return view.tobytes()
