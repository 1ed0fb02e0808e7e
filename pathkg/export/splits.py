"""Patient-level splits: deterministic, and no patient ever in two splits."""

from __future__ import annotations

import hashlib

SPLITS = ("train", "validation", "test")


def split_for_patient(patient_id: str, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), salt: str = "") -> str:
    """The split of a patient, from a hash of its id: stable across runs, machines and corpus sizes."""
    if abs(sum(fractions) - 1.0) > 1e-9 or any(f < 0 for f in fractions):
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {fractions}")
    digest = hashlib.sha256(f"{salt}{patient_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64
    edge = 0.0
    for name, fraction in zip(SPLITS, fractions, strict=True):
        edge += fraction
        if point < edge:
            return name
    return SPLITS[-1]
