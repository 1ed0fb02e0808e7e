"""Tissue detection on a low-resolution overview: Otsu on HSV saturation, then clean-up.

Stained tissue is coloured (high saturation); glass and background are white or grey (low
saturation). Otsu picks the split between the two populations; a floor on the threshold keeps a
blank slide (one population: glass) from being split into "tissue" noise. Connected specks
smaller than `min_object_fraction` of the image are dropped and small holes inside tissue filled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.filters import threshold_otsu
from skimage.measure import label

from pathkg.wsi.overview import Overview

METHOD = "otsu_saturation"


@dataclass(frozen=True)
class TissueDetection:
    mask: np.ndarray  # (H, W) bool, same grid as the overview
    threshold: float
    tissue_fraction: float


def _drop_small_components(mask: np.ndarray, max_size: int) -> np.ndarray:
    """Remove connected components (8-connected) of at most `max_size` pixels."""
    if max_size < 1 or not mask.any():
        return mask
    labels = label(mask, connectivity=2)
    sizes = np.bincount(labels.ravel())
    keep = sizes > max_size
    keep[0] = False
    return keep[labels]


def _fill_small_holes(mask: np.ndarray, max_size: int) -> np.ndarray:
    """Fill background components of at most `max_size` pixels that do not touch the border."""
    if max_size < 1 or mask.all():
        return mask
    labels = label(~mask, connectivity=1)
    sizes = np.bincount(labels.ravel())
    fill = sizes <= max_size
    fill[0] = False
    border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    fill[border] = False
    return mask | fill[labels]


def saturation(rgb: np.ndarray) -> np.ndarray:
    """HSV saturation, (max - min) / max per pixel, in [0, 1] (0 where the pixel is black)."""
    high = rgb.max(axis=2).astype(np.float32)
    low = rgb.min(axis=2).astype(np.float32)
    return np.divide(high - low, high, out=np.zeros_like(high), where=high > 0)


def detect_tissue(
    overview: Overview,
    min_saturation: float = 0.05,
    min_object_fraction: float = 0.0005,
    max_hole_fraction: float = 0.0005,
) -> TissueDetection:
    """The tissue mask of an overview image, its threshold and the tissue fraction of the slide."""
    sat = saturation(overview.rgb)
    values = sat[overview.scanned]
    threshold = float(min_saturation)
    if values.size and float(values.max()) > float(values.min()):
        threshold = max(threshold, float(threshold_otsu(values)))
    mask = (sat > threshold) & overview.scanned
    area = mask.size
    mask = _drop_small_components(mask, int(min_object_fraction * area))
    mask = _fill_small_holes(mask, int(max_hole_fraction * area)) & overview.scanned
    return TissueDetection(mask=mask, threshold=threshold, tissue_fraction=float(mask.mean()))
