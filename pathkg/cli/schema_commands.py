"""`pathkg schemas write|check`: the committed JSON Schema files of the data contracts."""

from __future__ import annotations

import typer

from schemas import CONTRACTS
from schemas.json_schema import JSON_DIR, render, write_all

app = typer.Typer(help="JSON Schema files of the data contracts (schemas/json/).", no_args_is_help=True)


@app.command()
def write() -> None:
    """Regenerate schemas/json/*.schema.json from the pydantic models."""
    for path in write_all():
        typer.echo(str(path))


@app.command()
def check() -> None:
    """Exit 1 if a committed JSON Schema file differs from its model."""
    stale = [
        name
        for name in CONTRACTS
        if not (JSON_DIR / f"{name}.schema.json").exists()
        or (JSON_DIR / f"{name}.schema.json").read_text(encoding="utf-8") != render(name)
    ]
    if stale:
        typer.echo(f"stale JSON Schema files: {', '.join(stale)}; run `pathkg schemas write`", err=True)
        raise typer.Exit(1)
    typer.echo(f"{len(CONTRACTS)} JSON Schema files are current")
