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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pathkg.export.dataset_card import render_card
from pathkg.export.shard_writer import ShardWriter
from pathkg.export.splits import split_for_patient
from pathkg.export.views import RL_FEATURES, SFT_FEATURES, default_features, rl_view, sft_view
from schemas.arrow import arrow_schema, to_arrow_row
from schemas.sample import Sample

CONFIG_FOLDERS = {"default": "data", "sft": "sft", "rl": "rl"}
#: Images read and held at once, at most (ROI samples carry several tiles each), and rows.
IMAGES_AT_ONCE = 256
ROWS_AT_ONCE = 2048


class ExportError(ValueError):
    pass


@dataclass
class ExportResult:
    out_dir: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    patients: int = 0
    bytes_written: int = 0


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sample_batches(samples: Iterable[Sample], size: int = 512) -> Iterator[pa.Table]:
    """Samples as Arrow tables of `Sample` rows, `size` rows each."""
    schema = arrow_schema(Sample)
    rows: list[dict[str, Any]] = []
    for sample in samples:
        rows.append(to_arrow_row(sample))
        if len(rows) >= size:
            yield pa.Table.from_pylist(rows, schema=schema)
            rows = []
    if rows:
        yield pa.Table.from_pylist(rows, schema=schema)


def export_corpus(
    samples: Iterable[Sample],
    out_dir: Path,
    images_root: Path,
    *,
    max_shard_bytes: int = 256 * 2**20,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    info: dict[str, Any] | None = None,
) -> ExportResult:
    """Export `Sample` records (see `export_batches`)."""
    return export_batches(
        sample_batches(samples), out_dir, images_root, max_shard_bytes=max_shard_bytes, fractions=fractions, info=info
    )


class _Columns:
    """The columns of a batch of `Sample` rows that the views are built from, as Python lists."""

    def __init__(self, batch: pa.Table, images_root: Path):
        self.sample_ids = batch["sample_id"].to_pylist()
        self.patients = batch["patient_id"].to_pylist()
        self.questions = batch["question"].to_pylist()
        self.responses = batch["response"].to_pylist()
        self.answers = batch["answer"].to_pylist()
        self.question_types = batch["question_type"].to_pylist()
        self.images = self._images(batch, images_root)
        self.entity_ids = self._reference_entity_ids(batch)

    def _images(self, batch: pa.Table, images_root: Path) -> list[list[dict[str, Any]]]:
        """Each row's image files, read: [{"bytes", "path"}] (the export is self-contained)."""
        refs = batch["images"].combine_chunks()
        paths = pc.struct_field(pc.list_flatten(refs), "path").to_pylist()
        bounds = _bounds(refs)
        cases = batch["case_id"].to_pylist()
        out = []
        for row, (lo, hi) in enumerate(bounds):
            values = []
            for ref in paths[lo:hi]:
                path = images_root / ref
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    raise ExportError(
                        f"sample {self.sample_ids[row]} (case {cases[row]}): image {path}: {exc}"
                    ) from exc
                values.append({"bytes": data, "path": Path(ref).name})
            out.append(values)
        return out

    @staticmethod
    def _reference_entity_ids(batch: pa.Table) -> list[list[str]]:
        """Per row, `views.reference_entity_ids`: asserted (not negated) entity ids, findings first, once each."""
        columns = []
        for name in ("description_entities", "diagnosis_entities"):
            lists = batch[name].combine_chunks()
            flat = pc.list_flatten(lists)
            columns.append(
                (
                    _bounds(lists),
                    pc.struct_field(flat, "kg_id").to_pylist(),
                    pc.struct_field(flat, "negated").to_pylist(),
                )
            )
        out = []
        for row in range(batch.num_rows):
            ids = []
            for bounds, kg_ids, negated in columns:
                lo, hi = bounds[row]
                ids += [kg_ids[i] for i in range(lo, hi) if not negated[i]]
            out.append(list(dict.fromkeys(ids)))
        return out

    def approx_bytes(self, row: int) -> int:
        """What a row weighs for shard boundaries: its images, its chain and question, and a fixed overhead."""
        images = sum(len(i["bytes"]) for i in self.images[row])
        return images + len(self.responses[row]) + len(self.questions[row]) + 2048

    def sft_rows(self) -> list[dict[str, Any]]:
        return [
            sft_view(self.sample_ids[i], self.patients[i], self.questions[i], self.responses[i], self.images[i])
            for i in range(len(self.sample_ids))
        ]

    def rl_rows(self) -> list[dict[str, Any]]:
        return [
            rl_view(
                self.sample_ids[i],
                self.patients[i],
                self.questions[i],
                self.images[i],
                self.answers[i],
                self.question_types[i],
                self.entity_ids[i],
            )
            for i in range(len(self.sample_ids))
        ]


