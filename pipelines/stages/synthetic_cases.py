"""synthetic_cases: N generated cases, for load tests and benchmarks of the runner itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from pydantic import Field

from pipelines.content_key import sha256_text
from pipelines.stage import SourceItem, Stage, StageParams
from schemas.case import Case


class SyntheticParams(StageParams):
    n_cases: int = Field(ge=1)
    text: str = Field(default="Invasive ductal carcinoma, Nottingham grade 2. Margins negative.")
    fail_every: int = Field(default=0, ge=0, description="Fail every n-th case (0: never), to exercise retry.")


class SyntheticCasesStage(Stage):
    name: ClassVar[str] = "synthetic_cases"
    output_model = Case
    Params = SyntheticParams
    params: SyntheticParams

    def plan_source(self) -> Iterable[SourceItem]:
        for i in range(self.params.n_cases):
            case_id = f"SYN-{i:06d}"
            yield SourceItem(case_id, {"index": i}, {"index": i})

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Case]:
        (payload,) = inputs["source"]
        if self.params.fail_every and (payload["index"] + 1) % self.params.fail_every == 0:
            raise ValueError(f"case {case_id}: synthetic failure (fail_every={self.params.fail_every})")
        text = f"{case_id}. {self.params.text}"
        return [
            Case(
                case_id=case_id,
                patient_id=case_id,
                report_text=text,
                report_sha256=sha256_text(text),
                source=f"synthetic:{payload['index']}",
            )
        ]
