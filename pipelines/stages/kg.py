"""kg: build the knowledge graph from the ontologies and the curated seed, and load it (run scope).

Stages that read the KG (link, paths, verify) take this stage's record as an input, so the KG
version is part of their content keys: a new KG reruns them, an unchanged one does not.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from pathkg.kg.backends import open_store
from pathkg.kg.build import build_kg
from pipelines.stage import ConfigPath, Stage, StageParams
from schemas.run_summaries import KGBuildSummary

log = logging.getLogger("pathkg.stages.kg")


class KGParams(StageParams):
    ontologies: ConfigPath = Field(description="Folder with oncotree/, disease_ontology/, ncit/, pathoml/.")
    seed: ConfigPath | None = Field(default=None, description="Curated seed folder (kg_dumps/pathology_seed).")
    out: str = Field(default="kg/dump", description="Dump folder, relative to the run directory.")
    backend: Literal["embedded", "neo4j"] = "embedded"
    db: str = Field(default="kg/kg.lbug", description="Embedded database, relative to the run directory.")
    neo4j_uri: str | None = Field(default=None, description="Neo4j server (default: $NEO4J_URI).")
    replace_other_versions: bool = Field(
        default=True,
        description="The store holds this run's KG only: a store holding another KG version is cleared before "
        "loading (a rebuilt KG replaces the old one). Set false to keep other versions and fail instead.",
    )


def _files_fingerprint(*folders: Path | None) -> list[list[Any]]:
    found = []
    for folder in folders:
        if folder is None:
            continue
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                st = path.stat()
                found.append([str(path), st.st_size, st.st_mtime_ns])
    return found


class KGStage(Stage):
    name: ClassVar[str] = "kg"
    scope: ClassVar[str] = "run"
    output_model = KGBuildSummary
    Params = KGParams
    params: KGParams

    def fingerprint(self) -> Any:
        return _files_fingerprint(self.params.ontologies, self.params.seed)

    def process(self, case_id: str, inputs: dict[str, Any]) -> list[KGBuildSummary]:
        run_dir = self.context.run_dir
        dump_dir = run_dir / self.params.out
        result = build_kg(self.params.ontologies, self.params.seed, dump_dir)
        db = run_dir / self.params.db
        store = open_store(self.params.backend, db=db, neo4j_uri=self.params.neo4j_uri)
        try:
            held = store.stats().version
            if held not in (None, result.manifest.version) and self.params.replace_other_versions:
                log.warning(
                    "kg: the %s store holds KG %s; clearing it to load KG %s",
                    self.params.backend,
                    held,
                    result.manifest.version,
                )
                store.clear()
            store.load(result.dump)
            stored = store.stats().version
        finally:
            store.close()
        if stored != result.manifest.version:
            raise RuntimeError(
                f"the {self.params.backend} store reports KG {stored}, the dump is {result.manifest.version}"
                + ("" if self.params.replace_other_versions else " (replace_other_versions is false)")
            )
        return [
            KGBuildSummary(
                case_id=case_id,
                dump_dir=str(dump_dir),
                version=result.manifest.version,
                nodes=result.manifest.nodes,
                edges=result.manifest.edges,
                dictionary_terms=result.manifest.dictionary_terms,
                backend=self.params.backend,
                store=str(db) if self.params.backend == "embedded" else (self.params.neo4j_uri or "$NEO4J_URI"),
            )
        ]
