"""KG reasoning paths drawn as one graph, as inline SVG for the review page.

Nodes are laid out in columns by their position along the paths (findings on the left, the diagnosis on
the right); a node shared by several paths is drawn once. Each arrow points the way the relation is stored,
so an edge a path walks backwards is visibly so.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from schemas.kg_path import KGPath

_COL_W, _GAP, _ROW_H, _NODE_H, _PAD, _CHAR_W, _MAX_CHARS = 230, 96, 64, 30, 16, 6.6, 30


def _label(text: str) -> str:
    return text if len(text) <= _MAX_CHARS else text[: _MAX_CHARS - 1] + "…"


def path_svg(paths: Sequence[KGPath], start_ids: set[str] | None = None, end_ids: set[str] | None = None) -> str:
    """An `<svg>` element drawing every path; an empty string when there are none."""
    if not paths:
        return ""
    names: dict[str, str] = {}
    column: dict[str, int] = {}
    edges: dict[tuple[str, str, str], None] = {}
    for path in paths:
        walk = [path.start_id]
        for step in path.steps:
            names.setdefault(step.source_id, step.source_name)
            names.setdefault(step.target_id, step.target_name)
            walk.append(step.source_id if step.reversed else step.target_id)
            edges[(step.source_id, step.relation, step.target_id)] = None
        for i, node in enumerate(walk):
            column[node] = max(column.get(node, 0), i)
    rows: dict[int, list[str]] = {}
    for node in column:  # insertion order: first path first
        rows.setdefault(column[node], []).append(node)
    n_rows = max(len(r) for r in rows.values())
    node_w = {n: min(_COL_W - 40, 20 + _CHAR_W * len(_label(names.get(n, n)))) for n in column}
    col_w = {c: max(node_w[n] for n in nodes) for c, nodes in rows.items()}
    col_x: dict[int, float] = {}
    x = float(_PAD)
    for c in sorted(rows):
        col_x[c] = x
        x += col_w[c] + _GAP
    pos: dict[str, tuple[float, float, float]] = {}
    for col, nodes in rows.items():
        offset = (n_rows - len(nodes)) * _ROW_H / 2
        for r, node in enumerate(nodes):
            w = node_w[node]
            pos[node] = (col_x[col] + (col_w[col] - w) / 2, _PAD + 14 + offset + r * _ROW_H, w)
    width = x - _GAP + _PAD
    height = _PAD * 2 + 30 + n_rows * _ROW_H
    start_ids = start_ids or {p.start_id for p in paths}
    end_ids = end_ids or {p.end_id for p in paths}
    out = [
        f'<svg class="kg-graph" xmlns="http://www.w3.org/2000/svg" style="max-width:100%;height:auto" '
        f'width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="KG paths">',
        '<defs><marker id="kg-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for source, relation, target in edges:
        if source not in pos or target not in pos:
            continue
        (sx, sy, sw), (tx, ty, tw) = pos[source], pos[target]
        y1, y2 = sy + _NODE_H / 2, ty + _NODE_H / 2
        x1, x2 = (sx + sw, tx) if sx <= tx else (sx, tx + tw)
        span = abs(column[target] - column[source])
        # An edge that skips a column bends above the nodes it would cross.
        bend = 0.0 if span <= 1 else 0.9 * _ROW_H * (span - 1) + 24
        if max(y1, y2) > height / 2:  # edges reaching the lower half bend below, the others above
            bend = -bend
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - bend
        out.append(
            f'<path class="kg-edge" d="M{x1:.1f},{y1:.1f} Q{mx:.1f},{my:.1f} {x2:.1f},{y2:.1f}" fill="none" '
            f'stroke="#555" stroke-width="1.4" marker-end="url(#kg-arrow)"/>'
        )
        ly = (y1 + y2) / 2 if span <= 1 else (y1 + y2 + 2 * my) / 4
        out.append(
            f'<text class="kg-rel" x="{mx:.1f}" y="{ly - 5:.1f}" text-anchor="middle" font-size="10" fill="#333" '
            f'paint-order="stroke" stroke="#fff" stroke-width="3">{escape(relation)}</text>'
        )
    for node, (x, y, w) in pos.items():
        kind = "start" if node in start_ids else "end" if node in end_ids else "mid"
        fill = {"start": "#dbeafe", "end": "#fde68a", "mid": "#e5e7eb"}[kind]
        out.append(
            f'<g class="kg-node kg-{kind}" data-kg-id="{escape(node)}"><title>{escape(names.get(node, node))} '
            f"({escape(node)})</title>"
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{_NODE_H}" rx="6" fill="{fill}" stroke="#444"/>'
            f'<text x="{x + w / 2:.1f}" y="{y + 19:.1f}" text-anchor="middle" font-size="11.5" fill="#111">'
            f"{escape(_label(names.get(node, node)))}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)
