"""`pathkg diff RUN_A RUN_B`: what a regenerated corpus adds, removes and changes, and why."""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from pathkg.cli.logging_setup import stderr
from pathkg.diff.causes import DESCRIPTIONS
from pathkg.io.atomic import write_text_atomic

_CAUSES_HELP = "\n\n".join(f"{kind}: {text}." for kind, text in DESCRIPTIONS.items())


def diff(
    run_a: Path = typer.Argument(..., exists=True, file_okay=False, help="The earlier run directory (A)."),
    run_b: Path = typer.Argument(..., exists=True, file_okay=False, help="The later run directory (B)."),
    as_json: bool = typer.Option(False, "--json", help="Print the diff as JSON (schemas/json/run_diff.schema.json)."),
    out: Path | None = typer.Option(None, "--out", help="Also write the JSON diff to this file."),
    limit: int = typer.Option(20, "--limit", min=0, help="Samples listed in the table view."),
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when any sample differs (for CI)."),
) -> None:
    """List the samples added, removed and changed from run A to run B, each with its root causes.

    Samples are matched by the question they answer (case, scale, type, wording, images) and compared by
    content hash (the run id left out). For every case whose samples differ, its lineage is walked stage
    by stage (ingest, reports, kg, link, paths, questions, generate, verify) to the stages whose output
    differs for their own reason. Runs may be in progress: what is committed is compared, and said so.

    Causes:
    """
    from pathkg.diff.render import render_diff
    from pathkg.diff.run_diff import diff_runs
    from pathkg.diff.run_state import RunDirError

    try:
        with stderr.status("pathkg diff") as status:
            result = diff_runs(run_a, run_b, on_phase=lambda text: status.update(f"pathkg diff: {text}"))
    except RunDirError as exc:
        stderr.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    text = json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text + "\n")
    if as_json:
        typer.echo(text)
    else:
        # Piped to a file or a pager, the tables get room rather than the 80 columns rich assumes.
        Console(width=None if sys.stdout.isatty() else 160).print(render_diff(result, limit))
    if exit_code and result.samples:
        raise typer.Exit(1)


diff.__doc__ = inspect.cleandoc(diff.__doc__ or "") + "\n\n" + _CAUSES_HELP


def register(app: typer.Typer) -> None:
    app.command(name="diff")(diff)
