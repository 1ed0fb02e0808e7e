"""What a report says, in structured form (rules or LLM extraction)."""

from typing import Literal

from pydantic import Field

from schemas.record import Record


class GradeInfo(Record):
    value: str | None = Field(default=None, description="Normalised grade, e.g. '2', 'II', 'high'.")
    system: str | None = Field(default=None, description="Grading system, e.g. 'Nottingham'.")
    score: int | None = Field(default=None, description="Total score where the system has one.")
    components: dict[str, int] = Field(default_factory=dict, description="Component scores, e.g. tubule_formation: 3.")


class ReportExtraction(Record):
    """Structured findings and diagnosis read from one (scrubbed) report."""

    case_id: str
    backend: Literal["rules", "llm"] = Field(description="Which extractor produced this record.")
    diagnosis: str | None = Field(default=None, description="The diagnosis statement.")
    histologic_type: str | None = None
    grade: GradeInfo = Field(default_factory=GradeInfo)
    pt: str | None = Field(default=None, description="Pathologic T category, e.g. 'pT1c'.")
    pn: str | None = Field(default=None, description="Pathologic N category, e.g. 'pN0(i-)'.")
    pm: str | None = None
    tumor_size_mm: float | None = None
    margins: str | None = Field(default=None, description="'negative' | 'positive' | 'close' or text.")
    lymphovascular_invasion: bool | None = None
    perineural_invasion: bool | None = None
    lymph_nodes_positive: int | None = None
    lymph_nodes_examined: int | None = None
    er: str | None = None
    pr: str | None = None
    her2: str | None = None
    necrosis: bool | None = None
    findings: list[str] = Field(default_factory=list, description="Findings sentences.")
    phi_replacements: dict[str, int] = Field(
        default_factory=dict, description="Count of PHI replacements per placeholder type."
    )
    prompt_version: str | None = Field(default=None, description="Prompt file version (LLM backend).")
    model: str | None = None
