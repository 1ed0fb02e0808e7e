"""Open a whole-slide image with OpenSlide, or say precisely why it cannot be opened.

OpenSlide answers every unopenable file with the same "Unsupported or missing image file"; the
pipeline needs to tell a missing file, a truncated slide, a plain (non-pyramidal) image and an
unknown format apart, so on refusal the file is examined (TIFF structure, image header).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import openslide
from PIL import Image, UnidentifiedImageError

from pathkg.wsi.slide_errors import (
    CorruptSlideError,
    NotPyramidalSlideError,
    SlideNotFoundError,
    UnsupportedSlideFormatError,
)
from pathkg.wsi.tiff_structure import is_tiff, read_tiff_layout

#: Slide formats stored as TIFF files: a non-TIFF header under one of these names means damage.
TIFF_BASED_SUFFIXES = {".svs", ".tif", ".tiff", ".ndpi", ".scn", ".bif", ".svslide"}


def open_slide(path: Path) -> openslide.OpenSlide:
    """Open `path` with OpenSlide. Raises a `SlideError` subclass naming the file and the reason."""
    path = Path(path)
    if not path.exists():
        raise SlideNotFoundError(f"slide {path}: file does not exist")
    if not path.is_file():
        raise SlideNotFoundError(f"slide {path}: not a regular file")
    try:
        return openslide.OpenSlide(str(path))
    except openslide.OpenSlideUnsupportedFormatError:
        raise diagnose_unopenable(path) from None
    except openslide.OpenSlideError as exc:
        raise CorruptSlideError(f"slide {path}: OpenSlide cannot read it: {exc}") from None


@contextlib.contextmanager
def opened_slide(path: Path) -> Iterator[openslide.OpenSlide]:
    slide = open_slide(path)
    try:
        yield slide
    finally:
        slide.close()


def diagnose_unopenable(path: Path) -> Exception:
    """The error that explains why OpenSlide refused `path` (an existing file)."""
    size = path.stat().st_size
    if size == 0:
        return CorruptSlideError(f"slide {path}: the file is empty (0 bytes)")
    if is_tiff(path):
        layout = read_tiff_layout(path)
        if layout.problem is not None:
            return CorruptSlideError(f"slide {path}: truncated or damaged TIFF: {layout.problem}")
        first = layout.pages[0]
        dims = f"{first.width}×{first.height}" if first.width and first.height else "unknown size"
        if not layout.any_tiled:
            return NotPyramidalSlideError(
                f"slide {path}: a plain (stripped, untiled) TIFF image of {dims} with {len(layout.pages)} "
                "page(s), not a pyramidal whole-slide image; convert it to a tiled pyramid "
                "(e.g. `vips tiffsave --tile --pyramid`)"
            )
        return UnsupportedSlideFormatError(
            f"slide {path}: an intact tiled TIFF ({dims}) that OpenSlide does not recognise as a slide format"
        )
    try:
        with Image.open(path) as im:
            fmt, dims = im.format, f"{im.width}×{im.height}"
    except (UnidentifiedImageError, OSError):
        fmt = None
    if fmt is not None:
        return NotPyramidalSlideError(f"slide {path}: a plain {fmt} image of {dims}, not a pyramidal whole-slide image")
    if path.suffix.lower() in TIFF_BASED_SUFFIXES:
        with open(path, "rb") as fh:
            head = fh.read(8)
        return CorruptSlideError(
            f"slide {path}: a {path.suffix} slide must be a TIFF file, but it starts with bytes {head!r}"
        )
    return UnsupportedSlideFormatError(
        f"slide {path}: not a slide format OpenSlide reads ({path.suffix or 'no extension'}, {size} bytes)"
    )
