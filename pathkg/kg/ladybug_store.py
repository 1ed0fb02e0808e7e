"""The embedded KG store: LadybugDB (`import ladybug`), in-process, one folder on disk.

Schema: one `Node` table (primary key `id`, indexed), one relationship table per relation type
(`SUPPORTS`, `IS_A`, ...; properties `source`, `evidence`) and a `KGMeta` table holding the loaded
dump versions. Loads diff the dump against what is stored and bulk-`COPY` only new rows straight from
Arrow (the fast path), then update changed rows with batched `UNWIND` statements, so a second load of the
same dump writes nothing. Paths of up to 3 hops are searched from both ends (`adjacency_paths.py`) over an
in-memory adjacency index (`adjacency_index.py`) read from the database on first use and dropped on every write;
longer paths use LadybugDB's bounded recursive pattern (`-[e*h..h]-` with `is_acyclic`). All LadybugDB
Cypher of pathkg lives in this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rich.progress import Progress

from pathkg.kg.adjacency_index import AdjacencyIndex
from pathkg.kg.adjacency_paths import find_paths
from pathkg.kg.dump import KGDump
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

_NODE_DDL = (
    "CREATE NODE TABLE IF NOT EXISTS Node(id STRING PRIMARY KEY, type STRING, name STRING, name_norm STRING, "
    "terms STRING[], synonyms STRING[], xrefs STRING[], source STRING)"
)
_REL_DDL = "CREATE REL TABLE IF NOT EXISTS {rel}(FROM Node TO Node, source STRING, evidence STRING)"
_META_DDL = "CREATE NODE TABLE IF NOT EXISTS KGMeta(key STRING PRIMARY KEY, value STRING)"
_NODE_COLUMNS = ["id", "type", "name", "name_norm", "terms", "synonyms", "xrefs", "source"]
_UPDATE_NODES = (
    "UNWIND $rows AS row MATCH (n:Node {id: row.id}) SET n.type = row.type, n.name = row.name, "
    "n.name_norm = row.name_norm, n.terms = row.terms, n.synonyms = row.synonyms, n.xrefs = row.xrefs, "
    "n.source = row.source"
)
_UPDATE_EDGES = (
    "UNWIND $rows AS row MATCH (a:Node {{id: row.source_id}})-[e:{rel}]->(b:Node {{id: row.target_id}}) "
    "SET e.source = row.source, e.evidence = row.evidence"
)
_NODE_RETURN = "n.id, n.type, n.name, n.synonyms, n.xrefs, n.source"


def _normalised(values: pa.Array) -> pa.Array:
    """`normalise_term` over a string column: vectorised for ASCII values (where NFKC and casefold are
    plain lower-casing), the Python function for the rest, so both give exactly the same terms."""
    fast = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(values), r"\s+", " "))
    # Python's \s also matches \v and \x1c-\x1f, RE2's does not: such values take the slow path.
    odd_space = pc.match_substring_regex(values, "[\x0b\x1c-\x1f]")
    ascii_ = pc.fill_null(pc.and_(pc.string_is_ascii(values), pc.invert(odd_space)), True)
    if pc.all(ascii_).as_py():
        return fast
    slow = pa.array([None if v is None else normalise_term(v) for v in values.to_pylist()], pa.string())
    return pc.if_else(ascii_, fast, slow)


def node_rows_for_store(nodes: pa.Table) -> pa.Table:
    """The dump's nodes plus the normalised name and the normalised terms (name + synonyms) for lookup."""
    name_norm = _normalised(nodes["name"].combine_chunks())
    synonyms = nodes["synonyms"].combine_chunks()
    synonym_norm = _normalised(pc.list_flatten(synonyms))
    # terms = [name_norm, *synonym terms], duplicates removed, per node.
    offsets = synonyms.offsets.to_numpy()
    if len(synonym_norm) == 0:  # no synonyms at all (PrimeKG-like graphs): one term per node, vectorised
        terms = pa.ListArray.from_arrays(pa.array(np.arange(len(name_norm) + 1, dtype=np.int32)), name_norm)
    else:
        flat = synonym_norm.to_pylist()
        terms = pa.array(
            [
                list(dict.fromkeys([nn, *flat[offsets[i] - offsets[0] : offsets[i + 1] - offsets[0]]]))
                for i, nn in enumerate(name_norm.to_pylist())
            ],
            pa.list_(pa.string()),
        )
    return pa.table(
        {
            "id": nodes["id"],
            "type": nodes["type"],
            "name": nodes["name"],
            "name_norm": name_norm,
            "terms": terms,
            "synonyms": nodes["synonyms"],
            "xrefs": nodes["xrefs"],
            "source": nodes["source"],
        }
    )


