"""Paths of up to 3 hops on a Neo4j server, searched by the server: no node's edges come to the client.

Every simple path of each length (1, 2, then 3 hops, stopping once `k` paths are known) between the
sources and the targets is enumerated by the server, which returns only the first `k` in the canonical
order of `store.rank_paths` (ORDER BY the same step-by-step key, LIMIT k; ids are compared as the
server compares strings, which for ids outside the Basic Multilingual Plane may differ from Python's
order), names included. Two round trips at most: the first query returns the stored versions, the
degrees of both ends (and of a light end's neighbours), every 1-hop path and, when fewer than `k`, the
first `k` 2-hop paths; the second, only when still fewer than `k`, the first `k` 3-hop paths. The
degrees pick the walks:

- 2 hops: the lighter end is expanded, and the hop to the other end is an `Expand(Into)` check, so a
  hub end (PrimeKG has nodes with ~10K edges) is never walked;
- 3 hops: one end is expanded two hops, the other one hop, and the two are hash-joined on the middle
  node (`USING JOIN ON`): the end expanded further is the one whose neighbours have fewer edges in all.

Query text is spliced only from checked relation types and fixed fragments; ids travel as parameters.
The plans are forced with `WITH` horizons (Cypher plans each query part on its own) and a join hint.
"""

from __future__ import annotations

from collections.abc import Callable

#: Ends whose summed degree is at most this count as light: their neighbours' degrees are summed to
#: choose the walk of 3-hop paths (a hub's neighbours are not walked for that).
LIGHT_DEGREE = 1000

#: Runs one read query and returns its records as dicts (`Neo4jStore._run` with read=True).
RunRead = Callable[[str, dict], list[dict]]
#: (node ids, node names, relations, source-end id of each edge): the rows `store.rank_paths` takes.
PathRow = tuple[list[str], list[str], list[str], list[str]]

# Ends bound once, by the uniqueness constraint's index; each set collected so later parts see one row.
_BIND = (
    "CALL {{ UNWIND $sources AS i MATCH (n:Node {{id: i}}) RETURN collect(n) AS ss }} "
    "CALL {{ UNWIND $targets AS i MATCH (n:Node {{id: i}}) RETURN collect(n) AS ts }} "
)
_FIRST = (
    "CALL {{ MATCH (m:KGMeta) WHERE m.key STARTS WITH 'dump:' RETURN collect(m.value) AS versions }} "
    + _BIND
    + "CALL {{ WITH ss UNWIND ss AS n RETURN sum(COUNT {{ (n)-[{label}]-() }}) AS ds }} "
    "CALL {{ WITH ts UNWIND ts AS n RETURN sum(COUNT {{ (n)-[{label}]-() }}) AS dt }} "
    "CALL {{ WITH ss, ds UNWIND CASE WHEN ds <= $light THEN ss ELSE [] END AS n MATCH (n)-[{label}]-(m) "
    "RETURN sum(COUNT {{ (m)-[{label}]-() }}) AS ds2 }} "
    "CALL {{ WITH ts, dt UNWIND CASE WHEN dt <= $light THEN ts ELSE [] END AS n MATCH (n)-[{label}]-(m) "
    "RETURN sum(COUNT {{ (m)-[{label}]-() }}) AS dt2 }} "
    "CALL {{ WITH ss, ts UNWIND ss AS a UNWIND ts AS b MATCH (a)-[r1{label}]-(b) WHERE a <> b "
    "RETURN collect([[a.id, b.id], [a.name, b.name], [type(r1)], [startNode(r1).id]]) AS found }} "
    "CALL {{ WITH ss, ts, ds, dt, found CALL {{ WITH ss, ts, ds, dt, found "
    "UNWIND CASE WHEN $max_hops >= 2 AND size(found) < $k AND {two} = 'sources' THEN ss ELSE [] END AS a "
    "MATCH (a)-[r1{label}]-(x) WITH ts, a, r1, x UNWIND ts AS b MATCH (x)-[r2{label}]-(b) "
    "RETURN a, x, b, r1, r2 "
    "UNION ALL WITH ss, ts, ds, dt, found "
    "UNWIND CASE WHEN $max_hops >= 2 AND size(found) < $k AND {two} = 'targets' THEN ts ELSE [] END AS b "
    "MATCH (b)-[r2{label}]-(x) WITH ss, b, r2, x UNWIND ss AS a MATCH (a)-[r1{label}]-(x) "
    "RETURN a, x, b, r1, r2 }} "
    "WITH a, x, b, r1, r2 {two_end} }} "
    "RETURN versions, ds, dt, ds2, dt2, found, found2"
)
# 3 hops: one pattern, solved as a hash join of two expansions on the middle node named by the hint
# (x: the targets expanded two hops, the sources one; y: the other way round).
_THREE = "UNWIND ss AS a UNWIND ts AS b MATCH (a)-[r1{label}]-(x)-[r2{label}]-(y)-[r3{label}]-(b) USING JOIN ON {on} "
_TWO_END = (
    "WHERE a <> b AND a <> x AND x <> b "
    "WITH a, x, b, r1, r2 ORDER BY a.id, x.id, type(r1), startNode(r1) <> a, b.id, type(r2), startNode(r2) <> x "
    "LIMIT $k "
    "RETURN collect([[a.id, x.id, b.id], [a.name, x.name, b.name], [type(r1), type(r2)], "
    "[startNode(r1).id, startNode(r2).id]]) AS found"
)
_THREE_END = (
    "WHERE a <> b AND a <> x AND a <> y AND x <> y AND x <> b AND y <> b "
    "WITH a, x, y, b, r1, r2, r3 ORDER BY a.id, x.id, type(r1), startNode(r1) <> a, y.id, type(r2), "
    "startNode(r2) <> x, b.id, type(r3), startNode(r3) <> y "
    "LIMIT $k "
    "RETURN collect([[a.id, x.id, y.id, b.id], [a.name, x.name, y.name, b.name], [type(r1), type(r2), type(r3)], "
    "[startNode(r1).id, startNode(r2).id, startNode(r3).id]]) AS found"
)


