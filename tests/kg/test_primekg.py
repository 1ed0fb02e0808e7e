"""The PrimeKG `kg.csv` loader on a small file written in PrimeKG's format (tests/data/kg/)."""

from __future__ import annotations

from pathlib import Path

from pathkg.kg.load_report import LoadReport
from pathkg.kg.sources.primekg import read_primekg
from pathkg.kg.store import KGStore

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "kg" / "primekg_sample.csv"


def test_primekg_rows_become_typed_nodes_and_associated_with_edges() -> None:
    report = LoadReport()
    dump = read_primekg(SAMPLE, report, block_size=256)  # tiny blocks: the streaming path is exercised
    nodes = {n["id"]: n for n in dump.nodes.to_pylist()}
    assert len(nodes) == 8
    assert nodes["NCBI:2064"] == {
        "id": "NCBI:2064",
        "type": "Gene",
        "name": "ERBB2",
        "synonyms": [],
        "xrefs": [],
        "source": "primekg",
    }
    assert (nodes["DrugBank:DB00072"]["type"], nodes["MONDO:5044"]["type"], nodes["HPO:0100615"]["type"]) == (
        "Drug",
        "Disease",
        "Phenotype",
    )
    assert nodes["UBERON:1295"]["name"] == "breast, mammary gland"  # quoted field with a comma
    edges = {(e["source_id"], e["target_id"]): e for e in dump.edges.to_pylist()}
    assert len(edges) == 7  # two undirected relations listed both ways are kept once
    assert edges[("DrugBank:DB00072", "MONDO:5044")]["evidence"] == "indication: indication"
    assert {e["relation"] for e in edges.values()} == {"ASSOCIATED_WITH"}
    (issue,) = report.issues
    assert (issue.kind, Path(issue.file).name, issue.line) == ("wrong_column_count", "primekg_sample.csv", 10)
    assert report.summary()["rejected_by_kind"]["wrong_column_count"] == 1


def test_primekg_loads_into_a_store_and_answers_paths(store: KGStore) -> None:
    dump = read_primekg(SAMPLE, LoadReport())
    store.load(dump)
    assert store.stats().relations == {"ASSOCIATED_WITH": 7}
    (path,) = store.paths(["DrugBank:DB00072"], ["HPO:0100615"], max_hops=2, k=5)
    assert [s.target_name if not s.reversed else s.source_name for s in path.steps] == [
        "breast carcinoma",
        "Breast mass",
    ]
