"""Where to cut ROI tiles: the scales a slide supports, and grid cells inside tissue at each scale.

A scale is a requested magnification when the slide's base magnification is known, else a
downsample relative to level 0 (the tiles then carry no magnification). Each scale is read from
the level closest below it and resized, so a 5× tile of a 20× single-level slide is a 4× area
reduction of a 1024-pixel region. Magnifications above the base are skipped, never upsampled.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from schemas.slide import SlideProperties

#: A level whose downsample is within this relative distance of the target is read as is.
LEVEL_TOLERANCE = 0.01


@dataclass(frozen=True)
class TileScale:
    label: str  # "20x", or "ds4" when the magnification is unknown
    magnification: float | None  # magnification of the saved tile pixels; None when unknown
    target_downsample: float  # level-0 pixels per saved tile pixel
    level: int
    level_downsample: float
    read_size: int  # square region read at `level`, resized to the tile size when different

    @property
    def extent(self) -> float:
        """Level-0 pixels covered by one tile along each axis."""
        return self.read_size * self.level_downsample


@dataclass(frozen=True)
class TilePlan:
    scale: TileScale
    index: int
    x: int  # level 0
    y: int
    tissue_fraction: float


def _label(value: float, suffix: str) -> str:
    text = f"{value:g}"
    return f"{text}{suffix}" if suffix == "x" else f"{suffix}{text}"


def _level_for(properties: SlideProperties, target_downsample: float) -> tuple[int, float]:
    best = 0
    for lv in properties.levels:
        if (
            lv.downsample <= target_downsample * (1 + LEVEL_TOLERANCE)
            and lv.downsample >= properties.levels[best].downsample
        ):
            best = lv.level
    return best, properties.levels[best].downsample


def resolve_scales(
    properties: SlideProperties,
    magnifications: Sequence[float],
    fallback_downsamples: Sequence[float],
    tile_size: int,
) -> tuple[list[TileScale], list[str]]:
    """The scales to tile this slide at, and flags for requested scales it cannot honour."""
    base = properties.base_magnification
    flags: list[str] = []
    if base is not None:
        wanted = [(_label(m, "x"), base / m) for m in magnifications]
    else:
        wanted = [(_label(d, "ds"), float(d)) for d in fallback_downsamples]
    scales = []
    for label, target in wanted:
        if target < 1 - LEVEL_TOLERANCE:
            flags.append(f"above_base_magnification:{label}")
            continue
        level, level_ds = _level_for(properties, target)
        ratio = target / level_ds
        read = tile_size if abs(ratio - 1) <= LEVEL_TOLERANCE else round(tile_size * ratio)
        effective = level_ds * read / tile_size
        magnification = round(base / effective, 3) if base is not None else None
        scales.append(TileScale(label, magnification, effective, level, level_ds, read))
    return scales, flags


def _rng(seed: int, slide_name: str, label: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(f"{slide_name}|{label}".encode())])


def select_tiles(
    mask: np.ndarray,
    mask_downsample: tuple[float, float],
    slide_size: tuple[int, int],
    scale: TileScale,
    count: int,
    min_tissue: float,
    seed: int,
    slide_name: str,
) -> list[TilePlan]:
    """Up to `count` non-overlapping grid tiles whose tissue fraction is at least `min_tissue`.

    The choice among qualifying cells is random but reproducible: it depends only on `seed`,
    the slide name and the scale. Tiles come back in reading order (by y, then x).
    """
    width, height = slide_size
    extent = scale.extent
    nx, ny = int(width // extent), int(height // extent)
    if nx == 0 or ny == 0 or count <= 0:
        return []
    dsx, dsy = mask_downsample
    mh, mw = mask.shape
    integral = np.zeros((mh + 1, mw + 1), dtype=np.int64)
    integral[1:, 1:] = mask.astype(np.int64).cumsum(0).cumsum(1)
    xs = np.arange(nx) * extent
    ys = np.arange(ny) * extent
    c0 = np.clip(np.floor(xs / dsx).astype(int), 0, mw)
    c1 = np.clip(np.ceil((xs + extent) / dsx).astype(int), 0, mw)
    r0 = np.clip(np.floor(ys / dsy).astype(int), 0, mh)
    r1 = np.clip(np.ceil((ys + extent) / dsy).astype(int), 0, mh)
    sums = (
        integral[r1[:, None], c1[None, :]]
        - integral[r0[:, None], c1[None, :]]
        - integral[r1[:, None], c0[None, :]]
        + integral[r0[:, None], c0[None, :]]
    )
    areas = np.maximum((r1 - r0)[:, None] * (c1 - c0)[None, :], 1)
    fraction = sums / areas
    rows, cols = np.nonzero(fraction >= min_tissue)
    if rows.size == 0:
        return []
    pick = _rng(seed, slide_name, scale.label).choice(rows.size, size=min(count, rows.size), replace=False)
    chosen = sorted(zip(rows[pick].tolist(), cols[pick].tolist(), strict=True))
    return [
        TilePlan(scale, i, math.floor(c * extent), math.floor(r * extent), round(float(fraction[r, c]), 4))
        for i, (r, c) in enumerate(chosen)
    ]
