"""The server KG store: Neo4j through the official `neo4j` driver (Bolt).

Every value travels as a query parameter; the only text spliced into queries is a relation type or a
hop bound, both checked against `schemas.kg_dump.RELATIONS` / an integer range first. Schema
(uniqueness constraint on `Node.id`, indexes on `name_norm` and `type`) is created before any write;
rows go in `UNWIND $rows` batches. Paths of up to 3 hops are searched by the server, one query per
length (`neo4j_path_search`), longer ones with a bounded variable-length pattern. All Neo4j Cypher of
pathkg lives in these two modules.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import neo4j
import pyarrow as pa
from rich.progress import Progress

from pathkg.kg import neo4j_driver
from pathkg.kg.dump import KGDump
from pathkg.kg.ladybug_store import node_rows_for_store
from pathkg.kg.neo4j_driver import Neo4jSettings
from pathkg.kg.neo4j_path_search import search_paths
from pathkg.kg.normalise import normalise_term
from pathkg.kg.store import (
    PATH_CANDIDATE_LIMIT,
    LoadResult,
    Neighbor,
    StoreError,
    StoreStats,
    check_path_arguments,
    combined_version,
    ordered_neighbors,
    rank_paths,
)
from schemas.kg_dump import RELATIONS, KGNode
from schemas.kg_path import KGPath

#: Tries of a read query that meets a transient error (server busy, leader change, lost connection).
READ_ATTEMPTS = 4

_SCHEMA = [
    "CREATE CONSTRAINT pathkg_node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX pathkg_node_name_norm IF NOT EXISTS FOR (n:Node) ON (n.name_norm)",
    "CREATE INDEX pathkg_node_type IF NOT EXISTS FOR (n:Node) ON (n.type)",
    "CREATE CONSTRAINT pathkg_meta_key IF NOT EXISTS FOR (m:KGMeta) REQUIRE m.key IS UNIQUE",
]
# Node writes return (dump id, elementId) pairs, collected into one record (the driver spends far more
# per record than per list item): edge writes then find their ends by element id, not by index seek.
_CREATE_NODES = (
    "UNWIND $rows AS row CREATE (n:Node {id: row.id, type: row.type, name: row.name, name_norm: row.name_norm, "
    "terms: row.terms, synonyms: row.synonyms, xrefs: row.xrefs, source: row.source}) "
    "RETURN collect([row.id, elementId(n)]) AS ids"
)
_MERGE_NODES = (
    "UNWIND $rows AS row MERGE (n:Node {id: row.id}) "
    "SET n.type = row.type, n.name = row.name, n.name_norm = row.name_norm, n.terms = row.terms, "
    "n.synonyms = row.synonyms, n.xrefs = row.xrefs, n.source = row.source "
    "RETURN collect([row.id, elementId(n)]) AS ids"
)
# Edges go grouped by start node ([start element id, [[end element id, source, evidence], ...]]): one
# start lookup per group, and consecutive rows touch the same relationship chains and pages.
_EDGE_ENDS = (
    "UNWIND $groups AS g MATCH (a) WHERE elementId(a) = g[0] UNWIND g[1] AS row MATCH (b) WHERE elementId(b) = row[0] "
)
_CREATE_EDGES = _EDGE_ENDS + "CREATE (a)-[:{rel} {{source: row[1], evidence: row[2]}}]->(b)"
_MERGE_EDGES = _EDGE_ENDS + "MERGE (a)-[e:{rel}]->(b) SET e.source = row[1], e.evidence = row[2]"
_NODE_RETURN = (
    "n.id AS id, n.type AS type, n.name AS name, n.synonyms AS synonyms, n.xrefs AS xrefs, n.source AS source"
)


class Neo4jStore:
    """`KGStore` on a Neo4j server. Credentials default to NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD."""

    def __init__(
        self,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        settings: Neo4jSettings | None = None,
    ) -> None:
        """Unset arguments come from `settings`, else the environment (`neo4j_driver.Neo4jSettings`)."""
        base = settings or Neo4jSettings.resolve()
        given = {"uri": uri, "user": user, "password": password, "database": database}
        self.settings = replace(base, **{k: v for k, v in given.items() if v is not None})
        self.uri, self.database = self.settings.uri, self.settings.database
        self._shared = neo4j_driver.acquire(self.settings)
        try:
            self._shared.driver.verify_connectivity()
        except Exception as exc:  # the driver raises several unrelated types for "not there"
            self._release()
            raise StoreError(f"cannot reach Neo4j at {self.uri}: {exc} (start one with `make neo4j-up`)") from exc
        self._ensure_schema()

    @property
    def driver_token(self) -> str:
        """Names the driver this store uses now (`pid-serial`): one per process and settings."""
        return self._connection().token

    def _connection(self) -> neo4j_driver.SharedDriver:
        """This process's driver: a store inherited across a fork takes one of its own, never its parent's."""
        if self._shared is None:
            raise StoreError("the Neo4j store is closed")
        if self._shared.pid != os.getpid():
            self._shared = neo4j_driver.acquire(self.settings)
        return self._shared

    def _session(self, read: bool = False) -> neo4j.Session:
        mode = neo4j.READ_ACCESS if read else neo4j.WRITE_ACCESS
        return self._connection().driver.session(
            database=self.database, fetch_size=self.settings.fetch_size, default_access_mode=mode
        )

    def _run(self, query: str, params: dict | None = None, read: bool = False) -> list[dict]:
        """Writes: one managed write transaction (the driver retries it on transient errors). Reads: one
        auto-commit transaction in read access mode (a cluster may serve it from any member), retried
        here on transient errors: one round trip instead of the two (run, commit) of a managed one,
        which is most of a path query's time."""
        if not read:
            with self._session() as session:
                return session.execute_write(lambda tx: [r.data() for r in tx.run(query, params or {})])
        for attempt in range(READ_ATTEMPTS):
            try:
                with self._session(read=True) as session:
                    return [r.data() for r in session.run(query, params or {})]
            except (
                neo4j.exceptions.TransientError,
                neo4j.exceptions.SessionExpired,
                neo4j.exceptions.ServiceUnavailable,
            ):
                if attempt == READ_ATTEMPTS - 1:
                    raise
                time.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")

    def _ensure_schema(self) -> None:
        for statement in _SCHEMA:
            self._run(statement)

    def _versions(self) -> list[str]:
        return [
            r["v"] for r in self._run("MATCH (m:KGMeta) WHERE m.key STARTS WITH 'dump:' RETURN m.value AS v", read=True)
        ]

    def _write_batches(self, query: str, batches: Iterator[tuple[dict, int]], progress, task) -> list[list[str]]:
        """Run `query` once per (parameters, rows) batch, each in its own write transaction; returns the
        `ids` pairs the query collects (node writes), else nothing."""
        ids: list[list[str]] = []
        with self._session() as session:
            for params, size in _prefetched(batches):
                got = session.execute_write(lambda tx, p=params: tx.run(query, p).single())
                if got is not None:
                    ids.extend(got["ids"])
                progress.advance(task, size)
        return ids

    def load(self, dump: KGDump, batch_size: int = 10_000, show_progress: bool = False) -> LoadResult:
        version = dump.version
        if version in self._versions():
            return LoadResult(version, 0, 0, skipped=True)
        nodes = node_rows_for_store(dump.nodes).to_pylist()
        with Progress(disable=not show_progress, transient=True) as progress:
            task = progress.add_task("loading nodes (neo4j)", total=len(nodes))
            # An empty store takes plain CREATE (the dump has unique ids); otherwise MERGE on the id.
            empty = self._run("MATCH (n:Node) RETURN count(n) AS c")[0]["c"] == 0
            node_batches = (
                ({"rows": nodes[i : i + batch_size]}, len(nodes[i : i + batch_size]))
                for i in range(0, len(nodes), batch_size)
            )
            query = _CREATE_NODES if empty else _MERGE_NODES
            element_ids = dict(self._write_batches(query, node_batches, progress, task))
            task = progress.add_task("loading edges (neo4j)", total=dump.edges.num_rows)
            for rel, table in dump.relation_tables():
                if rel not in RELATIONS:  # spliced into the query text below: only a known type may pass
                    raise StoreError(f"unknown relation {rel!r}")
                # An empty relation type takes plain CREATE (the dump has no repeated keys); else MERGE.
                empty = self._run(f"MATCH ()-[e:{rel}]->() RETURN count(e) AS c")[0]["c"] == 0
                query = (_CREATE_EDGES if empty else _MERGE_EDGES).format(rel=rel)
                self._write_batches(query, _edge_groups(rel, table, element_ids, batch_size), progress, task)
        self._run("MERGE (m:KGMeta {key: $key}) SET m.value = $value", {"key": f"dump:{version}", "value": version})
        return LoadResult(version, len(nodes), dump.edges.num_rows)

    def lookup(self, text: str, limit: int = 10) -> list[KGNode]:
        rows = self._run(f"MATCH (n:Node {{id: $t}}) RETURN {_NODE_RETURN}", {"t": text}, read=True)
        if not rows:
            term = normalise_term(text)
            rows = self._run(
                f"MATCH (n:Node) WHERE n.name_norm = $t RETURN {_NODE_RETURN} ORDER BY n.id LIMIT $limit",
                {"t": term, "limit": limit},
                read=True,
            )
            if not rows:
                rows = self._run(
                    f"MATCH (n:Node) WHERE $t IN n.terms RETURN {_NODE_RETURN} ORDER BY n.id LIMIT $limit",
                    {"t": term, "limit": limit},
                    read=True,
                )
        return [KGNode.model_validate(r) for r in rows[:limit]]

    def neighbors(self, node_id: str, relations: list[str] | None = None, limit: int = 100) -> list[Neighbor]:
        rels = check_path_arguments(1, 1, relations)
        out = []
        for outgoing, pattern in (
            (True, "(a:Node {id: $id})-[e]->(n:Node)"),
            (False, "(a:Node {id: $id})<-[e]-(n:Node)"),
        ):
            rows = self._run(
                f"MATCH {pattern} WHERE type(e) IN $rels "
                f"RETURN type(e) AS rel, e.source AS esource, e.evidence AS evidence, {_NODE_RETURN}",
                {"id": node_id, "rels": rels},
                read=True,
            )
            for row in rows:
                rel, source, evidence = row.pop("rel"), row.pop("esource"), row.pop("evidence")
                out.append(Neighbor.of(node_id, KGNode.model_validate(row), outgoing, rel, source, evidence))
        return ordered_neighbors(out, limit)

    def paths(
        self,
        sources: list[str],
        targets: list[str],
        max_hops: int = 3,
        relation_filter: list[str] | None = None,
        k: int = 5,
    ) -> list[KGPath]:
        rels = check_path_arguments(max_hops, k, relation_filter)
        label = "" if len(rels) == len(RELATIONS) else ":" + "|".join(rels)
        if max_hops <= 3:
            versions, found = search_paths(
                lambda query, params: self._run(query, params, read=True), label, sources, targets, max_hops, k
            )
            return rank_paths(found, combined_version(versions) or "", k)
        version = self.stats_version()
        rows: list = []
        for hops in range(1, max_hops + 1):
            query = (
                "MATCH (a:Node) WHERE a.id IN $sources MATCH (b:Node) WHERE b.id IN $targets "
                f"MATCH p = (a)-[{label}*{hops}..{hops}]-(b) "
                "WHERE all(i IN range(0, size(nodes(p)) - 2) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1..]) "
                "WITH p LIMIT $limit "
                "RETURN collect([[n IN nodes(p) | n.id], [n IN nodes(p) | n.name], "
                "[r IN relationships(p) | type(r)], [r IN relationships(p) | startNode(r).id]]) AS found"
            )
            params = {"sources": list(sources), "targets": list(targets), "limit": PATH_CANDIDATE_LIMIT}
            rows.extend(tuple(r) for r in self._run(query, params, read=True)[0]["found"])
            if len({tuple(r[0]) + tuple(r[2]) for r in rows}) >= k:
                break
        return rank_paths(rows, version or "", k)

    def stats_version(self) -> str | None:
        return combined_version(self._versions())

    def stats(self) -> StoreStats:
        types = {r["t"]: r["c"] for r in self._run("MATCH (n:Node) RETURN n.type AS t, count(*) AS c", read=True)}
        relations = {}
        for rel in RELATIONS:
            count = self._run(f"MATCH ()-[e:{rel}]->() RETURN count(e) AS c", read=True)[0]["c"]
            if count:
                relations[rel] = count
        return StoreStats(self.stats_version(), sum(types.values()), sum(relations.values()), types, relations)

    def clear(self) -> None:
        # Batched so a large graph does not need one huge transaction; CALL ... IN TRANSACTIONS needs an
        # implicit (auto-commit) transaction, which `session.run` gives.
        with self._session() as session:
            # Relationships first: a hub node's DETACH DELETE would otherwise hold all its edges in one batch.
            session.run("MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 50000 ROWS").consume()
            session.run("MATCH (n:Node) CALL { WITH n DELETE n } IN TRANSACTIONS OF 50000 ROWS").consume()
        self._run("MATCH (m:KGMeta) DELETE m")

    def _release(self) -> None:
        if self._shared is not None:
            neo4j_driver.release(self.settings, self._shared)
            self._shared = None

    def close(self) -> None:
        self._release()

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _edge_groups(rel: str, table: pa.Table, element_ids: dict[str, str], batch_size: int) -> Iterator[tuple[dict, int]]:
    """A relation's edges as `_EDGE_ENDS` batches of `batch_size` edges: sorted by (start, end), grouped
    by start node, ends as element ids. Every end must be a node of the dump (`dump_checks` ensures it
    for dumps read from disk)."""

    def element_id(node_id: str, start: str, end: str) -> str:
        try:
            return element_ids[node_id]
        except KeyError:
            raise StoreError(f"edge {start} -{rel}-> {end}: {node_id} is not a node of the dump") from None

    table = table.sort_by([("source_id", "ascending"), ("target_id", "ascending")])
    columns = [table[c].to_pylist() for c in ("source_id", "target_id", "source", "evidence")]
    groups: list[list] = []
    size = 0
    last = None
    for start, end, source, evidence in zip(*columns, strict=True):
        if start != last or size >= batch_size:
            if size >= batch_size:
                yield {"groups": groups}, size
                groups, size = [], 0
            groups.append([element_id(start, start, end), []])
            last = start
        groups[-1][1].append([element_id(end, start, end), source, evidence])
        size += 1
    if size:
        yield {"groups": groups}, size


def _prefetched(items: Iterator[tuple[dict, int]], depth: int = 2) -> Iterator[tuple[dict, int]]:
    """`items`, built `depth` ahead in a thread: the next batch's rows are made in Python while the
    server writes the current one (the driver waits on the socket without holding the GIL)."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                ready.put(item)
            ready.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    worker = threading.Thread(target=produce, name="neo4j-batch-prefetch", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue, then let it end
            try:
                ready.get_nowait()
            except queue.Empty:
                worker.join(0.05)
