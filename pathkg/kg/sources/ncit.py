"""NCI Thesaurus neoplasm labels (CC BY 4.0): one Disease node per NCIt code (no hierarchy in the file)."""

from __future__ import annotations

import csv
from pathlib import Path

from pathkg.kg.sources.source_graph import SourceGraph

CORPUS_FILE = "ncit_disease_corpus.csv"


def build_ncit(folder: Path) -> SourceGraph:
    graph = SourceGraph("ncit")
    with open(Path(folder) / CORPUS_FILE, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code, label = (row.get("obo_id") or "").strip(), (row.get("label") or "").strip()
            if code.startswith("NCIT:") and label:
                graph.node(code, "Disease", label)
    return graph
