"""One store test suite, run against both backends: each test asserts the same concrete answers."""

from __future__ import annotations

import pytest

from pathkg.kg.dump import KGDump
from pathkg.kg.store import KGStore, StoreError
from tests.kg.conftest import NASTY_NAME, edge, small_dump


def _route(path) -> list[tuple[str, str, str, bool]]:
    return [(s.source_id, s.relation, s.target_id, s.reversed) for s in path.steps]


def test_load_then_stats(store: KGStore) -> None:
    dump = small_dump()
    result = store.load(dump, batch_size=3)
    assert (result.nodes_written, result.edges_written, result.skipped) == (10, 10, False)
    stats = store.stats().as_dict()
    assert stats == {
        "version": dump.version,
        "nodes": 10,
        "edges": 10,
        "node_types": {"Disease": 3, "Finding": 5, "StageCategory": 1, "StagingSystem": 1},
        "relations": {
            "ARGUES_AGAINST": 1,
            "ASSOCIATED_WITH": 1,
            "DETERMINES": 1,
            "IS_A": 2,
            "PART_OF": 1,
            "STAGED_BY": 1,
            "SUPPORTS": 3,
        },
    }


def test_load_is_idempotent_and_writes_only_what_changed(store: KGStore) -> None:
    dump = small_dump()
    store.load(dump)
    before = store.stats().as_dict()
    again = store.load(dump)
    assert again.skipped and (again.nodes_written, again.edges_written) == (0, 0)
    assert store.stats().as_dict() == before
    # A newer dump with one more edge and one renamed node: the rest is left as it was.
    rows = dump.nodes.to_pylist()
    rows[1]["name"] = "intercellular bridging"
    grown = KGDump.from_rows(rows, [*dump.edges.to_pylist(), edge("F:bridges", "SUPPORTS", "D:hnsc", "WHO")])
    store.load(grown)
    stats = store.stats()
    assert (stats.nodes, stats.edges, stats.relations["SUPPORTS"]) == (10, 11, 4)
    assert store.lookup("F:bridges")[0].name == "intercellular bridging"
    assert store.stats().version not in (dump.version, grown.version)  # two dumps loaded: a combined version


def test_lookup_by_id_name_and_synonym(store: KGStore) -> None:
    store.load(small_dump())
    assert [n.id for n in store.lookup("D:lusc")] == ["D:lusc"]
    assert [n.id for n in store.lookup("  LUNG squamous cell   carcinoma ")] == ["D:lusc"]
    assert [n.id for n in store.lookup("squamous pearls")] == ["F:pearls"]
    assert [n.id for n in store.lookup("vpi")] == ["F:vpi"]
    found = store.lookup("keratin pearls")[0]
    assert (found.type, found.synonyms, found.source) == ("Finding", ["keratin pearl", "squamous pearls"], "test")
    assert store.lookup("no such thing") == []


def test_names_with_quotes_backslashes_and_keywords_are_stored_verbatim(store: KGStore) -> None:
    store.load(small_dump())
    found = store.lookup(NASTY_NAME)
    assert [n.id for n in found] == ["X:nasty"]
    assert found[0].name == NASTY_NAME
    assert found[0].synonyms == ["MATCH (n) RETURN n", "a\\b"]
    assert [n.id for n in store.lookup("a\\b")] == ["X:nasty"]
    assert store.lookup("' OR 1=1 //") == []
    assert store.lookup("x' }) MATCH (n) DETACH DELETE n //") == []
    # Nothing was executed as code: the graph is whole.
    assert (store.stats().nodes, store.stats().edges) == (10, 10)
    (neighbor,) = store.neighbors("X:nasty")
    assert neighbor.edge.evidence == NASTY_NAME


