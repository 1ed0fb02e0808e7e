"""Helpers to write configs, run the runner in-process or as the real CLI, and read results."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from rich.console import Console

from pipelines.config import load_config
from pipelines.runner import Runner, StageStatus

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_config(path: Path, stages: list[dict], **run: object) -> Path:
    path.write_text(yaml.safe_dump({"name": "test", "run": run, "stages": stages}), encoding="utf-8")
    return path


def run_inprocess(config: Path, run_dir: Path, retry: bool = False, workers: int | None = None) -> list[StageStatus]:
    runner = Runner(load_config(config), run_dir, workers=workers, show_progress=False, console=Console(quiet=True))
    return runner.run(retry=retry)


def cli(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "pathkg", *args], capture_output=True, text=True, env=env, timeout=timeout
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"pathkg {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def current_rows(run_dir: Path, stage: str) -> list[dict]:
    """The rows of a stage's current outputs (what the runner would hand downstream), sorted."""
    runner = Runner.from_run_dir(run_dir, show_progress=False, console=Console(quiet=True))
    rows = runner.read_current(stage).to_pylist()
    return sorted(rows, key=lambda r: (r["case_id"], r["report_text"]))
