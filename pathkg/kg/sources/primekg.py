"""PrimeKG's `kg.csv` (relation, display_relation, x_index, x_id, x_type, x_name, x_source, y_index, y_id,
y_type, y_name, y_source) -> a KG dump, read as a stream of Arrow record batches so the real 8M-row file
fits in memory as columns, not Python objects.

Node id: `<source>:<id>` (e.g. `NCBI:9796`, `MONDO:8019`); types map onto pathkg's node types; every
relation becomes `ASSOCIATED_WITH` with PrimeKG's relation and display relation kept as evidence.
PrimeKG lists undirected relations in both directions; the reverse copy of an edge already read is
merged. A row with the wrong number of fields is reported with its line and skipped.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pathkg.kg.dump import EDGE_SCHEMA, NODE_SCHEMA, KGDump
from pathkg.kg.load_report import LoadReport

COLUMNS = [
    "relation",
    "display_relation",
    "x_index",
    "x_id",
    "x_type",
    "x_name",
    "x_source",
    "y_index",
    "y_id",
    "y_type",
    "y_name",
    "y_source",
]
TYPE_MAP = {
    "gene/protein": "Gene",
    "drug": "Drug",
    "effect/phenotype": "Phenotype",
    "disease": "Disease",
    "biological_process": "BiologicalProcess",
    "molecular_function": "MolecularFunction",
    "cellular_component": "CellularComponent",
    "exposure": "Exposure",
    "pathway": "Pathway",
    "anatomy": "Anatomy",
}


def read_primekg(path: Path, report: LoadReport, block_size: int = 16 << 20) -> KGDump:
    path = Path(path)
    bad_lines: list[tuple[int | None, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_lines.append((row.number, row.actual_columns))
        return "skip"

    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=block_size, use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in COLUMNS}, include_columns=COLUMNS, strings_can_be_null=False
        ),
    )
    node_parts, edge_parts = [], []
    for batch in reader:
        table = pa.Table.from_batches([batch])
        ends = {}
        for side in ("x", "y"):
            ids = pc.binary_join_element_wise(table[f"{side}_source"], table[f"{side}_id"], ":")
            ends[side] = ids
            types = pc.fill_null(_map(table[f"{side}_type"], TYPE_MAP), pa.scalar("Concept", pa.string()))
            node_parts.append(
                pa.table(
                    {
                        "id": ids,
                        "type": types,
                        "name": table[f"{side}_name"],
                        "synonyms": _empty_lists(table.num_rows),
                        "xrefs": _empty_lists(table.num_rows),
                        "source": pa.array(["primekg"] * table.num_rows, pa.string()),
                    },
                    schema=NODE_SCHEMA,
                )
            )
        edge_parts.append(
            pa.table(
                {
                    "source_id": ends["x"],
                    "relation": pa.array(["ASSOCIATED_WITH"] * table.num_rows, pa.string()),
                    "target_id": ends["y"],
                    "source": pa.array(["primekg"] * table.num_rows, pa.string()),
                    "evidence": pc.binary_join_element_wise(table["relation"], table["display_relation"], ": "),
                },
                schema=EDGE_SCHEMA,
            )
        )
    for number, actual in bad_lines:
        # pyarrow numbers rows from 1 counting the header line, which is the file line.
        line = number if number is not None else 0
        report.add("wrong_column_count", str(path), line, f"{actual} fields, expected {len(COLUMNS)}")
    nodes = pa.concat_tables(node_parts) if node_parts else NODE_SCHEMA.empty_table()
    edges = pa.concat_tables(edge_parts) if edge_parts else EDGE_SCHEMA.empty_table()
    nodes = _first_by(nodes, ["id"])
    edges = _drop_reverse_duplicates(edges)
    return KGDump(nodes, edges).checked(report, str(path), str(path))


def _empty_lists(n: int) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array([0] * (n + 1), pa.int32()), pa.array([], pa.string()))


def _map(column: pa.ChunkedArray, mapping: dict[str, str]) -> pa.Array:
    keys = pa.array(list(mapping))
    values = pa.array(list(mapping.values()))
    return pc.take(values, pc.index_in(column, value_set=keys))


def _first_by(table: pa.Table, keys: list[str]) -> pa.Table:
    indexed = table.append_column("__row", pa.array(range(table.num_rows), pa.int64()))
    firsts = indexed.group_by(keys, use_threads=False).aggregate([("__row", "min")])["__row_min"]
    return table.take(_sorted(firsts))


def _drop_reverse_duplicates(edges: pa.Table) -> pa.Table:
    """Keep one edge per unordered pair of ends (PrimeKG stores undirected relations twice)."""
    lo = pc.if_else(pc.less_equal(edges["source_id"], edges["target_id"]), edges["source_id"], edges["target_id"])
    hi = pc.if_else(pc.less_equal(edges["source_id"], edges["target_id"]), edges["target_id"], edges["source_id"])
    keyed = pa.table({"lo": lo, "hi": hi, "__row": pa.array(range(edges.num_rows), pa.int64())})
    firsts = keyed.group_by(["lo", "hi"], use_threads=False).aggregate([("__row", "min")])["__row_min"]
    return edges.take(_sorted(firsts))


def _sorted(rows: pa.ChunkedArray) -> pa.Array:
    array = rows.combine_chunks()
    return pc.take(array, pc.array_sort_indices(array))
