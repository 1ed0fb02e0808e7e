"""Small real stages for exercising the runner (not mocks: they run through the whole runner)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from pipelines.stage import Stage, StageParams
from schemas.case import Case


class EchoParams(StageParams):
    suffix: str = ""
    sleep: float = 0.0
    fail_marker: str | None = None  # a file listing case ids that must fail while it exists


class EchoStage(Stage):
    """Copies each upstream Case, appending `suffix` to the report text."""

    name: ClassVar[str] = "echo"
    output_model = Case
    Params = EchoParams
    params: EchoParams

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Case]:
        if self.params.sleep:
            time.sleep(self.params.sleep)
        marker = self.params.fail_marker
        if marker and Path(marker).exists() and case_id in Path(marker).read_text().split():
            raise RuntimeError(f"case {case_id}: listed in {marker}")
        (upstream,) = inputs.values()
        return [c.model_copy(update={"report_text": c.report_text + self.params.suffix}) for c in upstream]


class AsyncEchoStage(EchoStage):
    """An I/O stage: waits `sleep` seconds without blocking, as an HTTP call would."""

    name: ClassVar[str] = "async_echo"
    kind: ClassVar[str] = "io"

    async def aprocess(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Case]:
        import asyncio

        await asyncio.sleep(self.params.sleep)
        (upstream,) = inputs.values()
        return [c.model_copy(update={"report_text": c.report_text + self.params.suffix}) for c in upstream]


class CrashParams(StageParams):
    crash_case: str


class CrashStage(Stage):
    """Kills its worker process outright on one case, like a native library segfaulting."""

    name: ClassVar[str] = "crash"
    output_model = Case
    Params = CrashParams
    params: CrashParams

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Case]:
        if case_id == self.params.crash_case:
            import os

            os._exit(139)
        (upstream,) = inputs.values()
        return list(upstream)


class BrokenContractStage(Stage):
    """Emits a record that violates the Case contract for one case."""

    name: ClassVar[str] = "broken_contract"
    output_model = Case

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Any]:
        (upstream,) = inputs.values()
        if case_id == "SYN-000001":
            return [{**upstream[0].model_dump(), "report_text": ""}]
        return list(upstream)


class CountParams(StageParams):
    label: str = "count"


class CountStage(Stage):
    """A run-scope stage: one summary record over every case of its upstream."""

    name: ClassVar[str] = "count"
    scope: ClassVar[str] = "run"
    output_model = Case
    Params = CountParams
    params: CountParams

    def process(self, case_id: str, inputs: dict[str, Any]) -> list[Case]:
        (records,) = inputs.values()
        ids = sorted(r.case_id for r in records)
        text = f"{self.params.label}: {len(ids)} cases, first {ids[0]}, last {ids[-1]}"
        return [Case(case_id=case_id, patient_id=case_id, report_text=text, report_sha256="-", source="run")]


class ListingStage(Stage):
    """A run-scope stage that writes its upstream's case ids to `RUN_DIR/export/cases.txt`, as an export does."""

    name: ClassVar[str] = "listing"
    scope: ClassVar[str] = "run"
    output_model = Case

    def process(self, case_id: str, inputs: dict[str, Any]) -> list[Case]:
        from pathkg.io.atomic import write_text_atomic

        (records,) = inputs.values()
        ids = sorted(r.case_id for r in records)
        write_text_atomic(self.context.run_dir / "export" / "cases.txt", "\n".join(ids) + "\n")
        text = f"{len(ids)} cases listed"
        return [Case(case_id=case_id, patient_id=case_id, report_text=text, report_sha256="-", source="run")]
