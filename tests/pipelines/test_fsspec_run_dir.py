"""Run directories behind fsspec URLs: a real in-memory filesystem (`memory://`), as an object store
would be (one put per part), and `file://` URLs through the CLI."""

from __future__ import annotations

import uuid

import fsspec
from rich.console import Console

from pipelines.config import load_config
from pipelines.runner import Runner
from tests.pipelines.runner_harness import cli, write_config

ECHO = "tests.pipelines.stages_for_tests:EchoStage"
LISTING = "tests.pipelines.stages_for_tests:ListingStage"


def config(tmp_path, marker=None):
    return write_config(
        tmp_path / "p.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 30}},
            {"name": "echo", "uses": ECHO, "params": {"suffix": "-e", "fail_marker": marker}},
            {"name": "listing", "uses": LISTING, "after": ["echo"]},
        ],
        flush_every=4,
    )


def run(cfg, run_dir, tmp_path, retry=False):
    runner = Runner(
        load_config(cfg), run_dir, workers=1, show_progress=False, console=Console(quiet=True),
        local_dir=tmp_path / "local-side-files",
    )  # fmt: skip
    return runner, {s.stage: s for s in runner.run(retry=retry)}


def test_memory_run_dir_runs_resumes_retries_and_exports(tmp_path):
    url = f"memory://pathkg-test-{uuid.uuid4().hex[:8]}/run"
    fs, root = fsspec.core.url_to_fs(url)
    marker = tmp_path / "fail.txt"
    marker.write_text("SYN-000003 SYN-000011")
    cfg = config(tmp_path, str(marker))

    runner, first = run(cfg, url, tmp_path)
    assert first["echo"].done == 28 and first["echo"].failed == 2
    assert fs.exists(f"{root}/manifest.json")
    assert len(fs.glob(f"{root}/stages/echo/part-*.parquet")) >= 7  # committed every 4 cases, in the memory fs
    assert len(fs.glob(f"{root}/failures/echo/part-*.parquet")) >= 1
    assert not (tmp_path / "local-side-files" / "stages").exists()  # records never touch the local disk

    _, again = run(cfg, url, tmp_path)  # nothing changed: nothing runs
    assert again["echo"].ran == 0 and again["echo"].skipped == 28 and again["echo"].failed == 2

    marker.unlink()
    runner, retried = run(cfg, url, tmp_path, retry=True)
    assert retried["echo"].ran == 2 and retried["echo"].done == 30 and retried["echo"].failed == 0
    rows = runner.read_current("echo").to_pylist()
    assert sorted(r["case_id"] for r in rows) == [f"SYN-{i:06d}" for i in range(30)]
    assert all(r["report_text"].endswith("-e") for r in rows)
    # The run-scope output written locally is uploaded to the URL.
    listed = fs.cat_file(f"{root}/export/cases.txt").decode().split()
    assert listed == [f"SYN-{i:06d}" for i in range(30)]
    reopened = Runner.from_run_dir(url, show_progress=False, console=Console(quiet=True))
    assert [s.done for s in reopened.inspect()[0]] == [30, 30, 1]


def test_file_url_run_dir_through_the_cli(tmp_path):
    cfg = config(tmp_path)
    url = f"file://{tmp_path}/run"
    cli("run", str(cfg), "--run-dir", url, "--quiet")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["export", "manifest.json", "stages"]
    assert (tmp_path / "run" / "export" / "cases.txt").read_text().split()[0] == "SYN-000000"
    status = cli("status", url, "--json")
    assert '"done": 30' in status.stdout
