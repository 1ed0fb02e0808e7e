"""SIGKILL `pathkg run` in the middle of a stage, several times; the finished run must equal an
uninterrupted one: no row lost, none duplicated."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from tests.pipelines.runner_harness import REPO_ROOT, cli, current_rows, write_config

ECHO = "tests.pipelines.stages_for_tests:EchoStage"


def config(tmp, n=120):
    return write_config(
        tmp / "pipeline.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": n}},
            {"name": "slow", "uses": ECHO, "params": {"suffix": "-slow", "sleep": 0.01}},
            {"name": "slower", "uses": ECHO, "params": {"suffix": "-slower", "sleep": 0.015}},
        ],
        flush_every=5,
    )


def stage_parts(run_dir):
    return sum(1 for _ in (run_dir / "stages").rglob("part-*.parquet")) if (run_dir / "stages").exists() else 0


def test_sigkill_mid_stage_then_resume_equals_uninterrupted(tmp_path):
    cfg = config(tmp_path)
    reference = tmp_path / "reference"
    cli("run", str(cfg), "--run-dir", str(reference), "--quiet")

    interrupted = tmp_path / "interrupted"
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    kills = 0
    for _ in range(4):
        proc = subprocess.Popen(
            [sys.executable, "-m", "pathkg", "run", str(cfg), "--run-dir", str(interrupted), "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # Wait for the run to be inside a stage (a part written since start), then kill at random.
        before = stage_parts(interrupted)
        deadline = time.monotonic() + 30
        while stage_parts(interrupted) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.8))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 3, "the run finished before it could be killed; make the stages slower"

    cli("run", str(cfg), "--run-dir", str(interrupted), "--quiet")
    for stage in ("cases", "slow", "slower"):
        got, want = current_rows(interrupted, stage), current_rows(reference, stage)
        assert len(got) == 120
        assert Counter(r["case_id"] for r in got).most_common(1)[0][1] == 1, "a case was duplicated"
        assert got == want
    status = cli("status", str(interrupted), "--json").stdout
    assert '"pending": 0' in status and '"failed": 0' in status
