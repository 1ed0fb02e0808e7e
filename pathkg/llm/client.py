"""An async chat-completions client for OpenAI-compatible endpoints (vLLM, or anything speaking the API).

One place for what every LLM call needs: one or several endpoints balanced by requests in flight
(`pathkg.llm.endpoints`: a failing endpoint is taken out and comes back after health checks), a
bound on requests in flight per endpoint, retries with exponential backoff and jitter on 429 / 5xx /
timeouts / connection errors honouring `Retry-After`, the on-disk response cache, and token counts.

The request path is kept lean on purpose (a corpus run sends thousands of requests a second from
one event loop): the request body is serialised once (the static parameters, e.g. a JSON schema,
only once per client, see `RequestParams`) and the same text gives the cache key; the transport
is plain HTTP/1.1 keep-alive connections on asyncio (`pathkg.llm.transport`).

Errors: `LLMRequestError` when a request still fails after the last attempt, or fails in a way a
retry cannot fix (400, 401, 404 ...); its message says which and how many attempts were made.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pathkg.llm.cache import ResponseCache
from pathkg.llm.endpoints import Endpoint, EndpointPool, normalise_base_url
from pathkg.llm.retry import RetryPolicy, retry_after_seconds
from pathkg.llm.transport import HTTPTransport, TransportConnectionError, TransportTimeout

log = logging.getLogger("pathkg.llm")


class LLMRequestError(RuntimeError):
    def __init__(self, message: str, attempts: int):
        super().__init__(message)
        self.attempts = attempts


@dataclass
class Completion:
    content: str
    finish_reason: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0  # HTTP requests made for this completion (0 when served from the cache)
    cached: bool = False
    key: str = ""  # cache key
    endpoint: str = ""  # base URL that answered ("" from the cache)


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LLMSettings:
    """Where and how to ask. `base_url` and / or `base_urls`: every endpoint serves the same model."""

    base_url: str = ""
    model: str = ""
    api_key: str = "EMPTY"  # vLLM accepts any key unless started with --api-key
    timeout_s: float = 60.0
    max_in_flight: int = 32  # per endpoint
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache_dir: Path | None = None
    base_urls: tuple[str, ...] = ()
    fail_threshold: int = 3  # consecutive timeouts / 5xx that take an endpoint out (a refused connection: 1)
    health_interval_s: float = 2.0
    recover_after: int = 2  # consecutive passed health checks that bring it back

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("LLM settings need a model (the name the endpoint serves)")
        if not self.endpoints:
            raise ValueError("LLM settings need a base URL (base_url or base_urls)")
        for url in self.endpoints:
            normalise_base_url(url)

    @property
    def endpoints(self) -> tuple[str, ...]:
        urls = [self.base_url] if self.base_url else []
        return tuple(dict.fromkeys(u.strip().rstrip("/") for u in [*urls, *self.base_urls] if u.strip()))


class RequestParams:
    """Request parameters (temperature, max_tokens, response_format ...) serialised once.

    Build one per extractor / writer and pass it to every `complete()`: a JSON schema in
    `response_format` is kilobytes that would otherwise be serialised twice per request.
    """

    __slots__ = ("body_json", "key_json", "values")

    def __init__(self, values: Mapping[str, Any]):
        self.values = dict(values)
        # The exact text cache_key() would produce for these params (sorted keys).
        self.key_json = json.dumps(self.values, sort_keys=True, default=str)
        self.body_json = self.key_json[1:-1]  # the members, spliced into the request body


def request_key(model_json: str, messages_json: str, params: RequestParams) -> str:
    """Equal to `cache.cache_key(model, messages, params)`, from already-serialised parts."""
    payload = f'{{"messages": {messages_json}, "model": {model_json}, "params": {params.key_json}}}'
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _messages_json(messages: list[dict[str, str]]) -> str:
    """`json.dumps(messages, sort_keys=True)`, with the system messages' text serialised once."""
    parts = []
    for m in messages:
        if m.get("role") == "system" and len(m) == 2:
            text = _SYSTEM_JSON.get(m["content"])
            if text is None:
                text = _SYSTEM_JSON[m["content"]] = _SORTED.encode(m)
                if len(_SYSTEM_JSON) > 64:
                    _SYSTEM_JSON.pop(next(iter(_SYSTEM_JSON)))
            parts.append(text)
        else:
            parts.append(_SORTED.encode(m))
    return "[" + ", ".join(parts) + "]"


_SORTED = json.JSONEncoder(sort_keys=True)  # json.dumps(sort_keys=True) builds a new encoder per call
_SYSTEM_JSON: dict[str, str] = {}
_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
_EMPTY_PARAMS = RequestParams({})


