"""Start the real `pathkg review serve` as a subprocess on a free loopback port, and stop it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str, env: dict[str, str] | None = None, code: int = 0) -> str:
    """Run `pathkg ARGS` in-process (the real Typer app); assert the exit code; return the output."""
    from typer.testing import CliRunner

    from pathkg.cli import app

    result = CliRunner().invoke(app, list(args), env=env)
    if result.exit_code != code:
        raise AssertionError(f"pathkg {' '.join(args)} exited {result.exit_code} (wanted {code}):\n{result.output}")
    return result.output


def add_annotator(run_dir: Path, name: str) -> str:
    return cli("review", "add-annotator", name, str(run_dir)).split()[-1]


@contextmanager
def review_server(
    run_dir: Path, kg_dump: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    log = open(run_dir.parent / f"server-{port}.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pathkg",
            "review",
            "serve",
            str(run_dir),
            "--port",
            str(port),
            "--kg-dump",
            str(kg_dump),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"review server exited {proc.returncode}: {Path(log.name).read_text()}")
            try:
                if httpx.get(base + "/", timeout=2).status_code == 401:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("review server did not start within 60 s")
            time.sleep(0.2)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()
