"""Where a run keeps each stage's outputs and failures: immutable Parquet parts.

Layout under the run directory:

    stages/<stage>/part-<ns>-<rand>.parquet     output rows, typed by the stage's contract,
                                                plus `_case_id` and `_key` columns
    failures/<stage>/part-<ns>-<rand>.parquet   FailureRecord rows

Each output part carries a *ledger* in its Parquet footer: the (case id, key, row count) of
every case it completes, including cases that produced no rows. A part is written to a
temporary file and renamed, so a part either exists whole or not at all; the ledger is the
commit record, and a case is done exactly when some part's ledger holds its current key.
"""

from __future__ import annotations

import json
import posixpath
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from pathkg.io.atomic import write_parquet_atomic
from pathkg.io.location import Location
from schemas.arrow import arrow_schema, from_arrow_row
from schemas.failure import FailureRecord
from schemas.record import Record

LEDGER_KEY = b"pathkg.ledger"
CASE_COL = "_case_id"
KEY_COL = "_key"


class InputContractError(ValueError):
    """A stored record no longer matches its contract (edited file, changed schema)."""


@dataclass(frozen=True)
class LedgerEntry:
    case_id: str
    key: str
    n_rows: int
    part: str


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    key: str
    #: Arrow row dicts (see schemas.arrow.to_arrow_row), or a table in the contract's schema.
    rows: list[dict[str, Any]] | pa.Table


def new_part_name() -> str:
    # Time-ordered and unique across processes and machines.
    return f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"


def format_validation_error(exc: ValidationError, case_id: str, model: type) -> str:
    fields = "; ".join(
        f"field '{'.'.join(str(p) for p in err['loc']) or '<root>'}': {err['msg']}" for err in exc.errors()
    )
    return f"case {case_id}: {model.__name__}: {fields}"


