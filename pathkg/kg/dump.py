"""A KG dump in memory (two Arrow tables) and on disk (Parquet + manifest, or hand-written CSV).

`KGDump.version` is the content hash of the nodes and edges: rows sorted by key, serialised as CSV
with lists joined by `|`, hashed with SHA-256. The same graph always gets the same version,
whatever order its rows were built in.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pathkg.io.atomic import write_json_atomic, write_parquet_atomic
from pathkg.kg.dump_checks import check_edges, check_nodes
from pathkg.kg.load_report import LoadReport
from schemas.arrow import arrow_schema
from schemas.kg_dump import RELATIONS, KGDumpManifest, KGDumpSourceCount, KGEdge, KGNode

NODE_SCHEMA = arrow_schema(KGNode)
EDGE_SCHEMA = arrow_schema(KGEdge)
NODE_COLUMNS = NODE_SCHEMA.names
EDGE_COLUMNS = EDGE_SCHEMA.names
LIST_SEPARATOR = "|"

NODES_PARQUET = "nodes.parquet"
EDGES_PARQUET = "edges.parquet"
DICTIONARY_PARQUET = "entity_dictionary.parquet"
MANIFEST_JSON = "manifest.json"
NODES_CSV = "nodes.csv"
EDGES_CSV = "edges.csv"


class DumpError(Exception):
    """A dump folder that cannot be read at all (missing files, unreadable Parquet)."""


@dataclass
class KGDump:
    nodes: pa.Table
    edges: pa.Table
    _version: str | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_rows(cls, nodes: Iterable[dict], edges: Iterable[dict]) -> KGDump:
        """From plain dicts with the KGNode / KGEdge fields (no checks; see `checked`)."""
        return cls(
            pa.Table.from_pylist(list(nodes), schema=NODE_SCHEMA),
            pa.Table.from_pylist(list(edges), schema=EDGE_SCHEMA),
        )

    def checked(
        self,
        report: LoadReport,
        node_file: str = NODES_PARQUET,
        edge_file: str = EDGES_PARQUET,
        node_lines: pa.Array | None = None,
        edge_lines: pa.Array | None = None,
    ) -> KGDump:
        """The rows that pass `dump_checks`; each rejected row is in `report` with its file and line."""
        nodes = check_nodes(self.nodes, node_lines, node_file, report)
        edges = check_edges(self.edges, edge_lines, edge_file, nodes["id"].combine_chunks(), report)
        report.nodes, report.edges = nodes.num_rows, edges.num_rows
        return KGDump(nodes, edges)

    @property
    def version(self) -> str:
        """Computed once per dump object (the tables are treated as immutable)."""
        if self._version is None:
            self._version = self._content_hash()
        return self._version

    def relation_tables(self) -> Iterator[tuple[str, pa.Table]]:
        """(relation, its edges) for each relation present, in `RELATIONS` order."""
        present = set(pc.unique(self.edges["relation"]).to_pylist()) if self.edges.num_rows else set()
        for relation in RELATIONS:
            if relation in present:
                yield relation, self.edges.filter(pc.equal(self.edges["relation"], relation))

    def _content_hash(self) -> str:
        digest = hashlib.sha256()
        digest.update(_canonical_csv(self.nodes, ["id"]))
        digest.update(b"\x00edges\x00")
        digest.update(_canonical_csv(self.edges, ["source_id", "relation", "target_id"]))
        return "kg-" + digest.hexdigest()[:16]

    def node_types(self) -> dict[str, int]:
        return _value_counts(self.nodes["type"])

    def relations(self) -> dict[str, int]:
        return _value_counts(self.edges["relation"])

    def sources(self) -> list[KGDumpSourceCount]:
        nodes: Counter[str] = Counter()
        for value in self.nodes["source"].to_pylist():
            nodes.update(value.split(";"))
        # Ontology edges carry the ontology's name; curated edges carry a free-text note (counted as 'pkg').
        edges_by_head: Counter[str] = Counter()
        for source, count in _value_counts(self.edges["source"]).items():
            head = source.split("; ")[0]
            edges_by_head[head if head in nodes and " " not in head else "pkg"] += count
        names = sorted(set(nodes) | set(edges_by_head))
        return [KGDumpSourceCount(source=s, nodes=nodes.get(s, 0), edges=edges_by_head.get(s, 0)) for s in names]

    def write(self, out_dir: Path, dictionary: pa.Table | None = None) -> KGDumpManifest:
        """Write the Parquet files atomically, then `manifest.json` last (its presence means complete)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        nodes = self.nodes.sort_by([("id", "ascending")])
        edges = self.edges.sort_by([(c, "ascending") for c in ("source_id", "relation", "target_id")])
        write_parquet_atomic(out_dir / NODES_PARQUET, nodes)
        write_parquet_atomic(out_dir / EDGES_PARQUET, edges)
        files = {"nodes": NODES_PARQUET, "edges": EDGES_PARQUET}
        if dictionary is not None:
            write_parquet_atomic(out_dir / DICTIONARY_PARQUET, dictionary)
            files["entity_dictionary"] = DICTIONARY_PARQUET
        manifest = KGDumpManifest(
            version=self.version,
            nodes=self.nodes.num_rows,
            edges=self.edges.num_rows,
            dictionary_terms=0 if dictionary is None else dictionary.num_rows,
            node_types=self.node_types(),
            relations=self.relations(),
            sources=self.sources(),
            files=files,
        )
        write_json_atomic(out_dir / MANIFEST_JSON, manifest.model_dump(mode="json"))
        return manifest


