"""Simple paths of 1 to 3 hops between two node sets, searched on the adjacency index.

Meets in the middle: the steps out of the sources, the steps into the targets and, for 3 hops, the
edges joining the two neighbourhoods. Those are found with numpy over node offsets (a hub's 10K edges
are one array operation, not 10K Python steps); the middle edges are scanned from the lighter side, or,
when the sources' side is the lighter, in growing chunks of its steps, in order, only until `k` paths
are known. Every slice is walked in the canonical order of `rank_paths` (see `adjacency_index.py`), so
the first `k` simple paths met are the answer and the search stops there. Only those paths' nodes are
turned back into ids and names.
"""

from __future__ import annotations

import numpy as np

from pathkg.kg.adjacency_index import AdjacencyIndex
from pathkg.kg.store import StoreError

#: (node ids, node names, relations, id at the stored start of each edge): what `rank_paths` takes.
PathRow = tuple[list[str], list[str], list[str], list[str]]
#: A walked edge: (relation code, walked against the stored direction).
Walked = tuple[int, bool]

#: Source-side steps whose onward edges the first chunk fetches (each next chunk is twice as large).
FIRST_CHUNK = 64


class _Steps:
    """Steps grouped by the node they leave, each group in canonical order: `to[start[n]:end[n]]`."""

    def __init__(self, size: int) -> None:
        self.start = np.zeros(size, dtype=np.int64)
        self.end = np.zeros(size, dtype=np.int64)
        self.leaves = np.zeros(size, dtype=bool)  # nodes with at least one step
        self.to = np.zeros(0, dtype=np.int64)
        self.relation = np.zeros(0, dtype=np.int16)
        self.reversed = np.zeros(0, dtype=bool)

    def add(self, froms: np.ndarray, to: np.ndarray, relation: np.ndarray, reversed_: np.ndarray) -> None:
        """Append steps grouped by the node they leave (each group contiguous, in canonical order, and
        from a node not added before)."""
        if not len(froms):
            return
        base = len(self.to)
        change = np.flatnonzero(froms[1:] != froms[:-1]) + 1
        lo = np.concatenate([[0], change])
        self.start[froms[lo]] = base + lo
        self.end[froms[lo]] = base + np.append(change, len(froms))
        self.leaves[froms[lo]] = True
        self.to = np.concatenate([self.to, to])
        self.relation = np.concatenate([self.relation, relation])
        self.reversed = np.concatenate([self.reversed, reversed_])

    def of(self, node: int) -> range:
        return range(int(self.start[node]), int(self.end[node]))

    def step(self, j: int) -> tuple[int, Walked]:
        return int(self.to[j]), (int(self.relation[j]), bool(self.reversed[j]))


def scan_targets_side(index: AdjacencyIndex, x_nodes: np.ndarray, y_nodes: np.ndarray) -> bool:
    """Whether to find the middle edges from the targets' side (the lighter side: fewer incident edges)."""
    return index.degree(y_nodes) <= index.degree(x_nodes)


