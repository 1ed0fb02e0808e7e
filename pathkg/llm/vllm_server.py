"""Start vLLM OpenAI-compatible servers (one, or one per GPU) and wait until healthy; check any endpoint.

One server per GPU (`serve_plan(gpus=["0", "1"])`): each `vllm serve` sees only its GPU(s) through
`CUDA_VISIBLE_DEVICES` and listens on its own port (consecutive from `port`); with
`tensor_parallel_size` N, consecutive groups of N GPUs make one server each. The LLM client then
takes all their base URLs and balances between them (`pathkg.llm.endpoints`).

`vllm` is an optional extra (`pip install 'pathkg[vllm]'`, GPU machines); it is looked up as the
`vllm` executable on PATH (or next to the running Python). Without it, `VLLMNotInstalledError`
says how to get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class ServerSpec:
    """One `vllm serve` process: its command, the GPUs it sees and where it answers."""

    command: list[str]
    gpus: tuple[str, ...]
    host: str
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/v1"


def serve_plan(
    model: str,
    port: int,
    tensor_parallel_size: int = 1,
    host: str = "127.0.0.1",
    extra: list[str] | None = None,
    gpus: Sequence[str] | None = None,
) -> list[ServerSpec]:
    """The servers to start: one (on the GPUs the process sees) or one per group of GPUs in `gpus`."""
    if not gpus:
        return [ServerSpec(serve_command(model, port, tensor_parallel_size, host, extra), (), host, port)]
    ids = [g.strip() for g in gpus if g.strip()]
    if len(set(ids)) != len(ids):
        raise ValueError(f"--gpus lists a GPU twice: {','.join(ids)}")
    if len(ids) % tensor_parallel_size:
        raise ValueError(
            f"{len(ids)} GPU(s) ({','.join(ids)}) do not split into groups of --tensor-parallel-size "
            f"{tensor_parallel_size}"
        )
    specs = []
    for i in range(0, len(ids), tensor_parallel_size):
        group = tuple(ids[i : i + tensor_parallel_size])
        server_port = port + len(specs)
        specs.append(
            ServerSpec(
                serve_command(model, server_port, tensor_parallel_size, host, extra),
                group,
                host,
                server_port,
                {"CUDA_VISIBLE_DEVICES": ",".join(group)},
            )
        )
    return specs


def start_servers(specs: Sequence[ServerSpec]) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(spec.command, env={**os.environ, **spec.env}) for spec in specs]


def stop_servers(processes: Sequence[subprocess.Popen[bytes]], timeout_s: float = 30.0) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_all_healthy(
    specs: Sequence[ServerSpec],
    processes: Sequence[subprocess.Popen[bytes]],
    timeout_s: float = 900.0,
    poll_s: float = 2.0,
) -> float:
    """Wait until every server answers /health (the slowest decides); fails fast when one exits."""
    start = time.monotonic()
    for spec, process in zip(specs, processes, strict=True):
        left = max(0.0, timeout_s - (time.monotonic() - start))
        try:
            wait_healthy(spec.base_url.removesuffix("/v1"), process, timeout_s=left, poll_s=poll_s)
        except ServerStartError as exc:
            gpus = f" (GPU {','.join(spec.gpus)})" if spec.gpus else ""
            raise ServerStartError(f"server on port {spec.port}{gpus}: {exc}") from None
    return time.monotonic() - start


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