class LLMClient:
    """Use inside one event loop; `await aclose()` (or `async with`) when done."""

    def __init__(self, settings: LLMSettings, rng: random.Random | None = None):
        self.settings = settings
        self.cache = ResponseCache(settings.cache_dir) if settings.cache_dir else None
        self.stats = ClientStats()
        self._rng = rng or random.Random()
        urls = settings.endpoints
        self._transport = HTTPTransport(settings.api_key, settings.timeout_s)
        self.pool = EndpointPool(
            urls,
            settings.max_in_flight,
            self._healthy,
            fail_threshold=settings.fail_threshold,
            health_interval_s=settings.health_interval_s,
            recover_after=settings.recover_after,
        )
        self._model_json = json.dumps(settings.model)

    async def _healthy(self, ep: Endpoint) -> bool:
        """vLLM's `/health`; for a server without one (404), its model list."""
        timeout = min(5.0, self.settings.timeout_s)
        status = await self._transport.get_status(ep.health_url, timeout)
        if status == 404:
            return await self._transport.get_ok(f"{ep.base_url}/models", timeout)
        return status is not None and 200 <= status < 300

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.pool.aclose()
        await self._transport.aclose()
        if self.cache is not None:
            self.cache.close()

    async def complete(
        self,
        messages: list[dict[str, str]],
        *,
        label: str = "",
        params: RequestParams | None = None,
        **extra: Any,
    ) -> Completion:
        """One chat completion (from the cache when the same model + messages + params were answered)."""
        if extra:
            params = RequestParams({**(params.values if params else {}), **extra})
        params = params or _EMPTY_PARAMS
        messages_json = _messages_json(messages)
        key = request_key(self._model_json, messages_json, params)
        cache = self.cache
        if cache is not None:
            entry = cache.get(key)
            if entry is not None:
                self.stats.cache_hits += 1
                return Completion(
                    entry["content"], entry.get("finish_reason"), entry.get("prompt_tokens", 0),
                    entry.get("completion_tokens", 0), attempts=0, cached=True, key=key,
                )  # fmt: skip
        members = f", {params.body_json}" if params.body_json else ""
        body = f'{{"model": {self._model_json}, "messages": {messages_json}{members}}}'.encode()
        completion = await self._request(body, label)
        completion.key = key
        if cache is not None:
            cache.put(
                key,
                {
                    "model": self.settings.model,
                    "content": completion.content,
                    "finish_reason": completion.finish_reason,
                    "prompt_tokens": completion.prompt_tokens,
                    "completion_tokens": completion.completion_tokens,
                },
            )
        return completion

    def forget(self, *completions: Completion) -> None:
        """Drop answers from the cache (ones that proved unusable), so that a retry asks again."""
        if self.cache is not None:
            for c in completions:
                self.cache.forget(c.key)

    async def _request(self, body: bytes, label: str) -> Completion:
        policy = self.settings.retry
        pool = self.pool
        where = f"{label}: " if label else ""
        last = ""
        tried: list[Endpoint] = []
        for attempt in range(1, policy.max_attempts + 1):
            retry_after: float | None = None
            ep = await pool.acquire(tried)
            self.stats.requests += 1
            try:
                reply = await self._transport.post_json(ep.chat_url, body)
            except TransportTimeout as exc:
                last = str(exc)
                pool.failed(ep, "timeout", last)
            except TransportConnectionError as exc:
                last = f"connection error: {exc}"
                pool.failed(ep, "refused" if exc.refused else "connection", last)
            else:
                status = reply.status
                if 200 <= status < 300:
                    try:
                        completion = self._completion(json.loads(reply.text), attempt, ep)
                    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
                        last = f"malformed response envelope ({type(exc).__name__})"
                        pool.failed(ep, "malformed", last)
                    else:
                        pool.succeeded(ep)
                        return completion
                else:
                    last = f"HTTP {status}"
                    if status not in _RETRYABLE_STATUS:
                        pool.succeeded(ep)  # it answered: the endpoint is up, the request is wrong
                        self._count(last)
                        raise LLMRequestError(
                            f"{where}{last} from {ep.base_url} (not retried): {_short(reply.text)}", attempt
                        )
                    retry_after = retry_after_seconds(reply.headers)
                    if status == 429:
                        pool.succeeded(ep)  # load shedding, not a sick endpoint
                    else:
                        pool.failed(ep, "http", last)
            finally:
                pool.release(ep)
            tried.append(ep)
            self._count(last)
            if attempt == policy.max_attempts:
                break
            self.stats.retries += 1
            if retry_after is None and pool.has_untried(tried):
                log.debug("%s%s from %s; retry %d on another endpoint", where, last, ep.base_url, attempt)
                continue  # fail over at once: another endpoint has not seen this request
            delay = policy.delay(attempt, retry_after, self._rng)
            log.debug("%s%s; retry %d in %.2f s", where, last, attempt, delay)
            await asyncio.sleep(delay)
        raise LLMRequestError(f"{where}{last} after {policy.max_attempts} attempts", policy.max_attempts)

    def _completion(self, response: dict[str, Any], attempts: int, ep: Endpoint) -> Completion:
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        content = (choice.get("message") or {}).get("content") or ""
        if not isinstance(content, str):
            raise TypeError("message content is not a string")
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens
        return Completion(
            content, choice.get("finish_reason"), prompt_tokens, completion_tokens, attempts=attempts,
            endpoint=ep.base_url,
        )  # fmt: skip

    def _count(self, error: str) -> None:
        kind = error.split(" after")[0].split(":")[0]
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
