"""One exported training sample (one row of the corpus)."""

from typing import Literal

from pydantic import Field

from schemas.entity import Entity
from schemas.kg_path import KGPath
from schemas.record import Record
from schemas.verification import Verification


class ImageRef(Record):
    path: str = Field(description="Image file, relative to the run directory.")
    kind: Literal["thumbnail", "tile"]
    level: int | None = None
    magnification: float | None = Field(default=None, description="None when the slide does not say.")
    x: int | None = None
    y: int | None = None
    width: int | None = None
    height: int | None = None


class Provenance(Record):
    report_sha256: str
    kg_version: str
    generator_backend: Literal["template", "llm"]
    generator_model: str | None = None
    prompt_version: str
    run_id: str
    code_version: str


class ReviewState(Record):
    status: Literal["none", "pending", "accepted", "rejected", "edited"] = "none"
    annotator: str | None = None
    decision: str | None = None
    time: str | None = None


class Sample(Record):
    sample_id: str = Field(description="Stable content hash of the sample.")
    case_id: str
    patient_id: str
    project: str | None = None
    split: Literal["train", "validation", "test"] | None = None
    scale: Literal["wsi", "roi"]
    images: list[ImageRef] = Field(default_factory=list)
    question_type: str
    question: str
    findings: list[str]
    diagnosis: str
    response: str = Field(description="The chain <observe>..</observe>\\n<think>..</think>\\n<answer>..</answer>.")
    answer: str
    description_entities: list[Entity] = Field(default_factory=list)
    diagnosis_entities: list[Entity] = Field(default_factory=list)
    kg_paths: list[KGPath] = Field(default_factory=list)
    verification: Verification
    review: ReviewState = Field(default_factory=ReviewState)
    provenance: Provenance
