"""The dump format: content version, Parquet round trip, row checks with file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from pathkg.kg.dump import KGDump, read_dump
from pathkg.kg.load_report import LoadReport
from schemas.kg_dump import KGDumpManifest
from tests.kg.conftest import edge, node, small_dump


def test_version_is_a_content_hash_independent_of_row_order() -> None:
    dump = small_dump()
    shuffled = KGDump(
        dump.nodes.take(list(reversed(range(dump.nodes.num_rows)))), dump.edges.take([3, 1, 0, 2, 4, 5, 6, 7, 8, 9])
    )
    assert dump.version == shuffled.version
    assert dump.version.startswith("kg-") and len(dump.version) == 19
    changed = KGDump.from_rows(
        [*dump.nodes.to_pylist()[:-1], {**dump.nodes.to_pylist()[-1], "name": "other"}], dump.edges.to_pylist()
    )
    assert changed.version != dump.version


def test_parquet_round_trip_with_manifest_and_dictionary(tmp_path: Path) -> None:
    from pathkg.kg.entity_dictionary import build_dictionary

    dump = small_dump()
    manifest = dump.write(tmp_path, build_dictionary(dump.nodes))
    assert KGDumpManifest.model_validate(json.loads((tmp_path / "manifest.json").read_text())) == manifest
    assert manifest.version == dump.version
    assert (manifest.nodes, manifest.edges) == (10, 10)
    assert manifest.relations["SUPPORTS"] == 3
    back = read_dump(tmp_path, report := LoadReport())
    assert report.rejected == 0
    assert back.version == dump.version
    assert pq.read_table(tmp_path / "entity_dictionary.parquet").num_rows == manifest.dictionary_terms


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_malformed_csv_rows_are_reported_by_file_and_line_and_the_rest_loads(tmp_path: Path) -> None:
    _write(
        tmp_path / "nodes.csv",
        "id,type,name,synonyms,xrefs,source\n"
        "A,Finding,keratin pearls,keratin pearl,,t\n"  # line 2
        "B,Disease,squamous cell carcinoma,SCC,NCIT:C2929,t\n"  # line 3
        ",Finding,no id,,,t\n"  # line 4: empty id
        "C,Finding,too,many,fields,t,extra\n"  # line 5: wrong column count
        "A,Finding,keratin pearls (other),,,t\n"  # line 6: duplicate id, different content
        "A,Finding,keratin pearls,keratin pearl,,t\n"  # line 7: exact repeat, merged silently
        "D,Gadget,unknown type,,,t\n",  # line 8: unknown node type
    )
    _write(
        tmp_path / "edges.csv",
        "source_id,relation,target_id,source,evidence\n"
        "A,SUPPORTS,B,WHO,pearls\n"  # line 2
        "A,CAUSES,B,WHO,\n"  # line 3: unknown relation
        "A,SUPPORTS,Z,WHO,\n"  # line 4: dangling edge
        "A,SUPPORTS\n",  # line 5: wrong column count
    )
    report = LoadReport()
    dump = read_dump(tmp_path, report)
    assert dump.nodes["id"].to_pylist() == ["A", "B"]
    assert dump.nodes.to_pylist()[0]["name"] == "keratin pearls"
    assert dump.edges.to_pylist() == [edge("A", "SUPPORTS", "B", "WHO", "pearls")]
    where = {(i.kind, Path(i.file).name, i.line) for i in report.issues}
    assert where == {
        ("empty_id", "nodes.csv", 4),
        ("wrong_column_count", "nodes.csv", 5),
        ("duplicate_id_conflict", "nodes.csv", 6),
        ("unknown_node_type", "nodes.csv", 8),
        ("unknown_relation", "edges.csv", 3),
        ("dangling_edge", "edges.csv", 4),
        ("wrong_column_count", "edges.csv", 5),
    }
    summary = report.summary()
    assert summary["rejected_by_kind"] == {
        "wrong_column_count": 2,
        "empty_id": 1,
        "unknown_node_type": 1,
        "unknown_relation": 1,
        "dangling_edge": 1,
        "duplicate_id_conflict": 1,
    }
    assert summary["duplicates_merged"] == 1
    assert (summary["nodes"], summary["edges"]) == (2, 1)
    conflict = next(i for i in report.issues if i.kind == "duplicate_id_conflict")
    assert "repeats line 2" in conflict.message and "name" in conflict.message
    dangling = next(i for i in report.issues if i.kind == "dangling_edge")
    assert "'Z'" in dangling.message


def test_parquet_rows_are_checked_too(tmp_path: Path) -> None:
    bad = KGDump.from_rows(
        [node("A", "Finding", "a"), node("A", "Finding", "b")],
        [edge("A", "SUPPORTS", "missing")],
    )
    bad.write(tmp_path)
    report = LoadReport()
    dump = read_dump(tmp_path, report)
    assert dump.nodes.num_rows == 1 and dump.edges.num_rows == 0
    assert report.counts["duplicate_id_conflict"] == 1 and report.counts["dangling_edge"] == 1
    assert all(i.file.endswith(".parquet") for i in report.issues)
