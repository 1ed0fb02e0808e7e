"""Open a KG store by backend name: `embedded` (LadybugDB folder) or `neo4j` (a server)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pathkg.kg.neo4j_driver import Neo4jSettings
from pathkg.kg.store import KGStore

Backend = Literal["embedded", "neo4j"]
DEFAULT_DB = Path(os.environ.get("PATHKG_KG_DB", ".pathkg/kg.lbug"))


def open_store(
    backend: Backend,
    db: Path | None = None,
    neo4j_uri: str | None = None,
    neo4j_user: str | None = None,
    neo4j_password: str | None = None,
    neo4j_settings: Neo4jSettings | None = None,
) -> KGStore:
    """`neo4j_settings` carries the connection-pool settings; the uri/user/password arguments override it."""
    if backend == "embedded":
        from pathkg.kg.ladybug_store import LadybugStore

        return LadybugStore(db or DEFAULT_DB)
    if backend == "neo4j":
        from pathkg.kg.neo4j_store import Neo4jStore

        return Neo4jStore(neo4j_uri, neo4j_user, neo4j_password, settings=neo4j_settings)
    raise ValueError(f"unknown backend {backend!r} (embedded or neo4j)")
