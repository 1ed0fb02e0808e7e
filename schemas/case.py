"""A case: one patient's slides and pathology report, as the ingest stage emits it."""

from typing import Annotated

from pydantic import Field

from schemas.record import Record

NonEmpty = Annotated[str, Field(min_length=1)]


class Case(Record):
    """One TCGA-style case. `report_text` is the raw report (PHI not yet scrubbed)."""

    case_id: NonEmpty = Field(description="Case identifier, e.g. the TCGA barcode TCGA-22-4609.")
    patient_id: NonEmpty = Field(description="Patient identifier (first three TCGA barcode fields).")
    project: str | None = Field(default=None, description="Project code, e.g. TCGA-BRCA.")
    slide_paths: list[str] = Field(default_factory=list, description="Absolute paths of whole-slide images.")
    report_text: NonEmpty = Field(description="Report text as read (decoded as UTF-8, replacement on error).")
    report_path: str | None = Field(default=None, description="Where the report was read from, if a file.")
    report_sha256: str = Field(description="sha256 of the report text (UTF-8), stamped on every sample.")
    source: str = Field(description="Manifest file and row (or line) this case came from.")
    flags: list[str] = Field(
        default_factory=list, description="Non-fatal findings about the input, e.g. 'non_utf8_report'."
    )
    labels: dict[str, str] = Field(
        default_factory=dict, description="Optional structured labels supplied with the case."
    )
