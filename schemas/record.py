"""The base every contract derives from: strict about unknown fields, JSON-friendly."""

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """A row that crosses a stage boundary. Unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False)
