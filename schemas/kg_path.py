"""A reasoning path through the knowledge graph."""

from pydantic import Field

from schemas.record import Record


class KGPathStep(Record):
    source_id: str
    relation: str = Field(description="Relation type, read in the stored direction (source -> target).")
    target_id: str
    source_name: str
    target_name: str
    reversed: bool = Field(default=False, description="True when the path walks this edge against its direction.")


class KGPath(Record):
    start_id: str
    end_id: str
    steps: list[KGPathStep] = Field(min_length=1)
    kg_version: str

    @property
    def hops(self) -> int:
        return len(self.steps)
