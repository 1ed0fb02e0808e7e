"""The kg stage rebuilds the run's store when the KG changes (a regenerated corpus after a KG edit)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pathkg.kg.backends import open_store
from pipelines.stage import StageContext
from pipelines.stages.kg import KGParams, KGStage

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / "kg_dumps" / "pathology_seed"
NEW_EDGE = "PKG:keratin_pearls,SUPPORTS,ONCOTREE:LUAD,test,an edge added to change the KG version\n"


def _run(run_dir: Path, ontologies: Path, seed: Path, **extra: object) -> str:
    stage = KGStage(
        KGParams(ontologies=ontologies, seed=seed, **extra),
        StageContext(run_dir=run_dir, run_id="test", stage_name="kg"),
    )
    [summary] = stage.process("__run__", {})
    return summary.version


def test_a_changed_kg_replaces_the_run_store(shared_data: Path, tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    run_dir = tmp_path / "run"
    first = _run(run_dir, shared_data / "ontologies", seed)
    with open(seed / "relations.csv", "a", encoding="utf-8") as fh:
        fh.write(NEW_EDGE)
    second = _run(run_dir, shared_data / "ontologies", seed)
    assert second != first
    store = open_store("embedded", db=run_dir / "kg" / "kg.lbug")
    try:
        stats = store.stats()
        assert stats.version == second  # only the new KG, not a merge of both
        found = store.paths(["PKG:keratin_pearls"], ["ONCOTREE:LUAD"], max_hops=1, relation_filter=["SUPPORTS"], k=1)
        assert [(s.source_id, s.relation, s.target_id) for p in found for s in p.steps] == [
            ("PKG:keratin_pearls", "SUPPORTS", "ONCOTREE:LUAD")
        ]
    finally:
        store.close()


def test_keeping_other_versions_fails_clearly(shared_data: Path, tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    shutil.copytree(SEED, seed)
    run_dir = tmp_path / "run"
    _run(run_dir, shared_data / "ontologies", seed)
    with open(seed / "relations.csv", "a", encoding="utf-8") as fh:
        fh.write(NEW_EDGE)
    with pytest.raises(RuntimeError, match="replace_other_versions is false"):
        _run(run_dir, shared_data / "ontologies", seed, replace_other_versions=False)
