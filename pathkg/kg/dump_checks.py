"""Row checks every dump passes before it is written or loaded (vectorised, so a 1M-edge dump is quick).

Each malformed row is reported by file and line and dropped; the rest goes on. Checks: empty id,
unknown node type, unknown relation, a node id seen twice with different content (the first wins),
an edge whose end is not a node (dangling). Exact repeats of a node or an edge are merged silently
and counted in `LoadReport.duplicates_merged`.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from pathkg.kg.load_report import LoadReport
from schemas.kg_dump import NODE_TYPES, RELATIONS


def _lines(table: pa.Table, lines: pa.Array | None) -> pa.Array:
    if lines is not None:
        return lines
    return pa.array(range(1, table.num_rows + 1), type=pa.int64())


def _report(report: LoadReport, kind: str, file: str, lines: pa.Array, mask: pa.Array, why: list[str]) -> None:
    for line, message in zip(pc.filter(lines, mask).to_pylist(), why, strict=True):
        report.add(kind, file, int(line), message)


def _blank(column: pa.ChunkedArray) -> pa.Array:
    return pc.fill_null(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0), True)


def check_nodes(nodes: pa.Table, lines: pa.Array | None, file: str, report: LoadReport) -> pa.Table:
    """The nodes that pass, with exact repeats merged; problems go to `report`."""
    lines = _lines(nodes, lines)
    bad = _blank(nodes["id"])
    if pc.any(bad).as_py():
        names = pc.filter(nodes["name"], bad).to_pylist()
        _report(report, "empty_id", file, lines, bad, [f"node {n!r} has an empty id" for n in names])
    known = pc.is_in(nodes["type"], value_set=pa.array(NODE_TYPES))
    wrong_type = pc.and_(pc.invert(bad), pc.invert(pc.fill_null(known, False)))
    if pc.any(wrong_type).as_py():
        rows = pc.filter(nodes.select(["id", "type"]), wrong_type).to_pylist()
        _report(
            report,
            "unknown_node_type",
            file,
            lines,
            wrong_type,
            [f"node {r['id']!r} has unknown type {r['type']!r}" for r in rows],
        )
    bad = pc.or_(bad, wrong_type)
    no_name = pc.and_(pc.invert(bad), _blank(nodes["name"]))
    if pc.any(no_name).as_py():
        ids = pc.filter(nodes["id"], no_name).to_pylist()
        _report(report, "empty_id", file, lines, no_name, [f"node {i!r} has an empty name" for i in ids])
    keep = pc.invert(pc.or_(bad, no_name))
    nodes, lines = nodes.filter(keep), pc.filter(lines, keep)
    return _first_of_each(nodes, lines, ["id"], file, report, what="node id")


def check_edges(edges: pa.Table, lines: pa.Array | None, file: str, node_ids: pa.Array, report: LoadReport) -> pa.Table:
    """The edges that pass: known relation, both ends among `node_ids`, exact repeats merged."""
    lines = _lines(edges, lines)
    empty = pc.or_(_blank(edges["source_id"]), _blank(edges["target_id"]))
    if pc.any(empty).as_py():
        rows = pc.filter(edges.select(["source_id", "relation", "target_id"]), empty).to_pylist()
        _report(
            report,
            "empty_id",
            file,
            lines,
            empty,
            [f"edge {r['source_id']!r} -{r['relation']}-> {r['target_id']!r} has an empty end" for r in rows],
        )
    known = pc.fill_null(pc.is_in(edges["relation"], value_set=pa.array(RELATIONS)), False)
    unknown = pc.and_(pc.invert(empty), pc.invert(known))
    if pc.any(unknown).as_py():
        rels = pc.filter(edges["relation"], unknown).to_pylist()
        _report(
            report,
            "unknown_relation",
            file,
            lines,
            unknown,
            [f"unknown relation {r!r} (known: {', '.join(RELATIONS)})" for r in rels],
        )
    ok = pc.invert(pc.or_(empty, unknown))
    has_source = pc.fill_null(pc.is_in(edges["source_id"], value_set=node_ids), False)
    has_target = pc.fill_null(pc.is_in(edges["target_id"], value_set=node_ids), False)
    dangling = pc.and_(ok, pc.invert(pc.and_(has_source, has_target)))
    if pc.any(dangling).as_py():
        rows = pc.filter(edges.select(["source_id", "relation", "target_id"]), dangling).to_pylist()
        ends = zip(
            pc.filter(has_source, dangling).to_pylist(), pc.filter(has_target, dangling).to_pylist(), strict=True
        )
        why = [
            f"edge {r['source_id']!r} -{r['relation']}-> {r['target_id']!r}: no node "
            + " and ".join(repr(i) for i, there in ((r["source_id"], s), (r["target_id"], t)) if not there)
            for r, (s, t) in zip(rows, ends, strict=True)
        ]
        _report(report, "dangling_edge", file, lines, dangling, why)
    keep = pc.and_(ok, pc.invert(dangling))
    edges, lines = edges.filter(keep), pc.filter(lines, keep)
    return _first_of_each(edges, lines, ["source_id", "relation", "target_id"], file, report, what="edge")


def _first_of_each(
    table: pa.Table, lines: pa.Array, key: list[str], file: str, report: LoadReport, what: str
) -> pa.Table:
    """Keep the first row of each key; a later row with other content is a conflict, an exact repeat merges."""
    if table.num_rows == 0:
        return table
    indexed = table.append_column("__row", pa.array(range(table.num_rows), type=pa.int64()))
    firsts = indexed.group_by(key, use_threads=False).aggregate([("__row", "min"), ("__row", "count")])
    if pc.max(firsts["__row_count"]).as_py() == 1:
        return table
    first_rows = firsts["__row_min"].combine_chunks()
    is_first = pc.is_in(indexed["__row"], value_set=first_rows)
    repeats = pc.invert(is_first)
    repeat_rows = pc.filter(indexed["__row"], repeats).to_pylist()
    # Compare each repeat to the first row of its key.
    first_of = {
        tuple(r[k] for k in key): r["__row_min"]
        for r in firsts.filter(pc.greater(firsts["__row_count"], 1)).to_pylist()
    }
    needed = sorted(set(repeat_rows) | set(first_of.values()))
    content = dict(zip(needed, table.take(pa.array(needed, type=pa.int64())).to_pylist(), strict=True))
    line_list = lines.to_pylist()
    for row in repeat_rows:
        record = content[row]
        first = first_of[tuple(record[k] for k in key)]
        if record == content[first]:
            report.duplicates_merged += 1
            continue
        label = (
            record["id"] if "id" in record else f"{record['source_id']} -{record['relation']}-> {record['target_id']}"
        )
        changed = sorted(k for k in record if record[k] != content[first][k])
        report.add(
            "duplicate_id_conflict",
            file,
            int(line_list[row]),
            f"{what} {label!r} repeats line {line_list[first]} with different {', '.join(changed)}; first kept",
        )
    return table.filter(is_first)
