"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest

N2P2_DIR = Path(
    os.environ.get("NNP_REF_N2P2_DIR", Path(__file__).resolve().parents[2] / "shared" / "n2p2")
)


def _n2p2_dir() -> Path:
    if not (N2P2_DIR / "README.md").is_file():
        pytest.skip(
            f"n2p2 reference files not found at {N2P2_DIR} "
            "(they live in ../shared/n2p2 next to the repository; set NNP_REF_N2P2_DIR)"
        )
    return N2P2_DIR


@pytest.fixture
def n2p2_dir() -> Path:
    """The n2p2 reference files (../shared/n2p2 next to the repository), or skip."""
    return _n2p2_dir()


@pytest.fixture(scope="module")
def n2p2_dir_module() -> Path:
    """As ``n2p2_dir``, for module-scoped fixtures."""
    return _n2p2_dir()
