"""report: the run report (HTML + PNG plots) under RUN_DIR/report/ (run scope, runs last).

Counts per stage and status, failure reasons, entity coverage, path length distribution,
question-type mix and verification outcomes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from pathkg.run_report.report_writer import write_report
from pathkg.run_report.run_statistics import RunStatistics
from pipelines.stage import Stage, StageParams
from schemas.case_paths import CasePaths
from schemas.linked_case import LinkedCase
from schemas.run_summaries import RunReportSummary
from schemas.sample import Sample


class ReportParams(StageParams):
    out: str = Field(default="report", description="Folder under the run directory.")


class ReportStage(Stage):
    name: ClassVar[str] = "report"
    scope: ClassVar[str] = "run"
    output_model = RunReportSummary
    Params = ReportParams
    params: ReportParams

    def process(self, case_id: str, inputs: dict[str, Any]) -> list[RunReportSummary]:
        stats = RunStatistics()
        add = {LinkedCase: stats.add_linked, CasePaths: stats.add_paths, Sample: stats.add_samples}
        for upstream in inputs.values():
            if upstream.model in add:
                for batch in upstream.batches():
                    add[upstream.model](batch)
        index, plots = write_report(
            self.context.run_dir / self.params.out,
            self.context.run_id,
            self.context.extras.get("stage_status", []),
            self.context.extras.get("failures", []),
            stats,
        )
        run_dir = self.context.run_dir
        return [
            RunReportSummary(
                case_id=case_id,
                report_path=str(index.relative_to(run_dir)),
                plots=[str(p.relative_to(run_dir)) for p in plots],
            )
        ]
