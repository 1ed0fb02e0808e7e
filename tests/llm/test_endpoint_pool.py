"""Several OpenAI-compatible endpoints behind one client, against real loopback servers.

Each `LoopbackServer` is a real HTTP server on its own port (the test double the project allows for
LLM endpoints): balancing by requests in flight, a server that starts failing (500s, or its port
closing) taken out with its requests answered elsewhere and no case lost, and its return to service
once its health checks pass.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from pathkg.llm.cache import cache_key
from pathkg.llm.client import LLMClient, LLMSettings, RequestParams, _messages_json, request_key
from pathkg.llm.endpoints import read_base_urls_file, resolve_base_urls
from pathkg.llm.loopback_server import LoopbackServer
from pathkg.llm.retry import RetryPolicy


@pytest.fixture
def three() -> Iterator[list[LoopbackServer]]:
    with ExitStack() as stack:
        yield [stack.enter_context(LoopbackServer(latency_s=0.02)) for _ in range(3)]


def settings(servers: list[LoopbackServer], **overrides: object) -> LLMSettings:
    values: dict = {
        "base_urls": tuple(s.base_url for s in servers),
        "model": "loopback-model",
        "timeout_s": 5,
        "max_in_flight": 4,
        "retry": RetryPolicy(max_attempts=3, base_delay_s=0.02, max_delay_s=0.1),
        "fail_threshold": 2,
        "health_interval_s": 0.1,
        "recover_after": 2,
    }
    values.update(overrides)
    return LLMSettings(**values)


async def ask_all(client: LLMClient, marks: list[str], concurrency: int = 64) -> list[str]:
    """One request per mark; the answer's diagnosis names the mark (so mix-ups would show)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(mark: str) -> str:
        async with gate:
            done = await client.complete([{"role": "user", "content": f"report CASEMARK={mark}."}], label=mark)
        return done.content

    return await asyncio.gather(*(one(m) for m in marks))


def answered_all(replies: list[str], marks: list[str]) -> bool:
    return all(f'"loopback answer for {m}"' in r for r, m in zip(replies, marks, strict=True))


def test_requests_are_spread_by_requests_in_flight(three: list[LoopbackServer]) -> None:
    async def go() -> list[str]:
        async with LLMClient(settings(three, max_in_flight=4)) as client:
            return await ask_all(client, [f"B{i}" for i in range(36)])

    replies = asyncio.run(go())
    assert answered_all(replies, [f"B{i}" for i in range(36)])
    counts = [len(s.log) for s in three]
    assert sum(counts) == 36 and min(counts) >= 8, counts  # an even share each, give or take the timing
    assert all(s.max_in_flight_seen == 4 for s in three)  # the bound holds per endpoint


def test_a_slow_endpoint_gets_fewer_requests_than_a_fast_one() -> None:
    # Round robin would give both the same number; fewest-in-flight sends more to the one that answers sooner.
    with LoopbackServer(latency_s=0.25) as slow, LoopbackServer(latency_s=0.02) as fast:

        async def go() -> None:
            async with LLMClient(settings([slow, fast], max_in_flight=16)) as client:
                await ask_all(client, [f"S{i}" for i in range(80)], concurrency=6)

        asyncio.run(go())
        assert len(slow.log) + len(fast.log) == 80
        assert len(fast.log) >= 4 * len(slow.log), (len(fast.log), len(slow.log))


def test_a_failing_endpoint_is_taken_out_and_comes_back_after_health_checks(three: list[LoopbackServer]) -> None:
    sick = three[1]

    async def go() -> None:
        async with LLMClient(settings(three)) as client:
            marks = [f"A{i}" for i in range(30)]
            assert answered_all(await ask_all(client, marks), marks)
            assert len(sick.log) > 0

            sick.fail_status = 500  # starts failing; its /health answers 503 too
            before = len(sick.log)
            marks = [f"F{i}" for i in range(90)]
            replies = await ask_all(client, marks)
            assert answered_all(replies, marks)  # no case lost: each failed request was answered elsewhere
            ep = client.pool.endpoints[1]
            assert not ep.in_service and ep.times_taken_out == 1
            # Only the requests that made it look sick reached it (two in a row, plus those already in flight).
            assert len(sick.log) - before <= 2 + 4
            assert client.stats.retries == len(sick.log) - before

            sick.fail_status = None  # healthy again: back in service after two passed health checks
            deadline = time.monotonic() + 5
            while not ep.in_service and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert ep.in_service
            before = len(sick.log)
            marks = [f"R{i}" for i in range(30)]
            assert answered_all(await ask_all(client, marks), marks)
            assert len(sick.log) - before >= 5  # it gets its share again

    asyncio.run(go())


