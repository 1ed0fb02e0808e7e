"""An in-memory, read-only adjacency index (CSR arrays) of a stored graph, for fast path search.

The embedded store builds it from LadybugDB on the first path query and drops it on every write, so
answers always reflect the database. Nodes are LadybugDB's internal offsets; each node's incident edges
(both directions) are one contiguous slice of three numpy arrays: the other end, the relation and
whether the edge leaves the node. Each slice is sorted in the canonical step order of `rank_paths`
(other end's id, relation, walked against the stored direction) and holds no duplicate, so a search
that walks slices in order meets paths in their final order and can stop after the first `k`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass
class AdjacencyIndex:
    ids: list[str]
    names: list[str]
    offset_of: dict[str, int]
    relations: list[str]  # sorted, so relation codes compare as the names do
    rank: np.ndarray  # position of each node's id in the sorted ids: compares as the ids do
    starts: np.ndarray  # CSR row pointers, len = nodes + 1
    other: np.ndarray  # the other end of each incident edge
    relation: np.ndarray  # index into `relations`
    outgoing: np.ndarray  # True when the edge starts at the node

    @classmethod
    def build(cls, nodes: pa.Table, edges_by_relation: dict[str, pa.Table]) -> AdjacencyIndex:
        """`nodes`: (offset, id, name); each edge table: (source offset, target offset)."""
        size = int(max(nodes["o"].to_pylist(), default=-1)) + 1
        ids = [""] * size
        names = [""] * size
        for offset, node_id, name in zip(*(nodes[c].to_pylist() for c in ("o", "id", "name")), strict=True):
            ids[offset], names[offset] = node_id, name
        rank = np.empty(size, dtype=np.int64)
        rank[sorted(range(size), key=ids.__getitem__)] = np.arange(size)
        relations = sorted(edges_by_relation)
        heads, tails, codes = [], [], []
        for code, relation in enumerate(relations):
            table = edges_by_relation[relation]
            heads.append(table["s"].to_numpy().astype(np.int64))
            tails.append(table["t"].to_numpy().astype(np.int64))
            codes.append(np.full(table.num_rows, code, dtype=np.int16))
        s = np.concatenate(heads) if heads else np.zeros(0, np.int64)
        t = np.concatenate(tails) if tails else np.zeros(0, np.int64)
        r = np.concatenate(codes) if codes else np.zeros(0, np.int16)
        # Each edge appears twice: at its start (outgoing) and at its end (incoming).
        node = np.concatenate([s, t])
        other = np.concatenate([t, s])
        relation = np.concatenate([r, r])
        outgoing = np.concatenate([np.ones(len(s), bool), np.zeros(len(t), bool)])
        order = np.lexsort((~outgoing, relation, rank[other], node))
        node, other, relation, outgoing = node[order], other[order], relation[order], outgoing[order]
        if len(node):
            repeat = (
                (node[1:] == node[:-1])
                & (other[1:] == other[:-1])
                & (relation[1:] == relation[:-1])
                & (outgoing[1:] == outgoing[:-1])
            )
            keep = np.concatenate([[True], ~repeat])
            node, other, relation, outgoing = node[keep], other[keep], relation[keep], outgoing[keep]
        return cls(
            ids=ids,
            names=names,
            offset_of={node_id: i for i, node_id in enumerate(ids) if node_id},
            relations=relations,
            rank=rank,
            starts=np.searchsorted(node, np.arange(size + 1)),
            other=other,
            relation=relation,
            outgoing=outgoing,
        )

    @property
    def size(self) -> int:
        return len(self.ids)

    def offsets(self, ids: list[str]) -> np.ndarray:
        """The offsets of the known `ids`, each once, in id order."""
        found = sorted({self.offset_of[i] for i in ids if i in self.offset_of}, key=self.ids.__getitem__)
        return np.array(found, dtype=np.int64)

    def allowed(self, relations: list[str]) -> np.ndarray | None:
        """A mask over relation codes, or None when every stored relation is allowed."""
        mask = np.array([r in relations for r in self.relations], dtype=bool)
        return None if mask.all() else mask

    def degree(self, offsets: np.ndarray) -> int:
        """How many incident-edge slots `offsets` own together (the cost of scanning them)."""
        return int((self.starts[offsets + 1] - self.starts[offsets]).sum())

    def incident_slots(self, offsets: np.ndarray, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(owner, slot) of every allowed edge incident to `offsets`: owners in the given order, each
        owner's slots in canonical step order."""
        lo, hi = self.starts[offsets], self.starts[offsets + 1]
        counts = hi - lo
        total = int(counts.sum())
        if not total:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        shift = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        slots = shift + np.arange(total)
        owners = np.repeat(offsets, counts)
        if allowed is None:
            return owners, slots
        keep = allowed[self.relation[slots]]
        return owners[keep], slots[keep]
