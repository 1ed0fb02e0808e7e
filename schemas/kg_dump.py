"""The KG dump: the files one knowledge-graph build writes and every store loads.

A dump is a folder:

- `nodes.parquet`: one `KGNode` per row (`synonyms` and `xrefs` are list<string> columns);
- `edges.parquet`: one `KGEdge` per row, (`source_id`, `relation`, `target_id`) unique;
- `entity_dictionary.parquet`: one `EntityDictionaryEntry` per (term, node) for the entity linker;
- `manifest.json`: a `KGDumpManifest` whose `version` is the content hash of nodes and edges.

A dump may also be written by hand as `nodes.csv` / `edges.csv` with the same columns (lists joined
by `|`); loaders read either form and report malformed rows by file and line.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from schemas.record import Record

NodeType = Literal[
    "Disease",
    "Finding",
    "Anatomy",
    "Biomarker",
    "BiomarkerStatus",
    "MolecularSubtype",
    "GradingSystem",
    "Grade",
    "StagingSystem",
    "StageCategory",
    "Criterion",
    "Concept",
    # Types that PrimeKG brings.
    "Gene",
    "Drug",
    "Phenotype",
    "Pathway",
    "BiologicalProcess",
    "MolecularFunction",
    "CellularComponent",
    "Exposure",
]

Relation = Literal[
    "IS_A",
    "PART_OF",
    "LOCATED_IN",
    "SUPPORTS",
    "ARGUES_AGAINST",
    "HAS_COMPONENT",
    "DETERMINES",
    "STAGED_BY",
    "GRADED_BY",
    "DEFINES",
    "ASSOCIATED_WITH",
]

#: Every node type and relation a dump may hold, in a stable order.
NODE_TYPES: tuple[str, ...] = get_args(NodeType)
RELATIONS: tuple[str, ...] = get_args(Relation)


class KGNode(Record):
    """One concept. Merged across sources: a concept known to several ontologies is one node."""

    id: str = Field(min_length=1, description="Stable id, e.g. 'ONCOTREE:LUSC', 'DOID:3907', 'PKG:keratin_pearls'.")
    type: NodeType
    name: str = Field(min_length=1, description="Preferred name.")
    synonyms: list[str] = Field(default_factory=list, description="Other names and abbreviations.")
    xrefs: list[str] = Field(
        default_factory=list, description="Codes in other vocabularies: 'NCIT:C3512', 'UMLS:C0149782', 'ICDO:8070/3'."
    )
    source: str = Field(min_length=1, description="Sources the node came from, ';'-joined, e.g. 'oncotree;do'.")


class KGEdge(Record):
    """One directed, typed relation with the source a reviewer can check it against."""

    source_id: str = Field(min_length=1)
    relation: Relation
    target_id: str = Field(min_length=1)
    source: str = Field(
        min_length=1, description="Where the fact comes from: an ontology, or the grading/staging system it restates."
    )
    evidence: str | None = Field(default=None, description="A short note saying why the relation holds.")


class EntityDictionaryEntry(Record):
    """A normalised term (name, synonym or abbreviation) that names a node."""

    term: str = Field(min_length=1, description="Normalised: NFKC, lower-cased, whitespace collapsed.")
    node_id: str
    node_type: NodeType
    name: str = Field(description="The node's preferred name.")
    kind: Literal["name", "synonym", "abbreviation"]


class KGDumpSourceCount(Record):
    source: str
    nodes: int = Field(ge=0)
    edges: int = Field(ge=0)


class KGDumpManifest(Record):
    """`manifest.json` of a dump folder."""

    version: str = Field(description="Content hash of the nodes and edges: 'kg-' + 16 hex digits of SHA-256.")
    nodes: int = Field(ge=0)
    edges: int = Field(ge=0)
    dictionary_terms: int = Field(ge=0)
    node_types: dict[str, int]
    relations: dict[str, int]
    sources: list[KGDumpSourceCount] = Field(default_factory=list)
    files: dict[str, str] = Field(description="Role ('nodes', 'edges', 'entity_dictionary') -> file name.")
