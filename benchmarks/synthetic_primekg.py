"""A synthetic PrimeKG-shaped graph for the KG benchmarks (shared by kg_load.py and kg_paths.py).

PrimeKG's node-type mix, ids `<source>:<n>`, every edge `ASSOCIATED_WITH`; edge ends are drawn 70 %
uniformly and 30 % from a heavy-tailed (Pareto) distribution, so a few hubs have thousands of edges
as in PrimeKG. Deterministic for a seed. Path queries are (source, target) pairs joined by a random walk
of 1-3 steps, so every query has at least one path within 3 hops.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pathkg.kg.dump import EDGE_SCHEMA, NODE_SCHEMA, KGDump

#: (PrimeKG type, pathkg type, share of nodes) — roughly PrimeKG's proportions.
TYPES = [
    ("gene/protein", "Gene", 0.21),
    ("biological_process", "BiologicalProcess", 0.22),
    ("effect/phenotype", "Phenotype", 0.12),
    ("disease", "Disease", 0.14),
    ("molecular_function", "MolecularFunction", 0.08),
    ("drug", "Drug", 0.06),
    ("cellular_component", "CellularComponent", 0.03),
    ("anatomy", "Anatomy", 0.12),
    ("pathway", "Pathway", 0.02),
]


def synthetic_dump(nodes: int, edges: int, seed: int = 0) -> tuple[KGDump, np.ndarray, np.ndarray]:
    """(dump, source index per edge, target index per edge); edges are unique and never self-loops."""
    rng = np.random.default_rng(seed)
    shares = np.array([t[2] for t in TYPES])
    type_index = rng.choice(len(TYPES), size=nodes, p=shares / shares.sum())
    ids = pa.array([f"SYN:{i}" for i in range(nodes)], pa.string())
    node_types = pa.array([TYPES[t][1] for t in type_index], pa.string())
    names = pa.array([f"{TYPES[t][0]} {i}" for i, t in enumerate(type_index)], pa.string())
    empty = pa.ListArray.from_arrays(pa.array(np.zeros(nodes + 1, dtype=np.int32)), pa.array([], pa.string()))
    node_table = pa.table(
        {
            "id": ids,
            "type": node_types,
            "name": names,
            "synonyms": empty,
            "xrefs": empty,
            "source": pa.array(["synthetic"] * nodes, pa.string()),
        },
        schema=NODE_SCHEMA,
    )
    src, dst = _ends(rng, nodes, int(edges * 1.15))
    keep = src != dst
    src, dst = src[keep], dst[keep]
    pairs = np.unique(np.stack([src, dst], axis=1), axis=0)
    pairs = pairs[rng.permutation(len(pairs))[:edges]]
    src, dst = pairs[:, 0], pairs[:, 1]
    edge_table = pa.table(
        {
            "source_id": pc.take(ids, pa.array(src)),
            "relation": pa.array(["ASSOCIATED_WITH"] * len(src), pa.string()),
            "target_id": pc.take(ids, pa.array(dst)),
            "source": pa.array(["synthetic"] * len(src), pa.string()),
            "evidence": pa.nulls(len(src), pa.string()),
        },
        schema=EDGE_SCHEMA,
    )
    return KGDump(node_table, edge_table), src, dst


def _ends(rng: np.random.Generator, nodes: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    def draw() -> np.ndarray:
        uniform = rng.integers(0, nodes, size=count)
        heavy = np.minimum((rng.pareto(1.2, size=count) * nodes / 2000).astype(np.int64), nodes - 1)
        return np.where(rng.random(count) < 0.7, uniform, heavy)

    return draw(), draw()


def path_queries(
    nodes: int, src: np.ndarray, dst: np.ndarray, count: int, max_hops: int = 3, seed: int = 1
) -> list[tuple[str, str]]:
    """`count` (source id, target id) pairs, each joined by a random walk of 1..max_hops steps."""
    rng = np.random.default_rng(seed)
    both_src = np.concatenate([src, dst])
    both_dst = np.concatenate([dst, src])
    order = np.argsort(both_src, kind="stable")
    both_src, both_dst = both_src[order], both_dst[order]
    starts = np.searchsorted(both_src, np.arange(nodes + 1))
    queries: list[tuple[str, str]] = []
    while len(queries) < count:
        start = int(rng.integers(0, nodes))
        here, seen = start, {start}
        for _ in range(int(rng.integers(1, max_hops + 1))):
            lo, hi = starts[here], starts[here + 1]
            if lo == hi:
                break
            nxt = int(both_dst[rng.integers(lo, hi)])
            if nxt in seen:
                break
            seen.add(nxt)
            here = nxt
        if here != start:
            queries.append((f"SYN:{start}", f"SYN:{here}"))
    return queries