def find_paths(
    index: AdjacencyIndex,
    sources: list[str],
    targets: list[str],
    max_hops: int,
    relations: list[str],
    k: int,
) -> list[PathRow]:
    """The first `k` simple paths of 1 to `max_hops` (at most 3) edges from a source to a target whose
    relations are in `relations`, in the canonical order of `rank_paths`, as its rows."""
    if max_hops > 3:
        raise StoreError("the adjacency search handles at most 3 hops")
    source_nodes, target_nodes = index.offsets(sources), index.offsets(targets)
    found: list[tuple[list[int], list[Walked]]] = []

    def emit(nodes: list[int], walked: list[Walked]) -> bool:
        """Record a path if simple; True once k paths are known."""
        if len(set(nodes)) == len(nodes):
            found.append((nodes, walked))
        return len(found) >= k

    def rows() -> list[PathRow]:
        out = []
        for nodes, walked in found:
            ids = [index.ids[n] for n in nodes]
            out.append(
                (
                    ids,
                    [index.names[n] for n in nodes],
                    [index.relations[code] for code, _ in walked],
                    [ids[i + 1] if rev else ids[i] for i, (_, rev) in enumerate(walked)],
                )
            )
        return out

    if not len(source_nodes) or not len(target_nodes):
        return []
    allowed = index.allowed(relations)
    other, relation, outgoing, rank = index.other, index.relation, index.outgoing, index.rank

    # Steps out of the sources, sources in id order: (a, x, relation, reversed) per step.
    a_own, a_slot = index.incident_slots(source_nodes, allowed)
    a_x = other[a_slot]
    a_list, x_list = a_own.tolist(), a_x.tolist()
    a_relation, a_reversed = relation[a_slot], ~outgoing[a_slot]

    def first(i: int) -> Walked:
        return int(a_relation[i]), bool(a_reversed[i])

    is_target = np.zeros(index.size, dtype=bool)
    is_target[target_nodes] = True
    for i in np.flatnonzero(is_target[a_x]).tolist():
        if emit([a_list[i], x_list[i]], [first(i)]):
            return rows()
    if max_hops == 1:
        return rows()

    # Steps into the targets, seen from the node before: y -> b, grouped by y.
    b_own, b_slot = index.incident_slots(target_nodes, allowed)
    y = other[b_slot]
    order = np.lexsort((outgoing[b_slot], relation[b_slot], rank[b_own], y))
    into = _Steps(index.size)
    into.add(y[order], b_own[order], relation[b_slot][order], outgoing[b_slot][order])
    for i in np.flatnonzero(into.leaves[a_x]).tolist():
        a, x = a_list[i], x_list[i]
        for j in into.of(x):
            b, last = into.step(j)
            if emit([a, x, b], [first(i), last]):
                return rows()
    if max_hops == 2 or not len(into.to):
        return rows()

    # Middle edges x - y (x a step from a source, y a step before a target), grouped by x.
    onward = _Steps(index.size)
    is_y = into.leaves

    def walk(lo: int, hi: int) -> bool:
        """Emit the 3-hop paths through the source steps lo..hi; True once k paths are known."""
        for i in (lo + np.flatnonzero(onward.leaves[a_x[lo:hi]])).tolist():
            a, x = a_list[i], x_list[i]
            for j in onward.of(x):
                middle, second = onward.step(j)
                for m in into.of(middle):
                    b, last = into.step(m)
                    if emit([a, x, middle, b], [first(i), second, last]):
                        return True
        return False

    x_nodes = np.unique(a_x)
    y_nodes = np.flatnonzero(is_y)
    if scan_targets_side(index, x_nodes, y_nodes):
        # The targets' side is lighter: scan it once, keep the edges back to an x.
        is_x = np.zeros(index.size, dtype=bool)
        is_x[x_nodes] = True
        y_own, y_slot = index.incident_slots(y_nodes, allowed)
        keep = is_x[other[y_slot]]
        y_own, y_slot = y_own[keep], y_slot[keep]
        x = other[y_slot]
        order = np.lexsort((outgoing[y_slot], relation[y_slot], rank[y_own], x))
        onward.add(x[order], y_own[order], relation[y_slot][order], outgoing[y_slot][order])
        walk(0, len(x_list))
        return rows()
    # The sources' side is lighter: fetch the onward edges of its steps chunk by chunk, in order.
    fetched = np.zeros(index.size, dtype=bool)
    done, chunk = 0, FIRST_CHUNK
    while done < len(x_list):
        new = np.unique(a_x[done : done + chunk])
        new = new[~fetched[new]]
        fetched[new] = True
        x_own, x_slot = index.incident_slots(new, allowed)
        keep = is_y[other[x_slot]]
        x_own, x_slot = x_own[keep], x_slot[keep]
        onward.add(x_own, other[x_slot], relation[x_slot], ~outgoing[x_slot])
        if walk(done, done + chunk):
            break
        done += chunk
        chunk *= 2
    return rows()
