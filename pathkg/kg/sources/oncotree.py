"""OncoTree (CC BY 4.0): tissues and tumour types, their hierarchy, NCIt / UMLS / ICD-O codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pathkg.kg.sources.source_graph import SourceGraph

TREE_FILE = "oncotree_2025_10_03.json"
MAPPINGS_FILE = "ontology_mappings.txt"


def build_oncotree(folder: Path) -> SourceGraph:
    """Level-1 nodes (tissues) are Anatomy; deeper nodes are Disease, IS_A their parent, and level-2
    types are LOCATED_IN their tissue."""
    folder = Path(folder)
    tree = json.loads((folder / TREE_FILE).read_text(encoding="utf-8"))
    extra = _mappings(folder / MAPPINGS_FILE)
    graph = SourceGraph("oncotree")
    stack = list(tree["TISSUE"]["children"].values())
    while stack:
        item = stack.pop()
        code, level = item["code"], item["level"]
        refs = item.get("externalReferences") or {}
        xrefs = [f"NCIT:{c}" for c in refs.get("NCI", [])] + [f"UMLS:{c}" for c in refs.get("UMLS", [])]
        xrefs += extra.get(code, [])
        node_id = f"ONCOTREE:{code}"
        if level == 1:
            graph.node(node_id, "Anatomy", item["name"], synonyms=[item.get("tissue") or ""], xrefs=xrefs)
        else:
            graph.node(node_id, "Disease", item["name"], synonyms=[code], xrefs=xrefs)
            parent = f"ONCOTREE:{item['parent']}"
            relation = "LOCATED_IN" if level == 2 else "IS_A"
            graph.edge(node_id, relation, parent, evidence=f"OncoTree parent of {code}")
        stack.extend(item.get("children", {}).values())
    return graph


def _mappings(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            code = (row.get("ONCOTREE_CODE") or "").strip()
            refs = []
            for column, prefix in (("NCIT_CODE", "NCIT"), ("UMLS_CODE", "UMLS"), ("ICDO_MORPHOLOGY_CODE", "ICDO")):
                for value in (row.get(column) or "").split(","):
                    if value.strip():
                        refs.append(f"{prefix}:{value.strip()}")
            if code:
                out.setdefault(code, []).extend(refs)
    return out
