"""Slide properties from OpenSlide's metadata, with an honest account of what is missing.

The magnification of level 0 is taken from the recorded objective power. Without it, and only
with a recorded microns-per-pixel, it is derived by the usual convention (a 10× objective
images about 1 µm per pixel, 20× about 0.5, 40× about 0.25: magnification ≈ 10 / mpp),
and only when that lands within 15 % of a standard objective. Otherwise it stays None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import openslide

from schemas.slide import AssociatedImage, SlideLevel, SlideProperties

STANDARD_OBJECTIVES = (1.25, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 63.0, 80.0, 100.0)
#: Relative tolerance for snapping 10 / mpp to a standard objective.
MPP_SNAP_TOLERANCE = 0.15
#: The 10 / mpp convention (µm per pixel at 1×, for a typical scanner camera).
MICRONS_AT_1X = 10.0


def _positive_float(props: Mapping[str, str], key: str) -> float | None:
    raw = props.get(key)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def magnification_from_mpp(mpp: float) -> float | None:
    """The standard objective that `mpp` (µm per level-0 pixel) implies, or None if none fits."""
    estimate = MICRONS_AT_1X / mpp
    nearest = min(STANDARD_OBJECTIVES, key=lambda m: abs(m - estimate) / m)
    return nearest if abs(nearest - estimate) / nearest <= MPP_SNAP_TOLERANCE else None


def read_properties(slide: openslide.OpenSlide) -> SlideProperties:
    """Vendor, levels, mpp, objective power, base magnification, associated images, what is missing."""
    props = slide.properties
    mpp_x = _positive_float(props, openslide.PROPERTY_NAME_MPP_X)
    mpp_y = _positive_float(props, openslide.PROPERTY_NAME_MPP_Y)
    power = _positive_float(props, openslide.PROPERTY_NAME_OBJECTIVE_POWER)
    missing = []
    if mpp_x is None or mpp_y is None:
        missing.append("mpp")
    if power is None:
        missing.append("objective_power")

    base: float | None = None
    source = None
    if power is not None:
        base, source = power, "objective_power"
    elif mpp_x is not None:
        base = magnification_from_mpp(mpp_x if mpp_y is None else (mpp_x + mpp_y) / 2)
        source = "mpp" if base is not None else None

    associated = []
    for name in sorted(slide.associated_images.keys()):
        w = props.get(f"openslide.associated.{name}.width")
        h = props.get(f"openslide.associated.{name}.height")
        associated.append(AssociatedImage(name=name, width=int(w) if w else None, height=int(h) if h else None))

    levels = [
        SlideLevel(level=i, width=w, height=h, downsample=float(ds))
        for i, ((w, h), ds) in enumerate(zip(slide.level_dimensions, slide.level_downsamples, strict=True))
    ]
    width, height = slide.dimensions
    return SlideProperties(
        vendor=props.get(openslide.PROPERTY_NAME_VENDOR),
        level_count=slide.level_count,
        levels=levels,
        width=width,
        height=height,
        mpp_x=mpp_x,
        mpp_y=mpp_y,
        objective_power=power,
        base_magnification=base,
        magnification_source=source,
        missing=missing,
        associated_images=associated,
        quickhash=props.get(openslide.PROPERTY_NAME_QUICKHASH1),
    )


def property_flags(properties: SlideProperties) -> list[str]:
    """Flags for a record: what is missing, and whether the magnification is known / derived."""
    flags = [f"{name}_missing" for name in properties.missing]
    if properties.base_magnification is None:
        flags.append("magnification_unknown")
    elif properties.magnification_source == "mpp":
        flags.append("magnification_from_mpp")
    if properties.objective_power is not None and properties.mpp_x is not None:
        implied = magnification_from_mpp(properties.mpp_x)
        if implied is not None and implied != properties.objective_power:
            flags.append("mpp_disagrees_with_objective_power")
    return flags
