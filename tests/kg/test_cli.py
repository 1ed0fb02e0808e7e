"""`pathkg kg ...` end to end through Typer's runner on the real build (embedded backend) and Neo4j stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pathkg.cli import app

runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def dump_dir(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "dump"
    built = json.loads(_ok(["kg", "build", "--out", str(out), "--ontologies", str(shared_data / "ontologies")]))
    assert built["edges"] > 3000 and built["report"]["rejected"] == 0
    return out


def test_build_load_stats_lookup_paths(dump_dir: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "kg.lbug")
    loaded = json.loads(_ok(["kg", "load", str(dump_dir), "--backend", "embedded", "--db", db]))
    manifest = json.loads((dump_dir / "manifest.json").read_text())
    assert (loaded["version"], loaded["edges_written"], loaded["already_loaded"]) == (
        manifest["version"],
        manifest["edges"],
        False,
    )
    again = json.loads(_ok(["kg", "load", str(dump_dir), "--db", db]))
    assert again["already_loaded"] is True
    stats = json.loads(_ok(["kg", "stats", "--json", "--db", db]))
    assert set(stats) == {"version", "nodes", "edges", "node_types", "relations"}
    assert (stats["version"], stats["nodes"], stats["edges"]) == (
        manifest["version"],
        manifest["nodes"],
        manifest["edges"],
    )
    assert "PKG:lymphovascular_invasion\tFinding\tlymphovascular invasion" in _ok(["kg", "lookup", "LVI", "--db", db])
    paths = json.loads(
        _ok(["kg", "paths", "keratin pearls", "squamous cell carcinoma", "--max-hops", "3", "--json", "--db", db])
    )
    assert len(paths) == 5
    assert all(
        p["steps"][0]["source_id"] == "PKG:keratin_pearls" and p["kg_version"] == manifest["version"] for p in paths
    )
    text = _ok(["kg", "paths", "keratin pearls", "Lung Squamous Cell Carcinoma", "--k", "1", "--db", db])
    assert text.strip() == "keratin pearls -SUPPORTS-> Lung Squamous Cell Carcinoma"


def test_unknown_names_and_bad_dumps_fail_clearly(tmp_path: Path) -> None:
    db = str(tmp_path / "kg.lbug")
    result = runner.invoke(app, ["kg", "paths", "no such finding", "nothing", "--db", db])
    assert result.exit_code == 1 and "no node named 'no such finding'" in result.output
    result = runner.invoke(app, ["kg", "load", str(tmp_path / "missing"), "--db", db])
    assert result.exit_code == 2 and "not a KG dump folder" in result.output


@pytest.mark.neo4j
def test_neo4j_backend_through_the_cli(tmp_path: Path) -> None:
    from pathkg.kg.backends import open_store

    with open_store("neo4j") as server:  # the shared test server: start from an empty graph
        server.clear()
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "nodes.csv").write_text(
        "id,type,name,synonyms,xrefs,source\nA,Finding,keratin pearls,,,t\nB,Disease,squamous cell carcinoma,SCC,,t\n"
    )
    (dump / "edges.csv").write_text(
        "source_id,relation,target_id,source,evidence\nA,SUPPORTS,B,WHO,\nA,SUPPORTS,C,WHO,\n"
    )
    result = runner.invoke(app, ["kg", "load", str(dump), "--backend", "neo4j"])
    assert result.exit_code == 0, result.output
    assert "edges.csv:3: dangling_edge" in result.output
    stats = json.loads(_ok(["kg", "stats", "--json", "--backend", "neo4j"]))
    assert (stats["nodes"], stats["edges"], stats["relations"]) == (2, 1, {"SUPPORTS": 1})
