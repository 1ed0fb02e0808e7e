"""`pathkg llm serve` (start vLLM, one server or one per GPU, wait for health) and `pathkg llm check`."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import typer
from rich.console import Console

from pathkg.cli.logging_setup import stderr
from pathkg.io.atomic import write_text_atomic
from pathkg.llm.endpoints import resolve_base_urls
from pathkg.llm.vllm_server import (
    ServerStartError,
    VLLMNotInstalledError,
    check_endpoint,
    serve_plan,
    start_servers,
    stop_servers,
    wait_all_healthy,
)

app = typer.Typer(help="LLM endpoints: start vLLM servers, check OpenAI-compatible ones.", no_args_is_help=True)
stdout = Console()


@app.command()
def serve(
    model: str = typer.Option(
        ..., "--model", help="Hugging Face model id or local path, e.g. Qwen/Qwen2.5-7B-Instruct."
    ),
    tensor_parallel_size: int = typer.Option(
        1, "--tensor-parallel-size", min=1, help="GPUs to shard one model over (with --gpus: GPUs per server)."
    ),
    port: int = typer.Option(8000, "--port", help="Port of the (first) OpenAI-compatible API; the next servers +1."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 to serve other machines)."),
    gpus: str | None = typer.Option(
        None, "--gpus", help="One server per GPU, e.g. 0,1 (CUDA_VISIBLE_DEVICES each, consecutive ports)."
    ),
    base_urls_out: Path | None = typer.Option(
        None, "--base-urls-out", help="Write the servers' base URLs here, one per line (for --base-urls-file)."
    ),
    health_timeout: float = typer.Option(900.0, "--health-timeout", help="Seconds to wait for /health."),
    extra: list[str] = typer.Option([], "--vllm-arg", help="Extra argument passed to `vllm serve` (repeatable)."),
) -> None:
    """Start `vllm serve MODEL` (once, or once per GPU), wait until every /health answers, serve until Ctrl-C."""
    try:
        specs = serve_plan(model, port, tensor_parallel_size, host, extra, gpus.split(",") if gpus else None)
    except (VLLMNotInstalledError, ValueError) as exc:
        stderr.print(str(exc), style="red", markup=False)
        raise typer.Exit(1 if isinstance(exc, VLLMNotInstalledError) else 2) from None
    for spec in specs:
        visible = f"CUDA_VISIBLE_DEVICES={','.join(spec.gpus)} " if spec.gpus else ""
        stderr.print(f"starting: {visible}{' '.join(spec.command)}", markup=False)
    processes = start_servers(specs)
    try:
        waited = wait_all_healthy(specs, processes, timeout_s=health_timeout)
        urls = [spec.base_url for spec in specs]
        if base_urls_out is not None:
            write_text_atomic(base_urls_out, "".join(u + "\n" for u in urls))
        flags = " ".join(f"--base-url {u}" for u in urls)
        stdout.print(f"[green]{len(specs)} vLLM server(s) healthy after {waited:.0f} s:[/] {flags} --model {model}")
        for process in processes:
            process.wait()
    except ServerStartError as exc:
        stderr.print(str(exc), style="red", markup=False)
        stop_servers(processes)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        for process in processes:
            process.send_signal(signal.SIGINT)
        stop_servers(processes)


@app.command()
def check(
    base_url: list[str] = typer.Option(
        [], "--base-url", help="e.g. http://127.0.0.1:8000/v1 (repeat for several endpoints)."
    ),
    base_urls_file: Path | None = typer.Option(None, "--base-urls-file", help="One base URL per line."),
    model: str | None = typer.Option(None, "--model", help="Model to time (default: the first served)."),
    api_key_env: str = typer.Option("PATHKG_LLM_API_KEY", "--api-key-env"),
    timeout: float = typer.Option(60.0, "--timeout"),
) -> None:
    """Print each endpoint's models and the round-trip time of one tiny chat completion; exit 1 if any fails."""
    try:
        urls = resolve_base_urls(base_url, base_urls_file)
    except ValueError as exc:
        stderr.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None
    if not urls:
        stderr.print("give --base-url (repeatable) or --base-urls-file", style="red", markup=False)
        raise typer.Exit(2)
    failed = 0
    for url in urls:
        try:
            result = check_endpoint(url, os.environ.get(api_key_env, "EMPTY"), model, timeout)
        except Exception as exc:  # any failure to reach / use the endpoint is the answer to "check"
            stderr.print(f"{url}: {type(exc).__name__}: {exc}", style="red", markup=False)
            failed += 1
            continue
        prefix = f"{url}: " if len(urls) > 1 else ""
        stdout.print(f"{prefix}models: {', '.join(result.models)}", markup=False)
        stdout.print(f"{prefix}round trip: {result.round_trip_s * 1000:.0f} ms (reply: {result.reply!r})", markup=False)
    if failed:
        if len(urls) > 1:
            stderr.print(f"{failed} of {len(urls)} endpoints failed", style="red", markup=False)
        raise typer.Exit(1)
