"""One whole-slide image of a case, as the `slides` stage emits it: properties, tissue, images.

Every coordinate is in level-0 pixels (what OpenSlide's `read_region` takes). Image paths are
relative to the run directory. A magnification is None when the slide does not say enough to
know it (no objective power and no usable microns-per-pixel): it is never guessed.
"""

from typing import Literal

from pydantic import Field

from schemas.record import Record
from schemas.sample import ImageRef


class SlideLevel(Record):
    level: int
    width: int
    height: int
    downsample: float = Field(description="Level-0 pixels per pixel of this level.")


class AssociatedImage(Record):
    """An image stored beside the pyramid (label, macro, thumbnail). Listed, never exported:
    a label or macro photo can carry a patient's name."""

    name: str
    width: int | None = None
    height: int | None = None


class SlideProperties(Record):
    vendor: str | None = Field(default=None, description="OpenSlide's vendor name, e.g. 'aperio'.")
    level_count: int
    levels: list[SlideLevel]
    width: int = Field(description="Level-0 width in pixels.")
    height: int = Field(description="Level-0 height in pixels.")
    mpp_x: float | None = Field(default=None, description="Microns per level-0 pixel along x; None if unknown.")
    mpp_y: float | None = Field(default=None, description="Microns per level-0 pixel along y; None if unknown.")
    objective_power: float | None = Field(default=None, description="Scanner objective power, if recorded.")
    base_magnification: float | None = Field(
        default=None, description="Magnification of level 0 (objective power, or derived from mpp); None if unknown."
    )
    magnification_source: Literal["objective_power", "mpp"] | None = Field(
        default=None,
        description="'objective_power': as recorded; 'mpp': 10 µm / mpp snapped to a standard objective "
        "(within 15 %); None: unknown.",
    )
    missing: list[str] = Field(
        default_factory=list, description="Metadata the slide lacks, e.g. ['mpp', 'objective_power']."
    )
    associated_images: list[AssociatedImage] = Field(default_factory=list)
    quickhash: str | None = Field(default=None, description="OpenSlide's quickhash-1 of the slide.")


class TissueMask(Record):
    path: str = Field(description="The mask as a PNG (white = tissue), relative to the run directory.")
    method: str = Field(description="How tissue was found, e.g. 'otsu_saturation'.")
    level: int = Field(description="Pyramid level the overview was read from.")
    downsample: float = Field(description="Level-0 pixels per mask pixel (along x).")
    width: int
    height: int
    threshold: float = Field(description="Saturation threshold used (Otsu, floored at the configured minimum).")
    tissue_fraction: float = Field(ge=0, le=1)


class SlideTile(Record):
    """One ROI tile: its image (level, magnification, x, y, size) and how it was chosen."""

    image: ImageRef
    scale: str = Field(description="Scale label: '20x', or 'ds4' (downsample 4) when magnification is unknown.")
    index: int = Field(description="Position of the tile within its scale.")
    target_downsample: float = Field(description="Level-0 pixels per tile pixel.")
    read_width: int = Field(description="Width read from the level before resizing to the tile size.")
    read_height: int
    tissue_fraction: float = Field(ge=0, le=1, description="Fraction of the tile inside the tissue mask.")


class SlideRecord(Record):
    case_id: str
    patient_id: str
    project: str | None = None
    slide_path: str = Field(description="Absolute path of the slide file.")
    slide_name: str = Field(description="Slide file name; identifies the slide within the case.")
    file_size: int
    properties: SlideProperties
    tissue_fraction: float = Field(ge=0, le=1, description="Fraction of the slide area that is tissue.")
    tissue_mask: TissueMask
    thumbnail: ImageRef
    tiles: list[SlideTile] = Field(default_factory=list)
    overlay_path: str | None = Field(
        default=None, description="The thumbnail with the tissue outline and the tiles' boxes drawn on it (for review)."
    )
    flags: list[str] = Field(
        default_factory=list,
        description="Non-fatal findings, e.g. 'mpp_missing', 'magnification_unknown', 'no_tiles:5x'.",
    )
