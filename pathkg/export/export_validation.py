"""`pathkg export validate DIR`: re-check an export before anyone trains on it."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from pathkg.export.corpus_export import CONFIG_FOLDERS, sha256_file
from pathkg.export.dataset_card import read_front_matter
from pathkg.export.views import RL_FEATURES, SFT_FEATURES, default_features
from pathkg.rewards.chain_format import parse_chain

EXPECTED_FEATURES = {"default": default_features, "sft": lambda: SFT_FEATURES, "rl": lambda: RL_FEATURES}


def validate_export(export_dir: Path) -> list[str]:
    """Every problem found, as a sentence naming the file (and row) concerned; empty means valid."""
    export_dir = Path(export_dir)
    problems: list[str] = []
    card_path = export_dir / "README.md"
    if not card_path.exists():
        return [f"{card_path}: missing dataset card"]
    try:
        front = read_front_matter(card_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{card_path}: {exc}"]

    sums_path = export_dir / "checksums.json"
    if not sums_path.exists():
        problems.append(f"{sums_path}: missing")
    else:
        for rel, digest in json.loads(sums_path.read_text()).items():
            path = export_dir / rel
            if not path.exists():
                problems.append(f"{rel}: listed in checksums.json but missing")
            elif sha256_file(path) != digest:
                problems.append(f"{rel}: checksum mismatch (file changed after export)")

    declared = {c["config_name"]: c for c in front.get("dataset_info", [])}
    patient_split: dict[str, str] = {}
    for config, folder in CONFIG_FOLDERS.items():
        expected = EXPECTED_FEATURES[config]().arrow_schema.remove_metadata()
        splits = {s["name"]: s["num_examples"] for s in declared.get(config, {}).get("splits", [])}
        if config not in declared:
            problems.append(f"README.md: config {config!r} is not declared")
        for split, n_declared in splits.items():
            files = sorted((export_dir / folder).glob(f"{split}-*.parquet"))
            n_rows = 0
            for f in files:
                pf = pq.ParquetFile(f)
                if not pf.schema_arrow.remove_metadata().equals(expected):
                    problems.append(f"{folder}/{f.name}: schema differs from the {config} features")
                    continue
                n_rows += pf.metadata.num_rows
                if config == "default":
                    problems.extend(_check_rows(f, folder, split, patient_split))
            if n_rows != n_declared:
                problems.append(f"{config}/{split}: {n_rows} rows, the card says {n_declared}")
    return problems


def _check_rows(path: Path, folder: str, split: str, patient_split: dict[str, str]) -> list[str]:
    problems = []
    table = pq.read_table(path, columns=["sample_id", "patient_id", "split", "response", "provenance", "verification"])
    for i, row in enumerate(table.to_pylist()):
        where = f"{folder}/{path.name} row {i} (sample {row['sample_id']})"
        seen = patient_split.setdefault(row["patient_id"], split)
        if seen != split:
            problems.append(f"{where}: patient {row['patient_id']} is in both {seen} and {split}")
        if row["split"] != split:
            problems.append(f"{where}: split column says {row['split']}, file is {split}")
        if parse_chain(row["response"]) is None:
            problems.append(f"{where}: response fails the observe/think/answer format")
        prov = row["provenance"] or {}
        for key in ("report_sha256", "kg_version", "generator_backend", "prompt_version", "run_id"):
            if not prov.get(key):
                problems.append(f"{where}: provenance has no {key}")
        if not row["verification"] or not row["verification"].get("status"):
            problems.append(f"{where}: no verification record")
    return problems
