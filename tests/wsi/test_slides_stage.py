"""The `slides` stage in a real pipeline run: good slides give records, each bad slide fails its own case."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from pathkg.wsi.slide_errors import SlideNotFoundError
from pipelines.config import load_config
from pipelines.registry import resolve_stage
from pipelines.runner import Runner
from pipelines.stage import StageContext
from pipelines.stages.slides import SlidesParams, SlidesStage, slide_dir_names
from schemas.case import Case
from tests.pipelines.runner_harness import run_inprocess, write_config
from tests.wsi.slide_builders import blank_slide, plain_tiff, truncated_copy

REPORT = "Invasive ductal carcinoma, Nottingham grade 2. Margins negative."


def case_row(case_id: str, slides: list[Path]) -> dict[str, str]:
    return {"case_id": case_id, "slide_paths": ";".join(str(s) for s in slides), "report_text": REPORT}


@pytest.fixture
def manifest(tmp_path, cmu_slide, tcga_slide) -> Path:
    bad = tmp_path / "bad"
    bad.mkdir()
    rows = [
        case_row("GOOD-CMU", [cmu_slide]),
        case_row("GOOD-TCGA", [tcga_slide]),
        case_row("NO-SLIDES", []),
        case_row("BAD-TRUNCATED", [truncated_copy(cmu_slide, bad / "cut.svs", 0.5)]),
        case_row("BAD-PLAIN", [plain_tiff(bad / "plain.tif")]),
        case_row("BAD-BLANK", [blank_slide(bad / "blank.svs")]),
    ]
    path = tmp_path / "cases.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def slide_rows(runner: Runner) -> dict[str, dict]:
    return {r["case_id"]: r for r in runner.read_current("slides").to_pylist()}


def pipeline(tmp_path: Path, manifest: Path, workers: int) -> Path:
    stages = [
        {"name": "ingest", "params": {"sources": [{"path": str(manifest)}]}},
        {"name": "slides", "after": ["ingest"], "params": {"tiles_per_scale": 3}},
    ]
    return write_config(tmp_path / "pipeline.yaml", stages, workers=workers)


def test_registered_as_slides():
    assert resolve_stage("slides") is SlidesStage


def test_run_records_good_slides_and_distinct_failures(tmp_path, manifest):
    config, run_dir = pipeline(tmp_path, manifest, workers=2), tmp_path / "run"
    statuses = {s.stage: s for s in run_inprocess(config, run_dir)}
    slides = statuses["slides"]
    assert (slides.total, slides.done, slides.failed) == (6, 3, 3)
    assert slides.failure_types == {"CorruptSlideError": 1, "NotPyramidalSlideError": 1, "NoTissueError": 1}

    runner = Runner.from_run_dir(run_dir, show_progress=False, console=Console(quiet=True))
    rows = slide_rows(runner)
    assert set(rows) == {"GOOD-CMU", "GOOD-TCGA"}  # NO-SLIDES is done with no records
    cmu, tcga = rows["GOOD-CMU"], rows["GOOD-TCGA"]
    assert cmu["properties"]["objective_power"] == 20.0 and tcga["properties"]["base_magnification"] is None
    assert {t["scale"] for t in cmu["tiles"]} == {"20x", "5x"} and {t["scale"] for t in tcga["tiles"]} == {"ds1", "ds4"}
    for row in rows.values():
        for rel in [row["thumbnail"]["path"], row["tissue_mask"]["path"], *(t["image"]["path"] for t in row["tiles"])]:
            assert rel.startswith("work/slides/") and (run_dir / rel).is_file()

    _, failures = runner.inspect()
    messages = {f.case_id: (f.error_type, f.message) for f in failures}
    assert messages["BAD-TRUNCATED"][0] == "CorruptSlideError" and "cut.svs" in messages["BAD-TRUNCATED"][1]
    assert "plain.tif" in messages["BAD-PLAIN"][1] and "no tissue detected" in messages["BAD-BLANK"][1]

    again = {s.stage: s for s in run_inprocess(config, run_dir)}["slides"]
    assert (again.ran, again.skipped, again.done, again.failed) == (0, 3, 3, 3)


def test_stage_reports_a_slide_that_vanished_after_ingest(tmp_path):
    stage = SlidesStage(SlidesParams(), StageContext(tmp_path, "r1", "slides"))
    case = Case(
        case_id="C1",
        patient_id="C1",
        slide_paths=[str(tmp_path / "gone.svs")],
        report_text=REPORT,
        report_sha256="x",
        source="test",
    )
    with pytest.raises(SlideNotFoundError, match=r"gone\.svs: file does not exist"):
        stage.process("C1", {"ingest": [case]})


@pytest.mark.parametrize(
    "bad",
    [{"magnifications": [20, 20]}, {"magnifications": [0]}, {"fallback_downsamples": [0.5]}, {"tile_sise": 256}],
)
def test_bad_parameters_are_rejected(bad):
    with pytest.raises(ValueError):
        SlidesParams.model_validate(bad)


def test_slides_sharing_a_stem_get_their_own_folders():
    assert slide_dir_names(["/a/x.svs", "/b/x.svs", "/c/y.svs"]) == ["x-1", "x-2", "y"]
    assert slide_dir_names(["/a/we ird#name.svs"]) == ["we_ird_name"]


def test_demo_config_runs_slides_after_ingest_on_the_real_slides(repo_root, tmp_path):
    demo = yaml.safe_load((repo_root / "pipelines/configs/demo.yaml").read_text())
    stages = {s["name"]: s for s in demo["stages"]}
    assert stages["slides"]["after"] == ["ingest"]
    assert {"path": "slides_manifest.csv"} in stages["ingest"]["params"]["sources"]

    # The committed slide manifest, through ingest and slides on its own.
    manifest = repo_root / "pipelines/configs/slides_manifest.csv"
    config = write_config(
        tmp_path / "p.yaml",
        [
            {"name": "ingest", "params": {"sources": [{"path": str(manifest)}]}},
            {"name": "slides", "after": ["ingest"], "params": stages["slides"]["params"]},
        ],
    )
    load_config(config)
    statuses = {s.stage: s for s in run_inprocess(config, tmp_path / "run")}
    assert (statuses["ingest"].done, statuses["slides"].done, statuses["slides"].failed) == (2, 2, 0)
    rows = slide_rows(Runner.from_run_dir(tmp_path / "run", show_progress=False, console=Console(quiet=True)))
    assert rows["TCGA-CR-7395"]["slide_name"] == "tcga-cr-7395-01a-01-ts1.svs"
    assert rows["TCGA-CR-7395"]["project"] == "TCGA-HNSC"
    assert rows["STANDIN-CMU-1"]["patient_id"] == "TCGA-A2-A0YM"
    assert rows["STANDIN-CMU-1"]["properties"]["base_magnification"] == 20.0
