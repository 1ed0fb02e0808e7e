"""The server KG store: Neo4j through the official `neo4j` driver (Bolt).

Every value travels as a query parameter; the only text spliced into queries is a relation type or a
hop bound, both checked against `schemas.kg_dump.RELATIONS` / an integer range first. Schema
(uniqueness constraint on `Node.id`, indexes on `name_norm` and `type`) is created before any write;
rows go in `UNWIND $rows` batches. Paths of up to 3 hops are searched from both ends (the edges at the
sources, at the targets, and between the two neighbourhoods; `store.meet_in_the_middle`), longer ones
with a bounded variable-length pattern. All Neo4j Cypher of pathkg lives in this module.
"""

from __future__ import annotations

import os

from rich.progress import Progress

from pathkg.kg.dump import KGDump
from pathkg.kg.ladybug_store import node_rows_for_store
from pathkg.kg.normalise import normalise_term
from pathkg.kg.store import (
    PATH_CANDIDATE_LIMIT,
    EdgeRow,
    LoadResult,
    Neighbor,
    StoreError,
    StoreStats,
    check_path_arguments,
    combined_version,
    meet_in_the_middle,
    ordered_neighbors,
    rank_paths,
)
from schemas.kg_dump import RELATIONS, KGNode
from schemas.kg_path import KGPath

DEFAULT_URI = "bolt://127.0.0.1:7687"

