"""The executor interface and the one function that runs a stage on a case, wherever it runs."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from pipelines.stage import Stage, StageContext, StageParams
from pipelines.store import format_validation_error, resolve_inputs
from schemas.arrow import to_arrow_row


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
    rows: list[dict[str, Any]] | None  # Arrow-ready rows on success
    error: tuple[str, str] | None = None  # (exception type, message) on failure


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

    def release(self) -> None:
        if self._stage is not None:
            stage, self._stage, self._factory = self._stage, None, None
            stage.close()


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
