"""Tiles per second of the `slides` stage's tiling against raw OpenSlide `read_region` calls.

For each real slide in ../shared/data/slides (or $PATHKG_DATA/slides) the stage's tissue mask
and tile choice are computed once; then, in the same process and alternating order, each round
times
  - raw:   `read_region` of exactly those regions (same levels, same sizes), pixels discarded;
  - stage: `pathkg.wsi.tiles.extract_tiles` for the same tiles, i.e. read, flatten, resize,
           encode (JPEG q90, the stage default) and write atomically (one `AtomicBatch` commit),
each with a freshly opened slide so neither run finds the other's decoded tiles in OpenSlide's
cache. The median round of each is reported, and the ratio stage / raw (target >= 0.70); the
ratio of the best rounds is shown too, as it is less disturbed by other load on the machine.
A last line times the whole stage on one case holding both slides (mask, thumbnail, tiles).

    .venv/bin/python benchmarks/wsi_tiles.py [--rounds 15] [--tiles-per-scale 64]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import openslide
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from pathkg.io.atomic_batch import AtomicBatch
from pathkg.wsi.overview import read_overview
from pathkg.wsi.slide_processing import SlideSettings
from pathkg.wsi.slide_properties import read_properties
from pathkg.wsi.tile_selection import TilePlan, resolve_scales, select_tiles
from pathkg.wsi.tiles import extract_tiles
from pipelines.stage import StageContext
from pipelines.stages.slides import SlidesParams, SlidesStage
from schemas.case import Case

REPO = Path(__file__).resolve().parent.parent
SLIDES = ("cmu-1-small-region.svs", "tcga-cr-7395-01a-01-ts1.svs")


def plan_tiles(path: Path, settings: SlideSettings) -> list[TilePlan]:
    from pathkg.wsi.tissue_mask import detect_tissue

    with openslide.OpenSlide(str(path)) as slide:
        props = read_properties(slide)
        overview = read_overview(slide, settings.overview_size)
        tissue = detect_tissue(overview, settings.min_saturation, settings.min_object_fraction)
        scales, _ = resolve_scales(props, settings.magnifications, settings.fallback_downsamples, settings.tile_size)
        plans: list[TilePlan] = []
        for scale in scales:
            plans += select_tiles(
                tissue.mask,
                (overview.downsample_x, overview.downsample_y),
                slide.dimensions,
                scale,
                settings.tiles_per_scale,
                settings.min_tile_tissue,
                settings.seed,
                path.name,
            )
    return plans


def time_raw(path: Path, plans: list[TilePlan]) -> float:
    with openslide.OpenSlide(str(path)) as slide:
        t0 = time.perf_counter()
        for p in plans:
            slide.read_region((p.x, p.y), p.scale.level, (p.scale.read_size, p.scale.read_size))
        return time.perf_counter() - t0


def time_stage(path: Path, plans: list[TilePlan], settings: SlideSettings, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    with openslide.OpenSlide(str(path)) as slide:
        t0 = time.perf_counter()
        with AtomicBatch() as batch:
            extract_tiles(
                slide, plans, settings.tile_size, out / "slide", out, batch, settings.tile_format, settings.jpeg_quality
            )
        return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tiles-per-scale", type=int, default=64)
    args = parser.parse_args()
    data = Path(os.environ.get("PATHKG_DATA", REPO.parent / "shared" / "data")) / "slides"
    settings = SlideSettings(tiles_per_scale=args.tiles_per_scale)
    console = Console(width=140)
    table = Table(title=f"slides stage tiling vs raw read_region (median of {args.rounds} rounds)")
    for col in ("slide", "tiles", "scales", "raw tiles/s", "stage tiles/s", "stage / raw", "best / best"):
        table.add_column(col, justify="left" if col in ("slide", "scales") else "right")
    total_raw = total_stage = 0.0
    with tempfile.TemporaryDirectory(prefix="wsi-bench-") as tmp, Progress(console=console, transient=True) as bar:
        for name in SLIDES:
            path = data / name
            plans = plan_tiles(path, settings)
            raw, stage = [], []
            task = bar.add_task(name, total=args.rounds)
            time_raw(path, plans)  # warm the page cache and the decoder libraries once, untimed
            for r in range(args.rounds):
                if r % 2 == 0:
                    raw.append(time_raw(path, plans))
                    stage.append(time_stage(path, plans, settings, Path(tmp) / "tiles"))
                else:
                    stage.append(time_stage(path, plans, settings, Path(tmp) / "tiles"))
                    raw.append(time_raw(path, plans))
                bar.advance(task)
            t_raw, t_stage = statistics.median(raw), statistics.median(stage)
            total_raw += t_raw
            total_stage += t_stage
            n = len(plans)
            scales = ", ".join(
                sorted({f"{p.scale.label} (L{p.scale.level}, read {p.scale.read_size}px)" for p in plans})
            )
            best = min(raw) / min(stage)
            table.add_row(
                name, str(n), scales, f"{n / t_raw:.1f}", f"{n / t_stage:.1f}", f"{t_raw / t_stage:.2f}", f"{best:.2f}"
            )
        console.print(table)
        console.print(f"all slides: stage / raw = {total_raw / total_stage:.2f} (target >= 0.70)")

        case = Case(
            case_id="BENCH-1",
            patient_id="BENCH-1",
            slide_paths=[str(data / n) for n in SLIDES],
            report_text="benchmark case",
            report_sha256="-",
            source="bench",
        )
        stage_obj = SlidesStage(SlidesParams(), StageContext(Path(tmp) / "run", "bench", "slides"))
        t0 = time.perf_counter()
        records = stage_obj.process("BENCH-1", {"ingest": [case]})
        elapsed = time.perf_counter() - t0
        n_tiles = sum(len(r.tiles) for r in records)
        console.print(
            f"whole stage, default settings, one case with both slides: {n_tiles} tiles + thumbnail, mask and "
            f"overlay of each in {elapsed:.2f}s ({n_tiles / elapsed:.1f} tiles/s including tissue detection)"
        )


if __name__ == "__main__":
    main()
