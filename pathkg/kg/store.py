"""The one KG store interface; `ladybug_store` (embedded) and `neo4j_store` (server) implement it.

Callers never see a query dialect: each backend owns its query text. Answers are the same on both
backends: paths are simple (no repeated node), walk edges in either direction (`reversed` says when a
step goes against the stored direction), and are ordered by (hops, node ids, relations) before the
first `k` are taken. The order is step by step: hops, the first node id, then for each edge the next
node id, the relation and whether the step is reversed.
"""

from __future__ import annotations

from collections.abc import Callable
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


#: A stored edge as the path search sees it: (start id, relation, end id).
EdgeRow = tuple[str, str, str]
#: One step out of a node: (next node id, relation, walked against the stored direction).
Step = tuple[str, str, bool]

#: Middle nodes whose onward edges are fetched per query while searching 3-hop paths.
BETWEEN_CHUNK = 512


def meet_in_the_middle(
    incident: Callable[[list[str], list[str]], list[EdgeRow]],
    between: Callable[[list[str], list[str], list[str]], list[EdgeRow]],
    names_of: Callable[[list[str]], dict[str, str]],
    sources: list[str],
    targets: list[str],
    max_hops: int,
    relations: list[str],
    k: int,
) -> list[tuple[list[str], list[str], list[str], list[str]]]:
    """The first `k` simple paths of 1 to `max_hops` (at most 3) edges from a source to a target, in the
    canonical order of `rank_paths`, as its rows. Found from both ends: the edges at the sources, the
    edges at the targets and, for 3 hops, the edges joining the two neighbourhoods, fetched in chunks of
    middle nodes and only until `k` paths are known, so hubs do not make it enumerate every path.

    `incident(ids, relations)` returns the stored edges touching any of `ids`; `between(xs, ys, relations)`
    the stored edges with one end in `xs` and the other in `ys` (either direction); `names_of(ids)` the
    names of the nodes on the paths returned."""
    if max_hops > 3:
        raise StoreError("meet_in_the_middle handles at most 3 hops")

    def steps(rows: list[EdgeRow], wanted: set[str]) -> dict[str, list[Step]]:
        out: dict[str, set[Step]] = {}
        for s, rel, t in rows:
            if s in wanted:
                out.setdefault(s, set()).add((t, rel, False))
            if t in wanted:
                out.setdefault(t, set()).add((s, rel, True))
        return {node: sorted(found) for node, found in out.items()}

    found: list[tuple[list[str], list[tuple[str, bool]]]] = []

    def emit(ids: list[str], walked: list[tuple[str, bool]]) -> bool:
        """Record a path if simple; True once k paths are known."""
        if len(set(ids)) == len(ids):
            found.append((ids, walked))
        return len(found) >= k

    def rows() -> list[tuple[list[str], list[str], list[str], list[str]]]:
        names = names_of(sorted({i for ids, _ in found for i in ids})) if found else {}
        return [
            (
                ids,
                [names[i] for i in ids],
                [r for r, _ in walked],
                [ids[i + 1] if rev else ids[i] for i, (_, rev) in enumerate(walked)],
            )
            for ids, walked in found
        ]

    source_list, target_set = sorted(set(sources)), set(targets)
    out_of = steps(incident(source_list, relations), set(source_list))
    for a in source_list:
        for x, rel, rev in out_of.get(a, []):
            if x in target_set and emit([a, x], [(rel, rev)]):
                return rows()
    if max_hops == 1:
        return rows()
    target_list = sorted(target_set)
    # into[y]: the steps y -> b that end at a target, seen from y.
    into: dict[str, list[Step]] = {}
    for b, back in steps(incident(target_list, relations), target_set).items():
        for y, rel, rev in back:
            into.setdefault(y, []).append((b, rel, not rev))
    for y in into:
        into[y].sort()
    for a in source_list:
        for x, rel1, rev1 in out_of.get(a, []):
            for b, rel2, rev2 in into.get(x, []):
                if emit([a, x, b], [(rel1, rev1), (rel2, rev2)]):
                    return rows()
    if max_hops == 2 or not into:
        return rows()
    middles = list(dict.fromkeys(x for a in source_list for x, _, _ in out_of.get(a, [])))
    ys = sorted(into)
    onward: dict[str, list[Step]] = {}
    fetched = 0
    for a in source_list:
        for x, rel1, rev1 in out_of.get(a, []):
            while x not in onward and fetched < len(middles):
                chunk = middles[fetched : fetched + BETWEEN_CHUNK]
                fetched += len(chunk)
                got = steps(between(chunk, ys, relations), set(chunk))
                for middle in chunk:
                    onward[middle] = [step for step in got.get(middle, []) if step[0] in into]
            for y, rel2, rev2 in onward.get(x, []):
                for b, rel3, rev3 in into[y]:
                    if emit([a, x, y, b], [(rel1, rev1), (rel2, rev2), (rel3, rev3)]):
                        return rows()
    return rows()
