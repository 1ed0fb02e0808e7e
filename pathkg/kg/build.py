"""`pathkg kg build`: ontologies + curated seed -> one merged, checked dump with its entity dictionary."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.progress import Progress

from pathkg.kg.concept_merge import merge_sources
from pathkg.kg.dump import KGDump
from pathkg.kg.entity_dictionary import build_dictionary
from pathkg.kg.load_report import LoadReport
from pathkg.kg.sources.curated_seed import build_curated_seed
from pathkg.kg.sources.disease_ontology import build_disease_ontology
from pathkg.kg.sources.ncit import build_ncit
from pathkg.kg.sources.oncotree import build_oncotree
from pathkg.kg.sources.pathoml import build_pathoml
from pathkg.kg.sources.source_graph import SourceGraph
from schemas.kg_dump import KGDumpManifest


@dataclass
class BuildResult:
    dump: KGDump
    manifest: KGDumpManifest
    report: LoadReport
    out_dir: Path


def build_kg(ontologies: Path, seed: Path | None, out_dir: Path, show_progress: bool = False) -> BuildResult:
    """Read every source, merge concepts on shared codes, check rows, write the dump to `out_dir`.

    Priority when concepts merge: curated seed, OncoTree, Disease Ontology, NCIt, PathoML."""
    ontologies = Path(ontologies)
    report = LoadReport()
    steps = [
        ("OncoTree", lambda: build_oncotree(ontologies / "oncotree")),
        ("Disease Ontology", lambda: build_disease_ontology(ontologies / "disease_ontology")),
        ("NCIt", lambda: build_ncit(ontologies / "ncit")),
        ("PathoML", lambda: build_pathoml(ontologies / "pathoml")),
    ]
    graphs: list[SourceGraph] = []
    with Progress(disable=not show_progress, transient=True) as progress:
        task = progress.add_task("building KG", total=len(steps) + 3)
        curated = None
        if seed is not None:
            progress.update(task, description="curated seed")
            curated = build_curated_seed(Path(seed), report)
            progress.advance(task)
        for label, step in steps:
            progress.update(task, description=label)
            graphs.append(step())
            progress.advance(task)
        if curated is not None:
            known = {n["id"] for g in [curated, *graphs] for n in g.nodes}
            _drop_dangling(curated, known, report)
            graphs.insert(0, curated)
        progress.update(task, description="merging concepts")
        nodes, edges, _ = merge_sources(graphs)
        progress.advance(task)
        progress.update(task, description="checking and writing")
        dump = KGDump.from_rows(nodes, edges).checked(report, "merged nodes", "merged edges")
        manifest = dump.write(Path(out_dir), build_dictionary(dump.nodes))
        progress.advance(task)
    return BuildResult(dump, manifest, report, Path(out_dir))


def _drop_dangling(seed, known: set[str], report: LoadReport) -> None:
    kept_edges, kept_origins = [], []
    for edge, (file, line) in zip(seed.edges, seed.origins, strict=True):
        missing = [i for i in (edge["source_id"], edge["target_id"]) if i not in known]
        if missing:
            report.add(
                "dangling_edge",
                file,
                line,
                f"edge {edge['source_id']!r} -{edge['relation']}-> {edge['target_id']!r}: no node "
                + " and ".join(repr(m) for m in missing),
            )
            continue
        kept_edges.append(edge)
        kept_origins.append((file, line))
    seed.edges, seed.origins = kept_edges, kept_origins
