"""The `pathkg` command: a front door only; every command parses, calls the library, prints."""

from __future__ import annotations

import typer

from pathkg.cli import (
    diff_commands,
    eval_commands,
    export_commands,
    extract_commands,
    kg_commands,
    llm_commands,
    review_commands,
    run_commands,
    schema_commands,
    slide_features_commands,
    slides_commands,
    train_commands,
)

app = typer.Typer(
    name="pathkg",
    help="Build, curate and train on KG-grounded pathology reasoning data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
run_commands.register(app)
app.add_typer(schema_commands.app, name="schemas")
app.add_typer(kg_commands.app, name="kg")
app.add_typer(extract_commands.app, name="extract")
app.add_typer(llm_commands.app, name="llm")
app.add_typer(slides_commands.app, name="slides")
app.add_typer(review_commands.app, name="review")
app.add_typer(export_commands.app, name="export")
app.add_typer(train_commands.app, name="train")
eval_commands.register(app)
diff_commands.register(app)
slide_features_commands.register(slides_commands.app)


def main() -> None:
    app()
