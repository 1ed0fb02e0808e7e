"""Read manifest rows from CSV, JSONL or Parquet, one row at a time, naming each row's origin.

A row that cannot be read (wrong column count, a line that is not JSON) is yielded as a
`ManifestRow` with an error instead of stopping the whole file: the ingest stage records it
as that row's failure and goes on with the rest.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

csv.field_size_limit(sys.maxsize)  # real reports run to tens of kilobytes in one cell


class ManifestError(ValueError):
    """The manifest as a whole cannot be read (missing file, unknown format)."""


@dataclass
class ManifestRow:
    origin: str  # "reports.csv:12" (CSV/JSONL line or Parquet row)
    values: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def detect_format(path: Path) -> str:
    suffix = "".join(path.suffixes[-2:]).lower()
    for fmt, endings in {
        "csv": (".csv", ".tsv"),
        "jsonl": (".jsonl", ".ndjson", ".json"),
        "parquet": (".parquet",),
    }.items():
        if any(suffix.endswith(e) for e in endings):
            return fmt
    raise ManifestError(f"{path}: cannot tell the manifest format from its name (use .csv, .jsonl or .parquet)")


def read_manifest(path: Path, fmt: str = "auto") -> Iterator[ManifestRow]:
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest {path} does not exist")
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt == "csv":
        yield from _read_csv(path)
    elif fmt == "jsonl":
        yield from _read_jsonl(path)
    elif fmt == "parquet":
        yield from _read_parquet(path)
    else:
        raise ManifestError(f"{path}: unknown manifest format {fmt!r}")


def _read_csv(path: Path) -> Iterator[ManifestRow]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise ManifestError(f"{path}: empty manifest (no header row)") from None
        header = [h.strip() for h in header]
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield ManifestRow(f"{path.name}:{reader.line_num}", error=f"unreadable CSV row: {exc}")
                continue
            origin = f"{path.name}:{reader.line_num}"
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                yield ManifestRow(origin, error=f"row has {len(cells)} columns, the header has {len(header)}")
                continue
            yield ManifestRow(origin, dict(zip(header, cells, strict=True)))


def _read_jsonl(path: Path) -> Iterator[ManifestRow]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            origin = f"{path.name}:{lineno}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield ManifestRow(origin, error=f"line is not valid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                yield ManifestRow(origin, error=f"line holds a JSON {type(obj).__name__}, expected an object")
                continue
            yield ManifestRow(origin, obj)


def _read_parquet(path: Path) -> Iterator[ManifestRow]:
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise ManifestError(f"{path}: not a readable Parquet file: {exc}") from exc
    index = 0
    for batch in pf.iter_batches(batch_size=1024):
        for row in batch.to_pylist():
            index += 1
            yield ManifestRow(f"{path.name}:row {index}", row)
