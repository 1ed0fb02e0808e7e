"""Slide files the WSI tests build for themselves: synthetic pyramids and broken copies of real slides."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

BACKGROUND = (244, 242, 245)  # glass: near white, saturation ~0.01
STAIN = (200, 110, 170)  # an H&E-like pink-purple, saturation 0.45


def canvas(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A background-coloured RGB image with a little sensor noise (so Otsu sees a spread)."""
    rng = np.random.default_rng(seed)
    img = np.empty((height, width, 3), dtype=np.int16)
    img[:] = BACKGROUND
    img += rng.integers(-3, 4, size=img.shape, dtype=np.int16)
    return np.clip(img, 0, 255).astype(np.uint8)


def paint(img: np.ndarray, box: tuple[int, int, int, int], color: tuple[int, int, int] = STAIN) -> np.ndarray:
    x0, y0, x1, y1 = box
    img[y0:y1, x0:x1] = color
    return img


def write_pyramid(
    path: Path,
    img: np.ndarray,
    downsamples: tuple[int, ...] = (1, 4),
    mpp: float | None = None,
    aperio: dict[str, str] | None = None,
) -> Path:
    """A tiled, pyramidal TIFF that OpenSlide reads: generic TIFF, or Aperio when `aperio` is given.

    `mpp` becomes the TIFF resolution (pixels per centimetre), which OpenSlide reports as mpp;
    `aperio` fields (e.g. {"AppMag": "40", "MPP": "0.25"}) go into an Aperio ImageDescription.
    """
    h, w = img.shape[:2]
    with tifffile.TiffWriter(path) as tw:
        for i, ds in enumerate(downsamples):
            level = img[::ds, ::ds].copy()
            kwargs: dict = {"tile": (256, 256), "photometric": "rgb", "compression": None, "metadata": None}
            if i == 0 and aperio is not None:
                fields = "|".join(f"{k} = {v}" for k, v in aperio.items())
                kwargs["description"] = f"Aperio Image Library v10.0.51\r\n{w}x{h} [0,0 {w}x{h}] (256x256) RGB|{fields}"
            if i == 0 and mpp is not None:
                kwargs["resolution"] = (1e4 / mpp, 1e4 / mpp)
                kwargs["resolutionunit"] = "CENTIMETER"
            if i > 0 and aperio is None:
                kwargs["subfiletype"] = 1  # a reduced-resolution level of the same image
            tw.write(level, **kwargs)
    return path


def blank_slide(path: Path) -> Path:
    """An Aperio slide (20×, 0.5 µm/px) of empty glass: a valid slide with no tissue."""
    return write_pyramid(path, canvas(2048, 1536), aperio={"AppMag": "20", "MPP": "0.5"})


def truncated_copy(src: Path, dst: Path, fraction: float) -> Path:
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: int(len(data) * fraction)])
    return Path(dst)


def zeroed_copy(src: Path, dst: Path, start: int, length: int) -> Path:
    """Same size as `src`, with `length` bytes from `start` set to zero."""
    data = bytearray(Path(src).read_bytes())
    data[start : start + length] = bytes(length)
    Path(dst).write_bytes(bytes(data))
    return Path(dst)


def plain_tiff(path: Path) -> Path:
    """A plain stripped TIFF as Pillow writes it: an image, not a pyramid."""
    Image.fromarray(paint(canvas(800, 600), (100, 100, 500, 400))).save(path, format="TIFF")
    return path


def copy_slide(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return Path(dst)
