"""The verification record each generated sample carries."""

from typing import Literal

from pydantic import Field

from schemas.record import Record

Status = Literal["pass", "flagged", "rejected"]


class CheckResult(Record):
    name: str = Field(description="Check name: format, answer, entity, unsupported_entities, ...")
    passed: bool
    score: float | None = None
    reason: str | None = Field(default=None, description="Why it failed, readable by an annotator.")


class Verification(Record):
    status: Status
    checks: list[CheckResult] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
