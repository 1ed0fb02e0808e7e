"""`pathkg llm serve` without vLLM installed, and `pathkg llm check` against a loopback endpoint."""

from __future__ import annotations

import re

from pathkg.llm.loopback_server import LoopbackServer
from tests.extract.cli_in_process import run_cli as cli


def test_serve_without_vllm_says_how_to_get_it() -> None:
    proc = cli("llm", "serve", "--model", "Qwen/Qwen2.5-7B-Instruct", "--port", "18999", check=False)
    assert proc.returncode == 1
    message = " ".join(proc.stderr.split())
    assert "vLLM is not installed" in message and "pathkg[vllm]" in message


def test_check_reports_model_and_round_trip() -> None:
    with LoopbackServer(model="served-model", latency_s=0.05) as server:
        proc = cli("llm", "check", "--base-url", server.base_url)
        assert [e.outcome for e in server.log] == ["ok"]
    assert "models: served-model" in proc.stdout
    ms = int(re.search(r"round trip: (\d+) ms", proc.stdout).group(1))
    assert ms >= 50


def test_check_unreachable_endpoint_fails_clearly() -> None:
    proc = cli("llm", "check", "--base-url", "http://127.0.0.1:9/v1", "--timeout", "2", check=False)
    assert proc.returncode == 1 and "127.0.0.1:9" in proc.stderr
