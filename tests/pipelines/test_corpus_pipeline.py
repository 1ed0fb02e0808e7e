"""The main job end to end on real data: real reports and slides -> verified, exported corpus."""

from __future__ import annotations

import json

import pytest
import yaml

from pathkg.export.export_validation import validate_export
from pathkg.rewards.chain_format import parse_chain
from tests.pipelines.runner_harness import run_inprocess


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, repo_root, shared_data):
    """The demo pipeline on the ten real TCGA-BRCA reports and the two real slides."""
    config = yaml.safe_load(
        (repo_root / "pipelines/configs/demo.yaml")
        .read_text()
        .replace("${PATHKG_DATA:-../../../shared/data}", str(shared_data))
    )
    ingest = next(s for s in config["stages"] if s["name"] == "ingest")
    ingest["params"]["sources"] = [
        {"path": str(shared_data / "reports/tcga_brca_sample/reports.csv")},
        {"path": str(repo_root / "pipelines/configs/slides_manifest.csv")},
    ]
    kg = next(s for s in config["stages"] if s["name"] == "kg")
    kg["params"]["seed"] = str(repo_root / "kg_dumps/pathology_seed")
    tmp = tmp_path_factory.mktemp("demo")
    path = tmp / "demo.yaml"
    path.write_text(yaml.safe_dump(config))
    statuses = run_inprocess(path, tmp / "run", workers=2)
    return tmp / "run", {s.stage: s for s in statuses}


def test_every_stage_finishes_every_case(demo_run):
    _, statuses = demo_run
    assert statuses["ingest"].done == 12  # 10 reports + the two slide cases
    for name, status in statuses.items():
        assert status.failed == 0, (name, status.failure_types)
        assert status.pending == 0 and status.blocked == 0, name
    assert statuses["slides"].done == 12


def test_entities_and_paths_come_from_the_kg(demo_run):
    run_dir, _ = demo_run
    linked = {r["case_id"]: r for r in current_rows_by_case(run_dir, "link")}
    assert sum(bool(r["description_entities"]) for r in linked.values()) >= 10
    paths = {r["case_id"]: r for r in current_rows_by_case(run_dir, "paths")}
    with_paths = [c for c, r in paths.items() if r["paths"]]
    assert len(with_paths) >= 4  # reports whose findings reach their diagnosis within 3 hops
    for record in paths.values():
        assert record["paths"] or record["no_path_reason"]
        for path in record["paths"]:
            assert 1 <= len(path["steps"]) <= 3


def current_rows_by_case(run_dir, stage):
    from rich.console import Console

    from pipelines.runner import Runner

    return (
        Runner.from_run_dir(run_dir, show_progress=False, console=Console(quiet=True)).read_current(stage).to_pylist()
    )


def test_export_loads_with_datasets_and_every_row_is_sound(demo_run, monkeypatch, tmp_path):
    run_dir, _ = demo_run
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    export = run_dir / "export"
    assert validate_export(export) == []
    from datasets import load_dataset

    ds = load_dataset(str(export))
    rows = [row for split in ds.values() for row in split]
    assert len(rows) >= 30
    patients: dict[str, str] = {}
    for split, data in ds.items():
        for row in data:
            assert patients.setdefault(row["patient_id"], split) == split, "a patient is in two splits"
            assert parse_chain(row["response"]) is not None
            prov = row["provenance"]
            assert prov["report_sha256"] and prov["kg_version"].startswith("kg-") and prov["run_id"]
            assert prov["generator_backend"] == "template" and prov["prompt_version"] == "template-v1"
            assert row["verification"]["status"] == "pass"
    # The real slides' images travel with their samples: wsi thumbnails and roi tiles.
    with_images = [r for r in rows if r["images"]]
    assert {r["scale"] for r in with_images} == {"wsi", "roi"}
    assert all(img.size[0] > 0 for r in with_images for img in r["images"])
    summary = current_rows_by_case(run_dir, "export")[0]
    assert summary["samples_exported"] == len(rows)
    assert summary["samples_in"] == summary["samples_exported"] + summary["held_for_review"] + summary["rejected"]


def test_run_report_is_written(demo_run):
    run_dir, _ = demo_run
    index = (run_dir / "report" / "index.html").read_text()
    for section in ("Stages", "Failures", "Entity coverage", "KG paths", "Questions", "Verification"):
        assert f"<h2>{section}</h2>" in index
    for plot in ("stages.png", "verification.png", "question_types.png", "path_lengths.png"):
        assert (run_dir / "report" / "plots" / plot).stat().st_size > 1000
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"]["export"]["done"] == 1