class LadybugStore:
    """`KGStore` on an embedded LadybugDB database at `path` (created if missing)."""

    def __init__(self, path: Path | str, read_only: bool = False) -> None:
        """`read_only` lets several worker processes query one loaded database at once."""
        import ladybug

        self.path = Path(path)
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no embedded KG database here (load a dump first)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = ladybug.Database(str(self.path), read_only=read_only)
        self._conn = ladybug.Connection(self._db)
        self._index: AdjacencyIndex | None = None
        self._index_version: str | None = None
        if not read_only:
            self._ensure_schema()

    # -- plumbing ---------------------------------------------------------------------------------
    def _rows(self, query: str, params: dict | None = None) -> list[list]:
        result = self._conn.execute(query, params or {})
        rows = []
        while result.has_next():
            rows.append(result.get_next())
        return rows

    def _arrow(self, query: str) -> pa.Table:
        return self._conn.execute(query).get_as_arrow()

    def _ensure_schema(self) -> None:
        self._conn.execute(_NODE_DDL)
        self._conn.execute(_META_DDL)
        for rel in RELATIONS:
            self._conn.execute(_REL_DDL.format(rel=rel))

    def _versions(self) -> list[str]:
        rows = self._rows("MATCH (m:KGMeta) WHERE m.key STARTS WITH 'dump:' RETURN m.value")
        return [r[0] for r in rows]

    # -- KGStore ----------------------------------------------------------------------------------
    def load(self, dump: KGDump, batch_size: int = 10_000, show_progress: bool = False) -> LoadResult:
        version = dump.version
        if version in self._versions():
            return LoadResult(version, 0, 0, skipped=True)
        self._index = None
        nodes_written = edges_written = 0
        with Progress(disable=not show_progress, transient=True) as progress:
            groups = list(dump.relation_tables())
            task = progress.add_task("loading nodes (embedded)", total=1 + len(groups))
            nodes_written = self._load_nodes(node_rows_for_store(dump.nodes), batch_size)
            progress.advance(task)
            for rel, edges in groups:
                progress.update(task, description=f"loading {rel} edges (embedded)")
                edges_written += self._load_edges(rel, edges, batch_size)
                progress.advance(task)
        self._conn.execute(
            "MERGE (m:KGMeta {key: $key}) SET m.value = $value", {"key": f"dump:{version}", "value": version}
        )
        return LoadResult(version, nodes_written, edges_written)

    def _load_nodes(self, rows: pa.Table, batch_size: int) -> int:
        existing = self._arrow(f"MATCH (n:Node) RETURN {', '.join('n.' + c for c in _NODE_COLUMNS)}")
        existing = existing.rename_columns(_NODE_COLUMNS)
        new = _without_keys(rows, existing, ["id"])
        written = 0
        if new.num_rows:
            # LadybugDB scans an Arrow table named in the query from this frame's locals: no temp file.
            new_nodes = new.select(_NODE_COLUMNS)  # noqa: F841 (read by COPY)
            self._conn.execute("COPY Node FROM new_nodes")
            written += new.num_rows
        if existing.num_rows:
            changed = _changed(rows, existing, ["id"])
            for start in range(0, changed.num_rows, batch_size):
                self._conn.execute(_UPDATE_NODES, {"rows": changed.slice(start, batch_size).to_pylist()})
            written += changed.num_rows
        return written

    def _load_edges(self, rel: str, edges: pa.Table, batch_size: int) -> int:
        rows = edges.select(["source_id", "target_id", "source", "evidence"])
        existing = self._arrow(
            f"MATCH (a:Node)-[e:{rel}]->(b:Node) RETURN a.id AS source_id, b.id AS target_id, "
            "e.source AS source, e.evidence AS evidence"
        )
        keys = ["source_id", "target_id"]
        new = _without_keys(rows, existing, keys)
        written = 0
        if new.num_rows:
            new_edges = new  # noqa: F841 (read by COPY: from, to, source, evidence)
            self._conn.execute(f"COPY {rel} FROM new_edges")
            written += new.num_rows
        if existing.num_rows:
            changed = _changed(rows, existing, keys)
            query = _UPDATE_EDGES.format(rel=rel)
            for start in range(0, changed.num_rows, batch_size):
                self._conn.execute(query, {"rows": changed.slice(start, batch_size).to_pylist()})
            written += changed.num_rows
        return written

    def lookup(self, text: str, limit: int = 10) -> list[KGNode]:
        rows = self._rows(f"MATCH (n:Node) WHERE n.id = $t RETURN {_NODE_RETURN}", {"t": text})
        if not rows:
            term = normalise_term(text)
            rows = self._rows(
                f"MATCH (n:Node) WHERE n.name_norm = $t RETURN {_NODE_RETURN} ORDER BY n.id LIMIT $limit",
                {"t": term, "limit": limit},
            )
            if not rows:
                rows = self._rows(
                    f"MATCH (n:Node) WHERE list_contains(n.terms, $t) RETURN {_NODE_RETURN} ORDER BY n.id LIMIT $limit",
                    {"t": term, "limit": limit},
                )
        return [_node(r) for r in rows[:limit]]

    def neighbors(self, node_id: str, relations: list[str] | None = None, limit: int = 100) -> list[Neighbor]:
        rels = check_path_arguments(1, 1, relations)
        out = []
        for outgoing, pattern in ((True, "(a:Node)-[e]->(n:Node)"), (False, "(a:Node)<-[e]-(n:Node)")):
            rows = self._rows(
                f"MATCH {pattern} WHERE a.id = $id AND label(e) IN $rels "
                f"RETURN label(e), e.source, e.evidence, {_NODE_RETURN}",
                {"id": node_id, "rels": rels},
            )
            out.extend(
                Neighbor.of(node_id, _node(node), outgoing, rel, source, evidence)
                for rel, source, evidence, *node in rows
            )
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
            if self._index is not None and self._index_version != version:
                self._index = None  # another connection loaded a dump since the index was built
            self._index_version = version
            rows = find_paths(self._adjacency(), sources, targets, max_hops, rels, k)
            return rank_paths(rows, version or "", k)
        rows: list = []
        for hops in range(1, max_hops + 1):
            # Read each edge's ends and type from rels(p) itself: LadybugDB 0.22 can return misaligned
            # values from list_transform(rels(p), ...) on large results, so that form is not used.
            query = (
                f"MATCH p = (a:Node)-[e{label}*{hops}..{hops}]-(b:Node) "
                "WHERE a.id IN $sources AND b.id IN $targets AND is_acyclic(p) "
                "RETURN properties(nodes(p), 'id'), properties(nodes(p), 'name'), properties(nodes(p), '_id'), rels(p) "
                "LIMIT $limit"
            )
            for ids, names, internal, rels in self._rows(
                query, {"sources": list(sources), "targets": list(targets), "limit": PATH_CANDIDATE_LIMIT}
            ):
                rows.append((ids, names, [r["_LABEL"] for r in rels], _edge_starts(ids, internal, rels)))
            if len({tuple(r[0]) + tuple(r[2]) for r in rows}) >= k:
                break
        return rank_paths(rows, version or "", k)

    def _adjacency(self) -> AdjacencyIndex:
        """The adjacency index of the stored graph, built on first use after each write."""
        if self._index is None:
            nodes = self._arrow("MATCH (n:Node) RETURN offset(id(n)) AS o, n.id AS id, n.name AS name")
            edges = {
                rel: self._arrow(f"MATCH (a:Node)-[e:{rel}]->(b:Node) RETURN offset(id(a)) AS s, offset(id(b)) AS t")
                for rel in RELATIONS
            }
            self._index = AdjacencyIndex.build(nodes, {r: t for r, t in edges.items() if t.num_rows})
        return self._index

    def stats_version(self) -> str | None:
        return combined_version(self._versions())

    def stats(self) -> StoreStats:
        types = {t: c for t, c in self._rows("MATCH (n:Node) RETURN n.type, count(*)")}
        relations = {}
        for rel in RELATIONS:
            count = self._rows(f"MATCH ()-[e:{rel}]->() RETURN count(*)")[0][0]
            if count:
                relations[rel] = count
        return StoreStats(
            version=self.stats_version(),
            nodes=sum(types.values()),
            edges=sum(relations.values()),
            node_types=types,
            relations=relations,
        )

    def clear(self) -> None:
        self._index = None
        for rel in RELATIONS:
            self._conn.execute(f"MATCH ()-[e:{rel}]->() DELETE e")
        self._conn.execute("MATCH (n:Node) DELETE n")
        self._conn.execute("MATCH (m:KGMeta) DELETE m")

    def close(self) -> None:
        self._conn.close()
        self._db.close()

    def __enter__(self) -> LadybugStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _edge_starts(ids: list[str], internal: list[dict], rels: list[dict]) -> list[str]:
    """The id of the node each edge of a path starts from (its stored direction)."""

    def key(i: dict) -> tuple[int, int]:
        return i["table"], i["offset"]

    starts = []
    for i, rel in enumerate(rels):
        here, there = key(internal[i]), key(internal[i + 1])
        ends = (key(rel["_SRC"]), key(rel["_DST"]))
        if ends == (here, there):
            starts.append(ids[i])
        elif ends == (there, here):
            starts.append(ids[i + 1])
        else:
            raise StoreError(f"inconsistent path from LadybugDB: edge {i} of {ids} does not join its nodes")
    return starts


