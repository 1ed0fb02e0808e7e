"""`pathkg slides inspect PATH`: what a whole-slide image holds, or why it cannot be read."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pathkg.wsi.slide_errors import SlideError
from pathkg.wsi.slide_inspection import inspect_slide

app = typer.Typer(help="Whole-slide images (OpenSlide): inspect properties and tissue.", no_args_is_help=True)
stdout = Console()
stderr = Console(stderr=True)


def _table(info: dict) -> Table:
    props = info["properties"]
    table = Table(title=info["path"], show_header=False)
    table.add_column("property")
    table.add_column("value")
    levels = ", ".join(
        f"{lv['level']}: {lv['width']}×{lv['height']} (÷{lv['downsample']:.4g})" for lv in props["levels"]
    )
    mpp = f"{props['mpp_x']} × {props['mpp_y']} µm/px" if props["mpp_x"] is not None else "[yellow]missing"
    power = f"{props['objective_power']:g}×" if props["objective_power"] is not None else "[yellow]missing"
    base = props["base_magnification"]
    base_text = f"{base:g}× (from {props['magnification_source']})" if base is not None else "[yellow]unknown"
    assoc = ", ".join(f"{a['name']} {a['width']}×{a['height']}" for a in props["associated_images"]) or "none"
    rows = [
        ("vendor", str(props["vendor"])),
        ("file size", f"{info['file_size']:,} bytes"),
        ("levels", f"{props['level_count']}: {levels}"),
        ("mpp", mpp),
        ("objective power", power),
        ("base magnification", base_text),
        ("associated images", assoc),
        ("flags", ", ".join(info["flags"]) or "none"),
    ]
    if "tissue" in info:
        t = info["tissue"]
        rows.append(
            (
                "tissue fraction",
                f"{t['tissue_fraction']:.2%} (threshold {t['threshold']:.3f}, level {t['overview_level']})",
            )
        )
    for key, value in rows:
        table.add_row(key, value)
    return table


@app.command()
def inspect(
    path: Path = typer.Argument(..., help="Slide file (any format OpenSlide reads)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    tissue: bool = typer.Option(True, "--tissue/--no-tissue", help="Also detect tissue on a low-resolution level."),
    raw: bool = typer.Option(False, "--raw", help="Include OpenSlide's raw property map (may hold identifying text)."),
) -> None:
    """Vendor, levels, mpp, objective power, associated images and tissue fraction of a slide.

    Exits 1 when the slide cannot be read; the error type (SlideNotFoundError, CorruptSlideError,
    NotPyramidalSlideError, UnsupportedSlideFormatError) and the reason are printed.
    """
    try:
        info = inspect_slide(path, tissue=tissue, raw=raw)
    except SlideError as exc:
        if as_json:
            typer.echo(json.dumps({"path": str(path), "error": {"type": type(exc).__name__, "message": str(exc)}}))
        else:
            stderr.print(f"[red]{type(exc).__name__}[/]: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(info, indent=2))
    else:
        stdout.print(_table(info))
