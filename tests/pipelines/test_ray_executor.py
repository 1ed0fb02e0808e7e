"""The Ray executor on a real local Ray instance: same outputs and failure table as the local executors,
no case lost or duplicated when a worker dies, a case that always kills its worker recorded as failed."""

from __future__ import annotations

import os
import signal
from collections import Counter

from rich.console import Console

from pipelines.config import load_config
from pipelines.runner import Runner
from tests.pipelines.runner_harness import current_rows, write_config

ECHO = "tests.pipelines.stages_for_tests:EchoStage"
CRASH = "tests.pipelines.stages_for_tests:CrashStage"


def runner(config, run_dir, executor: str) -> Runner:
    return Runner(
        load_config(config), run_dir, workers=2, executor=executor, show_progress=False, console=Console(quiet=True)
    )


def test_ray_matches_local_and_survives_a_killed_worker(tmp_path, ray_local):
    cfg = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 60, "fail_every": 17}},
            {"name": "slow", "uses": ECHO, "params": {"suffix": "-slow", "sleep": 0.02}},
            {"name": "more", "uses": ECHO, "params": {"suffix": "-more"}},
        ],
        flush_every=7,
    )
    local = runner(cfg, tmp_path / "local", "local")
    local.run()

    ray_runner = runner(cfg, tmp_path / "ray", "ray")
    killed: list[int] = []

    def kill_mid_stage(stage: str, pid: int) -> None:
        # The third chunk of `slow` was just handed to this actor: kill it while it works.
        submitted.update([stage])
        if stage == "slow" and submitted[stage] == 3 and not killed:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    submitted: Counter[str] = Counter()
    ray_runner.ray_executor.on_submit = kill_mid_stage
    statuses = {s.stage: s for s in ray_runner.run()}
    assert killed and ray_runner.ray_executor.worker_deaths >= 1
    assert statuses["slow"].done == 57 and statuses["slow"].failed == 0  # 3 cases failed at the source

    for stage in ("cases", "slow", "more"):
        rows = current_rows(tmp_path / "ray", stage)
        assert rows == current_rows(tmp_path / "local", stage), stage
        assert len({r["case_id"] for r in rows}) == len(rows), f"{stage}: a case appears twice"
    # The same failure table: same cases, same errors.
    ray_failed = {(f.stage, f.case_id, f.error_type, f.message) for f in ray_runner.inspect()[1]}
    local_failed = {(f.stage, f.case_id, f.error_type, f.message) for f in local.inspect()[1]}
    assert ray_failed == local_failed and len(ray_failed) == 3


def test_a_case_that_always_kills_its_ray_worker_is_recorded_as_failed(tmp_path, ray_local):
    cfg = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 20}},
            {"name": "crash", "uses": CRASH, "params": {"crash_case": "SYN-000005"}},
        ],
    )
    statuses = {s.stage: s for s in runner(cfg, tmp_path / "run", "ray").run()}
    assert statuses["crash"].done == 19
    assert statuses["crash"].failure_types == {"WorkerCrashed": 1}
    rows = current_rows(tmp_path / "run", "crash")
    assert sorted(r["case_id"] for r in rows) == [f"SYN-{i:06d}" for i in range(20) if i != 5]
