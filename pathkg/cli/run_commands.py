"""`pathkg run`, `pathkg status`, `pathkg retry`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from pathkg.cli.logging_setup import configure, stderr
from pipelines.config import ConfigError, load_config
from pipelines.runner import EXECUTORS, Runner, StagePlanError, StageStatus

stdout = Console()


def _status_table(statuses: list[StageStatus], title: str) -> Table:
    table = Table(title=title)
    for col in ("stage", "total", "done", "failed", "pending", "blocked", "failures by type"):
        table.add_column(col, justify="left" if col in ("stage", "failures by type") else "right")
    for s in statuses:
        kinds = ", ".join(f"{k}: {v}" for k, v in sorted(s.failure_types.items()))
        table.add_row(
            s.stage, str(s.total), str(s.done), f"[red]{s.failed}[/]" if s.failed else "0",
            str(s.pending), str(s.blocked), kinds,
        )  # fmt: skip
    return table


def _finish(runner: Runner, statuses: list[StageStatus], fail_on_error: bool) -> None:
    stdout.print(_status_table(statuses, f"run {runner.manifest.run_id} in {runner.location.url}"))
    failed = sum(s.failed for s in statuses)
    if failed:
        stdout.print(
            f"[yellow]{failed} case(s) failed; see `pathkg status {runner.location.url} --failures`, "
            f"then `pathkg retry {runner.location.url}`."
        )
    if failed and fail_on_error:
        raise typer.Exit(1)


def run(
    config: Path = typer.Argument(..., exists=True, dir_okay=False, help="Pipeline config (YAML)."),
    run_dir: str = typer.Option(
        ..., "--run-dir", help="Directory for this run's outputs and state: a path or an fsspec URL (s3://…)."
    ),
    workers: int | None = typer.Option(None, "--workers", min=1, help="Worker processes for CPU stages."),
    executor: str = typer.Option("local", "--executor", help="Where CPU stages run: local (process pool) or ray."),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster to join (e.g. ray://head:10001, auto); default: start one locally."
    ),
    fail_on_error: bool = typer.Option(False, "--fail-on-error", help="Exit 1 if any case failed."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bars."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Run the pipeline's stages in order, skipping work whose inputs, parameters and code are unchanged."""
    configure(verbose)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        stderr.print(f"[red]config error:[/] {exc}")
        raise typer.Exit(2) from None
    _check_executor(executor, ray_address)
    runner = Runner(
        cfg, run_dir, workers=workers, show_progress=not quiet, console=stderr, config_path=str(config),
        executor=executor, ray_address=ray_address,
    )  # fmt: skip
    with _plan_errors():
        statuses = runner.run(command=f"run {config}")
    _finish(runner, statuses, fail_on_error)


def _check_executor(executor: str, ray_address: str | None) -> None:
    if executor not in EXECUTORS:
        stderr.print(f"[red]error:[/] --executor {executor!r}: choose one of {', '.join(EXECUTORS)}")
        raise typer.Exit(2)
    if ray_address and executor != "ray":
        stderr.print("[red]error:[/] --ray-address needs --executor ray")
        raise typer.Exit(2)


def retry(
    run_dir: str = typer.Argument(..., help="A run directory (a path or an fsspec URL)."),
    workers: int | None = typer.Option(None, "--workers", min=1),
    executor: str = typer.Option("local", "--executor", help="Where CPU stages run: local or ray."),
    ray_address: str | None = typer.Option(None, "--ray-address", help="Ray cluster to join."),
    fail_on_error: bool = typer.Option(False, "--fail-on-error", help="Exit 1 if any case still fails."),
    quiet: bool = typer.Option(False, "--quiet"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Rerun only the failed cases of a run (and, for them, the stages after), with its recorded config."""
    configure(verbose)
    _check_executor(executor, ray_address)
    runner = _open(
        run_dir, workers=workers, show_progress=not quiet, console=stderr, executor=executor, ray_address=ray_address
    )
    with _plan_errors():
        statuses = runner.run(retry=True, command="retry")
    _finish(runner, statuses, fail_on_error)


def status(
    run_dir: str = typer.Argument(..., help="A run directory (a path or an fsspec URL)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    failures: bool = typer.Option(False, "--failures", help="Also list each failed case and its error."),
) -> None:
    """Per stage: how many cases are done, failed, pending (and blocked by an earlier stage)."""
    configure(False)
    runner = _open(run_dir, show_progress=False, console=stderr)
    with _plan_errors():
        statuses, standing = runner.inspect()
    if as_json:
        out = {
            "run_dir": str(run_dir),
            "run_id": runner.manifest.run_id,
            "stages": [
                {k: v for k, v in asdict(s).items() if k not in ("ran", "skipped", "newly_failed", "seconds")}
                for s in statuses
            ],
        }
        if failures:
            out["failures"] = [f.model_dump(mode="json") for f in standing]
        typer.echo(json.dumps(out, indent=2))
        return
    stdout.print(_status_table(statuses, f"run {runner.manifest.run_id} in {run_dir}"))
    if failures:
        table = Table(title="failed cases")
        for col in ("stage", "case", "error", "message", "attempt"):
            table.add_column(col)
        for f in standing:
            table.add_row(f.stage, f.case_id, f.error_type, f.message, str(f.attempt))
        stdout.print(table)


@contextlib.contextmanager
def _plan_errors() -> Iterator[None]:
    """A source that cannot be read is the user's to fix: one clear line, exit 2, no traceback."""
    try:
        yield
    except StagePlanError as exc:
        stderr.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def _open(run_dir: str, **kwargs) -> Runner:
    try:
        return Runner.from_run_dir(run_dir, **kwargs)
    except (FileNotFoundError, ConfigError) as exc:
        stderr.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(status)
    app.command()(retry)
