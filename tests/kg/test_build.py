"""`build_kg` on the real ontologies in ../shared/data and the curated seed in kg_dumps/."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from pathkg.kg.build import BuildResult, build_kg
from schemas.kg_dump import RELATIONS
from tests.kg.conftest import SEED

#: The OncoTree types that stand for each TCGA project in the curated seed.
PROJECT_TYPES = {
    "TCGA-BRCA": ["IDC", "ILC", "BRCA"],
    "TCGA-LGG": ["ASTR", "ODG"],
    "TCGA-SARC": ["LMS", "DDLS", "SYNS", "MFS"],
    "TCGA-THCA": ["THPA", "THFO"],
    "TCGA-LUAD": ["LUAD"],
    "TCGA-SKCM": ["SKCM"],
    "TCGA-KIRC": ["CCRCC"],
    "TCGA-UCEC": ["UEC", "USC"],
    "TCGA-PRAD": ["PRAD"],
    "TCGA-CESC": ["CESC"],
    "TCGA-BLCA": ["BLCA"],
    "TCGA-LUSC": ["LUSC"],
    "TCGA-HNSC": ["HNSC"],
    "TCGA-READ": ["READ"],
}


def _node(result: BuildResult, node_id: str) -> dict:
    (row,) = result.dump.nodes.filter(pc.equal(result.dump.nodes["id"], node_id)).to_pylist()
    return row


def test_build_merges_concepts_across_sources(built_kg: BuildResult) -> None:
    lusc = _node(built_kg, "ONCOTREE:LUSC")
    assert lusc["type"] == "Disease"
    assert {"DOID:3907", "NCIT:C3493", "UMLS:C0149782"} <= set(lusc["xrefs"])
    assert set(lusc["source"].split(";")) == {"oncotree", "do", "ncit"}
    ids = set(built_kg.dump.nodes["id"].to_pylist())
    assert "DOID:3907" not in ids and "NCIT:C3493" not in ids  # merged, not duplicated
    # ICD-O 8140/3 names many OncoTree adenocarcinomas: ambiguous, so it merges none of them.
    assert {"ONCOTREE:LUAD", "ONCOTREE:COAD", "ONCOTREE:PRAD"} <= ids
    assert built_kg.report.rejected == 0


def test_build_has_thousands_of_sourced_edges_of_every_relation(built_kg: BuildResult) -> None:
    manifest = built_kg.manifest
    assert manifest.edges >= 3000 and manifest.nodes >= 15000
    assert set(manifest.relations) >= set(RELATIONS) - {"ASSOCIATED_WITH"}
    sources = built_kg.dump.edges["source"].to_pylist()
    assert all(s and s.strip() for s in sources)
    curated = built_kg.dump.edges.filter(pc.starts_with(built_kg.dump.edges["source_id"], "PKG:"))
    assert curated.num_rows >= 800
    assert pc.all(pc.greater(pc.utf8_length(curated["evidence"]), 0)).as_py()


def test_curated_facts_are_in_the_graph(built_kg: BuildResult) -> None:
    edges = {(e["source_id"], e["relation"], e["target_id"]) for e in built_kg.dump.edges.to_pylist()}
    assert ("PKG:keratin_pearls", "SUPPORTS", "ONCOTREE:LUSC") in edges
    assert ("PKG:gland_formation", "SUPPORTS", "ONCOTREE:LUAD") in edges
    assert ("PKG:nottingham", "HAS_COMPONENT", "PKG:tubule_formation") in edges
    assert ("PKG:visceral_pleural_invasion", "DETERMINES", "PKG:ajcc8_lung:pT2") in edges
    assert ("PKG:ajcc8_breast:pT1c", "IS_A", "PKG:ajcc8_breast:pT1") in edges
    assert ("PKG:er_negative", "DEFINES", "PKG:basal_like") in edges
    assert ("ONCOTREE:IDC", "GRADED_BY", "PKG:nottingham") in edges
    criterion = _node(built_kg, "PKG:ajcc8_breast:pT1c:criterion")
    assert criterion["type"] == "Criterion" and "more than 10 mm and up to 20 mm" in criterion["name"]


def test_ten_largest_wsi_bench_projects_are_covered(built_kg: BuildResult, shared_data: Path) -> None:
    bench = shared_data / "benchmarks" / "wsi_bench" / "WSI-Bench-test-dev.jsonl"
    counts = Counter(json.loads(line)["image"].split("/")[0] for line in bench.read_text().splitlines() if line)
    largest = [project for project, _ in counts.most_common(10)]
    by_target = Counter()
    staged_or_graded = set()
    for e in built_kg.dump.edges.to_pylist():
        if e["relation"] in ("SUPPORTS", "ARGUES_AGAINST"):
            by_target[e["target_id"]] += 1
        if e["relation"] in ("STAGED_BY", "GRADED_BY"):
            staged_or_graded.add(e["source_id"])
    for project in largest:
        codes = [f"ONCOTREE:{c}" for c in PROJECT_TYPES[project]]
        assert sum(by_target[c] for c in codes) >= 3, project
        assert staged_or_graded & set(codes), project


def test_entity_dictionary_is_exported(built_kg: BuildResult) -> None:
    rows = pq.read_table(built_kg.out_dir / built_kg.manifest.files["entity_dictionary"]).to_pylist()
    index = {}
    for row in rows:
        index.setdefault(row["term"], []).append(row)
    assert [(r["node_id"], r["kind"]) for r in index["lvi"]] == [("PKG:lymphovascular_invasion", "abbreviation")]
    assert [(r["node_id"], r["node_type"], r["kind"]) for r in index["keratin pearls"]] == [
        ("PKG:keratin_pearls", "Finding", "name")
    ]
    assert ("ONCOTREE:LUSC", "synonym") in {
        (r["node_id"], r["kind"]) for r in index["epidermoid cell carcinoma of the lung"]
    }
    assert len(rows) == built_kg.manifest.dictionary_terms


def test_malformed_seed_rows_are_reported_and_the_rest_builds(shared_data: Path, tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    with open(seed / "relations.csv", "a", encoding="utf-8") as fh:
        fh.write("PKG:keratin_pearls,SUPPORTS,PKG:no_such_node,test,dangling\n")
        fh.write("PKG:keratin_pearls,CURES,ONCOTREE:LUSC,test,unknown relation\n")
        fh.write("PKG:keratin_pearls,SUPPORTS\n")
    lines = len((seed / "relations.csv").read_text().splitlines())
    result = build_kg(shared_data / "ontologies", seed, tmp_path / "dump")
    where = {(i.kind, Path(i.file).name, i.line) for i in result.report.issues}
    assert where == {
        ("dangling_edge", "relations.csv", lines - 2),
        ("unknown_relation", "relations.csv", lines - 1),
        ("wrong_column_count", "relations.csv", lines),
    }
    assert result.manifest.edges > 3000
