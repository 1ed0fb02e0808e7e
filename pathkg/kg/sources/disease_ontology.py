"""Disease Ontology cancer slim (CC0): terms, exact synonyms, xrefs and is_a."""

from __future__ import annotations

from pathlib import Path

from pathkg.kg.sources.source_graph import SourceGraph

SLIM_FILE = "DO_cancer_slim.obo"
_PREFIXES = {"NCI": "NCIT", "UMLS_CUI": "UMLS", "ICDO": "ICDO"}


def parse_obo_terms(path: Path) -> list[dict]:
    """[Term] stanzas as dicts of tag -> list of values (obsolete terms skipped)."""
    terms, current = [], None
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("["):
            if current and "id" in current and current.get("is_obsolete") != ["true"]:
                terms.append(current)
            current = {} if line == "[Term]" else None
            continue
        if current is None or ":" not in line:
            continue
        tag, value = line.split(":", 1)
        current.setdefault(tag, []).append(value.strip())
    if current and "id" in current and current.get("is_obsolete") != ["true"]:
        terms.append(current)
    return terms


def build_disease_ontology(folder: Path) -> SourceGraph:
    graph = SourceGraph("do")
    terms = parse_obo_terms(Path(folder) / SLIM_FILE)
    ids = {t["id"][0] for t in terms}
    for term in terms:
        node_id = term["id"][0]
        synonyms = []
        for value in term.get("synonym", []):
            if '"' in value and ("EXACT" in value or "OMO:0003012" in value):
                synonyms.append(value.split('"')[1])
        xrefs = []
        for value in term.get("xref", []):
            prefix, _, code = value.partition(":")
            if prefix in _PREFIXES:
                xrefs.append(f"{_PREFIXES[prefix]}:{code}")
        graph.node(node_id, "Disease", term["name"][0], synonyms=synonyms, xrefs=xrefs)
        for value in term.get("is_a", []):
            parent = value.split("!")[0].strip()
            if parent in ids:
                graph.edge(node_id, "IS_A", parent, evidence="DO is_a")
    return graph