def _pieces(batch: pa.Table) -> Iterator[pa.Table]:
    """The batch in consecutive slices of at most IMAGES_AT_ONCE images (a row is never split) and
    ROWS_AT_ONCE rows, so memory stays bounded however many tiles a batch's samples carry."""
    images = pc.fill_null(pc.list_value_length(batch["images"]), 0).to_numpy(zero_copy_only=False).tolist()
    start, held = 0, 0
    for row, n in enumerate(images):
        if row > start and (held + n > IMAGES_AT_ONCE or row - start >= ROWS_AT_ONCE):
            yield batch.slice(start, row - start)
            start, held = row, 0
        held += n
    if start < batch.num_rows:
        yield batch.slice(start)


def _bounds(lists: pa.Array) -> list[tuple[int, int]]:
    """(start, end) of each row's items in the flattened list array (a null list has none)."""
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    ends = np.cumsum(lengths)
    return list(zip((ends - lengths).tolist(), ends.tolist(), strict=True))


def export_batches(
    batches: Iterable[pa.Table],
    out_dir: Path,
    images_root: Path,
    *,
    max_shard_bytes: int = 256 * 2**20,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    info: dict[str, Any] | None = None,
) -> ExportResult:
    """Write batches of `Sample` rows (Arrow tables in the contract's schema) as the three configs.

    Each sample gets its patient's split; images are read from `images_root` and embedded. Rows stay
    in Arrow: only the few columns the training views are built from become Python values.
    """
    out_dir = Path(out_dir)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:8]}"
    features = default_features()
    writers = {
        "default": ShardWriter(tmp / "data", features, max_shard_bytes),
        "sft": ShardWriter(tmp / "sft", SFT_FEATURES, max_shard_bytes),
        "rl": ShardWriter(tmp / "rl", RL_FEATURES, max_shard_bytes),
    }
    default_schema = features.arrow_schema
    patients: dict[str, str] = {}
    try:
        for batch in (piece for b in batches for piece in _pieces(b)):
            cols = _Columns(batch, images_root)
            for patient in cols.patients:
                if patient not in patients:
                    patients[patient] = split_for_patient(patient, fractions)
            splits = [patients[p] for p in cols.patients]
            default = batch.set_column(
                batch.schema.get_field_index("split"), "split", pa.array(splits, pa.string())
            ).set_column(
                batch.schema.get_field_index("images"),
                "images",
                pa.array(cols.images, default_schema.field("images").type),
            )
            default = default.append_column("image_meta", batch["images"]).select(default_schema.names)
            views = {
                "default": default.cast(default_schema),
                "sft": pa.Table.from_pylist(cols.sft_rows(), schema=SFT_FEATURES.arrow_schema),
                "rl": pa.Table.from_pylist(cols.rl_rows(), schema=RL_FEATURES.arrow_schema),
            }
            sizes = [cols.approx_bytes(i) for i in range(batch.num_rows)]
            for split in dict.fromkeys(splits):
                rows = [i for i, s in enumerate(splits) if s == split]
                take = pa.array(rows, pa.int64())
                for name, writer in writers.items():
                    writer.add_table(split, views[name].take(take), [sizes[i] for i in rows])
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
