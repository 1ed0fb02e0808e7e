"""paths: for each case, the k shortest KG paths (≤ max_hops) from description to diagnosis entities.

Ranked shorter first, then by more specific relations (a SUPPORTS edge says more than IS_A),
deduplicated; paths through a finding the report negates are dropped. A case with no path is
recorded as such, with the reason: not an error.
The store is the one the `kg` stage loaded (its record is an input), opened read-only per worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from pathkg.kg.backends import open_store
from pathkg.kg.store import KGStore
from pipelines.stage import Stage, StageParams
from schemas.case_paths import CasePaths
from schemas.kg_path import KGPath
from schemas.linked_case import LinkedCase
from schemas.run_summaries import KGBuildSummary

#: Lower is more specific; a path's specificity is the sum over its relations.
RELATION_GENERALITY = {
    "SUPPORTS": 0, "ARGUES_AGAINST": 0, "DETERMINES": 0, "DEFINES": 0, "HAS_COMPONENT": 1, "GRADED_BY": 1,
    "STAGED_BY": 1, "LOCATED_IN": 2, "PART_OF": 2, "IS_A": 3, "ASSOCIATED_WITH": 4,
}  # fmt: skip


class PathsParams(StageParams):
    max_hops: int = Field(default=3, ge=1, le=6)
    k_per_pair: int = Field(default=3, ge=1)
    max_paths: int = Field(default=10, ge=1)
    relation_filter: list[str] | None = None


def rank_key(path: KGPath) -> tuple[int, int, str]:
    specificity = sum(RELATION_GENERALITY.get(s.relation, 5) for s in path.steps)
    signature = "|".join(f"{s.source_id}>{s.relation}>{s.target_id}" for s in path.steps)
    return (len(path.steps), specificity, signature)


class PathsStage(Stage):
    name: ClassVar[str] = "paths"
    version: ClassVar[str] = "1"
    output_model = CasePaths
    Params = PathsParams
    params: PathsParams
    _stores: ClassVar[dict[str, KGStore]] = {}

    def store(self, kg: KGBuildSummary) -> KGStore:
        if kg.version not in self._stores:  # one connection per worker process and KG
            if kg.backend == "embedded":
                from pathkg.kg.ladybug_store import LadybugStore

                self._stores[kg.version] = LadybugStore(Path(kg.store), read_only=True)
            else:
                self._stores[kg.version] = open_store("neo4j", neo4j_uri=kg.store if "://" in kg.store else None)
        return self._stores[kg.version]

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[CasePaths]:
        linked: LinkedCase = self.one_of(inputs, LinkedCase, case_id)
        store = self.store(self.one_of(inputs, KGBuildSummary, case_id))
        sources = list(dict.fromkeys(e.kg_id for e in linked.description_entities if not e.negated))
        targets = list(dict.fromkeys(e.kg_id for e in linked.diagnosis_entities if not e.negated))
        # A path through a finding the report negates ("no necrosis") would reason from a false premise.
        negated = {e.kg_id for e in linked.description_entities if e.negated} - set(sources)
        record = CasePaths(case_id=case_id, kg_version=linked.kg_version, pairs_searched=0)
        if not sources or not targets:
            record.no_path_reason = "no description entities" if not sources else "no diagnosis entities"
            return [record]
        found: dict[tuple, KGPath] = {}
        # One query per diagnosis entity, from every description entity at once.
        for target in targets:
            starts = [s for s in sources if s != target]
            if not starts:
                continue
            record.pairs_searched += len(starts)
            k = min(self.params.k_per_pair * len(starts), 50)
            for path in store.paths(starts, [target], self.params.max_hops, self.params.relation_filter, k):
                if not any({s.source_id, s.target_id} & negated for s in path.steps):
                    found.setdefault(rank_key(path), path)
        record.paths = [found[key] for key in sorted(found)][: self.params.max_paths]
        if not record.paths:
            record.no_path_reason = f"no path within {self.params.max_hops} hops"
        return [record]

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
        self._stores.clear()
