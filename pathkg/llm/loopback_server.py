"""A small OpenAI-compatible server on loopback, for tests and benchmarks — a test double, not a model.

It answers `POST /v1/chat/completions`, `GET /v1/models` and `GET /health` like vLLM does, after a
fixed latency, with a deterministic `ReportFields` answer built from the report text. It exists to
produce on demand what a real server will not: a report containing `FAULT=<kind>:<n>` gets that
fault on its first `n` requests (`n` = `always` for every request):

- `500`        HTTP 500
- `429`        HTTP 429 with `Retry-After: <retry_after_s>`
- `hang`       no answer for `hang_s` seconds (past the client's timeout)
- `malformed`  200 with content that is not JSON
- `schema`     200 with JSON that fails the schema
- `truncated`  200 with the JSON cut in half and `finish_reason: "length"`

`fail_status` (settable while the server runs) makes it a sick server: every chat request gets that
status and `/health` answers 503 until it is set back to `None` (endpoint-pool tests).

Requests are counted per report (the first user message), so a repair request or a retry moves a
report past its faults. Every request is logged (time, report key, outcome, body) for assertions.
`python -m pathkg.llm.loopback_server --latency 0.2` runs it standalone and prints its base URL.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_FAULT = re.compile(r"FAULT=(?P<kind>500|429|hang|malformed|schema|truncated):(?P<n>\d+|always)")
_MARK = re.compile(r"CASEMARK=(?P<mark>[\w-]+)")


@dataclass
class LoggedRequest:
    time: float
    key: str
    outcome: str
    body: dict[str, Any]


@dataclass
class LoopbackServer:
    model: str = "loopback-model"
    latency_s: float = 0.0
    retry_after_s: float = 1.0
    hang_s: float = 30.0
    host: str = "127.0.0.1"
    port: int = 0
    faults: bool = True  # False: ignore FAULT= directives (a healthy server for a rerun)
    fail_status: int | None = None  # every chat request answered with this status, /health 503
    health_route: bool = True  # False: no /health (404), like OpenAI-compatible servers other than vLLM
    # Builds the answer text from the request body instead of the extraction answer (chain writing).
    reply: Callable[[dict[str, Any]], str] | None = None
    log: list[LoggedRequest] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight_seen: int = 0
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- lifecycle (own event loop in a daemon thread) ----------------------------------
    def start(self) -> LoopbackServer:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app.router.add_post("/v1/chat/completions", self._chat)
            app.router.add_get("/v1/models", self._models)
            app.router.add_get("/health", self._health)
            self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="loopback-llm", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("loopback LLM server did not start within 10 s")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            await self._runner.cleanup()
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:  # handlers still sleeping in an injected hang
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.log:
            counts[entry.outcome] = counts.get(entry.outcome, 0) + 1
        return counts

    # --- handlers ----------------------------------------------------------------------------
    async def _health(self, request: web.Request) -> web.Response:
        if not self.health_route:
            return web.Response(status=404, text="not found")
        if self.fail_status is not None:
            return web.Response(status=503, text="unhealthy")
        return web.Response(text="ok")

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        users = [m["content"] for m in body.get("messages", []) if m.get("role") == "user"]
        report = users[0] if users else ""
        key = hashlib.sha256(report.encode()).hexdigest()[:16]
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
            nth = self._counts[key]
        fault = _FAULT.search(report) if self.faults else None
        kind = None
        if fault and (fault.group("n") == "always" or nth <= int(fault.group("n"))):
            kind = fault.group("kind")
        if self.fail_status is not None:
            kind = str(self.fail_status)
        self.log.append(LoggedRequest(time.monotonic(), key, kind or "ok", body))
        self.in_flight += 1
        self.max_in_flight_seen = max(self.max_in_flight_seen, self.in_flight)
        try:
            return await self._respond(body, report, key, nth, kind)
        finally:
            self.in_flight -= 1

    async def _respond(
        self, body: dict[str, Any], report: str, key: str, nth: int, kind: str | None
    ) -> web.StreamResponse:
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if kind is not None and kind.isdigit() and kind != "429":
            return web.json_response({"error": {"message": "injected server error"}}, status=int(kind))
        if kind == "429":
            return web.json_response(
                {"error": {"message": "injected rate limit"}},
                status=429,
                headers={"Retry-After": f"{self.retry_after_s:g}"},
            )
        if kind == "hang":
            await asyncio.sleep(self.hang_s)
        answer = self.reply(body) if self.reply is not None else json.dumps(self.answer(report))
        finish = "stop"
        if kind == "malformed":
            answer = "Sure! Here is the extraction: {histologic_type: ductal"
        elif kind == "schema":
            answer = json.dumps({"histologic_type": ["ductal"], "grade": "three", "pt": 2, "surprise": True})
        elif kind == "truncated":
            answer, finish = answer[: len(answer) // 2], "length"
        prompt_tokens = sum(len(m.get("content", "")) for m in body.get("messages", [])) // 4
        return web.json_response(
            {
                "id": f"chatcmpl-{key}-{nth}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": self.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": finish}],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": len(answer) // 4,
                    "total_tokens": prompt_tokens + len(answer) // 4,
                },
            }
        )

    @staticmethod
    def answer(report: str) -> dict[str, Any]:
        """A fixed-shape, valid answer; `CASEMARK=x` in the report comes back in `diagnosis`."""
        mark = _MARK.search(report)
        lobular = "lobular" in report.lower()
        return {
            "diagnosis": f"loopback answer for {mark.group('mark') if mark else 'report'}",
            "histologic_type": "invasive lobular carcinoma" if lobular else "invasive ductal carcinoma",
            "grade": {"value": "2", "system": "Nottingham", "score": 6, "components": {}},
            "pt": "pT1c",
            "pn": "pN0",
            "pm": None,
            "tumor_size_mm": 15.0,
            "margins": "negative",
            "lymphovascular_invasion": False,
            "perineural_invasion": None,
            "lymph_nodes_positive": 0,
            "lymph_nodes_examined": 3,
            "er": "positive",
            "pr": "positive",
            "her2": "negative",
            "necrosis": None,
            "findings": ["Loopback finding."],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default="loopback-model")
    args = parser.parse_args()
    server = LoopbackServer(model=args.model, latency_s=args.latency, port=args.port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
