"""The full build loaded into both backends: equal stats, and paths for the seed's finding -> diagnosis pairs."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow.compute as pc
import pytest

from pathkg.kg.backends import open_store
from pathkg.kg.build import BuildResult
from pathkg.kg.store import KGStore

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def stores(built_kg: BuildResult, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, KGStore]]:
    opened = {
        "embedded": open_store("embedded", tmp_path_factory.mktemp("full") / "kg.lbug"),
        "neo4j": open_store("neo4j"),
    }
    for store in opened.values():
        store.clear()
        store.load(built_kg.dump)
    yield opened
    for store in opened.values():
        store.close()


def _pairs(built: BuildResult) -> list[tuple[str, str]]:
    edges = built.dump.edges
    finding_ids = set(pc.filter(built.dump.nodes["id"], pc.equal(built.dump.nodes["type"], "Finding")).to_pylist())
    supports = edges.filter(pc.equal(edges["relation"], "SUPPORTS")).to_pylist()
    return sorted({(e["source_id"], e["target_id"]) for e in supports if e["source_id"] in finding_ids})


def test_both_backends_report_equal_stats(stores: dict[str, KGStore], built_kg: BuildResult) -> None:
    embedded, neo4j = (stores[b].stats().as_dict() for b in ("embedded", "neo4j"))
    assert embedded == neo4j
    assert embedded["version"] == built_kg.manifest.version
    assert (embedded["nodes"], embedded["edges"]) == (built_kg.manifest.nodes, built_kg.manifest.edges)
    assert embedded["relations"] == built_kg.manifest.relations


def test_paths_found_for_seed_pairs_on_both_backends(stores: dict[str, KGStore], built_kg: BuildResult) -> None:
    pairs = _pairs(built_kg)
    assert len(pairs) >= 150
    for backend, store in stores.items():
        found = sum(bool(store.paths([s], [t], max_hops=3, k=1)) for s, t in pairs)
        assert found / len(pairs) >= 0.9, backend


def test_both_backends_give_identical_paths_and_lookups(stores: dict[str, KGStore]) -> None:
    queries = [
        ("PKG:keratin_pearls", "ONCOTREE:SCCNOS", None),
        ("PKG:visceral_pleural_invasion", "ONCOTREE:LUSC", None),
        ("PKG:er_negative", "ONCOTREE:BRCA", ["DEFINES", "IS_A"]),
        ("PKG:tubule_formation", "PKG:nottingham_g1", None),
    ]
    answers = {}
    for backend, store in stores.items():
        answers[backend] = [
            [p.model_dump() for p in store.paths([s], [t], max_hops=3, relation_filter=r, k=5)] for s, t, r in queries
        ] + [[n.model_dump() for n in store.lookup(name)] for name in ("LVI", "keratin pearls", "pT1c", "HER2 3+")]
    assert answers["embedded"] == answers["neo4j"]
    assert all(answers["embedded"][:4]), "every query has at least one path"
    assert answers["embedded"][4][0]["id"] == "PKG:lymphovascular_invasion"
    assert [n["id"] for n in answers["embedded"][6]] == ["PKG:ajcc8_breast:pT1c", "PKG:ajcc8_lung:pT1c"]


def test_keratin_pearls_reach_squamous_cell_carcinoma_on_both(stores: dict[str, KGStore]) -> None:
    routes = {}
    for backend, store in stores.items():
        starts, ends = store.lookup("keratin pearls"), store.lookup("squamous cell carcinoma")
        paths = store.paths([n.id for n in starts], [n.id for n in ends], max_hops=3)
        routes[backend] = [[(s.source_id, s.relation, s.target_id) for s in p.steps] for p in paths]
    assert routes["embedded"] == routes["neo4j"]
    assert routes["embedded"][0] == [
        ("PKG:keratin_pearls", "SUPPORTS", "ONCOTREE:BLSC"),
        ("ONCOTREE:BLSC", "IS_A", "ONCOTREE:SCCNOS"),
    ]
