"""Tissue masks, thumbnails and ROI tiles from real and synthetic slides; every number checked against pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openslide
import pytest
from PIL import Image

from pathkg.io.atomic import TMP_MARK
from pathkg.wsi.overview import read_overview
from pathkg.wsi.slide_file import opened_slide
from pathkg.wsi.slide_processing import SlideSettings, process_slide
from pathkg.wsi.tissue_mask import detect_tissue, saturation
from schemas.slide import SlideRecord
from tests.wsi.slide_builders import canvas, paint, write_pyramid

BLOB = (512, 256, 1536, 1024)  # x0, y0, x1, y1 in level-0 pixels of a 2048 × 1536 synthetic slide


def process(path: Path, run_dir: Path, **settings) -> SlideRecord:
    return process_slide(path, run_dir / "work" / "c" / path.stem, run_dir, SlideSettings(**settings), "C1", "P1")


@pytest.fixture
def blob_slide(tmp_path) -> Path:
    img = paint(canvas(2048, 1536), BLOB)
    for i in range(6):  # specks of 6 × 6 level-0 pixels: dust, far below the smallest kept object
        paint(img, (100 + 300 * i, 1300, 106 + 300 * i, 1306))
    return write_pyramid(tmp_path / "blob.tif", img, mpp=0.5)


def files_under(directory: Path) -> set[Path]:
    return {p for p in directory.rglob("*") if p.is_file()}


def test_saturation_matches_hsv_definition():
    rgb = np.array([[[255, 255, 255], [200, 110, 170], [0, 0, 0], [10, 20, 40]]], dtype=np.uint8)
    assert saturation(rgb)[0].tolist() == pytest.approx([0.0, 90 / 200, 0.0, 30 / 40])


def test_real_slide_tissue_fractions(cmu_slide, tcga_slide):
    fractions = {}
    for path in (cmu_slide, tcga_slide):
        with opened_slide(path) as slide:
            overview = read_overview(slide, 1024)
            fractions[path.name] = (overview.level, overview.size, detect_tissue(overview).tissue_fraction)
    # cmu-1: a strip of skin on glass, about a third of the field; tcga-cr-7395: a large section.
    level, size, fraction = fractions["cmu-1-small-region.svs"]
    assert (level, size) == (0, (766, 1024)) and 0.30 < fraction < 0.37
    level, size, fraction = fractions["tcga-cr-7395-01a-01-ts1.svs"]
    assert (level, size) == (1, (1024, 822)) and 0.58 < fraction < 0.66


def test_synthetic_tissue_fraction_and_speck_removal(blob_slide):
    with opened_slide(blob_slide) as slide:
        overview = read_overview(slide, 1024)
        found = detect_tissue(overview)
    blob_fraction = (BLOB[2] - BLOB[0]) * (BLOB[3] - BLOB[1]) / (2048 * 1536)
    assert found.tissue_fraction == pytest.approx(blob_fraction, abs=0.002)
    assert 0.05 <= found.threshold < 0.45  # between glass and stain (Otsu, floored at 0.05)
    # The specks (row 1300 at level 0 -> row 650 at 2× downsample) were removed.
    assert not found.mask[645:656].any()


def test_cmu_tiles_at_two_magnifications_match_read_region(tmp_path, cmu_slide):
    rec = process(cmu_slide, tmp_path / "run", tile_format="png", tiles_per_scale=4)
    by_scale = {s: [t for t in rec.tiles if t.scale == s] for s in ("20x", "5x")}
    assert len(by_scale["20x"]) == 4 and 1 <= len(by_scale["5x"]) <= 4
    assert {(t.image.level, t.image.magnification, t.read_width) for t in by_scale["20x"]} == {(0, 20.0, 256)}
    assert {(t.image.level, t.image.magnification, t.read_width) for t in by_scale["5x"]} == {(0, 5.0, 1024)}
    with openslide.OpenSlide(str(cmu_slide)) as slide:
        for tile in (by_scale["20x"][0], by_scale["5x"][0]):
            saved = Image.open(tmp_path / "run" / tile.image.path)
            assert saved.size == (256, 256) and saved.mode == "RGB"
            region = slide.read_region((tile.image.x, tile.image.y), 0, (tile.read_width, tile.read_width))
            expected = region.convert("RGB").resize((256, 256), Image.Resampling.BOX)
            # Identical at 20×; at 5× a 4 × 4 box average, equal up to rounding.
            assert np.abs(np.asarray(saved, dtype=int) - np.asarray(expected, dtype=int)).max() <= (tile.scale == "5x")
            assert tile.tissue_fraction >= 0.5
    assert rec.thumbnail.kind == "thumbnail" and rec.thumbnail.magnification == pytest.approx(
        20 / (2220 / 766), abs=1e-3
    )
    assert Image.open(tmp_path / "run" / rec.thumbnail.path).size == (766, 1024)
    mask = np.asarray(Image.open(tmp_path / "run" / rec.tissue_mask.path)) > 0
    assert mask.shape == (1024, 766) and mask.mean() == pytest.approx(rec.tissue_fraction, abs=1e-6)


def test_tcga_tiles_without_magnification_use_downsamples(tmp_path, tcga_slide):
    rec = process(tcga_slide, tmp_path / "run", tiles_per_scale=3)
    assert {t.scale for t in rec.tiles} == {"ds1", "ds4"}
    assert all(t.image.magnification is None for t in rec.tiles) and rec.thumbnail.magnification is None
    ds4 = [t for t in rec.tiles if t.scale == "ds4"]
    assert {(t.image.level, t.read_width) for t in ds4} == {(1, 512)}
    assert ds4[0].target_downsample == pytest.approx(4.001, abs=1e-3)
    assert {"mpp_missing", "objective_power_missing", "magnification_unknown"} <= set(rec.flags)
    for t in rec.tiles:
        assert Image.open(tmp_path / "run" / t.image.path).size == (256, 256)


def test_tiles_lie_inside_tissue(tmp_path, blob_slide):
    rec = process(blob_slide, tmp_path / "run", min_tile_tissue=1.0, tiles_per_scale=6, magnifications=[20, 10])
    assert rec.properties.base_magnification == 20.0  # from mpp 0.5
    assert {t.scale for t in rec.tiles} == {"20x", "10x"}
    margin = 2  # one mask pixel (2 level-0 pixels) of rounding at the mask's edge
    for t in rec.tiles:
        extent = t.read_width * rec.properties.levels[t.image.level].downsample
        x0, y0 = t.image.x, t.image.y
        assert BLOB[0] - margin <= x0 and x0 + extent <= BLOB[2] + margin
        assert BLOB[1] - margin <= y0 and y0 + extent <= BLOB[3] + margin
        pixels = np.asarray(Image.open(tmp_path / "run" / t.image.path)).astype(int)
        assert np.abs(pixels - np.array([200, 110, 170])).max() <= 12  # all stain (JPEG tolerance)


def test_tile_choice_is_reproducible_and_seeded(tmp_path, tcga_slide):
    def positions(seed: int, run: str) -> list[tuple[str, int, int]]:
        rec = process(tcga_slide, tmp_path / run, seed=seed, tiles_per_scale=5, overview_size=256)
        return [(t.scale, t.image.x, t.image.y) for t in rec.tiles]

    first = positions(0, "a")
    assert first == positions(0, "b")
    assert first != positions(1, "c")
    assert first == sorted(first, key=lambda p: (p[0] != "ds1", p[2], p[1]))  # reading order per scale


def test_magnification_above_base_is_skipped_not_upsampled(tmp_path, cmu_slide):
    rec = process(cmu_slide, tmp_path / "run", magnifications=[40, 20], tiles_per_scale=2)
    assert "above_base_magnification:40x" in rec.flags
    assert {t.scale for t in rec.tiles} == {"20x"}


def test_rerun_leaves_exactly_the_records_files(tmp_path, cmu_slide):
    run_dir = tmp_path / "run"
    process(cmu_slide, run_dir, seed=1, tiles_per_scale=6)
    rec = process(cmu_slide, run_dir, seed=2, tiles_per_scale=3)
    expected = {run_dir / t.image.path for t in rec.tiles} | {
        run_dir / rec.thumbnail.path,
        run_dir / rec.tissue_mask.path,
        run_dir / rec.overlay_path,
    }
    assert files_under(run_dir) == expected
    assert not any(TMP_MARK in p.name for p in files_under(run_dir))


def test_overview_read_in_bands_matches_one_read(tmp_path, tcga_slide):
    with opened_slide(tcga_slide) as slide:
        whole = read_overview(slide, 512)
        banded = read_overview(slide, 512, band_pixels=200_000)  # ~90 source rows per band
    assert banded.level == whole.level and banded.size == whole.size
    assert np.abs(banded.rgb.astype(int) - whole.rgb.astype(int)).mean() < 2.0


def test_overlay_draws_the_tiles_on_the_thumbnail(tmp_path, blob_slide):
    rec = process(blob_slide, tmp_path / "run", tiles_per_scale=1, magnifications=[20], min_tile_tissue=1.0)
    overlay = np.asarray(Image.open(tmp_path / "run" / rec.overlay_path)).astype(int)
    assert overlay.shape[:2] == (rec.thumbnail.height, rec.thumbnail.width)
    (tile,) = rec.tiles
    ds = rec.tissue_mask.downsample
    x, y = round(tile.image.x / ds), round(tile.image.y / ds)
    # The box's top edge is drawn in the first scale's colour (red) over the stain.
    edge = overlay[y, x + 5 : x + 100 // 2]
    assert (edge[:, 0] > 180).all() and (edge[:, 1] < 90).all()
