"""A real source stage for review tests: the Sample records in a JSON-lines file, one case each."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from pipelines.stage import ConfigPath, SourceItem, Stage, StageParams
from schemas.sample import Sample


class SampleSourceParams(StageParams):
    path: ConfigPath


class SampleSourceStage(Stage):
    name: ClassVar[str] = "sample_source"
    output_model = Sample
    Params = SampleSourceParams
    params: SampleSourceParams

    def plan_source(self) -> Iterable[SourceItem]:
        by_case: dict[str, list[str]] = {}
        for line in Path(self.params.path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                by_case.setdefault(json.loads(line)["case_id"], []).append(line)
        for case_id, lines in sorted(by_case.items()):
            yield SourceItem(case_id, lines, hashlib.sha256("\n".join(lines).encode()).hexdigest())

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Sample]:
        (lines,) = inputs["source"]
        return [Sample.model_validate_json(line) for line in lines]
