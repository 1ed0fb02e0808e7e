"""The runner: content keys, skipping, reruns on parameter change, failures and retry."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pipelines.config import ConfigError, load_config
from tests.pipelines.runner_harness import cli, current_rows, run_inprocess, write_config

ECHO = "tests.pipelines.stages_for_tests:EchoStage"


def three_stage_config(tmp: Path, n: int = 30, suffix_b: str = "-b", **run: object) -> Path:
    return write_config(
        tmp / "pipeline.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": n}},
            {"name": "a", "uses": ECHO, "params": {"suffix": "-a"}},
            {"name": "b", "uses": ECHO, "params": {"suffix": suffix_b}},
            {"name": "c", "uses": ECHO, "after": ["b"], "params": {"suffix": "-c"}},
        ],
        flush_every=7,
        **run,
    )


def by_stage(statuses):
    return {s.stage: s for s in statuses}


def test_second_run_skips_everything(tmp_path):
    config = three_stage_config(tmp_path)
    first = by_stage(run_inprocess(config, tmp_path / "run"))
    assert {name: s.ran for name, s in first.items()} == {"cases": 30, "a": 30, "b": 30, "c": 30}
    second = by_stage(run_inprocess(config, tmp_path / "run"))
    assert {name: (s.ran, s.skipped, s.done) for name, s in second.items()} == {
        name: (0, 30, 30) for name in ("cases", "a", "b", "c")
    }
    rows = current_rows(tmp_path / "run", "c")
    assert [r["report_text"] for r in rows[:1]] == [
        "SYN-000000. Invasive ductal carcinoma, Nottingham grade 2. Margins negative.-a-b-c"
    ]
    # Parts are bounded by flush_every: 30 cases at 7 per part -> 5 parts per stage.
    assert len(list((tmp_path / "run" / "stages" / "a").glob("part-*.parquet"))) == 5


def test_changed_parameter_reruns_only_that_stage_and_its_dependants(tmp_path):
    run_inprocess(three_stage_config(tmp_path), tmp_path / "run")
    statuses = by_stage(run_inprocess(three_stage_config(tmp_path, suffix_b="-B"), tmp_path / "run"))
    assert {name: s.ran for name, s in statuses.items()} == {"cases": 0, "a": 0, "b": 30, "c": 30}
    assert {name: s.skipped for name, s in statuses.items()} == {"cases": 30, "a": 30, "b": 0, "c": 0}
    texts = {r["report_text"] for r in current_rows(tmp_path / "run", "c")}
    assert all(t.endswith("-a-B-c") for t in texts) and len(texts) == 30
    # Changing it back finds the first run's parts again: nothing reruns.
    back = by_stage(run_inprocess(three_stage_config(tmp_path), tmp_path / "run"))
    assert sum(s.ran for s in back.values()) == 0


def test_failures_are_recorded_and_retry_reruns_only_them(tmp_path):
    marker = tmp_path / "fail.txt"
    marker.write_text("SYN-000003 SYN-000017\n")
    config = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 20}},
            {"name": "flaky", "uses": ECHO, "params": {"fail_marker": str(marker)}},
            {"name": "after", "uses": ECHO, "params": {"suffix": "!"}},
        ],
    )
    first = by_stage(run_inprocess(config, tmp_path / "run"))
    assert (first["flaky"].done, first["flaky"].failed) == (18, 2)
    assert (first["after"].done, first["after"].blocked) == (18, 2)
    assert first["flaky"].failure_types == {"RuntimeError": 1 * 2}

    status = json.loads(cli("status", str(tmp_path / "run"), "--json", "--failures").stdout)
    assert [(s["stage"], s["done"], s["failed"], s["pending"], s["blocked"]) for s in status["stages"]] == [
        ("cases", 20, 0, 0, 0),
        ("flaky", 18, 2, 0, 0),
        ("after", 18, 0, 0, 2),
    ]
    failures = {f["case_id"]: f for f in status["failures"]}
    assert set(failures) == {"SYN-000003", "SYN-000017"}
    assert failures["SYN-000003"]["stage"] == "flaky"
    assert failures["SYN-000003"]["error_type"] == "RuntimeError"
    assert "listed in" in failures["SYN-000003"]["message"]

    # A plain rerun leaves failed cases alone; retry with the cause still there fails again.
    assert by_stage(run_inprocess(config, tmp_path / "run"))["flaky"].ran == 0
    again = by_stage(run_inprocess(config, tmp_path / "run", retry=True))
    assert (again["flaky"].ran, again["flaky"].failed) == (2, 2)

    marker.unlink()  # the transient cause is gone
    fixed = by_stage(run_inprocess(config, tmp_path / "run", retry=True))
    assert {name: s.ran for name, s in fixed.items()} == {"cases": 0, "flaky": 2, "after": 2}
    assert (fixed["flaky"].done, fixed["flaky"].failed, fixed["after"].done) == (20, 0, 20)
    # The failure table keeps history: the second attempt of the same key is numbered 2.
    attempts = pq.read_table(tmp_path / "run" / "failures" / "flaky").column("attempt").to_pylist()
    assert sorted(attempts) == [1, 1, 2, 2]


def test_process_pool_gives_the_same_outputs(tmp_path):
    run_inprocess(three_stage_config(tmp_path), tmp_path / "inline")
    pooled = by_stage(run_inprocess(three_stage_config(tmp_path), tmp_path / "pool", workers=2))
    assert pooled["c"].done == 30
    assert current_rows(tmp_path / "pool", "c") == current_rows(tmp_path / "inline", "c")


def test_manifest_records_config_versions_timings_and_counts(tmp_path):
    config = three_stage_config(tmp_path, n=5)
    run_inprocess(config, tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"]["text"] == config.read_text()
    inv = manifest["invocations"][-1]
    assert inv["packages"]["pyarrow"] and inv["packages"]["pydantic"]
    assert inv["git_revision"]
    assert inv["finished"] is not None
    assert inv["stages"]["b"]["ran"] == 5 and inv["stages"]["b"]["seconds"] >= 0
    assert manifest["status"]["c"] == {"total": 5, "done": 5, "failed": 0, "pending": 0, "blocked": 0}


def test_config_errors_name_the_stage_and_field(tmp_path):
    bad = write_config(tmp_path / "bad.yaml", [{"name": "cases", "uses": "synthetic_cases", "params": {"n": 3}}])
    with pytest.raises(ConfigError, match=r"stage 'cases': params: n_cases: Field required"):
        load_config(bad)
    unknown = write_config(tmp_path / "u.yaml", [{"name": "nope"}])
    with pytest.raises(ConfigError, match="unknown stage 'nope'"):
        load_config(unknown)
    proc = cli("run", str(bad), "--run-dir", str(tmp_path / "r"), check=False)
    assert proc.returncode == 2 and "n_cases" in proc.stderr


def test_io_stage_runs_concurrently_on_asyncio(tmp_path):
    config = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 40}},
            {"name": "fetch", "uses": "tests.pipelines.stages_for_tests:AsyncEchoStage", "params": {"sleep": 0.2}},
        ],
        concurrency=20,
    )
    statuses = by_stage(run_inprocess(config, tmp_path / "run"))
    assert statuses["fetch"].done == 40
    # 40 waits of 0.2 s, 20 at a time: about 0.4 s; sequentially it would be 8 s.
    assert statuses["fetch"].seconds < 4.0
    assert len(current_rows(tmp_path / "run", "fetch")) == 40


def test_a_worker_that_dies_costs_only_its_case(tmp_path):
    config = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 24}},
            {
                "name": "crash",
                "uses": "tests.pipelines.stages_for_tests:CrashStage",
                "params": {"crash_case": "SYN-000005"},
            },
        ],
    )
    statuses = by_stage(run_inprocess(config, tmp_path / "run", workers=2))
    assert (statuses["crash"].done, statuses["crash"].failed) == (23, 1)
    assert statuses["crash"].failure_types == {"WorkerCrashed": 1}


def test_outputs_are_validated_against_the_contract_naming_case_and_field(tmp_path):
    config = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 3}},
            {"name": "broken", "uses": "tests.pipelines.stages_for_tests:BrokenContractStage"},
        ],
    )
    statuses = by_stage(run_inprocess(config, tmp_path / "run"))
    assert (statuses["broken"].done, statuses["broken"].failed) == (2, 1)
    failure = json.loads(cli("status", str(tmp_path / "run"), "--json", "--failures").stdout)["failures"][0]
    assert failure["error_type"] == "ValidationError"
    assert failure["message"].startswith("case SYN-000001: Case: field 'report_text': String should have at least 1")


def test_run_scope_stage_sees_every_case_and_reruns_only_when_inputs_change(tmp_path):
    marker = tmp_path / "fail.txt"
    marker.write_text("SYN-000002")

    def cfg():
        return write_config(
            tmp_path / "p.yaml",
            [
                {"name": "cases", "uses": "synthetic_cases", "params": {"n_cases": 12}},
                {"name": "flaky", "uses": ECHO, "params": {"fail_marker": str(marker)}},
                {"name": "summary", "uses": "tests.pipelines.stages_for_tests:CountStage"},
            ],
        )

    first = by_stage(run_inprocess(cfg(), tmp_path / "run"))
    assert (first["summary"].total, first["summary"].done) == (1, 1)
    (row,) = current_rows(tmp_path / "run", "summary")
    assert row["report_text"] == "count: 11 cases, first SYN-000000, last SYN-000011"
    assert by_stage(run_inprocess(cfg(), tmp_path / "run"))["summary"].ran == 0
    marker.unlink()
    fixed = by_stage(run_inprocess(cfg(), tmp_path / "run", retry=True))
    assert fixed["summary"].ran == 1
    (row,) = current_rows(tmp_path / "run", "summary")
    assert row["report_text"] == "count: 12 cases, first SYN-000000, last SYN-000011"


def test_a_stage_runs_where_its_parameters_make_it_work():
    """Rule extraction and the template writer are computation (the worker pool); the LLM backends wait
    on the network (the event loop)."""
    from pipelines.stages.generate import GenerateParams, GenerateStage
    from pipelines.stages.reports import ReportsParams, ReportsStage

    assert ReportsStage.kind_for(ReportsParams()) == "cpu"
    assert ReportsStage.kind_for(ReportsParams(backend="llm", model="m", base_url="http://127.0.0.1:9/v1")) == "io"
    assert GenerateStage.kind_for(GenerateParams()) == "cpu"
    assert GenerateStage.kind_for(GenerateParams(writer="llm")) == "io"
