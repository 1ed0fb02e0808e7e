"""`pathkg export validate DIR`: re-check an export before anyone trains on it."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Hugging Face exports of the corpus.", no_args_is_help=True)


@app.command()
def validate(export_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="An export folder.")) -> None:
    """Check schema, checksums, splits (no patient in two), chain format and provenance of every row."""
    from pathkg.export.export_validation import validate_export  # imports `datasets`: only when needed

    problems = validate_export(export_dir)
    for problem in problems:
        typer.echo(problem)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {export_dir}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{export_dir}: valid")
