"""Each walk of the Neo4j path search (expand the sources, expand the targets, meet in the middle)
gives exactly the embedded store's answers on a graph with hubs. Runs against the real server."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pathkg.kg import neo4j_path_search
from tests.kg.conftest import hub_dump, make_store

pytestmark = pytest.mark.neo4j


def test_neo4j_paths_equal_embedded_on_a_graph_with_hubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dump = hub_dump()
    default_plan = neo4j_path_search.walk_plan
    embedded, neo4j = make_store("embedded", tmp_path), make_store("neo4j", tmp_path)
    try:
        embedded.load(dump)
        neo4j.load(dump, batch_size=500)
        rng = random.Random(3)
        queries = [([f"N:{rng.randrange(600)}"], [f"N:{rng.randrange(600)}"]) for _ in range(25)]
        queries += [(["N:0"], ["N:1"]), (["N:0"], [f"N:{rng.randrange(3, 600)}"]), (["N:5", "N:0"], ["N:2", "N:9"])]
        # The same nodes at both ends (hubs with parallel edges): walks back to the start are not paths.
        queries += [(["N:0", "N:1", "N:4"], ["N:0", "N:1", "N:4"])]
        expected = [embedded.paths(s, t, max_hops=3, k=5) for s, t in queries]
        filtered = [embedded.paths(s, t, 3, ["SUPPORTS", "IS_A"], 5) for s, t in queries]
        shorter = [embedded.paths(s, t, hops, None, 20) for s, t in queries for hops in (1, 2)]
        assert sum(len(p) for p in expected) > 50  # the graph has paths to compare
        assert any(len(p[0].steps) == 3 for p in expected if p)  # including 3-hop ones (the middle query)
        # Default plan choice (by degree), then each walk forced for both 2 and 3 hops.
        for plan in (None, "sources", "targets"):
            if plan is not None:
                monkeypatch.setattr(neo4j_path_search, "walk_plan", lambda hops, degrees, plan=plan: plan)
                monkeypatch.setattr(neo4j_path_search, "TWO_HOP_WALK", plan)
            assert [neo4j.paths(s, t, max_hops=3, k=5) for s, t in queries] == expected, plan
            assert [neo4j.paths(s, t, 3, ["SUPPORTS", "IS_A"], 5) for s, t in queries] == filtered, plan
            assert [neo4j.paths(s, t, hops, None, 20) for s, t in queries for hops in (1, 2)] == shorter, plan
        # Ends counted as hubs: neighbour degrees not summed.
        monkeypatch.setattr(neo4j_path_search, "walk_plan", default_plan)
        monkeypatch.setattr(neo4j_path_search, "TWO_HOP_WALK", None)
        monkeypatch.setattr(neo4j_path_search, "LIGHT_DEGREE", 0)
        assert [neo4j.paths(s, t, max_hops=3, k=5) for s, t in queries] == expected
    finally:
        embedded.close()
        neo4j.close()
