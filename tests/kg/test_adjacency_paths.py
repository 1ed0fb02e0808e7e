"""The embedded path search (numpy over the adjacency index) against a brute-force reference: every
simple path of up to 3 hops enumerated in plain Python from the dump, ranked by `rank_paths`. Both ways
of finding the middle edges (from the targets' side, from the sources' side in chunks) are forced."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest

from pathkg.kg import adjacency_paths
from pathkg.kg.dump import KGDump
from pathkg.kg.store import rank_paths
from tests.kg.conftest import edge, hub_dump, make_store


def reference_paths(dump: KGDump, sources: list[str], targets: list[str], max_hops: int, relations, k: int):
    """All simple paths of 1..max_hops edges, walked both ways, ranked canonically."""
    names = dict(zip(dump.nodes["id"].to_pylist(), dump.nodes["name"].to_pylist(), strict=True))
    steps: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # node -> (next, relation, stored start)
    for e in dump.edges.to_pylist():
        if relations is None or e["relation"] in relations:
            steps[e["source_id"]].append((e["target_id"], e["relation"], e["source_id"]))
            steps[e["target_id"]].append((e["source_id"], e["relation"], e["source_id"]))
    rows = []

    def walk(ids: list[str], rels: list[str], starts: list[str]) -> None:
        if len(ids) > 1 and ids[-1] in targets:
            rows.append((list(ids), [names[i] for i in ids], list(rels), list(starts)))
        if len(rels) == max_hops:
            return
        for nxt, rel, start in steps[ids[-1]]:
            if nxt not in ids:
                walk([*ids, nxt], [*rels, rel], [*starts, start])

    for s in sorted(set(sources)):
        if s in names:
            walk([s], [], [])
    return rank_paths(rows, dump.version, k)


def _queries(seed: int) -> list[tuple[list[str], list[str]]]:
    rng = random.Random(seed)
    queries = [([f"N:{rng.randrange(600)}"], [f"N:{rng.randrange(600)}"]) for _ in range(40)]
    queries += [(["N:0"], ["N:1"]), (["N:0"], ["N:2"]), (["N:7"], ["N:0"]), (["N:5", "N:0"], ["N:2", "N:9"])]
    queries += [(["N:0", "N:1", "N:4"], ["N:0", "N:1", "N:4"]), (["N:3", "missing"], ["N:8"]), (["missing"], ["N:8"])]
    return queries


@pytest.mark.parametrize("side", ["by_degree", "targets", "sources"])
def test_embedded_paths_equal_brute_force_on_a_graph_with_hubs(
    side: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if side != "by_degree":
        monkeypatch.setattr(adjacency_paths, "scan_targets_side", lambda index, xs, ys: side == "targets")
        monkeypatch.setattr(adjacency_paths, "FIRST_CHUNK", 1)  # many chunks, each resuming in order
    dump = hub_dump()
    store = make_store("embedded", tmp_path)
    try:
        store.load(dump)
        three_hop = 0
        for sources, targets in _queries(11):
            for max_hops, relations, k in [(3, None, 5), (3, ["SUPPORTS", "IS_A"], 5), (2, None, 20), (3, None, 40)]:
                got = store.paths(sources, targets, max_hops=max_hops, relation_filter=relations, k=k)
                want = reference_paths(dump, sources, targets, max_hops, relations, k)
                assert got == want, (sources, targets, max_hops, relations, k)
                three_hop += sum(len(p.steps) == 3 for p in got)
        assert three_hop > 100  # the 3-hop search was exercised, not only the short cases
    finally:
        store.close()


def test_parallel_edges_and_self_loops_are_steps_once_and_never_paths(tmp_path: Path) -> None:
    """Two relations between the same pair give two paths; an edge in both directions is two steps;
    a self-loop is never part of a simple path."""
    base = hub_dump()
    extra = [
        edge("N:10", "SUPPORTS", "N:11"),
        edge("N:10", "IS_A", "N:11"),
        edge("N:11", "SUPPORTS", "N:10"),
        edge("N:11", "ASSOCIATED_WITH", "N:11"),
    ]
    dump = KGDump.from_rows(base.nodes.to_pylist(), [*base.edges.to_pylist(), *extra])
    store = make_store("embedded", tmp_path)
    try:
        store.load(dump)
        direct = [p for p in store.paths(["N:10"], ["N:11"], max_hops=1, k=10)]
        assert [(s.relation, s.reversed) for p in direct for s in p.steps] == [
            ("IS_A", False),
            ("SUPPORTS", False),
            ("SUPPORTS", True),
        ]
        assert store.paths(["N:11"], ["N:11"], max_hops=3, k=5) == []
        for max_hops in (2, 3):
            got = store.paths(["N:10"], ["N:12", "N:11"], max_hops=max_hops, k=30)
            assert got == reference_paths(dump, ["N:10"], ["N:12", "N:11"], max_hops, None, 30)
    finally:
        store.close()
