"""What each builder returns: node and edge rows with the KGNode / KGEdge fields."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SourceGraph:
    name: str
    nodes: list[dict] = field(default_factory=list)
    edges: list[dict] = field(default_factory=list)

    def node(self, id: str, type: str, name: str, synonyms=(), xrefs=(), source: str | None = None) -> None:
        self.nodes.append(
            {
                "id": id,
                "type": type,
                "name": name,
                "synonyms": [s for s in dict.fromkeys(synonyms) if s and s != name],
                "xrefs": [x for x in dict.fromkeys(xrefs) if x and x != id],
                "source": source or self.name,
            }
        )

    def edge(self, source_id: str, relation: str, target_id: str, source: str | None = None, evidence=None) -> None:
        self.edges.append(
            {
                "source_id": source_id,
                "relation": relation,
                "target_id": target_id,
                "source": source or self.name,
                "evidence": evidence,
            }
        )
