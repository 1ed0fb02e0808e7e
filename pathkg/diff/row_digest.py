"""Content digests of stage output rows that are comparable across runs.

Two runs of the same inputs differ in what only names the run: `run_id` fields, and absolute paths
inside the run directory (a KG store, a thumbnail). Those are normalised away (`run_id` dropped, the
run directory replaced by `<run>`), so equal digests mean equal content wherever the runs live.
Rows are read part by part with pyarrow; each field of a batch becomes one text per row column-wise
in Arrow (`_texts`), and only those texts are hashed in Python; nothing holds a whole stage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.store import CASE_COL, KEY_COL, LedgerEntry

#: Fields that name the run rather than the content.
VOLATILE_FIELDS = frozenset({"run_id"})
BATCH_ROWS = 2048


class RowNormaliser:
    """Rewrites paths inside the run directories to `<run>/…` (run-naming fields are dropped by `_texts`).

    Both runs' directories are rewritten on both sides: a run directory copied from another and rerun
    keeps records that point into the original (a KG store that did not need rebuilding).
    """

    def __init__(self, *run_dirs: Path):
        prefixes = {str(Path(d)) for d in run_dirs} | {str(Path(d).resolve()) for d in run_dirs}
        self.raw_prefixes = sorted(prefixes, key=len, reverse=True)


def digest_value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def combine(digests: Iterable[str]) -> str:
    """Order-insensitive digest of a case's rows."""
    return digest_value(sorted(digests))


#: Separators between a struct's fields / a list's items, by nesting depth, and the text of a null.
_SEPARATORS = ("\x1f", "\x1e", "\x1d", "\x1c")
_NULL = "\x00"


def _texts(arr: pa.Array, normalise: RowNormaliser, depth: int = 0) -> pa.Array:
    """One string per element holding the element's whole content, computed column-wise by Arrow.

    Structs join their fields (run-naming fields left out), lists their items, each depth with its own
    separator; strings get the run-directory rewrite; nulls become a marker. Equal content gives equal
    text, with no Python object made per nested value (what makes a 20K-sample diff fast).
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    sep = _SEPARATORS[depth % len(_SEPARATORS)]
    kind = arr.type
    if pa.types.is_struct(kind):
        keep = [i for i in range(kind.num_fields) if kind.field(i).name not in VOLATILE_FIELDS]
        children = [_texts(arr.field(i), normalise, depth + 1) for i in keep]
        text = pc.binary_join_element_wise(*children, sep) if children else pa.array([""] * len(arr), pa.string())
    elif pa.types.is_map(kind):
        items = pa.StructArray.from_arrays([arr.keys, arr.items], ["key", "value"])
        offsets = pc.subtract(arr.offsets, arr.offsets[0])
        text = pc.binary_join(pa.ListArray.from_arrays(offsets, _texts(items, normalise, depth + 1)), sep)
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        offsets = pc.subtract(arr.offsets, arr.offsets[0])
        items = _texts(arr.flatten(), normalise, depth + 1)
        text = pc.binary_join(pa.ListArray.from_arrays(offsets, items), sep)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = arr.cast(pa.string())
        for prefix in normalise.raw_prefixes:
            text = pc.replace_substring(text, prefix, "<run>")
    else:
        text = pc.cast(arr, pa.string())
    if arr.null_count:
        text = pc.if_else(arr.is_null(), pa.scalar(_NULL, pa.string()), text)
    return text


def iter_texts(
    parts_dir: Path, entries: Iterable[LedgerEntry], normalise: RowNormaliser, expand: tuple[str, ...] = ()
) -> Iterator[tuple[str, dict[str, str]]]:
    """(key, field -> text) for every row of the given entries, part by part, batch by batch.

    `expand`: struct fields given one text per sub-field (`provenance.kg_version`), to say which changed.
    """
    by_part: dict[str, set[str]] = {}
    for entry in entries:
        if entry.n_rows:
            by_part.setdefault(entry.part, set()).add(entry.key)
    for part in sorted(by_part):
        wanted = pa.array(sorted(by_part[part]), pa.string())
        for batch in pq.ParquetFile(Path(parts_dir) / part).iter_batches(BATCH_ROWS):
            batch = batch.filter(pc.is_in(batch.column(KEY_COL), value_set=wanted))
            if not batch.num_rows:
                continue
            columns: dict[str, list[str]] = {}
            for name in batch.schema.names:
                if name in (CASE_COL, KEY_COL) or name in VOLATILE_FIELDS:
                    continue
                column = batch.column(name)
                if name in expand and pa.types.is_struct(column.type):
                    for i in range(column.type.num_fields):
                        sub = column.type.field(i).name
                        if sub not in VOLATILE_FIELDS:
                            columns[f"{name}.{sub}"] = _texts(column.field(i), normalise, 1).to_pylist()
                else:
                    columns[name] = _texts(column, normalise).to_pylist()
            keys = batch.column(KEY_COL).to_pylist()
            names = list(columns)
            for i, key in enumerate(keys):
                yield key, {n: columns[n][i] for n in names}


def text_digest(text: str, size: int = 16) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).digest()


def row_digest(fields: dict[str, str]) -> str:
    """Digest of a row from its field texts (field names included: a renamed field is a change)."""
    return text_digest("\x1f".join(f"{n}={t}" for n, t in sorted(fields.items()))).hex()


def plain(text: str) -> str:
    """A scalar field's text as a value to show (`(none)` for null)."""
    return "(none)" if text == _NULL else text


@dataclass
class CaseOutput:
    """What one stage produced for one case: its digest and the values of its version fields."""

    digest: str
    versions: dict[str, list[str]]


def case_outputs(
    parts_dir: Path, entries: Iterable[LedgerEntry], normalise: RowNormaliser, version_fields: tuple[str, ...] = ()
) -> dict[str, CaseOutput]:
    """key -> CaseOutput for the given ledger entries (a case with no rows has the empty digest)."""
    entries = list(entries)
    row_digests: dict[str, list[str]] = {e.key: [] for e in entries}
    versions: dict[str, dict[str, set[str]]] = {e.key: {} for e in entries}
    for key, fields in iter_texts(parts_dir, entries, normalise):
        row_digests[key].append(row_digest(fields))
        for name in version_fields:
            if name in fields:
                versions[key].setdefault(name, set()).add(plain(fields[name]))
    return {
        key: CaseOutput(combine(digests), {n: sorted(v) for n, v in versions[key].items()})
        for key, digests in row_digests.items()
    }
