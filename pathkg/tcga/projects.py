"""Patient -> TCGA project code, from a `patient_id,cancer_type` table (e.g. the shared CSV)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path


def project_code(value: str) -> str:
    """`BRCA` or `tcga-brca` -> `TCGA-BRCA`."""
    code = value.strip().upper()
    return code if code.startswith("TCGA-") else f"TCGA-{code}"


@cache
def load_patient_projects(path: Path) -> dict[str, str]:
    """Read the table once per process; raise ValueError naming the file when its header is wrong."""
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or not {"patient_id", "cancer_type"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: expected columns patient_id,cancer_type; found {reader.fieldnames}")
        return {
            row["patient_id"].strip().upper(): project_code(row["cancer_type"])
            for row in reader
            if row.get("patient_id") and row.get("cancer_type")
        }
