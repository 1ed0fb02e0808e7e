"""Run the real `pathkg` Typer app in this process (one import of the CLI for all tests, not one per call)."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, check: bool = True) -> CliResult:
    from pathkg.cli import app

    result = CliRunner().invoke(app, list(args))
    out = CliResult(result.exit_code, result.stdout, result.stderr)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if check and out.returncode != 0:
        raise AssertionError(f"pathkg {' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out
