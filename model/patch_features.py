"""Patch-feature bags for SlideChat-style models: a CLAM-style grid of tissue patches per slide,
encoded by a pluggable patch encoder, written to HDF5 as `features` (N, D) and `coords` (N, 2).

    features   float32 (N, D)   one row per tissue patch
    coords     int64   (N, 2)   level-0 (x, y) of each patch's top-left corner
    attrs      slide, patch_size, level, downsample, encoder, feature_dim, tissue_threshold

Encoders: any torchvision backbone (`torchvision:resnet18`) or timm model (`timm:NAME`) with weights
from a local checkpoint (nothing is downloaded), or `tiny` — a small random CNN for tests. Patches
are read level by level in batches, so memory stays bounded on large slides.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pathkg.wsi.overview import read_overview
from pathkg.wsi.slide_file import opened_slide
from pathkg.wsi.tissue_mask import detect_tissue

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class PatchEncoder:
    """Encodes a batch of RGB patches (B, H, W, 3) uint8 into features (B, D) float32."""

    name: str
    module: Any  # torch.nn.Module
    dim: int
    input_size: int = 224

    def __call__(self, patches: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(patches).permute(0, 3, 1, 2).float() / 255.0
        if x.shape[-1] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        with torch.inference_mode():
            out = self.module((x - mean) / std)
        return out.reshape(out.shape[0], -1).float().numpy()


def tiny_encoder(dim: int = 32, seed: int = 0) -> PatchEncoder:
    """A small random CNN (for tests and smoke runs): real convolutions, untrained weights."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    module = nn.Sequential(
        nn.Conv2d(3, 16, 7, stride=4),
        nn.ReLU(),
        nn.Conv2d(16, dim, 3, stride=2),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
    ).eval()
    return PatchEncoder(f"tiny-random-cnn-{dim}-seed{seed}", module, dim, input_size=64)


def load_encoder(spec: str, checkpoint: Path | None = None) -> PatchEncoder:
    """`tiny`, `torchvision:ARCH` or `timm:NAME`; weights from `checkpoint` (a state dict) when given."""
    import torch

    if spec == "tiny":
        return tiny_encoder()
    kind, _, name = spec.partition(":")
    if kind == "torchvision":
        import torchvision

        module = torchvision.models.get_model(name, weights=None)
        if hasattr(module, "fc"):
            module.fc = torch.nn.Identity()
        elif hasattr(module, "classifier"):
            module.classifier = torch.nn.Identity()
    elif kind == "timm":
        try:
            import timm
        except ImportError as exc:
            raise RuntimeError("timm encoders need `pip install timm`") from exc
        module = timm.create_model(name, pretrained=False, num_classes=0)
    else:
        raise ValueError(f"unknown encoder {spec!r}; use tiny, torchvision:ARCH or timm:NAME")
    if checkpoint is not None:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        missing, unexpected = module.load_state_dict(state.get("state_dict", state), strict=False)
        log.info("encoder %s from %s (%d missing, %d unexpected keys)", spec, checkpoint, len(missing), len(unexpected))
    else:
        log.warning("encoder %s has random weights (no --checkpoint): features are for smoke runs only", spec)
    module.eval()
    with torch.inference_mode():
        dim = int(module(torch.zeros(1, 3, 224, 224)).reshape(1, -1).shape[1])
    return PatchEncoder(f"{spec}{'' if checkpoint is None else '@' + Path(checkpoint).name}", module, dim)


@dataclass(frozen=True)
class PatchGrid:
    coords: np.ndarray  # (N, 2) level-0 x, y
    level: int
    patch_size: int  # pixels at `level`
    downsample: float
    tissue_threshold: float


def tissue_grid(slide: Any, patch_size: int = 256, level: int = 0, min_tissue: float = 0.5) -> PatchGrid:
    """Non-overlapping patches at `level` whose tissue fraction (on the overview mask) is ≥ `min_tissue`."""
    overview = read_overview(slide, 2048)
    tissue = detect_tissue(overview)
    level = min(level, slide.level_count - 1)
    ds = float(slide.level_downsamples[level])
    w0, h0 = slide.dimensions
    step0 = patch_size * ds  # patch extent in level-0 pixels
    mh, mw = tissue.mask.shape
    coords = []
    for y in np.arange(0, h0 - step0 + 1, step0):
        for x in np.arange(0, w0 - step0 + 1, step0):
            x0, x1 = int(x / w0 * mw), max(int(x / w0 * mw) + 1, int((x + step0) / w0 * mw))
            y0, y1 = int(y / h0 * mh), max(int(y / h0 * mh) + 1, int((y + step0) / h0 * mh))
            if tissue.mask[y0:y1, x0:x1].mean() >= min_tissue:
                coords.append((int(x), int(y)))
    arr = np.asarray(coords, dtype=np.int64).reshape(-1, 2)
    return PatchGrid(arr, level, patch_size, ds, tissue.threshold)


def _batches(slide: Any, grid: PatchGrid, batch_size: int) -> Iterator[np.ndarray]:
    for i in range(0, len(grid.coords), batch_size):
        patches = []
        for x, y in grid.coords[i : i + batch_size]:
            region = slide.read_region((int(x), int(y)), grid.level, (grid.patch_size, grid.patch_size))
            rgba = np.asarray(region, dtype=np.uint8)
            alpha = rgba[..., 3:4].astype(np.float32) / 255.0  # unscanned areas on white
            patches.append((rgba[..., :3] * alpha + 255 * (1 - alpha)).astype(np.uint8))
        yield np.stack(patches)


def extract_features(
    slide_path: Path,
    out_path: Path,
    encoder: PatchEncoder,
    patch_size: int = 256,
    level: int = 0,
    min_tissue: float = 0.5,
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the slide's feature bag to `out_path` (atomically); returns the number of patches."""
    import h5py

    with opened_slide(Path(slide_path)) as slide:
        grid = tissue_grid(slide, patch_size, level, min_tissue)
        feats = np.zeros((len(grid.coords), encoder.dim), dtype=np.float32)
        done = 0
        for batch in _batches(slide, grid, batch_size):
            feats[done : done + len(batch)] = encoder(batch)
            done += len(batch)
            if progress is not None:
                progress(done, len(grid.coords))
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.tmp")
    with h5py.File(tmp, "w") as h5:
        h5.create_dataset("features", data=feats)
        h5.create_dataset("coords", data=grid.coords)
        h5.attrs.update(
            slide=str(slide_path),
            patch_size=patch_size,
            level=grid.level,
            downsample=grid.downsample,
            encoder=encoder.name,
            feature_dim=encoder.dim,
            tissue_threshold=grid.tissue_threshold,
        )
    os.replace(tmp, out_path)
    log.info("%s: %d patches × %d features → %s", slide_path, len(feats), encoder.dim, out_path)
    return len(feats)
