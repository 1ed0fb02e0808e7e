"""`pathkg extract reports INPUT --out OUT.jsonl [--backend rules|llm]`."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pathkg.cli.logging_setup import configure, stderr

app = typer.Typer(help="Structured extraction from pathology reports.", no_args_is_help=True)
stdout = Console()


@app.command("reports")
def reports(
    input_path: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV / JSONL / Parquet: case_id (or patient_id), text."
    ),
    out: Path = typer.Option(..., "--out", help="Output JSONL, one ReportExtraction per line."),
    backend: str = typer.Option("rules", "--backend", help="rules (offline) or llm (OpenAI-compatible endpoint)."),
    base_url: list[str] = typer.Option(
        [], "--base-url", help="Endpoint for --backend llm; repeat for several (default http://127.0.0.1:8000/v1)."
    ),
    base_urls_file: Path | None = typer.Option(None, "--base-urls-file", help="One endpoint base URL per line."),
    model: str | None = typer.Option(None, "--model", help="Model name the endpoint serves (llm)."),
    api_key_env: str = typer.Option("PATHKG_LLM_API_KEY", "--api-key-env", help="Env var holding the API key."),
    prompt: str = typer.Option("report_extraction@v1", "--prompt", help="Prompt file name@version."),
    max_in_flight: int = typer.Option(32, "--max-in-flight", min=1, help="LLM requests in flight per endpoint."),
    cpu_workers: int = typer.Option(
        0, "--cpu-workers", min=0, help="Processes for the CPU work (rules extraction / report preparation)."
    ),
    timeout_s: float = typer.Option(60.0, "--timeout", help="Seconds per LLM request."),
    max_attempts: int = typer.Option(5, "--max-attempts", min=1, help="Tries per LLM request."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="LLM response cache (default: OUT.cache/)."),
    quiet: bool = typer.Option(False, "--quiet"),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Scrub PHI, normalise OCR, split sections and extract; failures go to OUT.failures.jsonl with reasons."""
    # Imported here: the openai client and the extractors are heavy, and `pathkg --help` should not wait.
    from pathkg.extract.backends import Backend, LLMBackend, LLMBackendConfig, RulesBackend
    from pathkg.extract.batch import extract_rows, read_rows, summary, write_outputs
    from pathkg.ingest.manifest_reader import ManifestError
    from pathkg.llm.client import LLMSettings
    from pathkg.llm.endpoints import resolve_base_urls
    from pathkg.llm.prompts import PromptNotFoundError
    from pathkg.llm.retry import RetryPolicy

    configure(verbose)
    if backend not in ("rules", "llm"):
        stderr.print(f"[red]--backend must be 'rules' or 'llm', not {backend!r}")
        raise typer.Exit(2)
    try:
        rows = read_rows(input_path)
    except ManifestError as exc:
        stderr.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from None

    async def run() -> tuple:
        engine: Backend
        if backend == "llm":
            if not model:
                stderr.print("[red]--backend llm needs --model (the name the endpoint serves; see `pathkg llm check`)")
                raise typer.Exit(2)
            try:
                urls = resolve_base_urls(base_url, base_urls_file) or ["http://127.0.0.1:8000/v1"]
            except ValueError as exc:
                stderr.print(str(exc), style="red", markup=False)
                raise typer.Exit(2) from None
            settings = LLMSettings(
                base_urls=tuple(urls), model=model, api_key=os.environ.get(api_key_env, "EMPTY"), timeout_s=timeout_s,
                max_in_flight=max_in_flight, retry=RetryPolicy(max_attempts=max_attempts),
                cache_dir=cache_dir or out.with_name(out.name + ".cache"),
            )  # fmt: skip
            try:
                engine = LLMBackend(LLMBackendConfig(settings, prompt, cpu_workers=cpu_workers))
            except PromptNotFoundError as exc:
                stderr.print(str(exc), style="red", markup=False)
                raise typer.Exit(2) from None
        else:
            engine = RulesBackend(cpu_workers)
        with Progress(
            TextColumn("[bold]extract"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=stderr, disable=quiet,
        ) as progress:  # fmt: skip
            task = progress.add_task("extract", total=len(rows))
            try:
                endpoints = len(engine.client.pool.endpoints) if isinstance(engine, LLMBackend) else 1
                result = await extract_rows(
                    rows, engine, concurrency=max_in_flight * endpoints * 2, on_done=lambda: progress.advance(task)
                )
            finally:
                await engine.aclose()
        if isinstance(engine, LLMBackend):
            return result, engine.client.stats, engine.client.pool.summary()
        return result, None, None

    result, stats, endpoint_summary = asyncio.run(run())
    fails = write_outputs(result, out)
    info = summary(result)
    if stats is not None:
        info["llm"] = {
            "requests": stats.requests, "retries": stats.retries, "cache_hits": stats.cache_hits,
            "prompt_tokens": stats.prompt_tokens, "completion_tokens": stats.completion_tokens, "errors": stats.errors,
        }  # fmt: skip
        if endpoint_summary and len(endpoint_summary) > 1:
            info["llm"]["endpoints"] = endpoint_summary
    stdout.print_json(json.dumps(info))
    stdout.print(f"wrote {out}" + (f" and {fails}" if result.failures else ""))
