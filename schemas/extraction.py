"""What a report says, in structured form (rules or LLM extraction).

`ReportFields` is what an extractor reads off a report; it is also the JSON schema an LLM is
held to (`response_format`). `ReportExtraction` adds where the record came from.
"""

from typing import Literal

from pydantic import Field

from schemas.record import Record


class GradeInfo(Record):
    value: str | None = Field(
        default=None, description="Normalised grade: '1'..'4' (roman numerals as arabic), or 'low' / 'high'."
    )
    system: str | None = Field(
        default=None, description="Grading system: 'Nottingham', 'Fuhrman', 'ISUP', 'FIGO', 'Gleason', 'WHO'."
    )
    score: int | None = Field(default=None, description="Total score where the system has one (Nottingham 3-9).")
    components: dict[str, int] = Field(
        default_factory=dict,
        description="Component scores: tubule_formation, nuclear_pleomorphism, mitotic_count (1-3 each).",
    )


class ReportFields(Record):
    """The findings and diagnosis read from one (scrubbed) report; null where the report is silent."""

    diagnosis: str | None = Field(default=None, description="The diagnosis statement, as the report words it.")
    histologic_type: str | None = Field(
        default=None, description="Histologic type of the primary tumour, e.g. 'invasive ductal carcinoma'."
    )
    grade: GradeInfo = Field(default_factory=GradeInfo)
    pt: str | None = Field(default=None, description="Pathologic T category, e.g. 'pT1c', 'ypT2', 'pT2(m)'.")
    pn: str | None = Field(default=None, description="Pathologic N category, e.g. 'pN0(i-)', 'pN1a(sn)'.")
    pm: str | None = Field(default=None, description="Pathologic M category, e.g. 'pMX', 'pM1'.")
    tumor_size_mm: float | None = Field(default=None, description="Greatest dimension of the invasive tumour, mm.")
    margins: str | None = Field(default=None, description="'negative' | 'positive' | 'close'.")
    lymphovascular_invasion: bool | None = None
    perineural_invasion: bool | None = None
    lymph_nodes_positive: int | None = None
    lymph_nodes_examined: int | None = None
    er: str | None = Field(default=None, description="'positive' | 'negative' | 'equivocal' | 'pending'.")
    pr: str | None = Field(default=None, description="'positive' | 'negative' | 'equivocal' | 'pending'.")
    her2: str | None = Field(default=None, description="'positive' | 'negative' | 'equivocal' | 'pending'.")
    necrosis: bool | None = Field(default=None, description="Tumour necrosis (not comedo necrosis of DCIS).")
    findings: list[str] = Field(default_factory=list, description="Findings sentences.")


class ReportExtraction(ReportFields):
    """A `ReportFields` record for one case, with its provenance."""

    case_id: str
    backend: Literal["rules", "llm"] = Field(description="Which extractor produced this record.")
    phi_replacements: dict[str, int] = Field(
        default_factory=dict, description="Count of PHI replacements per placeholder type."
    )
    ocr_fixes: dict[str, int] = Field(default_factory=dict, description="OCR normalisation changes per rule.")
    extractor_version: str | None = Field(default=None, description="Rules version or prompt file version.")
    prompt_version: str | None = Field(default=None, description="Prompt file version (LLM backend).")
    model: str | None = None
    prompt_tokens: int | None = Field(default=None, description="LLM prompt tokens, all attempts together.")
    completion_tokens: int | None = Field(default=None, description="LLM completion tokens, all attempts.")
    llm_attempts: int | None = Field(default=None, description="LLM requests made (retries and repair included).")
