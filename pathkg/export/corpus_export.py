"""Write a run's samples as a Hugging Face dataset folder, atomically.

    export/
      README.md            dataset card (configs, features, splits, counts, licence, provenance)
      data/{split}-00000-of-0000N.parquet     default config
      sft/…  rl/…          the training views
      checksums.json       sha256 of every file above

The folder is built beside the target and swapped in at the end, so readers never see half an
export. Images are embedded as bytes (the export is self-contained).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pathkg.export.dataset_card import render_card
from pathkg.export.shard_writer import ShardWriter
from pathkg.export.splits import split_for_patient
from pathkg.export.views import RL_FEATURES, SFT_FEATURES, default_features, rl_row, sft_row
from schemas.arrow import to_arrow_row
from schemas.sample import Sample

CONFIG_FOLDERS = {"default": "data", "sft": "sft", "rl": "rl"}


class ExportError(ValueError):
    pass


@dataclass
class ExportResult:
    out_dir: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    patients: int = 0
    bytes_written: int = 0


def _image_values(sample: Sample, images_root: Path) -> list[dict[str, Any]]:
    values = []
    for ref in sample.images:
        path = images_root / ref.path
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ExportError(f"sample {sample.sample_id} (case {sample.case_id}): image {path}: {exc}") from exc
        values.append({"bytes": data, "path": Path(ref.path).name})
    return values


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def export_corpus(
    samples: Iterable[Sample],
    out_dir: Path,
    images_root: Path,
    *,
    max_shard_bytes: int = 256 * 2**20,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    info: dict[str, Any] | None = None,
) -> ExportResult:
    out_dir = Path(out_dir)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    features = default_features()
    writers = {
        "default": ShardWriter(tmp / "data", features, max_shard_bytes),
        "sft": ShardWriter(tmp / "sft", SFT_FEATURES, max_shard_bytes),
        "rl": ShardWriter(tmp / "rl", RL_FEATURES, max_shard_bytes),
    }
    patients: dict[str, str] = {}
    try:
        for sample in samples:
            split = split_for_patient(sample.patient_id, fractions)
            patients[sample.patient_id] = split
            sample = sample.model_copy(update={"split": split})
            images = _image_values(sample, images_root)
            size = sum(len(i["bytes"]) for i in images) + len(sample.response) + len(sample.question) + 2048
            row = to_arrow_row(sample)
            row["images"] = images
            row["image_meta"] = [ref.model_dump() for ref in sample.images]
            writers["default"].add(split, row, size)
            writers["sft"].add(split, sft_row(sample, images), size)
            writers["rl"].add(split, rl_row(sample, images), size)
        files = {name: w.finish() for name, w in writers.items()}
        counts = {name: dict(sorted(w.rows_written.items())) for name, w in writers.items()}
        card = render_card(
            {name: (CONFIG_FOLDERS[name], w.features) for name, w in writers.items()},
            counts,
            info or {},
        )
        (tmp / "README.md").write_text(card, encoding="utf-8")
        checksums = {
            str(p.relative_to(tmp)): sha256_file(p)
            for paths in files.values()
            for split_files in paths.values()
            for p in split_files
        }
        checksums["README.md"] = sha256_file(tmp / "README.md")
        (tmp / "checksums.json").write_text(json.dumps(checksums, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        total = sum(f.stat().st_size for f in tmp.rglob("*") if f.is_file())
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return ExportResult(out_dir, counts, len(patients), total)


def _swap_in(tmp: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{uuid.uuid4().hex[:8]}"
        out_dir.rename(old)
    tmp.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
