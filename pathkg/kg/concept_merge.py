"""Merge nodes from several sources so that one concept is one node.

Two nodes are the same concept when they share an NCIt, UMLS or ICD-O code (their own id counts:
`NCIT:C3493` is the code C3493). A code that names two or more nodes *within one source* is
ambiguous there (ICD-O 8140/3 is a dozen OncoTree types) and is not used to merge. Two nodes of the
same source are never merged into one, even through a chain of codes. The merged node keeps the id,
name and type of the source ranked first in `priority`; every other id becomes an xref and every
other name a synonym. Edges are rewritten onto the merged ids; repeats are merged with their sources
joined; self-loops that merging creates are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pathkg.kg.sources.source_graph import SourceGraph

MERGE_PREFIXES = ("NCIT", "UMLS", "ICDO")


def _codes(node: dict) -> set[str]:
    return {c for c in [node["id"], *node["xrefs"]] if c.split(":", 1)[0] in MERGE_PREFIXES}


def merge_sources(graphs: Sequence[SourceGraph]) -> tuple[list[dict], list[dict], dict[str, str]]:
    """(nodes, edges, id_map) where id_map sends every input node id to its merged id.

    `graphs` are in priority order: the first source's id and name win a merge."""
    nodes: list[dict] = []
    owner: list[int] = []  # source rank of each node
    index_of: dict[str, int] = {}
    for rank, graph in enumerate(graphs):
        for node in graph.nodes:
            if node["id"] in index_of:
                # The same id from a later source (TPO's NCIT:C… findings): fold its names into the first.
                held = nodes[index_of[node["id"]]]
                held["synonyms"] = list(dict.fromkeys([*held["synonyms"], node["name"], *node["synonyms"]]))
                held["xrefs"] = list(dict.fromkeys([*held["xrefs"], *node["xrefs"]]))
                held["source"] = ";".join(sorted(set(held["source"].split(";")) | {node["source"]}))
                continue
            index_of[node["id"]] = len(nodes)
            nodes.append(dict(node))
            owner.append(rank)

    # Codes usable for merging: unambiguous within each source.
    per_source: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, node in enumerate(nodes):
        for code in _codes(node):
            per_source[(owner[i], code)].append(i)
    by_code: dict[str, list[int]] = defaultdict(list)
    for (_, code), members in per_source.items():
        if len(members) == 1:
            by_code[code].append(members[0])

    parent = list(range(len(nodes)))
    ranks = [{owner[i]} for i in range(len(nodes))]

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for code in sorted(by_code):
        members = sorted(by_code[code], key=lambda i: (owner[i], i))
        for other in members[1:]:
            a, b = find(members[0]), find(other)
            if a == b or ranks[a] & ranks[b]:
                continue
            keep, drop = (a, b) if (min(ranks[a]), a) <= (min(ranks[b]), b) else (b, a)
            parent[drop] = keep
            ranks[keep] |= ranks[drop]

    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(nodes)):
        groups[find(i)].append(i)

    id_map: dict[str, str] = {}
    merged: list[dict] = []
    for members in groups.values():
        members.sort(key=lambda i: (owner[i], i))
        head = nodes[members[0]]
        names, xrefs, sources = [], [], set()
        for i in members:
            node = nodes[i]
            id_map[node["id"]] = head["id"]
            names += [node["name"], *node["synonyms"]]
            xrefs += [node["id"], *node["xrefs"]]
            sources |= set(node["source"].split(";"))
        merged.append(
            {
                "id": head["id"],
                "type": head["type"],
                "name": head["name"],
                "synonyms": [n for n in dict.fromkeys(names) if n != head["name"]],
                "xrefs": sorted(x for x in set(xrefs) if x != head["id"]),
                "source": ";".join(sorted(sources)),
            }
        )

    edges: dict[tuple[str, str, str], dict] = {}
    for graph in graphs:
        for edge in graph.edges:
            s = id_map.get(edge["source_id"], edge["source_id"])
            t = id_map.get(edge["target_id"], edge["target_id"])
            if s == t:
                continue
            key = (s, edge["relation"], t)
            held = edges.get(key)
            if held is None:
                edges[key] = {**edge, "source_id": s, "target_id": t}
            elif edge["source"] not in held["source"].split("; "):
                held["source"] = f"{held['source']}; {edge['source']}"
    return merged, list(edges.values()), id_map
