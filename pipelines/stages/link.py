"""link: the findings and the diagnosis of each report, linked to KG entities (negation kept)."""

from __future__ import annotations

from typing import Any, ClassVar

from pathkg.linking.entity_linker import linker_for_dump
from pipelines.stage import Stage
from schemas.extraction import ReportExtraction
from schemas.linked_case import LinkedCase
from schemas.run_summaries import KGBuildSummary


class LinkStage(Stage):
    name: ClassVar[str] = "link"
    version: ClassVar[str] = "1"
    output_model = LinkedCase

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[LinkedCase]:
        extraction: ReportExtraction = self.one_of(inputs, ReportExtraction, case_id)
        kg: KGBuildSummary = self.one_of(inputs, KGBuildSummary, case_id)
        linker = linker_for_dump(kg.dump_dir, kg.version)
        findings_text = "\n".join(extraction.findings)
        diagnosis_text = extraction.diagnosis or extraction.histologic_type or ""
        return [
            LinkedCase(
                case_id=case_id,
                kg_version=kg.version,
                findings_text=findings_text,
                diagnosis_text=diagnosis_text,
                description_entities=linker.link(findings_text) if findings_text else [],
                diagnosis_entities=linker.link(diagnosis_text) if diagnosis_text else [],
            )
        ]
