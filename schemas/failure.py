"""A row of a run's failure table: one case that a stage could not process."""

from datetime import datetime

from pydantic import Field

from schemas.record import Record


class FailureRecord(Record):
    stage: str
    case_id: str = Field(description="The case id, or 'row:N' / 'line:N' where no id could be read.")
    key: str = Field(description="Content key of the attempt (inputs + parameters + code version).")
    error_type: str
    message: str
    time: datetime
    attempt: int = 1
