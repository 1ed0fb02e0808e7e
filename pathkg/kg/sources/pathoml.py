"""PathoML (PathoGraph) and the Tumor Pathology Ontology (Apache-2.0): pathology concepts and is_a.

Tumor Pathology Ontology classes with a label become nodes (HISTO:/NCIT: findings, FMA anatomy, GO
cellular components); PathoML.owl's own classes (architectural pattern, cellular appearance,
immunophenotype, stroma, ...) become Concept nodes named from their IRI.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from pathkg.kg.sources.source_graph import SourceGraph

TPO_FILE = "Tumor_Pathology_Ontology_Simplified.owl"
PATHOML_FILE = "PathoML.owl"
_NS = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#",
}
_ABOUT = f"{{{_NS['rdf']}}}about"
_RESOURCE = f"{{{_NS['rdf']}}}resource"


def _iri_id(iri: str) -> str | None:
    tail = re.split(r"[/#]", iri)[-1]
    match = re.fullmatch(r"(NCIT|FMA|GO|HISTO|UBERON|CL)_(\w+)", tail)
    if match:
        return f"{match.group(1)}:{match.group(2)}"
    if "PathoML.owl#" in iri:
        return f"PATHOML:{tail}"
    if "histo.owl#" in iri:
        return f"HISTO:{tail}"
    return None


def _type_of(node_id: str) -> str:
    prefix = node_id.split(":")[0]
    return {"FMA": "Anatomy", "UBERON": "Anatomy", "GO": "CellularComponent", "PATHOML": "Concept"}.get(
        prefix, "Finding"
    )


def _words(camel: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", camel.replace("_", " ")).strip()


def build_pathoml(folder: Path) -> SourceGraph:
    graph = SourceGraph("pathoml")
    seen: set[str] = set()
    parents: list[tuple[str, str]] = []
    for file, labelled in ((TPO_FILE, True), (PATHOML_FILE, False)):
        root = ET.parse(Path(folder) / file).getroot()
        for cls in root.findall("owl:Class", _NS):
            node_id = _iri_id(cls.get(_ABOUT, ""))
            if node_id is None or node_id in seen:
                continue
            labels = [e.text.strip() for e in cls.findall("rdfs:label", _NS) if e.text and e.text.strip()]
            if labelled and not labels:
                continue
            name = labels[0] if labels else _words(node_id.split(":", 1)[1])
            synonyms = [e.text.strip() for e in cls.findall("oboInOwl:hasExactSynonym", _NS) if e.text]
            seen.add(node_id)
            graph.node(node_id, _type_of(node_id), name, synonyms=synonyms + labels[1:])
            for sup in cls.findall("rdfs:subClassOf", _NS):
                parent = _iri_id(sup.get(_RESOURCE, ""))
                if parent:
                    parents.append((node_id, parent))
    for child, parent in parents:
        if parent in seen and child != parent:
            graph.edge(
                child, "IS_A", parent, evidence=f"{'PathoML' if child.startswith('PATHOML') else 'TPO'} subClassOf"
            )
    return graph
