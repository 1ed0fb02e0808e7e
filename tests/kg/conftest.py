"""KG test fixtures: a small hand-made dump, the full build from ../shared/data, and a store per backend.

The `neo4j` backend connects to NEO4J_URI (default bolt://127.0.0.1:7687, started by `make neo4j-up`);
when no server answers the tests fail, they never skip.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pathkg.kg.backends import open_store
from pathkg.kg.build import BuildResult, build_kg
from pathkg.kg.dump import KGDump
from pathkg.kg.store import KGStore

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "kg_dumps" / "pathology_seed"

BACKENDS = [pytest.param("embedded", id="embedded"), pytest.param("neo4j", id="neo4j", marks=pytest.mark.neo4j)]

#: A name no Cypher string literal could hold unescaped: quotes, backslashes, keywords, a comment.
NASTY_NAME = "O'Brien \"x\" \\ '}) MATCH (n) DETACH DELETE n // RETURN 1; `DROP`"


def node(id: str, type: str, name: str, synonyms=(), xrefs=(), source: str = "test") -> dict:
    return {"id": id, "type": type, "name": name, "synonyms": list(synonyms), "xrefs": list(xrefs), "source": source}


def edge(s: str, rel: str, t: str, source: str = "test", evidence: str | None = None) -> dict:
    return {"source_id": s, "relation": rel, "target_id": t, "source": source, "evidence": evidence}


def small_dump() -> KGDump:
    """A toy pathology graph with known paths:

    keratin pearls -SUPPORTS-> LUSC -IS_A-> SCC;  intercellular bridges -SUPPORTS-> LUSC;
    keratin pearls -SUPPORTS-> HNSC -IS_A-> SCC;  gland formation -ARGUES_AGAINST-> LUSC;
    LUSC -STAGED_BY-> lung TNM <-PART_OF- pT2a <-DETERMINES- visceral pleural invasion.
    """
    nodes = [
        node("F:pearls", "Finding", "keratin pearls", ["keratin pearl", "squamous pearls"]),
        node("F:bridges", "Finding", "intercellular bridges"),
        node("F:glands", "Finding", "gland formation"),
        node("F:vpi", "Finding", "visceral pleural invasion", ["VPI"]),
        node("D:lusc", "Disease", "Lung Squamous Cell Carcinoma", ["LUSC"], ["NCIT:C3493"]),
        node("D:hnsc", "Disease", "Head and Neck Squamous Cell Carcinoma", ["HNSC"]),
        node("D:scc", "Disease", "Squamous Cell Carcinoma", ["SCC"]),
        node("S:lung", "StagingSystem", "AJCC 8th edition lung staging"),
        node("S:lung:pT2a", "StageCategory", "lung pT2a", ["pT2a"]),
        node("X:nasty", "Finding", NASTY_NAME, ["MATCH (n) RETURN n", "a\\b"]),
    ]
    edges = [
        edge("F:pearls", "SUPPORTS", "D:lusc", "WHO", "hallmark of squamous differentiation"),
        edge("F:bridges", "SUPPORTS", "D:lusc", "WHO"),
        edge("F:pearls", "SUPPORTS", "D:hnsc", "WHO"),
        edge("D:lusc", "IS_A", "D:scc", "oncotree"),
        edge("D:hnsc", "IS_A", "D:scc", "oncotree"),
        edge("F:glands", "ARGUES_AGAINST", "D:lusc", "WHO"),
        edge("D:lusc", "STAGED_BY", "S:lung", "AJCC 8th"),
        edge("S:lung:pT2a", "PART_OF", "S:lung", "AJCC 8th"),
        edge("F:vpi", "DETERMINES", "S:lung:pT2a", "AJCC 8th", "invasion of the visceral pleura makes pT2"),
        edge("X:nasty", "ASSOCIATED_WITH", "F:pearls", "test", NASTY_NAME),
    ]
    return KGDump.from_rows(nodes, edges)


def hub_dump(seed: int = 7) -> KGDump:
    """600 nodes; 3 hubs with 300 neighbours each and 1,500 random edges over three relations."""
    relations = ["ASSOCIATED_WITH", "SUPPORTS", "IS_A"]
    rng = random.Random(seed)
    n = 600
    nodes = [node(f"N:{i}", "Finding", f"node {i}") for i in range(n)]
    pairs: set[tuple[int, int, str]] = set()
    for hub in range(3):
        for other in rng.sample(range(3, n), 300):
            pairs.add((hub, other, rng.choice(relations)) if rng.random() < 0.5 else (other, hub, "SUPPORTS"))
    while len(pairs) < 3 * 300 + 1500:
        a, b = rng.sample(range(n), 2)
        pairs.add((a, b, rng.choice(relations)))
    pairs.add((0, 1, "IS_A"))  # two hubs joined directly
    edges = [edge(f"N:{a}", rel, f"N:{b}") for a, b, rel in sorted(pairs)]
    return KGDump.from_rows(nodes, edges)


def make_store(backend: str, tmp_path: Path) -> KGStore:
    store = open_store(backend, tmp_path / "kg.lbug")  # type: ignore[arg-type]
    store.clear()
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KGStore]:
    kg = make_store(request.param, tmp_path)
    yield kg
    kg.close()


@pytest.fixture(scope="session")
def built_kg(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The real build: ../shared/data/ontologies + the curated seed."""
    return build_kg(shared_data / "ontologies", SEED, tmp_path_factory.mktemp("kg") / "dump")
