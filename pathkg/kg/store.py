"""The one KG store interface; `ladybug_store` (embedded) and `neo4j_store` (server) implement it.

Callers never see a query dialect: each backend owns its query text. Answers are the same on both
backends: paths are simple (no repeated node), walk edges in either direction (`reversed` says when a
step goes against the stored direction), and are ordered by (hops, node ids, relations) before the
first `k` are taken. The order is step by step: hops, the first node id, then for each edge the next
node id, the relation and whether the step is reversed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pathkg.kg.dump import KGDump
from schemas.kg_dump import RELATIONS, KGEdge, KGNode
from schemas.kg_path import KGPath, KGPathStep

#: Paths enumerated per (query, length) before ranking; bounds the work on hub nodes.
PATH_CANDIDATE_LIMIT = 20_000


class StoreError(Exception):
    """The store cannot answer (unreachable server, bad argument)."""


@dataclass(frozen=True)
class Neighbor:
    edge: KGEdge
    node: KGNode
    outgoing: bool

    @classmethod
    def of(
        cls, node_id: str, other: KGNode, outgoing: bool, relation: str, source: str, evidence: str | None
    ) -> Neighbor:
        """The neighbour `other` of `node_id`, its edge read in the stored direction."""
        s, t = (node_id, other.id) if outgoing else (other.id, node_id)
        return cls(
            KGEdge(source_id=s, relation=relation, target_id=t, source=source, evidence=evidence), other, outgoing
        )


def ordered_neighbors(found: list[Neighbor], limit: int) -> list[Neighbor]:
    """The order both backends answer in: relation, outgoing first, then node id."""
    return sorted(found, key=lambda n: (n.edge.relation, not n.outgoing, n.node.id))[:limit]


@dataclass
class StoreStats:
    version: str | None
    nodes: int
    edges: int
    node_types: dict[str, int] = field(default_factory=dict)
    relations: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "nodes": self.nodes,
            "edges": self.edges,
            "node_types": dict(sorted(self.node_types.items())),
            "relations": dict(sorted(self.relations.items())),
        }


@dataclass
class LoadResult:
    version: str
    nodes_written: int
    edges_written: int
    skipped: bool = False


class KGStore(Protocol):
    """What every backend offers."""

    def load(self, dump: KGDump, batch_size: int = 10_000, show_progress: bool = False) -> LoadResult:
        """Write a checked dump: schema (constraints, indexes) first, then batched writes.
        Idempotent: loading the same dump again writes nothing."""
        ...

    def lookup(self, text: str, limit: int = 10) -> list[KGNode]:
        """Nodes whose id is `text`, else whose normalised name, else a normalised synonym, equals it."""
        ...

    def neighbors(self, node_id: str, relations: list[str] | None = None, limit: int = 100) -> list[Neighbor]: ...

    def paths(
        self,
        sources: list[str],
        targets: list[str],
        max_hops: int = 3,
        relation_filter: list[str] | None = None,
        k: int = 5,
    ) -> list[KGPath]:
        """The k shortest simple paths from any source id to any target id (edges walked both ways)."""
        ...

    def stats(self) -> StoreStats: ...

    def clear(self) -> None:
        """Remove every node, edge and the stored version (tests, rebuilds)."""
        ...

    def close(self) -> None: ...


def check_path_arguments(max_hops: int, k: int, relation_filter: list[str] | None) -> list[str]:
    """Validate what ends up in query text (hop bound, relation names); returns the relations to walk."""
    if not isinstance(max_hops, int) or not 1 <= max_hops <= 6:
        raise StoreError(f"max_hops must be an integer from 1 to 6, not {max_hops!r}")
    if not isinstance(k, int) or k < 1:
        raise StoreError(f"k must be a positive integer, not {k!r}")
    relations = list(relation_filter) if relation_filter else list(RELATIONS)
    unknown = [r for r in relations if r not in RELATIONS]
    if unknown:
        raise StoreError(f"unknown relation(s) {unknown}; known: {', '.join(RELATIONS)}")
    return relations


def rank_paths(rows: list[tuple[list[str], list[str], list[str], list[str]]], version: str, k: int) -> list[KGPath]:
    """Rows of (node ids, node names, relations, source-end id of each edge) -> the k first paths in the
    canonical order, duplicates removed."""
    seen: set[tuple] = set()
    keyed = []
    for ids, names, rels, starts in rows:
        if len(set(ids)) != len(ids):
            continue
        reversed_ = [start != ids[i] for i, start in enumerate(starts)]
        # Step by step: first node, then (next node, relation, reversed) per edge.
        key = (len(rels), ids[0], tuple(zip(ids[1:], rels, reversed_, strict=True)))
        if key in seen:
            continue
        seen.add(key)
        keyed.append((key, ids, names, rels, reversed_))
    keyed.sort(key=lambda item: item[0])
    out = []
    for _, ids, names, rels, reversed_ in keyed[:k]:
        steps = []
        for i, rel in enumerate(rels):
            a, b = (i + 1, i) if reversed_[i] else (i, i + 1)
            steps.append(
                KGPathStep(
                    source_id=ids[a],
                    relation=rel,
                    target_id=ids[b],
                    source_name=names[a],
                    target_name=names[b],
                    reversed=reversed_[i],
                )
            )
        out.append(KGPath(start_id=ids[0], end_id=ids[-1], steps=steps, kg_version=version))
    return out


def combined_version(versions: list[str]) -> str | None:
    """The store's version: the one dump loaded, or a hash of the sorted versions of several."""
    import hashlib

    versions = sorted(set(versions))
    if not versions:
        return None
    if len(versions) == 1:
        return versions[0]
    return "kg-" + hashlib.sha256("\n".join(versions).encode()).hexdigest()[:16]
