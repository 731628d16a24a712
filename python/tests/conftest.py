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