@pytest.mark.parametrize("health_route", [True, False], ids=["health", "models-only"])
def test_a_server_that_goes_away_is_taken_out_at_once_and_rejoins_when_back(health_route: bool) -> None:
    # Without a /health route (not vLLM), the health check reads the model list instead.
    with LoopbackServer(latency_s=0.02) as a, LoopbackServer(latency_s=0.02) as b:
        gone = LoopbackServer(latency_s=0.02, health_route=health_route).start()
        port = gone.port

        async def go() -> None:
            async with LLMClient(settings([a, gone, b])) as client:
                marks = [f"G{i}" for i in range(12)]
                assert answered_all(await ask_all(client, marks), marks)
                await asyncio.to_thread(gone.stop)  # connection refused from now on
                marks = [f"H{i}" for i in range(40)]
                assert answered_all(await ask_all(client, marks), marks)
                ep = client.pool.endpoints[1]
                # Out at the first refused connection: only the requests sent to it at the same moment failed there.
                assert not ep.in_service and ep.times_taken_out == 1 and 1 <= ep.failed_requests <= 4

                back = await asyncio.to_thread(
                    lambda: LoopbackServer(latency_s=0.02, port=port, health_route=health_route).start()
                )
                try:
                    deadline = time.monotonic() + 5
                    while not ep.in_service and time.monotonic() < deadline:
                        await asyncio.sleep(0.05)
                    assert ep.in_service
                    marks = [f"K{i}" for i in range(30)]
                    assert answered_all(await ask_all(client, marks), marks)
                    assert len(back.log) >= 5
                finally:
                    await asyncio.to_thread(back.stop)

        asyncio.run(go())


def test_a_retry_goes_to_an_endpoint_the_request_has_not_tried() -> None:
    # The sick endpoint is never taken out here (threshold out of reach): each request that lands on it
    # still succeeds on its second and last attempt, on the other endpoint, with no backoff wait.
    with LoopbackServer() as healthy, LoopbackServer(fail_status=503) as sick:

        async def go() -> None:
            config = settings([sick, healthy], fail_threshold=1000, retry=RetryPolicy(max_attempts=2, base_delay_s=5))
            async with LLMClient(config) as client:
                marks = [f"T{i}" for i in range(20)]
                start = time.monotonic()
                assert answered_all(await ask_all(client, marks), marks)
                assert time.monotonic() - start < 3  # no 5 s backoff: the retries failed over at once

        asyncio.run(go())
        assert len(sick.log) >= 5 and len(healthy.log) == 20


def test_the_last_endpoint_in_service_is_never_taken_out() -> None:
    with LoopbackServer(fail_status=500) as only:

        async def go() -> None:
            async with LLMClient(settings([only], retry=RetryPolicy(max_attempts=3, base_delay_s=0.01))) as client:
                with pytest.raises(Exception, match="HTTP 500 after 3 attempts"):
                    await client.complete([{"role": "user", "content": "x"}])
                assert client.pool.endpoints[0].in_service

        asyncio.run(go())
        assert len(only.log) == 3


def test_base_urls_from_flags_lists_and_files(tmp_path: Path) -> None:
    listing = tmp_path / "endpoints.txt"
    listing.write_text("# two GPUs\nhttp://gpu0:8000/v1\n\nhttp://gpu1:8001/v1/  # second\n", encoding="utf-8")
    assert read_base_urls_file(listing) == ["http://gpu0:8000/v1", "http://gpu1:8001/v1"]
    assert resolve_base_urls(["http://a:1/v1", "http://gpu0:8000/v1"], listing) == [
        "http://a:1/v1",
        "http://gpu0:8000/v1",
        "http://gpu1:8001/v1",
    ]
    assert resolve_base_urls("http://a:1/v1", None) == ["http://a:1/v1"]
    bad = tmp_path / "bad.txt"
    bad.write_text("http://ok:1/v1\ngpu1:8001\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.txt:2: .*'gpu1:8001' is not an http\(s\) URL"):
        read_base_urls_file(bad)
    with pytest.raises(ValueError, match="no base URL"):
        read_base_urls_file(tmp_path / "empty.txt") if (tmp_path / "empty.txt").write_text("# none\n") else None
    with pytest.raises(ValueError, match="cannot read"):
        read_base_urls_file(tmp_path / "missing.txt")


def test_the_request_key_is_the_cache_key() -> None:
    # The lean request path builds the key from pre-serialised parts; it must equal the documented
    # key, or a rerun would miss every answer cached before.
    messages = [{"role": "system", "content": "static"}, {"role": "user", "content": 'report ü "x"'}]
    params = {"temperature": 0.0, "max_tokens": 10, "response_format": {"type": "json_schema", "b": [1, 2]}}
    import json

    for _ in range(2):  # the second time with the system message's JSON memoised
        assert _messages_json(messages) == json.dumps(messages, sort_keys=True)
    assert request_key(json.dumps("m"), _messages_json(messages), RequestParams(params)) == cache_key(
        "m", messages, params
    )
