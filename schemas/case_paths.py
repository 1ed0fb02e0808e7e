"""The paths stage's output: ranked KG paths from description to diagnosis entities."""

from pydantic import Field

from schemas.kg_path import KGPath
from schemas.record import Record


class CasePaths(Record):
    case_id: str
    kg_version: str
    paths: list[KGPath] = Field(default_factory=list, description="Shorter first, then more specific relations.")
    pairs_searched: int = Field(ge=0, description="(description entity, diagnosis entity) pairs searched.")
    no_path_reason: str | None = Field(
        default=None, description="Why there is no path (no entities, no connection within max_hops); not an error."
    )
