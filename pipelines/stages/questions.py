"""questions: the questions each report supports, at `wsi` scale (thumbnail) and `roi` scale (tiles).

Inputs: the case (ingest), its extraction (reports) and its slides (slides; may be none).
A case without a slide still gets `wsi` questions, with no image: the report describes the
slide even when the slide file is not at hand. Types the report says nothing about are skipped.
"""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

from pydantic import Field

from pathkg.corpus.question_templates import TEMPLATES, WSI_ONLY, choose_template, reference_answers
from pipelines.stage import Stage, StageParams
from schemas.case import Case
from schemas.extraction import ReportExtraction
from schemas.question import Question
from schemas.slide import SlideRecord


class QuestionsParams(StageParams):
    seed: int = 0
    question_types: list[str] = Field(default_factory=lambda: list(TEMPLATES))
    roi_tiles: int = Field(default=4, ge=1, description="Tiles shown with an roi-scale question.")
    max_findings: int = Field(default=3, ge=1, description="Findings sentences in a microscopic-description answer.")


class QuestionsStage(Stage):
    name: ClassVar[str] = "questions"
    output_model = Question
    Params = QuestionsParams
    params: QuestionsParams

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[Question]:
        case: Case = self.one_of(inputs, Case, case_id)
        extraction: ReportExtraction = self.one_of(inputs, ReportExtraction, case_id)
        slides: list[SlideRecord] = self.records_of(inputs, SlideRecord)
        answers = reference_answers(extraction, self.params.max_findings)
        wanted = [t for t in self.params.question_types if t in answers]

        views: list[tuple[str, list]] = []
        for slide in slides:
            views.append(("wsi", [slide.thumbnail]))
            tiles = sorted(slide.tiles, key=lambda t: (-(t.image.magnification or 0), t.index))
            if tiles:
                views.append(("roi", [t.image for t in tiles[: self.params.roi_tiles]]))
        if not views:
            views.append(("wsi", []))

        questions = []
        for scale, images in views:
            for qtype in wanted:
                if scale == "roi" and qtype in WSI_ONLY:
                    continue
                template_id, text = choose_template(qtype, scale, case_id, self.params.seed)
                image_key = ",".join(i.path for i in images)
                qid = hashlib.sha256(f"{case_id}|{qtype}|{scale}|{image_key}|{text}".encode()).hexdigest()[:16]
                questions.append(
                    Question(
                        question_id=qid,
                        case_id=case_id,
                        patient_id=case.patient_id,
                        project=case.project,
                        question_type=qtype,
                        scale=scale,
                        question=text,
                        reference_answer=answers[qtype],
                        images=images,
                        template_id=template_id,
                    )
                )
        return questions
