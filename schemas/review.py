"""An annotator's decision on a flagged sample."""

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.record import Record


class ReviewDecision(Record):
    sample_id: str
    annotator: str
    decision: Literal["accept", "reject", "edit"]
    time: datetime
    reason: str | None = None
    note: str | None = None
    response_before: str | None = None
    response_after: str | None = None
    version: int = Field(ge=0, description="Review-state version the decision was made against.")
