from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
ASTRONAUT = SHARED / "samples" / "astronaut"


@pytest.fixture(scope="session")
def astronaut_dir() -> Path:
    if not (ASTRONAUT / "depth.npz").exists():
        pytest.skip("../shared/samples/astronaut is not present next to the repository")
    return ASTRONAUT
