"""Fixtures of the WSI tests: the two real slides from the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def cmu_slide(shared_data: Path) -> Path:
    path = shared_data / "slides" / "cmu-1-small-region.svs"
    assert path.is_file(), f"missing real slide {path}"
    return path


@pytest.fixture(scope="session")
def tcga_slide(shared_data: Path) -> Path:
    path = shared_data / "slides" / "tcga-cr-7395-01a-01-ts1.svs"
    assert path.is_file(), f"missing real slide {path}"
    return path
