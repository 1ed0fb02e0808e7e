"""Read planned tiles from a slide and save them as image files (atomically, in one batch).

Per tile: one OpenSlide `read_region` at the planned level, transparency flattened on white,
an area-average resize when the level is not exactly at the tile's scale, then JPEG (default)
or PNG encoding. The encoded bytes go through an `AtomicBatch`, committed by the caller.

Reading stays on the calling thread (one OpenSlide handle, tiles in reading order); flattening,
resizing, encoding and writing run on one helper thread, so the next region is decoded while
the previous tile is encoded (OpenSlide, Pillow and file I/O all release the GIL). At most
`MAX_PENDING` tiles wait for the helper, which bounds memory.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import openslide
from PIL import Image

from pathkg.io.atomic_batch import AtomicBatch
from pathkg.wsi.slide_errors import CorruptSlideError
from pathkg.wsi.tile_selection import TilePlan
from schemas.sample import ImageRef
from schemas.slide import SlideTile

TileFormat = Literal["jpeg", "png"]
SUFFIX = {"jpeg": ".jpg", "png": ".png"}
MAX_PENDING = 8


def flatten_on_white(region: Image.Image) -> Image.Image:
    """RGB of an RGBA region; areas OpenSlide marks transparent (outside the scan) become white."""
    if region.mode != "RGBA":
        return region.convert("RGB")
    alpha_min, _ = region.getchannel("A").getextrema()
    if alpha_min == 255:
        return region.convert("RGB")
    background = Image.new("RGB", region.size, (255, 255, 255))
    background.paste(region, mask=region.getchannel("A"))
    return background


def encode_image(image: Image.Image, fmt: TileFormat, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.save(buf, "JPEG", quality=quality)
    else:
        image.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def tile_relpath(plan: TilePlan, fmt: TileFormat) -> str:
    return f"tiles/{plan.scale.label}/{plan.index:04d}_x{plan.x}_y{plan.y}{SUFFIX[fmt]}"


def read_tile(slide: openslide.OpenSlide, plan: TilePlan, tile_size: int) -> Image.Image:
    """The tile's pixels as an RGB image of tile_size × tile_size (no file written)."""
    return finish_tile(read_region(slide, plan), plan, tile_size)


def read_region(slide: openslide.OpenSlide, plan: TilePlan, slide_name: str = "slide") -> Image.Image:
    scale = plan.scale
    try:
        return slide.read_region((plan.x, plan.y), scale.level, (scale.read_size, scale.read_size))
    except openslide.OpenSlideError as exc:
        raise CorruptSlideError(
            f"slide {slide_name}: tile data cannot be decoded at level {scale.level} ({plan.x}, {plan.y}): {exc}"
        ) from None


def finish_tile(region: Image.Image, plan: TilePlan, tile_size: int) -> Image.Image:
    image = flatten_on_white(region)
    read = plan.scale.read_size
    if read == tile_size:
        return image
    if read % tile_size == 0:
        return image.reduce(read // tile_size)  # box average; several times faster than resize
    return image.resize((tile_size, tile_size), Image.Resampling.BOX)


def _save_tile(
    region: Image.Image,
    plan: TilePlan,
    tile_size: int,
    slide_dir: Path,
    rel_dir: Path,
    batch: AtomicBatch,
    fmt: TileFormat,
    quality: int,
) -> SlideTile:
    rel = tile_relpath(plan, fmt)
    batch.write_bytes(slide_dir / rel, encode_image(finish_tile(region, plan, tile_size), fmt, quality))
    return SlideTile(
        image=ImageRef(
            path=str(rel_dir / rel),
            kind="tile",
            level=plan.scale.level,
            magnification=plan.scale.magnification,
            x=plan.x,
            y=plan.y,
            width=tile_size,
            height=tile_size,
        ),
        scale=plan.scale.label,
        index=plan.index,
        target_downsample=round(plan.scale.target_downsample, 6),
        read_width=plan.scale.read_size,
        read_height=plan.scale.read_size,
        tissue_fraction=plan.tissue_fraction,
    )


def extract_tiles(
    slide: openslide.OpenSlide,
    plans: Iterable[TilePlan],
    tile_size: int,
    slide_dir: Path,
    run_dir: Path,
    batch: AtomicBatch,
    fmt: TileFormat = "jpeg",
    quality: int = 90,
    slide_name: str = "slide",
    on_tile: Callable[[], None] | None = None,
) -> list[SlideTile]:
    """Read, encode and queue every planned tile in `batch`; returns their records in plan order.

    Paths in the records are relative to `run_dir`. Raises CorruptSlideError when OpenSlide
    cannot decode a region; files already queued stay uncommitted (the caller's batch aborts).
    """
    rel_dir = slide_dir.relative_to(run_dir)
    tiles: list[SlideTile] = []
    pending: deque[Future[SlideTile]] = deque()

    def take_one() -> None:
        tiles.append(pending.popleft().result())
        if on_tile is not None:
            on_tile()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="tile-writer") as helper:
        for plan in plans:
            region = read_region(slide, plan, slide_name)
            pending.append(helper.submit(_save_tile, region, plan, tile_size, slide_dir, rel_dir, batch, fmt, quality))
            if len(pending) >= MAX_PENDING:
                take_one()
        while pending:
            take_one()
    return tiles
