"""Data shipped with the package: the bundled sample (`sample/`: customers, mentions, the demo's brands.yml)."""
from __future__ import annotations

from pathlib import Path


def sample_dir() -> Path:
    """The folder of the bundled sample files."""
    return Path(__file__).resolve().parent / "sample"
