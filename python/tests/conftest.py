import os
import shutil

import pytest


def random_bytes(n: int, seed: int = 1) -> bytes:
    """Deterministic pseudo-random bytes (fast for MiBs)."""
    import random

    return random.Random(seed).randbytes(n) if hasattr(random.Random, "randbytes") else os.urandom(n)


@pytest.fixture
def rdiff():
    path = shutil.which("rdiff")
    if path is None:
        pytest.skip("rdiff is not installed")
    return path


@pytest.fixture
def cli():
    """The rsync-tool command: $RSYNC_TOOL, else on PATH."""
    path = os.environ.get("RSYNC_TOOL") or shutil.which("rsync-tool")
    if path is None:
        pytest.skip("rsync-tool is not installed (set RSYNC_TOOL to the binary)")
    return path
