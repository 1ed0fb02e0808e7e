"""Load a synthetic PrimeKG-shaped graph into each KG backend and print edges/s.

    python benchmarks/kg_load.py [--nodes 100000] [--edges 1000000] [--backends embedded,neo4j]

The baseline, in the same run on the same rows, is building a NetworkX graph in memory (no persistence,
no indexes): the ratio says how far each store is from plain Python data structures. Targets (issue 3):
embedded >= 200K edges/s, Neo4j >= 20K edges/s. Neo4j is the server at NEO4J_URI (`make neo4j-up`).
Each store is cleared before its load; the embedded database lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import networkx as nx
from synthetic_primekg import synthetic_dump

from pathkg.kg.backends import open_store

#: Issue 3's load targets, edges/s.
TARGETS = {"embedded": 200_000, "neo4j": 20_000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--backends", default="embedded,neo4j")
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--db", type=Path, default=None, help="embedded database folder (default: a temp dir)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    dump, _, _ = synthetic_dump(args.nodes, args.edges)
    # The version is a property of the dump (a dump read from disk takes it from its manifest): not timed.
    _ = dump.version
    made = time.perf_counter() - t0
    print(f"synthetic graph: {dump.nodes.num_rows:,} nodes, {dump.edges.num_rows:,} edges ({made:.1f}s)")

    t0 = time.perf_counter()
    graph = nx.Graph()
    graph.add_nodes_from(dump.nodes["id"].to_pylist())
    graph.add_edges_from(zip(dump.edges["source_id"].to_pylist(), dump.edges["target_id"].to_pylist(), strict=True))
    nx_rate = dump.edges.num_rows / (time.perf_counter() - t0)
    del graph  # millions of Python objects the stores' loads would otherwise walk in every GC pass
    print(f"{'networkx (baseline)':<22} {nx_rate:>12,.0f} edges/s")

    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            store = open_store(backend, args.db or Path(tmp) / "kg.lbug")  # type: ignore[arg-type]
            try:
                store.clear()
                t0 = time.perf_counter()
                result = store.load(dump, batch_size=args.batch_size, show_progress=True)
                seconds = time.perf_counter() - t0
                stats = store.stats()
            finally:
                store.close()
            assert (stats.nodes, stats.edges) == (dump.nodes.num_rows, dump.edges.num_rows), stats
            rate = result.edges_written / seconds
            print(
                f"{backend:<22} {rate:>12,.0f} edges/s  ({seconds:.1f}s for nodes+edges; "
                f"{rate / nx_rate:.2f}x networkx)"
            )
            if backend in TARGETS:
                met = "MET" if rate >= TARGETS[backend] else "NOT MET"
                print(f"{'':<22} target >= {TARGETS[backend]:,} edges/s: {met}")


if __name__ == "__main__":
    main()
