"""Why a slide could not be used. Each reason is its own type, so a run's failure table says it.

All derive from `SlideError` (a ValueError); every message names the slide file.
"""

from __future__ import annotations


class SlideError(ValueError):
    """A slide file that cannot be turned into a record."""


class SlideNotFoundError(SlideError):
    """The slide path does not exist or is not a regular file."""


class CorruptSlideError(SlideError):
    """The file is damaged: truncated, its TIFF structure points past its end, or tile data fails to decode."""


class NotPyramidalSlideError(SlideError):
    """A readable plain image (e.g. a stripped TIFF, a PNG), not a whole-slide image OpenSlide can read."""


class UnsupportedSlideFormatError(SlideError):
    """Neither OpenSlide nor a TIFF / image reader recognises the file."""


class NoTissueError(SlideError):
    """Tissue detection found no (or too little) tissue on the slide."""
