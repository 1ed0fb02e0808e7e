"""The `pathkg` command: a front door only; every command parses, calls the library, prints."""

from __future__ import annotations

import typer

from pathkg.cli import run_commands, schema_commands

app = typer.Typer(
    name="pathkg",
    help="Build, curate and train on KG-grounded pathology reasoning data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
run_commands.register(app)
app.add_typer(schema_commands.app, name="schemas")


def main() -> None:
    app()