_SCHEMA = [
    "CREATE CONSTRAINT pathkg_node_id IF NOT EXISTS FOR (n:Node) REQUIRE n.id IS UNIQUE",
    "CREATE INDEX pathkg_node_name_norm IF NOT EXISTS FOR (n:Node) ON (n.name_norm)",
    "CREATE INDEX pathkg_node_type IF NOT EXISTS FOR (n:Node) ON (n.type)",
    "CREATE CONSTRAINT pathkg_meta_key IF NOT EXISTS FOR (m:KGMeta) REQUIRE m.key IS UNIQUE",
]
_CREATE_NODES = (
    "UNWIND $rows AS row CREATE (n:Node {id: row.id, type: row.type, name: row.name, name_norm: row.name_norm, "
    "terms: row.terms, synonyms: row.synonyms, xrefs: row.xrefs, source: row.source})"
)
_MERGE_NODES = (
    "UNWIND $rows AS row MERGE (n:Node {id: row.id}) "
    "SET n.type = row.type, n.name = row.name, n.name_norm = row.name_norm, n.terms = row.terms, "
    "n.synonyms = row.synonyms, n.xrefs = row.xrefs, n.source = row.source"
)
_CREATE_EDGES = (
    "UNWIND $rows AS row MATCH (a:Node {{id: row.source_id}}) MATCH (b:Node {{id: row.target_id}}) "
    "CREATE (a)-[:{rel} {{source: row.source, evidence: row.evidence}}]->(b)"
)
_MERGE_EDGES = (
    "UNWIND $rows AS row MATCH (a:Node {{id: row.source_id}}) MATCH (b:Node {{id: row.target_id}}) "
    "MERGE (a)-[e:{rel}]->(b) SET e.source = row.source, e.evidence = row.evidence"
)
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
    ) -> None:
        import neo4j

        self.uri = uri or os.environ.get("NEO4J_URI", DEFAULT_URI)
        auth = (user or os.environ.get("NEO4J_USER", "neo4j"), password or os.environ.get("NEO4J_PASSWORD", "neo4j"))
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        # Notifications (deprecations, "unknown relationship type" before a load) are not errors here.
        self._driver = neo4j.GraphDatabase.driver(
            self.uri, auth=auth, notifications_min_severity=neo4j.NotificationMinimumSeverity.OFF
        )
        try:
            self._driver.verify_connectivity()
        except Exception as exc:  # the driver raises several unrelated types for "not there"
            self._driver.close()
            raise StoreError(f"cannot reach Neo4j at {self.uri}: {exc} (start one with `make neo4j-up`)") from exc
        self._ensure_schema()

    def _run(self, query: str, params: dict | None = None) -> list[dict]:
        records, _, _ = self._driver.execute_query(query, params or {}, database_=self.database)
        return [r.data() for r in records]

    def _ensure_schema(self) -> None:
        for statement in _SCHEMA:
            self._run(statement)

    def _versions(self) -> list[str]:
        return [r["v"] for r in self._run("MATCH (m:KGMeta) WHERE m.key STARTS WITH 'dump:' RETURN m.value AS v")]

    def _write_batches(self, query: str, rows: list[dict], batch_size: int, progress, task) -> None:
        with self._driver.session(database=self.database) as session:
            for start in range(0, len(rows), batch_size):
                batch = rows[start : start + batch_size]
                session.execute_write(lambda tx, b=batch: tx.run(query, rows=b).consume())
                progress.advance(task, len(batch))

    def load(self, dump: KGDump, batch_size: int = 10_000, show_progress: bool = False) -> LoadResult:
        version = dump.version
        if version in self._versions():
            return LoadResult(version, 0, 0, skipped=True)
        nodes = node_rows_for_store(dump.nodes).to_pylist()
        with Progress(disable=not show_progress, transient=True) as progress:
            task = progress.add_task("loading nodes (neo4j)", total=len(nodes))
            # An empty store takes plain CREATE (the dump has unique ids); otherwise MERGE on the id.
            empty = self._run("MATCH (n:Node) RETURN count(n) AS c")[0]["c"] == 0
            self._write_batches(_CREATE_NODES if empty else _MERGE_NODES, nodes, batch_size, progress, task)
            task = progress.add_task("loading edges (neo4j)", total=dump.edges.num_rows)
            for rel, table in dump.relation_tables():
                # Sorted by start node: consecutive rows touch the same nodes and pages (about 3x faster).
                table = table.sort_by([("source_id", "ascending"), ("target_id", "ascending")])
                rows = table.select(["source_id", "target_id", "source", "evidence"]).to_pylist()
                # An empty relation type takes plain CREATE (the dump has no repeated keys); else MERGE.
                empty = self._run(f"MATCH ()-[e:{rel}]->() RETURN count(e) AS c")[0]["c"] == 0
                query = (_CREATE_EDGES if empty else _MERGE_EDGES).format(rel=rel)
                self._write_batches(query, rows, batch_size, progress, task)
        self._run("MERGE (m:KGMeta {key: $key}) SET m.value = $value", {"key": f"dump:{version}", "value": version})
        return LoadResult(version, len(nodes), dump.edges.num_rows)

    def lookup(self, text: str, limit: int = 10) -> list[KGNode]:
        rows = self._run(f"MATCH (n:Node {{id: $t}}) RETURN {_NODE_RETURN}", {"t": text})
        if not rows:
            term = normalise_term(text)
            rows = self._run(
                f"MATCH (n:Node) WHERE n.name_norm = $t RETURN {_NODE_RETURN} ORDER BY n.id LIMIT $limit",
                {"t": term, "limit": limit},
            )
            if not rows:
                rows = self._run(
                    f"MATCH (n:Node) WHERE $t IN n.terms RETURN {_NODE_RETURN} ORDER BY n.id LIMIT $limit",
                    {"t": term, "limit": limit},
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
        version = self.stats_version()
        if max_hops <= 3:
            rows = meet_in_the_middle(
                self._incident, self._between, self._names_of, sources, targets, max_hops, rels, k
            )
            return rank_paths(rows, version or "", k)
        rows: list = []
        for hops in range(1, max_hops + 1):
            query = (
                "MATCH (a:Node) WHERE a.id IN $sources MATCH (b:Node) WHERE b.id IN $targets "
                f"MATCH p = (a)-[{label}*{hops}..{hops}]-(b) "
                "WHERE all(i IN range(0, size(nodes(p)) - 2) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1..]) "
                "RETURN [n IN nodes(p) | n.id] AS ids, [n IN nodes(p) | n.name] AS names, "
                "[r IN relationships(p) | type(r)] AS rels, [r IN relationships(p) | startNode(r).id] AS starts "
                "LIMIT $limit"
            )
            for r in self._run(
                query, {"sources": list(sources), "targets": list(targets), "limit": PATH_CANDIDATE_LIMIT}
            ):
                rows.append((r["ids"], r["names"], r["rels"], r["starts"]))
            if len({tuple(r[0]) + tuple(r[2]) for r in rows}) >= k:
                break
        return rank_paths(rows, version or "", k)

    def _edge_rows(self, query: str, params: dict, rels: list[str]) -> list[EdgeRow]:
        label = "" if len(rels) == len(RELATIONS) else ":" + "|".join(rels)
        records = self._run(query.format(label=label), params)
        return [(r["s"], r["r"], r["t"]) for r in records]

    def _names_of(self, ids: list[str]) -> dict[str, str]:
        rows = self._run("UNWIND $ids AS i MATCH (n:Node {id: i}) RETURN n.id AS id, n.name AS name", {"ids": ids})
        return {r["id"]: r["name"] for r in rows}

    def _incident(self, ids: list[str], rels: list[str]) -> list[EdgeRow]:
        return self._edge_rows(
            "UNWIND $ids AS i MATCH (n:Node {{id: i}})-[e{label}]-(m:Node) "
            "WITH DISTINCT e RETURN startNode(e).id AS s, type(e) AS r, endNode(e).id AS t",
            {"ids": ids},
            rels,
        )

    def _between(self, xs: list[str], ys: list[str], rels: list[str]) -> list[EdgeRow]:
        return self._edge_rows(
            "UNWIND $xs AS i MATCH (n:Node {{id: i}})-[e{label}]-(m:Node) WHERE m.id IN $ys "
            "WITH DISTINCT e RETURN startNode(e).id AS s, type(e) AS r, endNode(e).id AS t",
            {"xs": xs, "ys": ys},
            rels,
        )

    def stats_version(self) -> str | None:
        return combined_version(self._versions())

    def stats(self) -> StoreStats:
        types = {r["t"]: r["c"] for r in self._run("MATCH (n:Node) RETURN n.type AS t, count(*) AS c")}
        relations = {}
        for rel in RELATIONS:
            count = self._run(f"MATCH ()-[e:{rel}]->() RETURN count(e) AS c")[0]["c"]
            if count:
                relations[rel] = count
        return StoreStats(self.stats_version(), sum(types.values()), sum(relations.values()), types, relations)

    def clear(self) -> None:
        # Batched so a large graph does not need one huge transaction; CALL ... IN TRANSACTIONS needs an
        # implicit (auto-commit) transaction, which `session.run` gives.
        with self._driver.session(database=self.database) as session:
            # Relationships first: a hub node's DETACH DELETE would otherwise hold all its edges in one batch.
            session.run("MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 50000 ROWS").consume()
            session.run("MATCH (n:Node) CALL { WITH n DELETE n } IN TRANSACTIONS OF 50000 ROWS").consume()
        self._run("MATCH (m:KGMeta) DELETE m")

    def close(self) -> None:
        self._driver.close()

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
