"""`pathkg slides inspect PATH --json` on real and broken slides."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pathkg.cli import app
from tests.wsi.slide_builders import plain_tiff, truncated_copy

runner = CliRunner()


def test_inspect_json_on_the_tcga_slide(tcga_slide):
    result = runner.invoke(app, ["slides", "inspect", str(tcga_slide), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    props = info["properties"]
    assert info["file_size"] == 3_901_814
    assert props["vendor"] == "aperio" and props["level_count"] == 2
    assert props["mpp_x"] is None and props["objective_power"] is None and props["base_magnification"] is None
    assert props["missing"] == ["mpp", "objective_power"]
    assert "magnification_unknown" in info["flags"]
    assert 0.55 < info["tissue"]["tissue_fraction"] < 0.68
    assert "raw_properties" not in info  # identifying text stays out unless asked for


def test_inspect_json_on_the_cmu_slide_with_raw_properties(cmu_slide):
    result = runner.invoke(app, ["slides", "inspect", str(cmu_slide), "--json", "--no-tissue", "--raw"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["properties"]["base_magnification"] == 20.0 and info["flags"] == []
    assert "tissue" not in info
    assert info["raw_properties"]["aperio.AppMag"] == "20"


def test_inspect_table_output(cmu_slide):
    result = runner.invoke(app, ["slides", "inspect", str(cmu_slide)])
    assert result.exit_code == 0
    assert "0.499 × 0.499 µm/px" in result.stdout and "20× (from objective_power)" in result.stdout


def test_inspect_reports_bad_slides_with_their_error_type(tmp_path, cmu_slide):
    cases = {
        "SlideNotFoundError": tmp_path / "missing.svs",
        "NotPyramidalSlideError": plain_tiff(tmp_path / "plain.tif"),
        "CorruptSlideError": truncated_copy(cmu_slide, tmp_path / "cut.svs", 0.3),
    }
    for error_type, path in cases.items():
        result = runner.invoke(app, ["slides", "inspect", str(path), "--json"])
        assert result.exit_code == 1
        out = json.loads(result.stdout)
        assert out["error"]["type"] == error_type and path.name in out["error"]["message"]
