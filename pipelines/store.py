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
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import ValidationError

from pathkg.io.atomic import write_parquet_atomic
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
    rows: list[dict[str, Any]]  # already in Arrow row form (see schemas.arrow.to_arrow_row)


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

    def __init__(self, run_dir: Path, stage_name: str, output_model: type[Record], cache_parts: int = 4):
        self.stage_name = stage_name
        self.output_model = output_model
        self.parts_dir = Path(run_dir) / "stages" / stage_name
        self.failures_dir = Path(run_dir) / "failures" / stage_name
        self._ledgers: dict[str, list[LedgerEntry]] = {}
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._cache_parts = cache_parts
        self.schema = (
            arrow_schema(output_model).append(pa.field(CASE_COL, pa.string())).append(pa.field(KEY_COL, pa.string()))
        )

    # --- outputs ---------------------------------------------------------------------
    def part_files(self) -> list[Path]:
        if not self.parts_dir.exists():
            return []
        return sorted(p for p in self.parts_dir.glob("part-*.parquet") if p.is_file())

    def _ledger(self, part: Path) -> list[LedgerEntry]:
        if part.name not in self._ledgers:
            meta = pq.read_schema(part).metadata or {}
            raw = json.loads(meta.get(LEDGER_KEY, b"[]"))
            self._ledgers[part.name] = [LedgerEntry(c, k, n, part.name) for c, k, n in raw]
        return self._ledgers[part.name]

    def index(self) -> dict[str, LedgerEntry]:
        """Every completed key -> where its rows are. The first part to hold a key wins."""
        done: dict[str, LedgerEntry] = {}
        for part in self.part_files():
            for entry in self._ledger(part):
                done.setdefault(entry.key, entry)
        return done

    def write_part(self, results: Sequence[CaseResult]) -> Path | None:
        if not results:
            return None
        rows: list[dict[str, Any]] = []
        ledger = []
        for res in results:
            for row in res.rows:
                rows.append({**row, CASE_COL: res.case_id, KEY_COL: res.key})
            ledger.append([res.case_id, res.key, len(res.rows)])
        table = pa.Table.from_pylist(rows, schema=self.schema)
        table = table.replace_schema_metadata({LEDGER_KEY: json.dumps(ledger).encode()})
        name = new_part_name()
        target = self.parts_dir / name
        write_parquet_atomic(target, table)
        self._ledgers[name] = [LedgerEntry(c, k, n, name) for c, k, n in ledger]
        return target

    def _table(self, part: str) -> pa.Table:
        table = self._tables.get(part)
        if table is None:
            table = pq.read_table(self.parts_dir / part)
            self._tables[part] = table
            while len(self._tables) > self._cache_parts:
                self._tables.popitem(last=False)
        else:
            self._tables.move_to_end(part)
        return table

    def read_rows(self, entry: LedgerEntry) -> list[dict[str, Any]]:
        if entry.n_rows == 0:
            return []
        table = self._table(entry.part)
        selected = table.filter(pc.equal(table[KEY_COL], entry.key))
        return selected.drop_columns([CASE_COL, KEY_COL]).to_pylist()

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
            table = pq.read_table(self.parts_dir / part)
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
        write_parquet_atomic(self.failures_dir / new_part_name(), table)

    def failures(self) -> dict[str, FailureRecord]:
        """Latest failure per key."""
        latest: dict[str, FailureRecord] = {}
        if not self.failures_dir.exists():
            return latest
        for part in sorted(self.failures_dir.glob("part-*.parquet")):
            for row in pq.read_table(part).to_pylist():
                rec = FailureRecord.model_validate(row)
                prev = latest.get(rec.key)
                if prev is None or rec.time >= prev.time:
                    latest[rec.key] = rec
        return latest


class UpstreamRecords:
    """Every current record of one stage, for a run-scope stage: read part by part, validated.

    Iterating never holds more than one part in memory; `table()` gives all rows at once
    for consumers that want Arrow (an export).
    """

    def __init__(self, store: StageStore, entries: Sequence[LedgerEntry]):
        self.store = store
        self.entries = list(entries)

    def __len__(self) -> int:
        return sum(e.n_rows for e in self.entries)

    def __iter__(self) -> Iterator[Any]:
        by_part: dict[str, list[LedgerEntry]] = {}
        for entry in self.entries:
            by_part.setdefault(entry.part, []).append(entry)
        for part in sorted(by_part):
            for entry in by_part[part]:
                yield from self.store.read_records(entry)

    def table(self) -> pa.Table:
        return self.store.read_table([e.key for e in self.entries]).drop_columns([KEY_COL])


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