def test_neighbors_both_directions_and_filtered(store: KGStore) -> None:
    store.load(small_dump())
    got = [(n.edge.relation, n.node.id, n.outgoing) for n in store.neighbors("D:lusc")]
    assert got == [
        ("ARGUES_AGAINST", "F:glands", False),
        ("IS_A", "D:scc", True),
        ("STAGED_BY", "S:lung", True),
        ("SUPPORTS", "F:bridges", False),
        ("SUPPORTS", "F:pearls", False),
    ]
    only = store.neighbors("D:lusc", relations=["SUPPORTS"])
    assert [(n.edge.source_id, n.edge.target_id, n.edge.source) for n in only] == [
        ("F:bridges", "D:lusc", "WHO"),
        ("F:pearls", "D:lusc", "WHO"),
    ]
    assert only[1].edge.evidence == "hallmark of squamous differentiation"


def test_paths_k_shortest_simple_in_canonical_order(store: KGStore) -> None:
    dump = small_dump()
    store.load(dump)
    paths = store.paths(["F:pearls"], ["D:scc"], max_hops=3, k=5)
    assert [_route(p) for p in paths] == [
        [("F:pearls", "SUPPORTS", "D:hnsc", False), ("D:hnsc", "IS_A", "D:scc", False)],
        [("F:pearls", "SUPPORTS", "D:lusc", False), ("D:lusc", "IS_A", "D:scc", False)],
    ]
    assert all(p.kg_version == dump.version for p in paths)
    assert paths[0].steps[0].source_name == "keratin pearls"
    # Walking against the direction: bridges -> LUSC <- pearls.
    (back,) = store.paths(["F:bridges"], ["F:pearls"], max_hops=2, k=5)
    assert _route(back) == [("F:bridges", "SUPPORTS", "D:lusc", False), ("F:pearls", "SUPPORTS", "D:lusc", True)]
    # k cuts the list; max_hops bounds it; several sources and targets at once.
    assert len(store.paths(["F:pearls"], ["D:scc"], max_hops=3, k=1)) == 1
    assert store.paths(["F:vpi"], ["D:lusc"], max_hops=2) == []
    (staged,) = store.paths(["F:vpi"], ["D:lusc"], max_hops=3)
    assert [s.relation for s in staged.steps] == ["DETERMINES", "PART_OF", "STAGED_BY"]
    multi = store.paths(["F:pearls", "F:bridges"], ["D:lusc", "D:hnsc"], max_hops=1, k=10)
    assert sorted((p.start_id, p.end_id) for p in multi) == [
        ("F:bridges", "D:lusc"),
        ("F:pearls", "D:hnsc"),
        ("F:pearls", "D:lusc"),
    ]


def test_paths_longer_than_three_hops(store: KGStore) -> None:
    store.load(small_dump())
    assert store.paths(["F:glands"], ["F:vpi"], max_hops=3) == []
    (long,) = store.paths(["F:glands"], ["F:vpi"], max_hops=4)
    assert _route(long) == [
        ("F:glands", "ARGUES_AGAINST", "D:lusc", False),
        ("D:lusc", "STAGED_BY", "S:lung", False),
        ("S:lung:pT2a", "PART_OF", "S:lung", True),
        ("F:vpi", "DETERMINES", "S:lung:pT2a", True),
    ]
    # Up to 3 hops the search meets in the middle; beyond, it walks: both give the same shorter paths.
    assert [_route(p) for p in store.paths(["F:pearls"], ["D:scc"], max_hops=5, k=5)] == [
        _route(p) for p in store.paths(["F:pearls"], ["D:scc"], max_hops=3, k=5)
    ]


def test_paths_relation_filter_and_bad_arguments(store: KGStore) -> None:
    store.load(small_dump())
    only_supports = store.paths(["F:pearls"], ["D:scc"], max_hops=3, relation_filter=["SUPPORTS"])
    assert only_supports == []
    (through_glands,) = store.paths(["F:glands"], ["D:scc"], max_hops=2, relation_filter=["ARGUES_AGAINST", "IS_A"])
    assert [s.relation for s in through_glands.steps] == ["ARGUES_AGAINST", "IS_A"]
    with pytest.raises(StoreError, match="unknown relation"):
        store.paths(["F:pearls"], ["D:scc"], relation_filter=["SUPPORTS]->() DETACH DELETE n //"])
    with pytest.raises(StoreError, match="max_hops"):
        store.paths(["F:pearls"], ["D:scc"], max_hops=0)
    assert store.stats().edges == 10
