"""The executor interface and the one function that runs a stage on a case, wherever it runs."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

import pyarrow as pa
from pydantic import BaseModel, ValidationError

from pipelines.stage import Stage, StageContext, StageParams
from pipelines.store import format_validation_error, resolve_inputs
from schemas.arrow import arrow_schema, to_arrow_row


@dataclass(frozen=True)
class Task:
    case_id: str
    key: str
    #: upstream stage name -> its records, or a `StoredInput` the worker reads (see `resolve_inputs`)
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    case_id: str
    key: str
    #: On success: Arrow-ready rows, or (from a worker process) the case's slice of its chunk's table.
    rows: list[dict[str, Any]] | pa.Table | None
    error: tuple[str, str] | None = None  # (exception type, message) on failure


@dataclass(frozen=True)
class PackedChunk:
    """A chunk's outcomes as a worker sends them back: every case's rows in one Arrow table.

    The rows become Arrow where they were computed, in parallel, and one table travels between
    processes as a few buffers instead of thousands of nested dicts to pickle and unpickle, so the
    runner's process (one more process on the same cores) only slices and writes.
    """

    outcomes: list[Outcome]  # rows left out (None); see `counts`
    counts: list[int]  # rows of each outcome in `table`, in order (0 for a failure)
    table: pa.Table
    seconds: float = 0.0  # the worker's time on the chunk (sizes the next chunks; see ChunkSizer)

    def unpack(self) -> list[Outcome]:
        out, start = [], 0
        for outcome, n in zip(self.outcomes, self.counts, strict=True):
            if outcome.error is None:
                outcome = replace(outcome, rows=self.table.slice(start, n))
            out.append(outcome)
            start += n
        return out


def pack(outcomes: list[Outcome], model: type[BaseModel]) -> PackedChunk:
    """Outcomes whose rows are lists -> one PackedChunk. A case whose rows do not fit the Arrow schema
    (which validated records should never give) fails alone, with the conversion error."""
    schema = arrow_schema(model)
    try:
        rows = [row for o in outcomes if o.error is None for row in o.rows or []]
        table = pa.Table.from_pylist(rows, schema=schema)
        counts = [len(o.rows or []) if o.error is None else 0 for o in outcomes]
        return PackedChunk([replace(o, rows=None) for o in outcomes], counts, table)
    except (pa.ArrowException, TypeError, ValueError):
        pass
    kept, counts, tables = [], [], []
    for o in outcomes:
        if o.error is None:
            try:
                tables.append(pa.Table.from_pylist(list(o.rows or []), schema=schema))
            except (pa.ArrowException, TypeError, ValueError) as exc:
                o = Outcome(
                    o.case_id,
                    o.key,
                    None,
                    (type(exc).__name__, f"case {o.case_id}: rows do not fit the {model.__name__} Arrow schema: {exc}"),
                )
        kept.append(replace(o, rows=None))
        counts.append(tables[-1].num_rows if o.error is None else 0)
    return PackedChunk(kept, counts, pa.concat_tables(tables) if tables else schema.empty_table())


@dataclass(frozen=True)
class StageFactory:
    """A picklable recipe that builds the stage inside whichever process runs it."""

    cls: type[Stage]
    params: StageParams
    context: StageContext

    def __call__(self) -> Stage:
        return self.cls(self.params, self.context)


class StageHolder:
    """The stage a worker process is running, built once per stage and kept for all its chunks.

    Workers (pool processes, Ray actors) live for the whole run and serve one stage after
    another; what a stage caches per process (a spaCy linker, a KG handle) stays loaded for the
    next stage that uses it.
    """

    def __init__(self) -> None:
        self._factory: StageFactory | None = None
        self._stage: Stage | None = None

    def run_chunk(self, factory: StageFactory, tasks: list[Task]) -> list[Outcome]:
        if self._stage is None or factory != self._factory:
            self.release()
            self._stage, self._factory = factory(), factory
        return [run_task(self._stage, t) for t in tasks]

    def run_packed(self, factory: StageFactory, tasks: list[Task]) -> PackedChunk:
        """`run_chunk`, its rows sent back as one Arrow table (see `PackedChunk`)."""
        t0 = time.perf_counter()
        packed = pack(self.run_chunk(factory, tasks), factory.cls.output_model)
        return replace(packed, seconds=time.perf_counter() - t0)

    def release(self) -> None:
        if self._stage is not None:
            stage, self._stage, self._factory = self._stage, None, None
            stage.close()


class ChunkSizer:
    """How many cases to send a worker at once: enough for about `target_s` of work per chunk.

    A cheap stage (a millisecond a case) sent eight cases at a time spends more on the round trip
    than on the work, and its workers wait on the runner; an expensive one needs no more than a
    few cases per chunk to keep workers busy and the tail of the stage short. Starts at `first`
    and follows the measured seconds per case: down at once (a worker's first chunk also pays for
    building the stage), up as a moving average.
    """

    def __init__(self, first: int = 8, target_s: float = 0.1, largest: int = 256):
        self.size = first
        self.target_s = target_s
        self.largest = largest
        self._per_case: float | None = None

    def observe(self, cases: int, seconds: float) -> None:
        if cases <= 0 or seconds <= 0:
            return
        per_case = seconds / cases
        old = self._per_case
        self._per_case = per_case if old is None or per_case < old else 0.7 * old + 0.3 * per_case
        self.size = max(1, min(self.largest, round(self.target_s / self._per_case)))


class ContractError(TypeError):
    pass


def _to_rows(stage: Stage, case_id: str, records: Any) -> list[dict[str, Any]]:
    """Validate a stage's return value against its output contract (the stage boundary)."""
    model = stage.output_model
    if records is None:
        raise ContractError(f"case {case_id}: stage {stage.name} returned None instead of a list")
    rows = []
    for rec in records:
        if isinstance(rec, model):
            # Re-validate: a stage may have mutated the record after construction.
            rec = model.model_validate(rec.model_dump())
        elif isinstance(rec, dict):
            rec = model.model_validate(rec)
        elif isinstance(rec, BaseModel):
            raise ContractError(
                f"case {case_id}: stage {stage.name} returned {type(rec).__name__}, expected {model.__name__}"
            )
        else:
            raise ContractError(f"case {case_id}: stage {stage.name} returned {type(rec).__name__}")
        rows.append(to_arrow_row(rec))
    return rows


def error_of(stage: Stage, case_id: str, exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ValidationError):
        return "ValidationError", format_validation_error(exc, case_id, stage.output_model)
    message = str(exc) or repr(exc)
    return type(exc).__name__, message


def run_task(stage: Stage, task: Task) -> Outcome:
    try:
        rows = _to_rows(stage, task.case_id, stage.process(task.case_id, resolve_inputs(task.inputs)))
    except Exception as exc:  # a failed case is data, not a crash of the run
        return Outcome(task.case_id, task.key, None, error_of(stage, task.case_id, exc))
    return Outcome(task.case_id, task.key, rows)


async def arun_task(stage: Stage, task: Task) -> Outcome:
    try:
        rows = _to_rows(stage, task.case_id, await stage.aprocess(task.case_id, resolve_inputs(task.inputs)))
    except Exception as exc:
        return Outcome(task.case_id, task.key, None, error_of(stage, task.case_id, exc))
    return Outcome(task.case_id, task.key, rows)


class Executor(Protocol):
    def map(self, factory: StageFactory, tasks: Iterable[Task]) -> Iterator[Outcome]:
        """Run every task; yield one Outcome per task, in completion order."""
        ...
