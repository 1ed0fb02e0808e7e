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
