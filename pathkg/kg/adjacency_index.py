"""An in-memory, read-only adjacency index (CSR arrays) of a stored graph, for fast path search.

The embedded store builds it from LadybugDB on the first path query and drops it on every write, so
answers always reflect the database. Nodes are LadybugDB's internal offsets; each node's incident edges
(both directions) are one contiguous slice of three numpy arrays: the other end, the relation and
whether the edge leaves the node.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pathkg.kg.store import EdgeRow


@dataclass
class AdjacencyIndex:
    ids: list[str]
    names: list[str]
    offset_of: dict[str, int]
    relations: list[str]
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
        relations = sorted(edges_by_relation)
        heads, tails, codes = [], [], []
        for code, relation in enumerate(relations):
            table = edges_by_relation[relation]
            heads.append(table["s"].to_numpy())
            tails.append(table["t"].to_numpy())
            codes.append(np.full(table.num_rows, code, dtype=np.int16))
        s = np.concatenate(heads) if heads else np.zeros(0, np.int64)
        t = np.concatenate(tails) if tails else np.zeros(0, np.int64)
        r = np.concatenate(codes) if codes else np.zeros(0, np.int16)
        # Each edge appears twice: at its start (outgoing) and at its end (incoming).
        node = np.concatenate([s, t])
        other = np.concatenate([t, s])
        relation = np.concatenate([r, r])
        outgoing = np.concatenate([np.ones(len(s), bool), np.zeros(len(t), bool)])
        order = np.argsort(node, kind="stable")
        starts = np.searchsorted(node[order], np.arange(size + 1))
        return cls(
            ids=ids,
            names=names,
            offset_of={node_id: i for i, node_id in enumerate(ids) if node_id},
            relations=relations,
            starts=starts,
            other=other[order],
            relation=relation[order],
            outgoing=outgoing[order],
        )

    def _offsets(self, ids: list[str]) -> np.ndarray:
        return np.array([self.offset_of[i] for i in ids if i in self.offset_of], dtype=np.int64)

    def _incident_slots(self, offsets: np.ndarray, relations: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(owner node, slot in the CSR arrays) of every allowed edge incident to `offsets`."""
        lo, hi = self.starts[offsets], self.starts[offsets + 1]
        counts = hi - lo
        total = int(counts.sum())
        shift = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        slots = shift + np.arange(total)
        owners = np.repeat(offsets, counts)
        allowed = np.array([r in relations for r in self.relations] + [False], dtype=bool)
        keep = allowed[self.relation[slots]] if total else np.zeros(0, bool)
        return owners[keep], slots[keep]

    def _rows(self, owners: np.ndarray, slots: np.ndarray) -> list[EdgeRow]:
        seen: set[EdgeRow] = set()
        out: list[EdgeRow] = []
        for here, there, code, leaves in zip(
            owners.tolist(),
            self.other[slots].tolist(),
            self.relation[slots].tolist(),
            self.outgoing[slots].tolist(),
            strict=True,
        ):
            s, t = (here, there) if leaves else (there, here)
            row = (self.ids[s], self.relations[code], self.ids[t])
            if row not in seen:
                seen.add(row)
                out.append(row)
        return out

    def incident(self, ids: list[str], relations: list[str]) -> list[EdgeRow]:
        """The stored edges touching any of `ids` whose relation is in `relations`."""
        return self._rows(*self._incident_slots(self._offsets(ids), relations))

    def names_of(self, ids: list[str]) -> dict[str, str]:
        return {i: self.names[self.offset_of[i]] for i in ids if i in self.offset_of}

    def between(self, xs: list[str], ys: list[str], relations: list[str]) -> list[EdgeRow]:
        """The stored edges with one end in `xs` and the other in `ys` (filtered before any row is built)."""
        owners, slots = self._incident_slots(self._offsets(xs), relations)
        match = np.isin(self.other[slots], self._offsets(ys))
        return self._rows(owners[match], slots[match])
