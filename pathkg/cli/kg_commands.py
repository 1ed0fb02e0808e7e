"""`pathkg kg build|load|stats|paths|lookup`: the knowledge graph from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from pathkg.kg.backends import DEFAULT_DB, open_store
from pathkg.kg.build import build_kg
from pathkg.kg.dump import DumpError, read_dump
from pathkg.kg.load_report import LoadReport
from pathkg.kg.neo4j_driver import Neo4jSettings
from pathkg.kg.sources.primekg import read_primekg
from pathkg.kg.store import StoreError

app = typer.Typer(help="Build, load and query the knowledge graph.", no_args_is_help=True)

_DATA = Path(os.environ.get("PATHKG_DATA", Path(__file__).resolve().parents[2].parent / "shared" / "data"))
_SEED = Path(__file__).resolve().parents[2] / "kg_dumps" / "pathology_seed"

BackendOpt = Annotated[str, typer.Option("--backend", help="embedded (LadybugDB) or neo4j")]
DbOpt = Annotated[Path, typer.Option("--db", help="embedded database folder (PATHKG_KG_DB)")]
UriOpt = Annotated[
    str | None, typer.Option("--neo4j-uri", help="Bolt URI (NEO4J_URI; user/password from NEO4J_USER/NEO4J_PASSWORD)")
]


#: Connection-pool settings from the `pathkg kg` options (None: each from its NEO4J_* variable or default).
_pool: dict[str, float | int | None] = {}


@app.callback()
def neo4j_pool(
    pool_size: Annotated[
        int | None,
        typer.Option("--neo4j-pool-size", help="max connections per process (NEO4J_MAX_CONNECTION_POOL_SIZE)"),
    ] = None,
    acquisition_timeout: Annotated[
        float | None,
        typer.Option(
            "--neo4j-acquisition-timeout",
            help="seconds to wait for a free connection (NEO4J_CONNECTION_ACQUISITION_TIMEOUT)",
        ),
    ] = None,
    connection_lifetime: Annotated[
        float | None,
        typer.Option(
            "--neo4j-connection-lifetime",
            help="seconds before a connection is replaced (NEO4J_MAX_CONNECTION_LIFETIME)",
        ),
    ] = None,
    fetch_size: Annotated[
        int | None, typer.Option("--neo4j-fetch-size", help="records per round trip (NEO4J_FETCH_SIZE)")
    ] = None,
) -> None:
    """Build, load and query the knowledge graph. The --neo4j-* options tune the Neo4j backend's driver."""
    _pool.update(
        max_connection_pool_size=pool_size,
        connection_acquisition_timeout=acquisition_timeout,
        max_connection_lifetime=connection_lifetime,
        fetch_size=fetch_size,
    )


