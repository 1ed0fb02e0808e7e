"""A pool of OpenAI-compatible endpoints (one vLLM server per GPU, or per machine) behind one client.

- **Balancing by requests in flight**: each request goes to the endpoint in service with the fewest
  requests in flight (ties in turn), and each endpoint holds at most `max_in_flight` at a time;
  a request waits when every endpoint in service is full.
- **Taking a failing endpoint out**: a refused connection (nothing listening) takes an endpoint out
  at once; dropped connections, timeouts and 5xx answers after `fail_threshold` consecutive failures
  (a 429 is load shedding, not a failure; any answer resets the count). The last endpoint in service
  is never taken out: with nowhere else to go, the retry policy (backoff, then a recorded failure)
  is the better answer.
- **Health checks**: while an endpoint is out, `GET <server>/health` every `health_interval_s`
  (`GET <base_url>/models` where a server has no `/health`); after `recover_after` consecutive
  passes it is back in service.
- A retried request prefers an endpoint it has not tried yet (`exclude`), so the requests of a
  failing endpoint go elsewhere.

One pool per event loop (it keeps asyncio futures and a health-check task); `await aclose()`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger("pathkg.llm.endpoints")

FailureKind = Literal["refused", "connection", "timeout", "http", "malformed"]


def normalise_base_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"LLM endpoint {url!r} is not an http(s) URL (e.g. http://127.0.0.1:8000/v1)")
    return url


def server_root(base_url: str) -> str:
    """`http://h:8000/v1` -> `http://h:8000` (vLLM serves /health at the root, the API under /v1)."""
    return base_url.removesuffix("/v1")


def read_base_urls_file(path: str | Path) -> list[str]:
    """One base URL per line; blank lines and `#` comments are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read the base-URLs file {path}: {exc.strerror or exc}") from None
    urls = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            urls.append(normalise_base_url(text))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    if not urls:
        raise ValueError(f"{path}: no base URL in the file (one per line)")
    return urls


def resolve_base_urls(base_url: str | Sequence[str] | None, base_urls_file: str | Path | None) -> list[str]:
    """The endpoints named by a `--base-url` (one, or repeated / a YAML list) plus a base-URLs file."""
    given = [base_url] if isinstance(base_url, str) else list(base_url or [])
    urls = [normalise_base_url(u) for u in given if u and u.strip()]
    if base_urls_file:
        urls += read_base_urls_file(base_urls_file)
    return list(dict.fromkeys(urls))


@dataclass(eq=False)
class Endpoint:
    base_url: str
    in_flight: int = 0
    in_service: bool = True
    failures: int = 0  # consecutive failed requests
    passes: int = 0  # consecutive passed health checks while out of service
    requests: int = 0
    failed_requests: int = 0
    times_taken_out: int = 0
    chat_url: str = field(init=False)
    health_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.chat_url = f"{self.base_url}/chat/completions"
        self.health_url = f"{server_root(self.base_url)}/health"


HealthCheck = Callable[["Endpoint"], Awaitable[bool]]


