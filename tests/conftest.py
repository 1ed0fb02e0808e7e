"""Shared fixtures. Real data comes from ../shared/data (or $PATHKG_DATA); a missing copy fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = Path(os.environ.get("PATHKG_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()
    assert path.is_dir(), f"the shared real data is missing at {path} (set PATHKG_DATA)"
    return path
