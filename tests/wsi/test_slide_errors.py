"""Each kind of bad slide fails with its own error type and a message that names the file and the reason."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from pathkg.wsi.slide_errors import (
    CorruptSlideError,
    NoTissueError,
    NotPyramidalSlideError,
    SlideError,
    SlideNotFoundError,
    UnsupportedSlideFormatError,
)
from pathkg.wsi.slide_processing import SlideSettings, process_slide
from tests.wsi.slide_builders import (
    blank_slide,
    canvas,
    paint,
    plain_tiff,
    truncated_copy,
    write_pyramid,
    zeroed_copy,
)


def run(path: Path, tmp_path: Path):
    run_dir = tmp_path / "run"
    return process_slide(path, run_dir / "work" / "case" / path.stem, run_dir, SlideSettings(), "C1", "P1")


def test_error_types_are_distinct_slide_errors():
    kinds = [SlideNotFoundError, CorruptSlideError, NotPyramidalSlideError, UnsupportedSlideFormatError, NoTissueError]
    assert len({k.__name__ for k in kinds}) == 5
    assert all(issubclass(k, SlideError) and issubclass(k, ValueError) for k in kinds)


def test_missing_file(tmp_path):
    missing = tmp_path / "nowhere.svs"
    with pytest.raises(SlideNotFoundError, match=r"nowhere\.svs: file does not exist"):
        run(missing, tmp_path)
    with pytest.raises(SlideNotFoundError, match="not a regular file"):
        run(tmp_path, tmp_path)


@pytest.mark.parametrize("fraction", [0.01, 0.6, 0.9])
def test_truncated_real_slide_is_corrupt(tmp_path, cmu_slide, fraction):
    bad = truncated_copy(cmu_slide, tmp_path / "cut.svs", fraction)
    with pytest.raises(CorruptSlideError, match=r"cut\.svs: truncated or damaged TIFF: .*beyond the end of the"):
        run(bad, tmp_path)


def test_truncated_jpeg2000_slide_is_corrupt(tmp_path, tcga_slide):
    bad = truncated_copy(tcga_slide, tmp_path / "tcga-cut.svs", 0.5)
    with pytest.raises(CorruptSlideError, match=f"beyond the end of the {bad.stat().st_size}-byte file"):
        run(bad, tmp_path)


@pytest.mark.parametrize(("fraction", "reason"), [(0.7, "12 of 48 tiles lie beyond the end"), (0.95, "Short read")])
def test_truncated_slide_with_directories_first_is_corrupt(tmp_path, fraction, reason):
    # tifffile writes each directory before its tiles, so truncation cuts tiles, not directories.
    whole = write_pyramid(tmp_path / "whole.tif", paint(canvas(2048, 1536), (512, 256, 1536, 1024)), mpp=0.5)
    bad = truncated_copy(whole, tmp_path / "cut.tif", fraction)
    with pytest.raises(CorruptSlideError, match=reason):
        run(bad, tmp_path)


def test_damaged_tile_data_is_corrupt(tmp_path, cmu_slide):
    # cmu-1's level-0 tiles lie before its first image directory (at byte 1,275,950): zero some of them.
    bad = zeroed_copy(cmu_slide, tmp_path / "damaged.svs", 600_000, 200_000)
    with pytest.raises(CorruptSlideError, match=r"damaged\.svs: tile data cannot be decoded at level 0"):
        run(bad, tmp_path)
    # Nothing half-written is left behind.
    assert not list((tmp_path / "run").rglob("*.jpg"))


def test_zeroed_image_directory_is_corrupt(tmp_path, cmu_slide):
    bad = zeroed_copy(cmu_slide, tmp_path / "noifd.svs", 1_275_950, 4096)
    with pytest.raises(CorruptSlideError, match="image directory 0 has no width, no height, no pixel data"):
        run(bad, tmp_path)


def test_empty_and_garbage_files(tmp_path):
    empty = tmp_path / "empty.svs"
    empty.write_bytes(b"")
    with pytest.raises(CorruptSlideError, match="empty"):
        run(empty, tmp_path)
    garbage = tmp_path / "garbage.svs"
    garbage.write_bytes(os.urandom(4096))
    with pytest.raises(CorruptSlideError, match=r"a \.svs slide must be a TIFF file"):
        run(garbage, tmp_path)
    unknown = tmp_path / "garbage.bin"
    unknown.write_bytes(b"\x00\x01" * 2048)
    with pytest.raises(UnsupportedSlideFormatError, match="not a slide format OpenSlide reads"):
        run(unknown, tmp_path)


def test_plain_tiff_is_not_pyramidal(tmp_path):
    path = plain_tiff(tmp_path / "plain.tif")
    with pytest.raises(NotPyramidalSlideError, match=r"plain \(stripped, untiled\) TIFF image of 800×600"):
        run(path, tmp_path)


def test_png_named_as_slide_is_not_pyramidal(tmp_path):
    path = tmp_path / "photo.svs"
    Image.fromarray(canvas(64, 48)).save(path, format="PNG")
    with pytest.raises(NotPyramidalSlideError, match="plain PNG image of 64×48"):
        run(path, tmp_path)


def test_blank_slide_has_no_tissue(tmp_path):
    path = blank_slide(tmp_path / "blank.svs")
    with pytest.raises(NoTissueError, match=r"blank\.svs: no tissue detected: tissue fraction 0\.0000%"):
        run(path, tmp_path)
