"""An annotator's decision on a flagged sample: one line of the run's append-only review audit log."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.record import Record
from schemas.verification import Verification

#: Why an annotator rejects a sample (the reject form's list; free text goes in `note`).
RejectReason = Literal[
    "wrong_answer",
    "hallucinated_entity",
    "negation_error",
    "unsupported_reasoning",
    "image_mismatch",
    "report_error",
    "phi",
    "other",
]

ReviewStatus = Literal["pending", "accepted", "rejected", "edited"]


class ReviewDecision(Record):
    decision_id: str = Field(description="Unique id of this decision (uuid4 hex).")
    sample_id: str
    annotator: str
    decision: Literal["accept", "reject", "edit"]
    time: datetime
    via: Literal["web", "cli", "labelstudio"] = "web"
    reason: RejectReason | None = Field(default=None, description="Set on a rejection.")
    note: str | None = None
    status_before: ReviewStatus = "pending"
    status_after: ReviewStatus
    response_before: str
    response_after: str
    verification_after: Verification | None = Field(
        default=None, description="Re-verification of `response_after` (set on an edit)."
    )
    version: int = Field(ge=0, description="Review-state version the decision was made against.")
