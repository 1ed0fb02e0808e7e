"""The installed `pathkg` console script, as a user runs it."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import REPO_ROOT


def test_console_script_lists_the_runner_commands():
    out = subprocess.run([str(REPO_ROOT / ".venv/bin/pathkg"), "--help"], capture_output=True, text=True, check=True)
    for command in ("run", "status", "retry", "schemas"):
        assert f" {command} " in out.stdout


def test_status_json_is_machine_readable(tmp_path, shared_data):
    cfg = tmp_path / "p.yaml"
    cfg.write_text(
        "stages:\n  - name: ingest\n    params:\n      sources:\n"
        f"        - path: {shared_data / 'reports/tcga_brca_sample/reports.csv'}\n"
    )
    pathkg = str(REPO_ROOT / ".venv/bin/pathkg")
    subprocess.run([pathkg, "run", str(cfg), "--run-dir", str(tmp_path / "run"), "--quiet"], check=True)
    out = subprocess.run(
        [pathkg, "status", str(tmp_path / "run"), "--json"], capture_output=True, text=True, check=True
    )
    status = json.loads(out.stdout)
    assert status["stages"] == [
        {"stage": "ingest", "total": 10, "done": 10, "failed": 0, "pending": 0, "blocked": 0, "failure_types": {}}
    ]
