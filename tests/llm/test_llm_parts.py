"""The retry policy, the response cache's keys, prompt files and the vLLM health wait, each on its own."""

from __future__ import annotations

import email.utils
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pathkg.llm.cache import ResponseCache, cache_key
from pathkg.llm.loopback_server import LoopbackServer
from pathkg.llm.prompts import PromptNotFoundError, load_prompt
from pathkg.llm.retry import RetryPolicy, retry_after_seconds
from pathkg.llm.vllm_server import ServerStartError, wait_healthy


def test_backoff_is_exponential_with_bounded_jitter() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=4.0, jitter=0.25)
    rng = random.Random(0)
    for attempt, nominal in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (6, 4.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert nominal * 0.75 <= min(delays) and max(delays) <= nominal * 1.25
        assert max(delays) - min(delays) > nominal * 0.3  # jittered, not constant


def test_retry_after_is_a_floor_on_the_delay() -> None:
    policy = RetryPolicy(base_delay_s=0.1, jitter=0.0)
    assert 3.0 <= policy.delay(1, 3.0) <= 3.15
    assert policy.delay(1, None) == pytest.approx(0.1)
    assert policy.delay(1, 10_000.0) <= policy.max_retry_after_s * 1.05


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    in_five = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.5 <= retry_after_seconds({"retry-after": in_five}) <= 5.0
    assert retry_after_seconds({}) is None


def test_cache_key_covers_model_messages_and_params(tmp_path: Path) -> None:
    messages = [{"role": "user", "content": "report"}]
    base = cache_key("m", messages, {"temperature": 0})
    assert base == cache_key("m", [dict(messages[0])], {"temperature": 0})
    assert base != cache_key("m2", messages, {"temperature": 0})
    assert base != cache_key("m", [{"role": "user", "content": "report!"}], {"temperature": 0})
    assert base != cache_key("m", messages, {"temperature": 0.7})
    cache = ResponseCache(tmp_path)
    assert cache.get(base) is None
    cache.put(base, {"content": "{}"})
    assert cache.get(base) == {"content": "{}"}
    assert not list(tmp_path.rglob("*.tmp-*"))
    cache.forget(base)
    assert cache.get(base) is None


def test_prompt_files_are_versioned() -> None:
    prompt = load_prompt("report_extraction@v1")
    assert prompt.id == "report_extraction@v1"
    messages = prompt.messages(report="[NAME] has invasive ductal carcinoma")
    assert messages[0]["role"] == "system" and "[NAME] has invasive" in messages[1]["content"]
    with pytest.raises(PromptNotFoundError, match="report_extraction@v1"):
        load_prompt("report_extraction@v999")


def test_wait_healthy_polls_until_the_health_endpoint_answers() -> None:
    with LoopbackServer() as server:
        waited = wait_healthy(f"http://127.0.0.1:{server.port}", timeout_s=10, poll_s=0.1)
    assert waited < 5


def test_wait_healthy_fails_fast_when_the_server_process_dies() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(3)"])
    process.wait()
    with pytest.raises(ServerStartError, match="exited with code 3"):
        wait_healthy("http://127.0.0.1:9", process, timeout_s=10, poll_s=0.1)


def test_cache_segments_survive_a_torn_line_and_remember_forgets(tmp_path: Path) -> None:
    import json as _json

    keys = [cache_key("m", [{"role": "user", "content": str(i)}], {}) for i in range(4)]
    first = ResponseCache(tmp_path)
    for i, key in enumerate(keys[:3]):
        first.put(key, {"content": f"answer {i}"})
    first.forget(keys[1])
    first.close()
    second = ResponseCache(tmp_path)  # another writer (process) beside the first: its own segment
    second.put(keys[3], {"content": "answer 3"})
    second.close()
    segments = sorted((tmp_path / "segments").glob("*.jsonl"))
    assert len(segments) == 2
    with open(segments[0], "ab") as fh:  # a writer killed mid-line
        fh.write(b'{"k": "' + keys[1].encode() + b'", "e": {"content": "torn')
    legacy = tmp_path / "ab" / ("ab" + "0" * 62 + ".json")  # the earlier one-file-per-entry layout
    legacy.parent.mkdir()
    legacy.write_text(_json.dumps({"content": "old"}), encoding="utf-8")
    reopened = ResponseCache(tmp_path)
    assert reopened.get(keys[0]) == {"content": "answer 0"} and reopened.get(keys[2]) == {"content": "answer 2"}
    assert reopened.get(keys[3]) == {"content": "answer 3"}
    assert reopened.get(keys[1]) is None  # forgotten, and the torn line is no entry
    assert reopened.get(legacy.stem) == {"content": "old"}
    assert len(reopened) == 4
