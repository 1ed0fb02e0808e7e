"""A question the report can answer about the case's slide, at one scale."""

from typing import Literal

from pydantic import Field

from schemas.record import Record
from schemas.sample import ImageRef

QuestionType = Literal[
    "diagnosis",
    "histologic_subtype",
    "grade",
    "t_stage",
    "n_stage",
    "margins",
    "lymphovascular_invasion",
    "microscopic_description",
]


class Question(Record):
    question_id: str = Field(description="Stable hash of case, type, scale and wording.")
    case_id: str
    patient_id: str
    project: str | None = None
    question_type: QuestionType
    scale: Literal["wsi", "roi"]
    question: str
    reference_answer: str = Field(description="What the report says, phrased as an answer.")
    images: list[ImageRef] = Field(
        default_factory=list, description="Thumbnail (wsi) or tiles (roi); none if no slide."
    )
    template_id: str = Field(description="Which phrasing template produced the question.")
