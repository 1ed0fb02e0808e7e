"""A JSON-ready description of one slide (what `pathkg slides inspect` prints); writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pathkg.wsi.overview import read_overview
from pathkg.wsi.slide_file import opened_slide
from pathkg.wsi.slide_properties import property_flags, read_properties
from pathkg.wsi.tissue_mask import METHOD, detect_tissue


def inspect_slide(path: Path, tissue: bool = True, overview_size: int = 512, raw: bool = False) -> dict[str, Any]:
    """Properties, flags and (optionally) the tissue fraction of a slide.

    Raises a `pathkg.wsi.slide_errors.SlideError` subclass when the slide cannot be read.
    `raw` adds OpenSlide's raw property map, which can hold identifying text (file names,
    scanner user ids, dates): keep it on the machine.
    """
    path = Path(path)
    with opened_slide(path) as slide:
        properties = read_properties(slide)
        out: dict[str, Any] = {
            "path": str(path.resolve()),
            "file_size": path.stat().st_size,
            "properties": properties.model_dump(mode="json"),
            "flags": property_flags(properties),
        }
        if tissue:
            overview = read_overview(slide, overview_size, slide_name=str(path))
            found = detect_tissue(overview)
            out["tissue"] = {
                "method": METHOD,
                "tissue_fraction": round(found.tissue_fraction, 6),
                "threshold": round(found.threshold, 6),
                "overview_level": overview.level,
                "overview_width": overview.size[0],
                "overview_height": overview.size[1],
            }
        if raw:
            out["raw_properties"] = dict(slide.properties)
    return out
