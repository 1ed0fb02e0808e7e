"""A picture of what the stage chose: the thumbnail with the tissue outline and every tile's box.

Reviewers read this at a glance (is the mask on the tissue? are the tiles on it?) instead of
checking coordinates; each scale has its own colour, listed in the corner.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw
from skimage.segmentation import find_boundaries

from schemas.slide import SlideTile

OUTLINE = (0, 200, 0)
SCALE_COLOURS = [(230, 30, 30), (30, 90, 230), (240, 160, 0), (150, 0, 200), (0, 170, 170)]


def draw_overlay(
    rgb: np.ndarray,
    mask: np.ndarray,
    tiles: list[SlideTile],
    downsample: tuple[float, float],
    extents: dict[str, float],
) -> Image.Image:
    """`rgb` / `mask`: the overview; `downsample`: level-0 pixels per overview pixel (x, y);
    `extents`: level-0 pixels covered by a tile of each scale label."""
    canvas = rgb.copy()
    canvas[find_boundaries(mask, mode="inner")] = OUTLINE
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    labels = list(dict.fromkeys(t.scale for t in tiles))
    colours = {label: SCALE_COLOURS[i % len(SCALE_COLOURS)] for i, label in enumerate(labels)}
    dsx, dsy = downsample
    for tile in tiles:
        x0, y0 = tile.image.x / dsx, tile.image.y / dsy  # type: ignore[operator]
        extent = extents[tile.scale]
        draw.rectangle([x0, y0, x0 + extent / dsx, y0 + extent / dsy], outline=colours[tile.scale], width=2)
    for i, label in enumerate(labels):
        draw.rectangle([4, 4 + 14 * i, 14, 14 + 14 * i], fill=colours[label])
        draw.text((18, 3 + 14 * i), label, fill=(0, 0, 0))
    return image
