"""A mention in text linked to a KG node."""

from pydantic import Field

from schemas.record import Record


class Entity(Record):
    kg_id: str = Field(description="KG node id, e.g. 'PKG:keratin_pearls' or 'NCIT:C2929'.")
    name: str = Field(description="Preferred KG name of the node.")
    type: str = Field(description="KG node type: Disease, Finding, Anatomy, Biomarker, ...")
    text: str = Field(description="The mention as it appears in the text.")
    start: int = Field(ge=0, description="Character offset of the mention in its text.")
    end: int = Field(ge=0)
    negated: bool = False
    uncertain: bool = False
