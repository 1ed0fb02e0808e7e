"""Start a vLLM OpenAI-compatible server and wait until it is healthy; check any endpoint.

`vllm` is an optional extra (`pip install 'pathkg[vllm]'`, GPU machines); it is looked up as the
`vllm` executable on PATH (or next to the running Python). Without it, `VLLMNotInstalledError`
says how to get it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


class VLLMNotInstalledError(RuntimeError):
    pass


class ServerStartError(RuntimeError):
    pass


def vllm_executable() -> str:
    local = Path(sys.executable).with_name("vllm")
    found = str(local) if local.is_file() else shutil.which("vllm")
    if not found:
        raise VLLMNotInstalledError(
            "vLLM is not installed: `pip install 'pathkg[vllm]'` (or `pip install vllm`) on a machine with a GPU, "
            "or point --base-url at a running OpenAI-compatible server instead"
        )
    return found


def serve_command(
    model: str, port: int, tensor_parallel_size: int, host: str = "127.0.0.1", extra: list[str] | None = None
) -> list[str]:
    return [
        vllm_executable(), "serve", model, "--host", host, "--port", str(port),
        "--tensor-parallel-size", str(tensor_parallel_size), *(extra or []),
    ]  # fmt: skip


def wait_healthy(
    base: str, process: subprocess.Popen[bytes] | None = None, timeout_s: float = 900.0, poll_s: float = 2.0
) -> float:
    """Poll `<base>/health` until 200; returns the seconds waited. Fails fast if the process exits."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        if process is not None and process.poll() is not None:
            raise ServerStartError(f"vllm serve exited with code {process.returncode} before it became healthy")
        try:
            if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(poll_s)
    raise ServerStartError(f"{base}/health did not answer 200 within {timeout_s:g} s")


@dataclass
class CheckResult:
    base_url: str
    models: list[str]
    round_trip_s: float
    reply: str


def check_endpoint(
    base_url: str, api_key: str = "EMPTY", model: str | None = None, timeout_s: float = 60.0
) -> CheckResult:
    """List the endpoint's models and time one tiny chat completion against it."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)
    models = [m.id for m in client.models.list().data]
    if not models and model is None:
        raise ServerStartError(f"{base_url} serves no models")
    chosen = model or models[0]
    start = time.perf_counter()
    response = client.chat.completions.create(
        model=chosen, messages=[{"role": "user", "content": "Reply with the single word: ok"}], max_tokens=5,
        temperature=0,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    reply = (response.choices[0].message.content or "").strip() if response.choices else ""
    return CheckResult(base_url, models, elapsed, reply)