def read_dump(path: Path, report: LoadReport) -> KGDump:
    """Read a dump folder (Parquet, or `nodes.csv` / `edges.csv`), checked row by row into `report`."""
    path = Path(path)
    if not path.is_dir():
        raise DumpError(f"{path}: not a KG dump folder")
    if (path / NODES_PARQUET).exists():
        try:
            nodes = pq.read_table(path / NODES_PARQUET).select(NODE_COLUMNS).cast(NODE_SCHEMA)
            edges = pq.read_table(path / EDGES_PARQUET).select(EDGE_COLUMNS).cast(EDGE_SCHEMA)
        except (OSError, KeyError, pa.ArrowInvalid) as exc:
            raise DumpError(f"{path}: unreadable Parquet dump: {exc}") from exc
        before = (report.rejected, report.duplicates_merged)
        dump = KGDump(nodes, edges).checked(report, str(path / NODES_PARQUET), str(path / EDGES_PARQUET))
        manifest = path / MANIFEST_JSON
        if manifest.exists() and (report.rejected, report.duplicates_merged) == before:
            # Every row passed: the content is what the manifest hashed, so its version stands.
            dump._version = KGDumpManifest.model_validate_json(manifest.read_text(encoding="utf-8")).version
        return dump
    if (path / NODES_CSV).exists():
        nodes, node_lines = read_csv_table(path / NODES_CSV, NODE_SCHEMA, report)
        edges, edge_lines = read_csv_table(path / EDGES_CSV, EDGE_SCHEMA, report)
        return KGDump(nodes, edges).checked(
            report, str(path / NODES_CSV), str(path / EDGES_CSV), node_lines, edge_lines
        )
    raise DumpError(f"{path}: no {NODES_PARQUET} or {NODES_CSV}")


def iter_csv_rows(path: Path, columns: list[str], report: LoadReport) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for each well-formed data row of a CSV whose header must be `columns`; a row with the
    wrong number of fields is reported as `wrong_column_count` and skipped. Blank lines and lines
    starting with '#' are comments."""
    path = Path(path)
    if not path.exists():
        raise DumpError(f"{path}: missing")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header: list[str] | None = None
        for fields in reader:
            line = reader.line_num
            if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [f.strip() for f in fields]
                if header != columns:
                    raise DumpError(f"{path}:{line}: header {header} is not {columns}")
                continue
            if len(fields) != len(columns):
                report.add("wrong_column_count", str(path), line, f"{len(fields)} fields, expected {len(columns)}")
                continue
            yield line, dict(zip(columns, (f.strip() for f in fields), strict=True))


def read_csv_table(path: Path, schema: pa.Schema, report: LoadReport) -> tuple[pa.Table, pa.Array]:
    """A hand-written CSV (lists joined by '|', empty = null) as an Arrow table plus each row's line."""
    lines: list[int] = []
    rows: list[dict] = []
    list_columns = {f.name for f in schema if pa.types.is_list(f.type)}
    for line, row in iter_csv_rows(path, schema.names, report):
        for name in schema.names:
            value = row[name]
            if name in list_columns:
                row[name] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
            elif value == "" and schema.field(name).nullable and name == "evidence":
                row[name] = None
        lines.append(line)
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema), pa.array(lines, type=pa.int64())


def _value_counts(column: pa.ChunkedArray) -> dict[str, int]:
    counts = pc.value_counts(column.combine_chunks() if column.num_chunks else pa.array([], pa.string()))
    return dict(sorted((c["values"], c["counts"]) for c in counts.to_pylist()))


def _canonical_csv(table: pa.Table, key: list[str]) -> bytes:
    table = table.sort_by([(c, "ascending") for c in key])
    columns = []
    for name in table.column_names:
        column = table[name]
        if pa.types.is_list(column.type):
            column = pc.binary_join(column, LIST_SEPARATOR)
        columns.append(pc.fill_null(column, "\x00"))
    sink = io.BytesIO()
    pacsv.write_csv(pa.table(columns, names=table.column_names), sink)
    return sink.getvalue()