class StageStore:
    """Outputs and failures of one stage in one run directory."""

    def __init__(
        self, run_dir: Path | str | Location, stage_name: str, output_model: type[Record], cache_parts: int = 4
    ):
        self.stage_name = stage_name
        self.output_model = output_model
        self.location = run_dir if isinstance(run_dir, Location) else Location.of(run_dir)
        # Local run directories keep plain paths; fsspec URLs go through `self.location`.
        base = self.location.local
        self.parts_dir = base / "stages" / stage_name if base is not None else None
        self.failures_dir = base / "failures" / stage_name if base is not None else None
        self._ledgers: dict[str, list[LedgerEntry]] = {}
        # Recently read parts, each with where each key's rows start and how many there are.
        self._tables: OrderedDict[str, tuple[pa.Table, dict[str, int]]] = OrderedDict()
        self._cache_parts = cache_parts
        self.schema = (
            arrow_schema(output_model).append(pa.field(CASE_COL, pa.string())).append(pa.field(KEY_COL, pa.string()))
        )

    # --- outputs ---------------------------------------------------------------------
    def part_files(self) -> list[Path]:
        """The output parts, oldest first (local run directories only; see `part_names`)."""
        if self.parts_dir is None:
            raise TypeError(f"run directory {self.location.url} is not on the local filesystem")
        if not self.parts_dir.exists():
            return []
        return sorted(p for p in self.parts_dir.glob("part-*.parquet") if p.is_file())

    def part_names(self) -> list[str]:
        if self.parts_dir is not None:
            return [p.name for p in self.part_files()]
        return sorted(posixpath.basename(p) for p in self.location.glob("stages", self.stage_name, "part-*.parquet"))

    def _read_part(self, folder: str, name: str, schema_only: bool = False) -> Any:
        if self.location.local is not None:
            path = self.location.local / folder / self.stage_name / name
            return pq.read_schema(path) if schema_only else pq.read_table(path)
        with self.location.fs.open(self.location.path(folder, self.stage_name, name), "rb") as fh:
            return pq.read_schema(fh) if schema_only else pq.read_table(fh)

    def _write_part(self, folder: str, table: pa.Table) -> str:
        name = new_part_name()
        if self.location.local is not None:
            write_parquet_atomic(self.location.local / folder / self.stage_name / name, table)
        else:
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink, compression="zstd")
            self.location.write_bytes_atomic(sink.getvalue().to_pybytes(), folder, self.stage_name, name)
        return name

    def _ledger(self, part: str) -> list[LedgerEntry]:
        if part not in self._ledgers:
            meta = self._read_part("stages", part, schema_only=True).metadata or {}
            raw = json.loads(meta.get(LEDGER_KEY, b"[]"))
            self._ledgers[part] = [LedgerEntry(c, k, n, part) for c, k, n in raw]
        return self._ledgers[part]

    def index(self) -> dict[str, LedgerEntry]:
        """Every completed key -> where its rows are. The first part to hold a key wins."""
        done: dict[str, LedgerEntry] = {}
        for part in self.part_names():
            for entry in self._ledger(part):
                done.setdefault(entry.key, entry)
        return done

    def write_part(self, results: Sequence[CaseResult]) -> str | None:
        """Commit the results in one new part; returns its name."""
        if not results:
            return None
        tables: list[pa.Table] = []
        rows: list[dict[str, Any]] = []
        ledger = []
        for res in results:
            n = len(res.rows)
            ledger.append([res.case_id, res.key, n])
            if not isinstance(res.rows, pa.Table):
                rows.extend({**row, CASE_COL: res.case_id, KEY_COL: res.key} for row in res.rows)
                continue
            if rows:  # keep the ledger's order: the dict rows so far first
                tables.append(pa.Table.from_pylist(rows, schema=self.schema))
                rows = []
            if n:
                tables.append(
                    res.rows.append_column(CASE_COL, pa.array([res.case_id] * n, pa.string())).append_column(
                        KEY_COL, pa.array([res.key] * n, pa.string())
                    )
                )
        if rows or not tables:
            tables.append(pa.Table.from_pylist(rows, schema=self.schema))
        table = pa.concat_tables(tables).combine_chunks()
        table = table.replace_schema_metadata({LEDGER_KEY: json.dumps(ledger).encode()})
        name = self._write_part("stages", table)
        self._ledgers[name] = [LedgerEntry(c, k, n, name) for c, k, n in ledger]
        return name

    def _table(self, part: str) -> tuple[pa.Table, dict[str, int]]:
        cached = self._tables.get(part)
        if cached is None:
            table = self._read_part("stages", part)
            # A part holds each case's rows together (write_part appends case by case): index the
            # first row of every key once, so reading a case is a slice, not a scan of the part.
            starts: dict[str, int] = {}
            for i, key in enumerate(table.column(KEY_COL).to_pylist()):
                starts.setdefault(key, i)
            cached = (table.drop_columns([CASE_COL, KEY_COL]), starts)
            self._tables[part] = cached
            while len(self._tables) > self._cache_parts:
                self._tables.popitem(last=False)
        else:
            self._tables.move_to_end(part)
        return cached

    def _first_row(self, entry: LedgerEntry, starts: dict[str, int]) -> int:
        start = starts.get(entry.key)
        if start is None:
            raise InputContractError(
                f"stage {self.stage_name} output: case {entry.case_id}: part {entry.part} lists key {entry.key} "
                "in its ledger but holds no rows for it"
            )
        return start

    def read_rows(self, entry: LedgerEntry) -> list[dict[str, Any]]:
        if entry.n_rows == 0:
            return []
        table, starts = self._table(entry.part)
        return table.slice(self._first_row(entry, starts), entry.n_rows).to_pylist()

    def read_batch(self, entries: Sequence[LedgerEntry]) -> pa.Table:
        """The rows of several completed cases of one part, in the given order, as one table."""
        parts = {e.part for e in entries if e.n_rows}
        if not parts:
            return arrow_schema(self.output_model).empty_table()
        if len(parts) > 1:
            raise ValueError(f"stage {self.stage_name}: read_batch takes entries of one part, got {sorted(parts)}")
        part = parts.pop()
        table, starts = self._table(part)
        expected = arrow_schema(self.output_model)
        if not table.schema.equals(expected, check_metadata=False):
            # Rows read as Arrow skip the per-record validation: the part's schema is the contract check.
            differ = sorted(set(map(str, table.schema)) ^ set(map(str, expected)))
            raise InputContractError(
                f"stage {self.stage_name} output: part {part} does not match the {self.output_model.__name__} "
                f"contract (differing columns: {'; '.join(differ)})"
            )
        ranges = []
        for entry in entries:
            if not entry.n_rows:
                continue
            start = self._first_row(entry, starts)
            ranges.append(np.arange(start, start + entry.n_rows))
        return table.take(pa.array(np.concatenate(ranges))).replace_schema_metadata(None)

    def read_records(self, entry: LedgerEntry) -> list[Any]:
        """The validated records of one completed case."""
        records = []
        for row in self.read_rows(entry):
            try:
                records.append(from_arrow_row(self.output_model, row))
            except ValidationError as exc:
                raise InputContractError(
                    f"stage {self.stage_name} output: " + format_validation_error(exc, entry.case_id, self.output_model)
                ) from exc
        return records

    def read_table(self, keys: Iterable[str] | None = None) -> pa.Table:
        """All output rows (of the given keys, if any), deduplicated by key, as one table."""
        index = self.index()
        wanted = set(index) if keys is None else set(keys) & set(index)
        by_part: dict[str, set[str]] = {}
        for key in wanted:
            by_part.setdefault(index[key].part, set()).add(key)
        tables = []
        for part in sorted(by_part):
            table = self._read_part("stages", part)
            mask = pc.is_in(table[KEY_COL], value_set=pa.array(sorted(by_part[part]), pa.string()))
            tables.append(table.filter(mask))
        if not tables:
            return self.schema.empty_table()
        return pa.concat_tables(tables).replace_schema_metadata(None)

    # --- failures --------------------------------------------------------------------
    def record_failures(self, failures: Sequence[FailureRecord]) -> None:
        if not failures:
            return
        rows = [f.model_dump(mode="python") for f in failures]
        table = pa.Table.from_pylist(rows, schema=arrow_schema(FailureRecord))
        self._write_part("failures", table)

    def failures(self) -> dict[str, FailureRecord]:
        """Latest failure per key."""
        latest: dict[str, FailureRecord] = {}
        if self.failures_dir is not None:
            found_local = self.failures_dir.glob("part-*.parquet") if self.failures_dir.exists() else []
            names = sorted(p.name for p in found_local)
        else:
            found = self.location.glob("failures", self.stage_name, "part-*.parquet")
            names = sorted(posixpath.basename(p) for p in found)
        for part in names:
            for row in self._read_part("failures", part).to_pylist():
                rec = FailureRecord.model_validate(row)
                prev = latest.get(rec.key)
                if prev is None or rec.time >= prev.time:
                    latest[rec.key] = rec
        return latest


