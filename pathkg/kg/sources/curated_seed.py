"""The curated pathology seed in `kg_dumps/pathology_seed/`: authored CSV tables expanded into nodes and edges.

Files (every row keeps its source note; see the header comment of each file):
- `nodes.csv`: findings, anatomy, biomarkers and statuses, molecular subtypes, grading systems, grades;
- `relations.csv`: subject(s), relation, objects ('|'-joined), source, evidence -> one edge per pair;
- `staging_systems.csv`: a StagingSystem node per row and `disease -STAGED_BY-> system`;
- `tnm.csv`: TNM categories per system with their criterion and the findings that decide them;
- `grading.csv`: grading criteria per grade (or component-score rules per grading system).

Malformed rows are reported with file and line and skipped; `origins` keeps each edge's file and line so
a dangling end found after all sources are read is still reported where it was written.
"""

from __future__ import annotations

import re
from pathlib import Path

from pathkg.kg.dump import LIST_SEPARATOR, NODE_COLUMNS, iter_csv_rows
from pathkg.kg.load_report import LoadReport
from pathkg.kg.sources.source_graph import SourceGraph
from schemas.kg_dump import NODE_TYPES, RELATIONS

SOURCE = "pkg"


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")


class CuratedSeed(SourceGraph):
    def __init__(self) -> None:
        super().__init__(SOURCE)
        self.origins: list[tuple[str, int]] = []

    def edge_at(self, origin: tuple[str, int], *args, **kwargs) -> None:
        self.edge(*args, **kwargs)
        self.origins.append(origin)


def build_curated_seed(folder: Path, report: LoadReport) -> CuratedSeed:
    folder = Path(folder)
    seed = CuratedSeed()
    _nodes(folder / "nodes.csv", seed, report)
    _relations(folder / "relations.csv", seed, report)
    _staging_systems(folder / "staging_systems.csv", seed, report)
    _tnm(folder / "tnm.csv", seed, report)
    _grading(folder / "grading.csv", seed, report)
    return seed


def _nodes(path: Path, seed: CuratedSeed, report: LoadReport) -> None:
    for line, row in iter_csv_rows(path, NODE_COLUMNS, report):
        if not row["id"]:
            report.add("empty_id", str(path), line, f"node {row['name']!r} has an empty id")
            continue
        if row["type"] not in NODE_TYPES:
            report.add("unknown_node_type", str(path), line, f"node {row['id']!r} has unknown type {row['type']!r}")
            continue
        seed.node(row["id"], row["type"], row["name"], _split(row["synonyms"]), _split(row["xrefs"]), row["source"])


def _relations(path: Path, seed: CuratedSeed, report: LoadReport) -> None:
    columns = ["subject", "relation", "objects", "source", "evidence"]
    for line, row in iter_csv_rows(path, columns, report):
        if row["relation"] not in RELATIONS:
            report.add("unknown_relation", str(path), line, f"unknown relation {row['relation']!r}")
            continue
        subjects, objects = _split(row["subject"]), _split(row["objects"])
        if not subjects or not objects:
            report.add("empty_id", str(path), line, "a relation row needs a subject and at least one object")
            continue
        for subject in subjects:
            for obj in objects:
                seed.edge_at((str(path), line), subject, row["relation"], obj, row["source"], row["evidence"] or None)


def _staging_systems(path: Path, seed: CuratedSeed, report: LoadReport) -> None:
    columns = ["system", "name", "synonyms", "anatomy", "diseases", "source"]
    for line, row in iter_csv_rows(path, columns, report):
        if not row["system"]:
            report.add("empty_id", str(path), line, f"staging system {row['name']!r} has an empty id")
            continue
        seed.node(row["system"], "StagingSystem", row["name"], _split(row["synonyms"]))
        origin = (str(path), line)
        if row["anatomy"]:
            seed.edge_at(origin, row["system"], "LOCATED_IN", row["anatomy"], row["source"], "organ the system stages")
        for disease in _split(row["diseases"]):
            seed.edge_at(origin, disease, "STAGED_BY", row["system"], row["source"], f"{row['name']} applies")


def _tnm(path: Path, seed: CuratedSeed, report: LoadReport) -> None:
    columns = ["system", "organ", "category", "parent", "criterion", "findings"]
    systems = {n["id"]: n["name"] for n in seed.nodes if n["type"] == "StagingSystem"}
    for line, row in iter_csv_rows(path, columns, report):
        system, category = row["system"], row["category"]
        if not system or not category:
            report.add("empty_id", str(path), line, "a TNM row needs a system and a category")
            continue
        source = systems.get(system, system)
        origin = (str(path), line)
        category_id = f"{system}:{_slug(category)}"
        seed.node(
            category_id, "StageCategory", f"{row['organ']} {category}", [category, f"{category} ({row['organ']})"]
        )
        seed.edge_at(origin, category_id, "PART_OF", system, source, f"{category} is a category of {source}")
        if row["parent"]:
            parent_id = f"{system}:{_slug(row['parent'])}"
            seed.edge_at(origin, category_id, "IS_A", parent_id, source, f"{category} subdivides {row['parent']}")
        if row["criterion"]:
            criterion_id = f"{category_id}:criterion"
            seed.node(criterion_id, "Criterion", f"{row['organ']} {category}: {row['criterion']}")
            seed.edge_at(origin, criterion_id, "DETERMINES", category_id, source, row["criterion"])
        for finding in _split(row["findings"]):
            seed.edge_at(origin, finding, "DETERMINES", category_id, source, row["criterion"] or None)


def _grading(path: Path, seed: CuratedSeed, report: LoadReport) -> None:
    columns = ["target", "criterion", "findings", "source"]
    types = {n["id"]: n["type"] for n in seed.nodes}
    count: dict[str, int] = {}
    for line, row in iter_csv_rows(path, columns, report):
        target = row["target"]
        if not target or not row["criterion"]:
            report.add("empty_id", str(path), line, "a grading row needs a target and a criterion")
            continue
        origin = (str(path), line)
        count[target] = count.get(target, 0) + 1
        criterion_id = f"{target}:criterion_{count[target]}"
        seed.node(criterion_id, "Criterion", row["criterion"])
        if types.get(target) == "GradingSystem":
            seed.edge_at(origin, target, "HAS_COMPONENT", criterion_id, row["source"], row["criterion"])
            continue
        seed.edge_at(origin, criterion_id, "DETERMINES", target, row["source"], row["criterion"])
        for finding in _split(row["findings"]):
            seed.edge_at(origin, finding, "DETERMINES", target, row["source"], row["criterion"])
