"""verify: every chain checked (format, answer, entity recall, unsupported entities, negation,
PHI) with the reward code RL uses; each becomes an exported-shape Sample with its verdict."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import Field

import pathkg
from pathkg.linking.entity_linker import linker_for_dump
from pathkg.verify.chain_verifier import ChainVerifier, Thresholds
from pipelines.stage import Stage, StageParams
from schemas.case import Case
from schemas.case_paths import CasePaths
from schemas.extraction import ReportExtraction
from schemas.generated_chain import GeneratedChain
from schemas.linked_case import LinkedCase
from schemas.run_summaries import KGBuildSummary
from schemas.sample import Provenance, Sample


class VerifyParams(StageParams):
    entity_recall_min: float = Field(default=0.5, ge=0, le=1)
    reject_on: list[str] = Field(default_factory=lambda: ["format", "phi"])


class VerifyStage(Stage):
    name: ClassVar[str] = "verify"
    output_model = Sample
    Params = VerifyParams
    params: VerifyParams
    _verifiers: ClassVar[dict[str, ChainVerifier]] = {}

    def verifier(self, kg: KGBuildSummary) -> ChainVerifier:
        if kg.version not in self._verifiers:  # built once per worker process and KG
            thresholds = Thresholds(self.params.entity_recall_min, tuple(self.params.reject_on))
            self._verifiers[kg.version] = ChainVerifier(linker_for_dump(kg.dump_dir, kg.version), thresholds)
        return self._verifiers[kg.version]

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Sample]:
        case: Case = self.one_of(inputs, Case, case_id)
        extraction: ReportExtraction = self.one_of(inputs, ReportExtraction, case_id)
        linked: LinkedCase = self.one_of(inputs, LinkedCase, case_id)
        paths: CasePaths = self.one_of(inputs, CasePaths, case_id)
        verifier = self.verifier(self.one_of(inputs, KGBuildSummary, case_id))
        samples = []
        for chain in self.records_of(inputs, GeneratedChain):
            q = chain.question
            verification = verifier.verify(
                chain.response,
                q.reference_answer,
                q.question_type,
                linked.description_entities,
                linked.diagnosis_entities,
                paths.paths,
                q.question,
            )
            sample_id = hashlib.sha256(f"{q.question_id}|{chain.response}".encode()).hexdigest()[:20]
            samples.append(
                Sample(
                    sample_id=sample_id,
                    case_id=case_id,
                    patient_id=q.patient_id,
                    project=q.project,
                    scale=q.scale,
                    images=q.images,
                    question_type=q.question_type,
                    question=q.question,
                    findings=extraction.findings,
                    diagnosis=extraction.diagnosis or "",
                    response=chain.response,
                    answer=q.reference_answer,
                    description_entities=linked.description_entities,
                    diagnosis_entities=linked.diagnosis_entities,
                    kg_paths=paths.paths,
                    verification=verification,
                    provenance=Provenance(
                        report_sha256=case.report_sha256,
                        kg_version=linked.kg_version,
                        generator_backend=chain.generator_backend,
                        generator_model=chain.generator_model,
                        prompt_version=chain.prompt_version,
                        run_id=self.context.run_id,
                        code_version=pathkg.__version__,
                    ),
                )
            )
        return samples