def _store(backend: str, db: Path, uri: str | None):
    try:
        settings = Neo4jSettings.resolve(**_pool, uri=uri) if backend == "neo4j" else None
        return open_store(backend, db, neo4j_settings=settings)  # type: ignore[arg-type]
    except (StoreError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _print_issues(report: LoadReport) -> None:
    for issue in report.issues[:50]:
        typer.echo(f"  {issue}", err=True)
    if report.rejected > 50:
        typer.echo(f"  ... {report.rejected - 50} more", err=True)


@app.command()
def build(
    out: Annotated[Path, typer.Option("--out", help="dump folder to write")] = Path("runs/kg/dump"),
    ontologies: Annotated[Path, typer.Option(help="folder with oncotree/ disease_ontology/ ncit/ pathoml/")] = _DATA
    / "ontologies",
    seed: Annotated[Path, typer.Option(help="curated seed folder")] = _SEED,
) -> None:
    """Build one merged dump (Parquet + entity dictionary + manifest) from the ontologies and the curated seed."""
    result = build_kg(ontologies, seed, out, show_progress=True)
    _print_issues(result.report)
    typer.echo(
        json.dumps(
            {
                "out": str(out),
                **result.manifest.model_dump(include={"version", "nodes", "edges", "dictionary_terms"}),
                "report": result.report.summary(),
            },
            indent=2,
        )
    )


@app.command()
def load(
    dump: Annotated[Path, typer.Argument(help="dump folder (Parquet or nodes.csv/edges.csv), or a PrimeKG kg.csv")],
    backend: BackendOpt = "embedded",
    db: DbOpt = DEFAULT_DB,
    neo4j_uri: UriOpt = None,
    batch_size: Annotated[int, typer.Option(help="rows per write batch")] = 10_000,
) -> None:
    """Load a dump into a store (idempotent); malformed rows are reported by file and line, the rest loads."""
    report = LoadReport()
    try:
        kg = read_primekg(dump, report) if dump.is_file() else read_dump(dump, report)
    except DumpError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    _print_issues(report)
    store = _store(backend, db, neo4j_uri)
    try:
        result = store.load(kg, batch_size=batch_size, show_progress=True)
    finally:
        store.close()
    typer.echo(
        json.dumps(
            {
                "backend": backend,
                "version": result.version,
                "nodes_written": result.nodes_written,
                "edges_written": result.edges_written,
                "already_loaded": result.skipped,
                "report": report.summary(),
            },
            indent=2,
        )
    )


@app.command()
def stats(
    backend: BackendOpt = "embedded",
    db: DbOpt = DEFAULT_DB,
    neo4j_uri: UriOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Version, node and edge counts, per node type and per relation."""
    store = _store(backend, db, neo4j_uri)
    try:
        result = store.stats().as_dict()
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    typer.echo(f"version {result['version']}: {result['nodes']} nodes, {result['edges']} edges")
    for key in ("node_types", "relations"):
        for name, count in result[key].items():  # type: ignore[union-attr]
            typer.echo(f"  {name:<18} {count}")


@app.command()
def lookup(
    name: Annotated[str, typer.Argument(help="node id, name or synonym")],
    backend: BackendOpt = "embedded",
    db: DbOpt = DEFAULT_DB,
    neo4j_uri: UriOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Nodes named NAME (by id, normalised name, then synonym)."""
    store = _store(backend, db, neo4j_uri)
    try:
        nodes = store.lookup(name)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([n.model_dump() for n in nodes], indent=2))
    elif not nodes:
        typer.echo(f"no node named {name!r}", err=True)
        raise typer.Exit(1)
    for node in [] if as_json else nodes:
        typer.echo(f"{node.id}\t{node.type}\t{node.name}")


@app.command()
def paths(
    source: Annotated[str, typer.Argument(help="start: node id or name")],
    target: Annotated[str, typer.Argument(help="end: node id or name")],
    max_hops: Annotated[int, typer.Option("--max-hops")] = 3,
    k: Annotated[int, typer.Option("--k", help="number of paths")] = 5,
    relation: Annotated[
        list[str] | None, typer.Option("--relation", help="walk only these relations (repeatable)")
    ] = None,
    backend: BackendOpt = "embedded",
    db: DbOpt = DEFAULT_DB,
    neo4j_uri: UriOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The k shortest simple paths between two concepts (edges walked both ways)."""
    store = _store(backend, db, neo4j_uri)
    try:
        starts, ends = store.lookup(source), store.lookup(target)
        missing = [t for t, found in ((source, starts), (target, ends)) if not found]
        if missing:
            typer.echo(f"error: no node named {', '.join(repr(m) for m in missing)}", err=True)
            raise typer.Exit(1)
        try:
            found = store.paths([n.id for n in starts], [n.id for n in ends], max_hops, relation, k)
        except StoreError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in found], indent=2))
        return
    for path in found:
        parts = [path.steps[0].target_name if path.steps[0].reversed else path.steps[0].source_name]
        for step in path.steps:
            arrow = f"<-{step.relation}-" if step.reversed else f"-{step.relation}->"
            parts.append(f"{arrow} {step.source_name if step.reversed else step.target_name}")
        typer.echo(" ".join(parts))
