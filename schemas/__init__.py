"""The data contracts of pathkg: every record that crosses a stage boundary is one of these models.

JSON Schema files generated from them live in `schemas/json/` (regenerate with
`pathkg schemas write`); Arrow schemas for the Parquet outputs come from `schemas.arrow`.
"""

from schemas.case import Case
from schemas.entity import Entity
from schemas.extraction import GradeInfo, ReportExtraction
from schemas.failure import FailureRecord
from schemas.kg_path import KGPath, KGPathStep
from schemas.review import ReviewDecision
from schemas.sample import ImageRef, Provenance, ReviewState, Sample
from schemas.verification import CheckResult, Verification

#: The models whose JSON Schema is committed under schemas/json/.
CONTRACTS = {
    "case": Case,
    "report_extraction": ReportExtraction,
    "entity": Entity,
    "kg_path": KGPath,
    "sample": Sample,
    "verification": Verification,
    "review_decision": ReviewDecision,
    "failure": FailureRecord,
}

__all__ = [
    "CONTRACTS",
    "Case",
    "CheckResult",
    "Entity",
    "FailureRecord",
    "GradeInfo",
    "ImageRef",
    "KGPath",
    "KGPathStep",
    "Provenance",
    "ReportExtraction",
    "ReviewDecision",
    "ReviewState",
    "Sample",
    "Verification",
]
