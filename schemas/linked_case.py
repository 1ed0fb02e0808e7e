"""The link stage's output: a case's findings and diagnosis with their KG entities."""

from pydantic import Field

from schemas.entity import Entity
from schemas.record import Record


class LinkedCase(Record):
    case_id: str
    kg_version: str
    findings_text: str = Field(description="The findings sentences joined by newlines; entity offsets point here.")
    diagnosis_text: str = Field(description="The diagnosis statement; diagnosis entity offsets point here.")
    description_entities: list[Entity] = Field(default_factory=list, description="Entities of the findings.")
    diagnosis_entities: list[Entity] = Field(default_factory=list, description="Entities of the diagnosis.")
