"""One slide, end to end: open, read properties, find tissue, save thumbnail, mask and tiles.

`process_slide` is what the `slides` stage runs per slide; it returns a `SlideRecord` or raises a
`SlideError` subclass (missing file, corrupt slide, plain image, no tissue) that names the file.
Files go under `slide_dir` (inside the run directory) and are written atomically in one batch;
files a previous attempt left there that this one did not write are removed.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pathkg.io.atomic_batch import AtomicBatch
from pathkg.wsi.overview import read_overview
from pathkg.wsi.slide_errors import NoTissueError
from pathkg.wsi.slide_file import opened_slide
from pathkg.wsi.slide_properties import property_flags, read_properties
from pathkg.wsi.tile_overlay import draw_overlay
from pathkg.wsi.tile_selection import resolve_scales, select_tiles
from pathkg.wsi.tiles import TileFormat, encode_image, extract_tiles
from pathkg.wsi.tissue_mask import METHOD, detect_tissue
from schemas.sample import ImageRef
from schemas.slide import SlideRecord, TissueMask

THUMBNAIL_NAME = "thumbnail.jpg"
MASK_NAME = "tissue_mask.png"
OVERLAY_NAME = "tiles_overlay.jpg"


class SlideSettings(BaseModel):
    """How slides are processed. Every field changes the output, so all of them key the stage."""

    model_config = ConfigDict(extra="forbid")

    tile_size: int = Field(default=256, ge=16, le=4096, description="Tile side in pixels (saved image size).")
    tiles_per_scale: int = Field(default=8, ge=0, description="Tiles chosen at each scale (fewer if less tissue).")
    magnifications: list[float] = Field(
        default_factory=lambda: [20.0, 5.0], min_length=1, description="Tile magnifications when the slide's is known."
    )
    fallback_downsamples: list[float] = Field(
        default_factory=lambda: [1.0, 4.0],
        min_length=1,
        description="Scales (level-0 pixels per tile pixel) used when the slide's magnification is unknown; "
        "those tiles carry magnification None.",
    )
    seed: int = Field(default=0, description="Seed of the reproducible tile choice.")
    min_tile_tissue: float = Field(default=0.5, ge=0, le=1, description="Least tissue fraction inside a tile.")
    overview_size: int = Field(
        default=1024, ge=64, le=8192, description="Long side of the overview (mask and thumbnail) in pixels."
    )
    min_saturation: float = Field(default=0.05, ge=0, le=1, description="Floor of the Otsu saturation threshold.")
    min_object_fraction: float = Field(
        default=0.0005, ge=0, le=1, description="Tissue specks up to this fraction of the overview are dropped."
    )
    min_tissue_fraction: float = Field(
        default=0.001, ge=0, le=1, description="A slide with less tissue than this fails with NoTissueError."
    )
    tile_format: TileFormat = "jpeg"
    jpeg_quality: int = Field(default=90, ge=1, le=100)

    @model_validator(mode="after")
    def _positive_scales(self) -> SlideSettings:
        if any(m <= 0 for m in self.magnifications) or any(d < 1 for d in self.fallback_downsamples):
            raise ValueError("magnifications must be > 0 and fallback_downsamples >= 1")
        if len(set(self.magnifications)) < len(self.magnifications) or len(set(self.fallback_downsamples)) < len(
            self.fallback_downsamples
        ):
            raise ValueError("magnifications and fallback_downsamples must not repeat a value")
        return self


def _png_mask(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255, mode="L").save(buf, "PNG", optimize=False)
    return buf.getvalue()


def _remove_leftovers(slide_dir: Path, keep: set[Path]) -> None:
    tiles_dir = slide_dir / "tiles"
    if not tiles_dir.is_dir():
        return
    for path in tiles_dir.rglob("*"):
        if path.is_file() and path not in keep:
            path.unlink(missing_ok=True)


def process_slide(
    path: Path,
    slide_dir: Path,
    run_dir: Path,
    settings: SlideSettings,
    case_id: str,
    patient_id: str,
    project: str | None = None,
) -> SlideRecord:
    """Process one slide into `slide_dir` (a folder inside `run_dir`); see the module docstring."""
    path = Path(path)
    run_dir = Path(run_dir)
    rel_dir = slide_dir.relative_to(run_dir)
    with opened_slide(path) as slide:
        properties = read_properties(slide)
        flags = property_flags(properties)
        overview = read_overview(slide, settings.overview_size, slide_name=str(path))
        tissue = detect_tissue(overview, settings.min_saturation, settings.min_object_fraction)
        if tissue.tissue_fraction < settings.min_tissue_fraction:
            raise NoTissueError(
                f"slide {path}: no tissue detected: tissue fraction {tissue.tissue_fraction:.4%} is below the "
                f"minimum {settings.min_tissue_fraction:.4%} (saturation threshold {tissue.threshold:.3f} on a "
                f"{overview.size[0]}×{overview.size[1]} overview of level {overview.level})"
            )
        scales, scale_flags = resolve_scales(
            properties, settings.magnifications, settings.fallback_downsamples, settings.tile_size
        )
        flags.extend(scale_flags)
        with AtomicBatch() as batch:
            plans = []
            for scale in scales:
                chosen = select_tiles(
                    tissue.mask,
                    (overview.downsample_x, overview.downsample_y),
                    slide.dimensions,
                    scale,
                    settings.tiles_per_scale,
                    settings.min_tile_tissue,
                    settings.seed,
                    path.name,
                )
                if not chosen and settings.tiles_per_scale > 0:
                    flags.append(f"no_tiles:{scale.label}")
                elif len(chosen) < settings.tiles_per_scale:
                    flags.append(f"few_tiles:{scale.label}")
                plans.extend(chosen)
            tiles = extract_tiles(
                slide,
                plans,
                settings.tile_size,
                slide_dir,
                run_dir,
                batch,
                settings.tile_format,
                settings.jpeg_quality,
                slide_name=str(path),
            )
            batch.write_bytes(slide_dir / THUMBNAIL_NAME, encode_image(Image.fromarray(overview.rgb), "jpeg", 90))
            batch.write_bytes(slide_dir / MASK_NAME, _png_mask(tissue.mask))
            overlay = draw_overlay(
                overview.rgb,
                tissue.mask,
                tiles,
                (overview.downsample_x, overview.downsample_y),
                {s.label: s.extent for s in scales},
            )
            batch.write_bytes(slide_dir / OVERLAY_NAME, encode_image(overlay, "jpeg", 90))
        _remove_leftovers(slide_dir, set(batch.written))

    base = properties.base_magnification
    ow, oh = overview.size
    thumb_mag = round(base / overview.downsample_x, 3) if base is not None else None
    return SlideRecord(
        case_id=case_id,
        patient_id=patient_id,
        project=project,
        slide_path=str(path.resolve()),
        slide_name=path.name,
        file_size=path.stat().st_size,
        properties=properties,
        tissue_fraction=round(tissue.tissue_fraction, 6),
        tissue_mask=TissueMask(
            path=str(rel_dir / MASK_NAME),
            method=METHOD,
            level=overview.level,
            downsample=round(overview.downsample_x, 6),
            width=ow,
            height=oh,
            threshold=round(tissue.threshold, 6),
            tissue_fraction=round(tissue.tissue_fraction, 6),
        ),
        thumbnail=ImageRef(
            path=str(rel_dir / THUMBNAIL_NAME),
            kind="thumbnail",
            level=overview.level,
            magnification=thumb_mag,
            x=0,
            y=0,
            width=ow,
            height=oh,
        ),
        tiles=tiles,
        overlay_path=str(rel_dir / OVERLAY_NAME),
        flags=flags,
    )
