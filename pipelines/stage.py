"""What a stage is: a named step that turns each case's inputs into output records.

A stage never talks to another stage: it receives validated records of the contracts in
`schemas/` and returns records of its own output contract. The runner does the rest
(content keys, skipping, failures, atomic Parquet parts, parallelism).

Two shapes:
- a *source* stage (`after: []`) implements `plan_source()` to enumerate its cases from
  outside (a manifest, a folder); each `SourceItem` carries a fingerprint of its input;
- a *downstream* stage receives, per case, the records that its upstream stages produced.

`process()` is synchronous and runs in a worker process for `kind = "cpu"` stages;
`aprocess()` is a coroutine run on an asyncio loop for `kind = "io"` stages.
Raise any exception to fail a case: the runner records it and goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo

from schemas.record import Record


def _resolve_path(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    if base is not None and not value.is_absolute():
        value = Path(base) / value
    return Path(value).expanduser().resolve() if base is not None else value


#: A path parameter: relative values resolve against the directory of the config file.
ConfigPath = Annotated[Path, AfterValidator(_resolve_path)]


class StageParams(BaseModel):
    """Base for a stage's parameters. Unknown keys in the config are an error."""

    model_config = ConfigDict(extra="forbid")


class NoParams(StageParams):
    pass


@dataclass(frozen=True)
class SourceItem:
    """One case found by a source stage."""

    case_id: str
    payload: Any
    fingerprint: Any
    # A problem found while planning (duplicate id, unreadable row): recorded as the case's
    # failure without calling process().
    error: tuple[str, str] | None = None


@dataclass(frozen=True)
class StageContext:
    """What a stage may know about the run it is part of."""

    run_dir: Path
    run_id: str
    stage_name: str
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def work_dir(self) -> Path:
        """A directory this stage may write side files into (images, caches)."""
        path = self.run_dir / "work" / self.stage_name
        path.mkdir(parents=True, exist_ok=True)
        return path


class Stage:
    """Base class of every stage. Subclasses set the class attributes and one process method."""

    #: Registry name used in pipeline configs (`uses:`).
    name: ClassVar[str] = ""
    #: Bump when the output of the same inputs changes on purpose.
    version: ClassVar[str] = "1"
    kind: ClassVar[Literal["cpu", "io"]] = "cpu"
    #: "case": process() once per case. "run": process() once per run, over every case's
    #: records (each upstream as a lazy `UpstreamRecords`), e.g. an export or a run report.
    scope: ClassVar[Literal["case", "run"]] = "case"
    #: Contract of the records this stage emits.
    output_model: ClassVar[type[Record]]
    Params: ClassVar[type[StageParams]] = NoParams
    #: Parameters that do not change results (e.g. concurrency) and so stay out of keys.
    key_exclude: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, params: StageParams, context: StageContext):
        self.params = params
        self.context = context

    @classmethod
    def kind_for(cls, params: StageParams) -> Literal["cpu", "io"]:
        """How these parameters make the stage run: `cpu` on the worker pool, `io` concurrently on an event
        loop in the main process. A stage whose work depends on its parameters overrides this."""
        return cls.kind

    # --- source stages -------------------------------------------------------------
    def plan_source(self) -> Iterable[SourceItem]:
        raise TypeError(f"stage {self.name!r} has no upstream and does not implement plan_source()")

    def fingerprint(self) -> Any:
        """Extra input identity for a run-scope stage (e.g. the files it reads beside its upstream stages).

        It joins the stage's content key, so a change in those inputs reruns the stage.
        """
        return None

    def prepare(self) -> None:
        """Run once in the main process before any case is processed (e.g. load a KG store).

        Not called by `pathkg status`. Exceptions stop the run with a clear message.
        """

    # --- per case --------------------------------------------------------------------
    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Record]:
        """Return the output records for one case. `inputs` maps upstream stage name -> records.

        For a source stage, `inputs` is `{"source": [payload]}`.
        """
        raise TypeError(f"stage {self.name!r} implements neither process() nor aprocess()")

    async def aprocess(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Record]:
        return self.process(case_id, inputs)

    @staticmethod
    def records_of(inputs: dict[str, list[Any]], model: type[Record]) -> list[Any]:
        """Every input record of one contract, whichever upstream stage it came from."""
        return [r for records in inputs.values() for r in records if isinstance(r, model)]

    @classmethod
    def one_of(cls, inputs: dict[str, list[Any]], model: type[Record], case_id: str) -> Any:
        """The single input record of one contract; a clear error when there is none or several."""
        found = cls.records_of(inputs, model)
        if len(found) != 1:
            raise ValueError(
                f"case {case_id}: stage {cls.name} expects one {model.__name__} from its upstream stages, got "
                f"{len(found)} (check `after:` in the config)"
            )
        return found[0]

    def close(self) -> None:
        """Release resources (clients, pools) when the stage finishes in a process."""

    async def aclose(self) -> None:
        """Release async resources (an HTTP client) on the I/O executor's event loop."""
        self.close()