def walk_plan(hops: int, degrees: dict[str, int | None]) -> str:
    """Which end is walked further: 'sources' or 'targets'. 2 hops: the lighter end is expanded, the
    hop to the other end checked (`Expand(Into)`). 3 hops: the end whose neighbours have fewer edges
    in all is expanded two hops, the other one hop, the two joined on the middle node. `degrees` holds
    the summed degree of each end ('ds', 'dt') and of its neighbours ('ds2', 'dt2', None for hubs)."""
    ds, dt = degrees["ds"] or 0, degrees["dt"] or 0
    if hops == 3:
        s2, t2 = degrees["ds2"], degrees["dt2"]
        if s2 is not None or t2 is not None:
            cost_sources = s2 + dt if s2 is not None else None
            cost_targets = t2 + ds if t2 is not None else None
            if cost_targets is None or (cost_sources is not None and cost_sources <= cost_targets):
                return "sources"
            return "targets"
    return "sources" if ds <= dt else "targets"


#: The walk of 2-hop paths, chosen by the server from the degrees it just counted (the same rule as
#: `walk_plan`), unless `TWO_HOP_WALK` forces one.
_TWO_BY_DEGREE = "coalesce($two_hop_walk, CASE WHEN ds <= dt THEN 'sources' ELSE 'targets' END)"
#: None: 2-hop paths walked by degree; 'sources' / 'targets': that walk, always (tests of each walk).
TWO_HOP_WALK: str | None = None

_FIRST_QUERY = _FIRST.replace("{two}", _TWO_BY_DEGREE).replace(
    "{two_end}", _TWO_END.replace("{", "{{").replace("}", "}}").replace("AS found", "AS found2")
)
_THREE_WALKS = {
    "sources": _THREE.replace("{on}", "y") + _THREE_END,
    "targets": _THREE.replace("{on}", "x") + _THREE_END,
}


def search_paths(
    run: RunRead, label: str, sources: list[str], targets: list[str], max_hops: int, k: int
) -> tuple[list[str], list[PathRow]]:
    """(stored versions, candidate rows) for up to `max_hops` (at most 3) hops: every path of each
    length below the last one searched, and the first `k` of the last one, in `rank_paths`' order.
    `label` is empty or a checked `:REL|REL` union."""
    params = {
        "sources": sorted(set(sources)),
        "targets": sorted(set(targets)),
        "k": k,
        "light": LIGHT_DEGREE,
        "max_hops": max_hops,
        "two_hop_walk": TWO_HOP_WALK,
    }
    (first,) = run(_FIRST_QUERY.format(label=label), params)
    rows: list[PathRow] = [tuple(r) for r in first["found"] + first["found2"]]
    degrees = {key: first[key] for key in ("ds", "dt")}
    # Neighbour degrees are summed for light ends only (a hub's neighbours are not walked).
    degrees |= {key + "2": first[key + "2"] if (first[key] or 0) <= LIGHT_DEGREE else None for key in ("ds", "dt")}
    if max_hops == 3 and len(rows) < k and degrees["ds"] and degrees["dt"]:
        (got,) = run((_BIND + _THREE_WALKS[walk_plan(3, degrees)]).format(label=label), params)
        rows.extend(tuple(r) for r in got["found"])
    return first["versions"], rows
