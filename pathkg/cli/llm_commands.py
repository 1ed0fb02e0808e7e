"""`pathkg llm serve` (start vLLM, wait for health) and `pathkg llm check` (model + round trip)."""

from __future__ import annotations

import os
import signal
import subprocess

import typer
from rich.console import Console

from pathkg.cli.logging_setup import stderr
from pathkg.llm.vllm_server import (
    ServerStartError,
    VLLMNotInstalledError,
    check_endpoint,
    serve_command,
    wait_healthy,
)

app = typer.Typer(help="LLM endpoints: start a vLLM server, check an OpenAI-compatible one.", no_args_is_help=True)
stdout = Console()


@app.command()
def serve(
    model: str = typer.Option(
        ..., "--model", help="Hugging Face model id or local path, e.g. Qwen/Qwen2.5-7B-Instruct."
    ),
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size", min=1, help="GPUs to shard the model over."),
    port: int = typer.Option(8000, "--port", help="Port of the OpenAI-compatible API."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 to serve other machines)."),
    health_timeout: float = typer.Option(900.0, "--health-timeout", help="Seconds to wait for /health."),
    extra: list[str] = typer.Option([], "--vllm-arg", help="Extra argument passed to `vllm serve` (repeatable)."),
) -> None:
    """Start `vllm serve MODEL`, wait until /health answers, then keep serving until Ctrl-C."""
    try:
        command = serve_command(model, port, tensor_parallel_size, host, extra)
    except VLLMNotInstalledError as exc:
        stderr.print(str(exc), style="red", markup=False)
        raise typer.Exit(1) from None
    stderr.print(f"starting: {' '.join(command)}", markup=False)
    process = subprocess.Popen(command)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    try:
        waited = wait_healthy(base, process, timeout_s=health_timeout)
        stdout.print(f"[green]vLLM is healthy after {waited:.0f} s:[/] --base-url {base}/v1 --model {model}")
        process.wait()
    except ServerStartError as exc:
        stderr.print(str(exc), style="red", markup=False)
        process.terminate()
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        process.wait(30)


@app.command()
def check(
    base_url: str = typer.Option(..., "--base-url", help="e.g. http://127.0.0.1:8000/v1"),
    model: str | None = typer.Option(None, "--model", help="Model to time (default: the first served)."),
    api_key_env: str = typer.Option("PATHKG_LLM_API_KEY", "--api-key-env"),
    timeout: float = typer.Option(60.0, "--timeout"),
) -> None:
    """Print the endpoint's models and the round-trip time of one tiny chat completion."""
    try:
        result = check_endpoint(base_url, os.environ.get(api_key_env, "EMPTY"), model, timeout)
    except Exception as exc:  # any failure to reach / use the endpoint is the answer to "check"
        stderr.print(f"{base_url}: {type(exc).__name__}: {exc}", style="red", markup=False)
        raise typer.Exit(1) from None
    stdout.print(f"models: {', '.join(result.models)}")
    stdout.print(f"round trip: {result.round_trip_s * 1000:.0f} ms (reply: {result.reply!r})")