@dataclass(frozen=True)
class StoredInput:
    """One case's records in an upstream stage's parts, read where the stage runs (a worker).

    The runner hands workers these references instead of the records, so reading and validating
    the inputs happens in parallel on the workers, and the runner's process stays free to commit.
    """

    run_dir: str
    stage: str
    model: type[Record]
    entry: LedgerEntry


#: The stores this process reads inputs from, by (run directory, stage); parts are immutable,
#: so their cached tables never go stale.
_READERS: dict[tuple[str, str], StageStore] = {}


def resolve_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Replace every StoredInput with the validated records it points at."""
    if not any(isinstance(v, StoredInput) for v in inputs.values()):
        return inputs
    resolved = {}
    for name, value in inputs.items():
        if isinstance(value, StoredInput):
            store = _READERS.get((value.run_dir, value.stage))
            if store is None or store.output_model is not value.model:
                store = StageStore(value.run_dir, value.stage, value.model)
                _READERS[(value.run_dir, value.stage)] = store
            value = store.read_records(value.entry)
        resolved[name] = value
    return resolved


class UpstreamRecords:
    """Every current record of one stage, for a run-scope stage: read part by part.

    Iterating gives validated records; `batches()` gives the same rows, in the same order, as one
    Arrow table per part, for consumers that aggregate or reshape (an export, a run report) and
    need not turn every nested row into Python objects. Neither holds more than one part in memory.
    """

    def __init__(self, store: StageStore, entries: Sequence[LedgerEntry]):
        self.store = store
        self.entries = list(entries)

    @property
    def model(self) -> type[Record]:
        """The contract of the records (the upstream stage's output model)."""
        return self.store.output_model

    def __len__(self) -> int:
        return sum(e.n_rows for e in self.entries)

    def _by_part(self) -> list[tuple[str, list[LedgerEntry]]]:
        by_part: dict[str, list[LedgerEntry]] = {}
        for entry in self.entries:
            by_part.setdefault(entry.part, []).append(entry)
        return sorted(by_part.items())

    def __iter__(self) -> Iterator[Any]:
        for _, entries in self._by_part():
            for entry in entries:
                yield from self.store.read_records(entry)

    def batches(self) -> Iterator[pa.Table]:
        """The rows of each part (those of the current entries, in ledger order), typed by the contract."""
        for _, entries in self._by_part():
            yield self.store.read_batch(entries)


def make_failure(stage: str, case_id: str, key: str, error_type: str, message: str, attempt: int) -> FailureRecord:
    return FailureRecord(
        stage=stage,
        case_id=case_id,
        key=key,
        error_type=error_type,
        message=message,
        time=datetime.now(UTC),
        attempt=attempt,
    )
