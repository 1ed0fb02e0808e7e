"""Small demo-like runs over the real shared data, for the run-diff and dataset-card tests.

The demo config (pipelines/configs/demo.yaml) with its real TCGA-BRCA reports and the two real slides,
without the 93 WSI-Bench texts (kept fast); `edit` changes the config of one run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from pipelines.config import load_config
from pipelines.runner import Runner

REPO_ROOT = Path(__file__).resolve().parents[2]


def demo_config(shared_data: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    text = (REPO_ROOT / "pipelines/configs/demo.yaml").read_text(encoding="utf-8")
    config = yaml.safe_load(text.replace("${PATHKG_DATA:-../../../shared/data}", str(shared_data)))
    stage = {s["name"]: s for s in config["stages"]}
    stage["ingest"]["params"]["sources"] = [
        {"path": str(shared_data / "reports/tcga_brca_sample/reports.csv")},
        {"path": str(REPO_ROOT / "pipelines/configs/slides_manifest.csv")},
    ]
    stage["kg"]["params"]["seed"] = str(REPO_ROOT / "kg_dumps/pathology_seed")
    config["stages"] = [s for s in config["stages"] if s["name"] != "report"]  # plots: slow, not diffed
    if edit is not None:
        edit(config)
    return config


def stage_of(config: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in config["stages"] if s["name"] == name)


def run_config(
    config: dict[str, Any], where: Path, run_dir: Path | None = None, workers: int = 1, allow_failures: bool = False
) -> Path:
    """Write the config under `where` and run it in this process (into `run_dir`, default `where/run`)."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    run_dir = run_dir or where / "run"
    runner = Runner(
        load_config(path), run_dir, workers=workers, show_progress=False, console=Console(quiet=True),
        config_path=str(path),
    )  # fmt: skip
    statuses = runner.run(command=f"run {path}")
    failed = {s.stage: s.failure_types for s in statuses if s.failed}
    assert allow_failures or not failed, f"the demo run failed: {failed}"
    return run_dir


def rerun_copy(
    run_dir: Path, config: dict[str, Any], where: Path, fresh_kg_store: bool = False, allow_failures: bool = False
) -> Path:
    """Copy a run directory and rerun the copy with another config: only what the change touches reruns,
    as when a data engineer regenerates a corpus from a copy of the last one.

    `fresh_kg_store`: leave out the embedded KG store, for a config that builds another KG (the kg stage
    does not yet replace a store that holds another KG version: it fails the run with a version mismatch).
    """
    target = where / "run"
    shutil.copytree(run_dir, target, ignore=shutil.ignore_patterns("kg") if fresh_kg_store else None)
    return run_config(config, where, target, allow_failures=allow_failures)