def _node(row: list) -> KGNode:
    id_, type_, name, synonyms, xrefs, source = row
    return KGNode(id=id_, type=type_, name=name, synonyms=synonyms or [], xrefs=xrefs or [], source=source)


def _key(table: pa.Table, keys: list[str]) -> pa.Array:
    if len(keys) == 1:
        return table[keys[0]]
    return pc.binary_join_element_wise(*(table[k] for k in keys), "\x1f")


def _without_keys(rows: pa.Table, existing: pa.Table, keys: list[str]) -> pa.Table:
    """Rows whose key is not stored yet."""
    if not existing.num_rows:
        return rows
    stored = _key(existing, keys)
    if isinstance(stored, pa.ChunkedArray):
        stored = stored.combine_chunks()
    return rows.filter(pc.invert(pc.is_in(_key(rows, keys), value_set=stored)))


def _flat(table: pa.Table) -> pa.Table:
    """List columns joined into strings (Arrow joins take no list columns)."""
    columns = [
        pc.binary_join(table[c], "\x1f") if pa.types.is_list(table[c].type) else table[c] for c in table.column_names
    ]
    return pa.table(columns, names=table.column_names)


def _changed(rows: pa.Table, existing: pa.Table, keys: list[str]) -> pa.Table:
    """Rows of `rows` whose key is stored with other content."""
    others = [c for c in rows.column_names if c not in keys]
    indexed = _flat(rows).append_column("__row", pa.array(range(rows.num_rows), pa.int64()))
    stored = _flat(existing.select(keys + others)).rename_columns(keys + [f"__old_{c}" for c in others])
    joined = indexed.join(stored, keys, join_type="inner")
    if not joined.num_rows:
        return rows.slice(0, 0)
    differs = None
    for column in others:
        a, b = joined[column], joined[f"__old_{column}"]
        same = pc.fill_null(pc.equal(a, b), False)
        both_null = pc.and_(pc.is_null(a), pc.is_null(b))
        diff = pc.invert(pc.or_(same, both_null))
        differs = diff if differs is None else pc.or_(differs, diff)
    return rows.take(joined.filter(differs)["__row"])
