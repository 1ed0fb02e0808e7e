"""`pathkg llm serve` without vLLM installed, and `pathkg llm check` against a loopback endpoint."""

from __future__ import annotations

import re

import pytest

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


def test_check_several_endpoints_names_the_one_that_fails(tmp_path) -> None:
    with LoopbackServer(model="m-a") as a, LoopbackServer(model="m-b") as b:
        listing = tmp_path / "urls.txt"
        listing.write_text(f"{b.base_url}\n", encoding="utf-8")
        ok = cli("llm", "check", "--base-url", a.base_url, "--base-urls-file", str(listing))
        assert f"{a.base_url}: models: m-a" in ok.stdout and f"{b.base_url}: models: m-b" in ok.stdout
        bad = cli("llm", "check", "--base-url", a.base_url, "--base-url", "http://127.0.0.1:9/v1", "--timeout", "2",
                  check=False)  # fmt: skip
    assert bad.returncode == 1 and "http://127.0.0.1:9/v1" in bad.stderr and "1 of 2 endpoints failed" in bad.stderr


# A stand-in for the `vllm` executable (vLLM needs a GPU and is not installed here), unavoidable for
# testing `pathkg llm serve` end to end: it records its arguments and CUDA_VISIBLE_DEVICES, then
# serves the OpenAI API on the port it was given with the project's loopback server.
FAKE_VLLM = """#!{python}
import json, os, sys
sys.path.insert(0, {repo!r})
args = sys.argv[1:]
with open({log!r}, "a") as fh:
    fh.write(json.dumps({{"args": args, "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}}) + "\\n")
from pathkg.llm.loopback_server import LoopbackServer
import threading
LoopbackServer(model=args[1], port=int(args[args.index("--port") + 1])).start()
threading.Event().wait()
"""


def _fake_vllm(tmp_path, monkeypatch):
    import json
    import sys
    from pathlib import Path

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "vllm-calls.jsonl"
    exe = bin_dir / "vllm"
    repo = str(Path(__file__).resolve().parents[2])
    exe.write_text(FAKE_VLLM.format(python=sys.executable, repo=repo, log=str(log)), encoding="utf-8")
    exe.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    return lambda: [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_plan_groups_gpus_into_servers_on_consecutive_ports(tmp_path, monkeypatch) -> None:
    from pathkg.llm.vllm_server import serve_plan

    _fake_vllm(tmp_path, monkeypatch)
    specs = serve_plan(
        "Qwen/Qwen2.5-7B-Instruct", 8100, 2, "0.0.0.0", ["--max-model-len", "8192"], ["0", "1", "2", "3"]
    )
    assert [(s.env["CUDA_VISIBLE_DEVICES"], s.port, s.base_url) for s in specs] == [
        ("0,1", 8100, "http://127.0.0.1:8100/v1"),
        ("2,3", 8101, "http://127.0.0.1:8101/v1"),
    ]
    assert specs[1].command[1:] == [
        "serve", "Qwen/Qwen2.5-7B-Instruct", "--host", "0.0.0.0", "--port", "8101", "--tensor-parallel-size", "2",
        "--max-model-len", "8192",
    ]  # fmt: skip
    with pytest.raises(ValueError, match="do not split into groups"):
        serve_plan("m", 8000, 2, gpus=["0", "1", "2"])
    with pytest.raises(ValueError, match="twice"):
        serve_plan("m", 8000, 1, gpus=["0", "0"])


def test_serve_starts_one_server_per_gpu_and_waits_for_all(tmp_path, monkeypatch) -> None:
    import signal
    import subprocess
    import sys
    import time

    calls = _fake_vllm(tmp_path, monkeypatch)
    port = _free_port()
    urls_file = tmp_path / "endpoints.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pathkg", "llm", "serve", "--model", "fake-model", "--gpus", "0,1",
         "--port", str(port), "--base-urls-out", str(urls_file), "--health-timeout", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not urls_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert urls_file.exists(), proc.stderr.read() if proc.poll() is not None else "no base-URLs file in 60 s"
        urls = urls_file.read_text().split()
        assert urls == [f"http://127.0.0.1:{port}/v1", f"http://127.0.0.1:{port + 1}/v1"]
        assert sorted((c["gpus"], c["args"][c["args"].index("--port") + 1]) for c in calls()) == [
            ("0", str(port)),
            ("1", str(port + 1)),
        ]
        checked = cli("llm", "check", "--base-urls-file", str(urls_file))
        assert checked.stdout.count("models: fake-model") == 2
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    import httpx

    with pytest.raises(httpx.HTTPError):  # the servers stopped with it
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