class EndpointPool:
    def __init__(
        self,
        base_urls: Sequence[str],
        max_in_flight: int,
        health_check: HealthCheck,
        *,
        fail_threshold: int = 3,
        health_interval_s: float = 2.0,
        recover_after: int = 2,
    ):
        urls = list(dict.fromkeys(normalise_base_url(u) for u in base_urls))
        if not urls:
            raise ValueError("an LLM client needs at least one base URL")
        self.endpoints = [Endpoint(u) for u in urls]
        self.max_in_flight = max_in_flight
        self.fail_threshold = fail_threshold
        self.health_interval_s = health_interval_s
        self.recover_after = recover_after
        self._check = health_check
        self._waiters: deque[tuple[asyncio.Future[None], Collection[Endpoint]]] = deque()
        self._turn = 0
        self._health_task: asyncio.Task[None] | None = None
        self._single = len(self.endpoints) == 1

    # --- choosing ---------------------------------------------------------------------------------
    def _candidates(self, exclude: Collection[Endpoint]) -> list[Endpoint]:
        """Where a request may go: the endpoints in service it has not tried, else any in service."""
        in_service = [ep for ep in self.endpoints if ep.in_service]
        untried = [ep for ep in in_service if ep not in exclude] if exclude else in_service
        return untried or in_service

    def _pick(self, exclude: Collection[Endpoint]) -> Endpoint | None:
        if self._single:  # the common case, kept cheap
            only = self.endpoints[0]
            return only if only.in_flight < self.max_in_flight else None
        candidates = self._candidates(exclude)
        n = len(candidates)
        best: Endpoint | None = None
        for i in range(n):
            ep = candidates[(self._turn + i) % n]
            if ep.in_flight < self.max_in_flight and (best is None or ep.in_flight < best.in_flight):
                best = ep
        self._turn += 1
        return best

    async def acquire(self, exclude: Collection[Endpoint] = ()) -> Endpoint:
        """An endpoint with a free slot (counted in flight until `release`).

        A retried request (`exclude`: the endpoints it tried) waits for a slot on an endpoint it has
        not tried rather than going back to one that failed it, as long as such an endpoint is in service.
        """
        while True:
            ep = self._pick(exclude)
            if ep is not None:
                ep.in_flight += 1
                ep.requests += 1
                return ep
            waiter = asyncio.get_running_loop().create_future()
            entry = (waiter, exclude)
            self._waiters.append(entry)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_all()  # the slot we were given goes to whoever can use it
                else:
                    self._waiters.remove(entry)
                raise

    def release(self, ep: Endpoint) -> None:
        ep.in_flight -= 1
        if not self._waiters:
            return
        # Wake the first waiter that may use the freed slot (a retry may not want this endpoint).
        for entry in self._waiters:
            waiter, exclude = entry
            if waiter.done():
                continue
            if self._single or (ep.in_service and ep in self._candidates(exclude)):
                self._waiters.remove(entry)
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        waiters, self._waiters = self._waiters, deque()
        for waiter, _ in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def has_untried(self, tried: Collection[Endpoint]) -> bool:
        return any(ep.in_service and ep not in tried for ep in self.endpoints)

    # --- health -----------------------------------------------------------------------------------
    def succeeded(self, ep: Endpoint) -> None:
        ep.failures = 0

    def failed(self, ep: Endpoint, kind: FailureKind, reason: str) -> None:
        ep.failures += 1
        ep.failed_requests += 1
        if not ep.in_service:
            return
        if kind == "refused" or ep.failures >= self.fail_threshold:
            if sum(e.in_service for e in self.endpoints) <= 1:
                return  # never the last one in service
            ep.in_service = False
            ep.passes = 0
            ep.times_taken_out += 1
            log.warning(
                "LLM endpoint %s taken out of service after %d failure(s) (%s); health checks every %.1f s",
                ep.base_url, ep.failures, reason, self.health_interval_s,
            )  # fmt: skip
            self._ensure_health_task()
            self._wake_all()  # a retry that waited for this endpoint may now go to another

    def _ensure_health_task(self) -> None:
        if self._health_task is None or self._health_task.done():
            self._health_task = asyncio.get_running_loop().create_task(self._health_loop())

    async def _health_loop(self) -> None:
        while any(not ep.in_service for ep in self.endpoints):
            await asyncio.sleep(self.health_interval_s)
            out = [ep for ep in self.endpoints if not ep.in_service]
            results = await asyncio.gather(*(self._check(ep) for ep in out))
            for ep, ok in zip(out, results, strict=True):
                ep.passes = ep.passes + 1 if ok else 0
                if ep.passes >= self.recover_after:
                    ep.in_service, ep.failures = True, 0
                    log.warning("LLM endpoint %s back in service (%d health checks passed)", ep.base_url, ep.passes)
                    self._wake_all()

    def summary(self) -> list[dict[str, object]]:
        return [
            {
                "base_url": ep.base_url,
                "in_service": ep.in_service,
                "requests": ep.requests,
                "failed_requests": ep.failed_requests,
                "times_taken_out": ep.times_taken_out,
            }
            for ep in self.endpoints
        ]

    async def aclose(self) -> None:
        if self._health_task is not None:
            self._health_task.cancel()
            await asyncio.gather(self._health_task, return_exceptions=True)
            self._health_task = None