def test_run_report_counts_equal_a_pass_over_the_records(demo_run):
    """The report counts Arrow batches with Arrow compute; a plain pass over the validated records gives
    the same numbers, and the same first-met order of every table's rows."""
    from collections import Counter

    from pathkg.run_report.run_statistics import RunStatistics
    from schemas.arrow import from_arrow_row
    from schemas.case_paths import CasePaths
    from schemas.linked_case import LinkedCase
    from schemas.sample import Sample

    run_dir, _ = demo_run
    stats = RunStatistics()
    ref = {name: Counter() for name in ("types", "names", "lengths", "reasons", "qtypes", "scales", "status", "failed")}
    totals = Counter()
    for stage, model, add in (
        ("link", LinkedCase, stats.add_linked),
        ("paths", CasePaths, stats.add_paths),
        ("verify", Sample, stats.add_samples),
    ):
        table = current_table(run_dir, stage)
        for start in range(0, table.num_rows, 3):  # several batches, as parts arrive
            add(table.slice(start, 3))
        for rec in (from_arrow_row(model, row) for row in table.to_pylist()):
            if model is LinkedCase:
                totals["linked"] += 1
                totals["with_description"] += bool(rec.description_entities)
                totals["with_diagnosis"] += bool(rec.diagnosis_entities)
                for e in (*rec.description_entities, *rec.diagnosis_entities):
                    ref["types"][e.type] += 1
                    ref["names"][e.name] += 1
                    totals["negated"] += e.negated
            elif model is CasePaths:
                totals["with_paths"] += bool(rec.paths)
                for path in rec.paths:
                    ref["lengths"][len(path.steps)] += 1
                if rec.no_path_reason:
                    ref["reasons"][rec.no_path_reason] += 1
            else:
                ref["qtypes"][rec.question_type] += 1
                ref["scales"][rec.scale] += 1
                ref["status"][rec.verification.status] += 1
                for check in rec.verification.checks:
                    if not check.passed:
                        ref["failed"][check.name] += 1
    assert totals["linked"] == 12 and sum(ref["names"].values()) > 50 and ref["lengths"]
    assert (
        stats.cases_linked,
        stats.cases_with_description_entities,
        stats.cases_with_diagnosis_entities,
        stats.negated_mentions,
        stats.cases_with_paths,
    ) == (
        totals["linked"],
        totals["with_description"],
        totals["with_diagnosis"],
        totals["negated"],
        totals["with_paths"],
    )
    for got, want in (
        (stats.entity_types, ref["types"]),
        (stats.top_entities, ref["names"]),
        (stats.path_lengths, ref["lengths"]),
        (stats.no_path_reasons, ref["reasons"]),
        (stats.question_types, ref["qtypes"]),
        (stats.scales, ref["scales"]),
        (stats.verification, ref["status"]),
        (stats.failed_checks, ref["failed"]),
    ):
        assert list(got.items()) == list(want.items())


def current_table(run_dir, stage):
    from rich.console import Console

    from pipelines.runner import Runner

    return Runner.from_run_dir(run_dir, show_progress=False, console=Console(quiet=True)).read_current(stage)


def export_rows(run_dir) -> dict[str, dict]:
    """The default config's exported rows by sample id, without the run id (which names the run)."""
    import pyarrow.parquet as pq

    rows: dict[str, dict] = {}
    for path in sorted((run_dir / "export" / "data").glob("*.parquet")):
        for row in pq.read_table(path).to_pylist():
            row["provenance"].pop("run_id")
            assert row["sample_id"] not in rows, f"sample {row['sample_id']} exported twice"
            rows[row["sample_id"]] = row
    return rows


def test_ray_executor_with_a_worker_killed_mid_stage_exports_what_local_does(demo_run, ray_local, tmp_path):
    """The demo on Ray (2 actors), one actor SIGKILLed while it verifies: the same export as the local pool.

    The run directory is given as a `file://` URL, as workers on several machines would share one."""
    import os
    import signal

    from rich.console import Console

    from pipelines.config import load_config
    from pipelines.runner import Runner

    local_dir, _ = demo_run
    runner = Runner(
        load_config(local_dir.parent / "demo.yaml"), f"file://{tmp_path}/ray", workers=2, executor="ray",
        show_progress=False, console=Console(quiet=True),
    )  # fmt: skip
    killed: list[int] = []

    def kill_mid_verify(stage: str, pid: int) -> None:
        if stage == "verify" and not killed:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    runner.ray_executor.on_submit = kill_mid_verify
    statuses = {s.stage: s for s in runner.run()}
    assert killed and runner.ray_executor.worker_deaths >= 1
    for name, status in statuses.items():
        assert status.failed == 0 and status.pending == 0, (name, status.failure_types)
    ray_rows, local_rows = export_rows(tmp_path / "ray"), export_rows(local_dir)
    assert len(local_rows) >= 30
    assert sorted(ray_rows) == sorted(local_rows)
    for sample_id, row in local_rows.items():
        assert ray_rows[sample_id] == row, sample_id
