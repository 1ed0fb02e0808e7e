"""The store's vectorised normalisation gives exactly `normalise_term`'s terms (lookups depend on it)."""

from __future__ import annotations

import pyarrow as pa

from pathkg.kg.ladybug_store import node_rows_for_store
from pathkg.kg.normalise import normalise_term
from tests.kg.conftest import NASTY_NAME, node

NAMES = ["  Keratin   Pearls ", "Straße", "ＨＥＲ２ ３+", "a\x0bb", "x\x1cy ", "a\tb\nc", "pT1c", NASTY_NAME]


def test_vectorised_terms_equal_normalise_term() -> None:
    nodes = pa.Table.from_pylist(
        [node(f"N{i}", "Finding", name, synonyms=[name.upper(), f" {name} "]) for i, name in enumerate(NAMES)]
    )
    rows = node_rows_for_store(nodes).to_pylist()
    for row, name in zip(rows, NAMES, strict=True):
        assert row["name_norm"] == normalise_term(name)
        expected = list(dict.fromkeys([normalise_term(name), normalise_term(name.upper()), normalise_term(name)]))
        assert row["terms"] == expected
    assert rows[0]["name_norm"] == "keratin pearls"
    assert rows[1]["name_norm"] == "strasse"
    assert rows[2]["name_norm"] == "her2 3+"
