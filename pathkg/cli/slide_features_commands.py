"""`pathkg slides features SLIDE… --out DIR`: patch-feature bags (HDF5) for SlideChat-style models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from pathkg.cli.logging_setup import configure

stdout = Console()


def features(
    slides: list[Path] = typer.Argument(..., help="Slide files (any format OpenSlide reads)."),
    out: Path = typer.Option(..., "--out", help="Folder for one {slide}.h5 per slide."),
    encoder: str = typer.Option("tiny", help="tiny | torchvision:ARCH | timm:NAME (weights via --checkpoint)."),
    checkpoint: Path | None = typer.Option(None, help="A local state dict for the encoder (nothing is downloaded)."),
    patch_size: int = typer.Option(256, help="Patch side in pixels at --level."),
    level: int = typer.Option(0, help="Pyramid level the patches are read at."),
    min_tissue: float = typer.Option(0.5, help="Least tissue fraction of a kept patch."),
    batch_size: int = typer.Option(32),
    clusters: int = typer.Option(0, help="Also store k-means pseudo-bag labels with this many clusters (0: no)."),
) -> None:
    """A CLAM-style grid of tissue patches per slide, encoded, with coordinates, in HDF5."""
    configure()
    from model.patch_features import extract_features, load_encoder
    from model.pseudo_bags import write_cluster_labels
    from pathkg.wsi.slide_errors import SlideError

    enc = load_encoder(encoder, checkpoint)
    failed = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stdout) as progress:
        for slide in slides:
            task = progress.add_task(slide.name, total=None)
            target = out / f"{slide.stem}.h5"
            try:
                n = extract_features(
                    slide,
                    target,
                    enc,
                    patch_size,
                    level,
                    min_tissue,
                    batch_size,
                    progress=lambda done, total, t=task: progress.update(t, completed=done, total=total),
                )
            except SlideError as exc:
                failed += 1
                stdout.print(f"[red]{slide}: {exc}")
                continue
            if clusters and n >= 2:
                write_cluster_labels(target, clusters)
            stdout.print(f"{slide.name}: {n} patches → {target}")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(features)
