"""A low-resolution image of the whole slide: the input of tissue detection and the thumbnail.

It is read from the lowest-resolution level that is still at least `max_size` pixels on its long
side (so no upsampling), in horizontal bands so a slide without small levels never needs the whole
level in memory, and area-averaged down to fit `max_size`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import openslide
from PIL import Image

from pathkg.wsi.slide_errors import CorruptSlideError

#: Pixels read per band (RGBA, so 4 bytes each): bounds memory on slides with no small level.
BAND_PIXELS = 16 * 1024 * 1024


@dataclass(frozen=True)
class Overview:
    rgb: np.ndarray  # (H, W, 3) uint8, transparent (unscanned) areas composited on white
    scanned: np.ndarray  # (H, W) bool, False where the slide has no data (alpha 0)
    level: int
    downsample_x: float  # level-0 pixels per overview pixel
    downsample_y: float

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def overview_level(slide: openslide.OpenSlide, max_size: int) -> int:
    """The lowest-resolution level whose long side is still >= max_size (level 0 if none is)."""
    best = 0
    for level, (w, h) in enumerate(slide.level_dimensions):
        if max(w, h) >= max_size and slide.level_downsamples[level] >= slide.level_downsamples[best]:
            best = level
    return best


def read_overview(
    slide: openslide.OpenSlide, max_size: int, slide_name: str = "slide", band_pixels: int = BAND_PIXELS
) -> Overview:
    """The overview of `slide`, at most `max_size` pixels on its long side.

    Raises CorruptSlideError when OpenSlide cannot decode the level's tiles.
    """
    level = overview_level(slide, max_size)
    lw, lh = slide.level_dimensions[level]
    scale = min(1.0, max_size / max(lw, lh))
    ow, oh = max(1, round(lw * scale)), max(1, round(lh * scale))
    ds = slide.level_downsamples[level]
    rgba = np.empty((oh, ow, 4), dtype=np.uint8)
    # Output rows per band, so that a band's source rows stay under band_pixels.
    rows_per_band = max(1, int(band_pixels / max(1, lw) * oh / lh))
    for r0 in range(0, oh, rows_per_band):
        r1 = min(oh, r0 + rows_per_band)
        s0, s1 = math.floor(r0 * lh / oh), min(lh, math.ceil(r1 * lh / oh))
        try:
            band = slide.read_region((0, round(s0 * ds)), level, (lw, max(1, s1 - s0)))
        except openslide.OpenSlideError as exc:
            raise CorruptSlideError(
                f"slide {slide_name}: tile data cannot be decoded at level {level}: {exc}"
            ) from None
        if band.size != (ow, r1 - r0):
            band = band.resize((ow, r1 - r0), Image.Resampling.BOX)
        rgba[r0:r1] = np.asarray(band)
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    # OpenSlide returns un-premultiplied RGBA; put partly / fully transparent pixels on white.
    rgb = (rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    return Overview(
        rgb=rgb,
        scanned=rgba[..., 3] > 0,
        level=level,
        downsample_x=slide.dimensions[0] / ow,
        downsample_y=slide.dimensions[1] / oh,
    )
