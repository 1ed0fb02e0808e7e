"""The entity dictionary: every node's name, synonyms and abbreviations, normalised, -> node id and type.

Exported with each dump (`entity_dictionary.parquet`) for the entity linker. A term may name several
nodes (an ambiguous abbreviation); the linker decides, the dictionary only lists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pathkg.kg.normalise import normalise_term
from schemas.arrow import arrow_schema
from schemas.kg_dump import EntityDictionaryEntry

DICTIONARY_SCHEMA = arrow_schema(EntityDictionaryEntry)

# An abbreviation: one short token, mostly capitals or digits ("SCC", "LVI", "HER2", "pT1c", "Ki-67").
_ABBREVIATION = re.compile(r"^(?=.*[A-Z])[A-Za-z0-9+\-/.]{2,8}$")
_KIND_RANK = {"name": 0, "synonym": 1, "abbreviation": 2}


def is_abbreviation(term: str) -> bool:
    letters = [c for c in term if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return bool(_ABBREVIATION.match(term)) and upper * 2 >= len(letters)


def build_dictionary(nodes: pa.Table) -> pa.Table:
    """One row per distinct (term, node id); a term that is both a node's name and a synonym is a name."""
    best: dict[tuple[str, str], dict] = {}
    for node in nodes.select(["id", "type", "name", "synonyms"]).to_pylist():
        candidates = [(node["name"], "name")] + [
            (s, "abbreviation" if is_abbreviation(s) else "synonym") for s in node["synonyms"] or []
        ]
        for text, kind in candidates:
            term = normalise_term(text)
            if not term:
                continue
            key = (term, node["id"])
            held = best.get(key)
            if held is None or _KIND_RANK[kind] < _KIND_RANK[held["kind"]]:
                best[key] = {
                    "term": term,
                    "node_id": node["id"],
                    "node_type": node["type"],
                    "name": node["name"],
                    "kind": kind,
                }
    rows = [best[k] for k in sorted(best)]
    return pa.Table.from_pylist(rows, schema=DICTIONARY_SCHEMA)


def read_dictionary(path: Path) -> dict[str, list[EntityDictionaryEntry]]:
    """term -> entries, from a dump's `entity_dictionary.parquet`."""
    index: dict[str, list[EntityDictionaryEntry]] = {}
    for row in pq.read_table(path).to_pylist():
        entry = EntityDictionaryEntry.model_validate(row)
        index.setdefault(entry.term, []).append(entry)
    return index
