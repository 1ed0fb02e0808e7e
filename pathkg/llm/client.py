"""An async chat-completions client for OpenAI-compatible endpoints (vLLM, or anything speaking the API).

One place for what every LLM call needs: a bound on requests in flight (a semaphore), retries with
exponential backoff and jitter on 429 / 5xx / timeouts / connection errors honouring `Retry-After`,
the on-disk response cache, and token counts. The `openai` client's own retries are off
(`max_retries=0`) so that this policy is the only one.

Errors: `LLMRequestError` when a request still fails after the last attempt, or fails in a way a
retry cannot fix (400, 401, 404 ...); its message says which and how many attempts were made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openai

from pathkg.llm.cache import ResponseCache, cache_key
from pathkg.llm.retry import RetryPolicy, retry_after_seconds

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
    base_url: str
    model: str
    api_key: str = "EMPTY"  # vLLM accepts any key unless started with --api-key
    timeout_s: float = 60.0
    max_in_flight: int = 32
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    cache_dir: Path | None = None


_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class LLMClient:
    """Use inside one event loop; `await aclose()` (or `async with`) when done."""

    def __init__(self, settings: LLMSettings, rng: random.Random | None = None):
        self.settings = settings
        self.cache = ResponseCache(settings.cache_dir) if settings.cache_dir else None
        self.stats = ClientStats()
        self._rng = rng or random.Random()
        self._semaphore = asyncio.Semaphore(settings.max_in_flight)
        self._client = openai.AsyncOpenAI(
            base_url=settings.base_url, api_key=settings.api_key, timeout=settings.timeout_s, max_retries=0
        )

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    async def complete(self, messages: list[dict[str, str]], *, label: str = "", **params: Any) -> Completion:
        """One chat completion (from the cache when the same model + messages + params were answered)."""
        key = cache_key(self.settings.model, messages, params)
        if self.cache is not None:
            entry = self.cache.get(key)
            if entry is not None:
                self.stats.cache_hits += 1
                return Completion(
                    entry["content"], entry.get("finish_reason"), entry.get("prompt_tokens", 0),
                    entry.get("completion_tokens", 0), attempts=0, cached=True, key=key,
                )  # fmt: skip
        completion = await self._request(messages, label, params)
        completion.key = key
        if self.cache is not None:
            self.cache.put(
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

    async def _request(self, messages: list[dict[str, str]], label: str, params: dict[str, Any]) -> Completion:
        policy = self.settings.retry
        where = f"{label}: " if label else ""
        last = ""
        for attempt in range(1, policy.max_attempts + 1):
            retry_after: float | None = None
            async with self._semaphore:
                self.stats.requests += 1
                try:
                    # The client's low-level post: same transport, errors and response parsing as
                    # chat.completions.create, without re-walking the request through its TypedDict
                    # transform (milliseconds per request with a JSON schema inside).
                    # cast_to=str: the body is read as text and parsed here, not into pydantic models.
                    body = await self._client.post(
                        "/chat/completions",
                        body={"model": self.settings.model, "messages": messages, **params},
                        cast_to=str,
                    )
                    response = json.loads(body)
                    response["choices"][0]
                except openai.APITimeoutError:
                    last = f"timeout after {self.settings.timeout_s:g} s"
                except openai.APIConnectionError as exc:
                    last = f"connection error: {exc}"
                except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
                    last = f"malformed response envelope ({type(exc).__name__})"
                except openai.APIStatusError as exc:
                    last = f"HTTP {exc.status_code}"
                    if exc.status_code not in _RETRYABLE_STATUS:
                        self._count(last)
                        raise LLMRequestError(
                            f"{where}{last} from {self.settings.base_url} (not retried): {_short(exc)}", attempt
                        ) from None
                    retry_after = retry_after_seconds(exc.response.headers)
                else:
                    return self._completion(response, attempt)
            self._count(last)
            if attempt == policy.max_attempts:
                break
            self.stats.retries += 1
            delay = policy.delay(attempt, retry_after, self._rng)
            log.debug("%s%s; retry %d in %.2f s", where, last, attempt, delay)
            await asyncio.sleep(delay)
        raise LLMRequestError(f"{where}{last} after {policy.max_attempts} attempts", policy.max_attempts)

    def _completion(self, response: dict[str, Any], attempts: int) -> Completion:
        choice = response["choices"][0]
        usage = response.get("usage") or {}
        prompt_tokens = int(usage.get("prompt_tokens") or 0)
        completion_tokens = int(usage.get("completion_tokens") or 0)
        self.stats.prompt_tokens += prompt_tokens
        self.stats.completion_tokens += completion_tokens
        content = (choice.get("message") or {}).get("content") or ""
        return Completion(content, choice.get("finish_reason"), prompt_tokens, completion_tokens, attempts=attempts)

    def _count(self, error: str) -> None:
        kind = error.split(" after")[0].split(":")[0]
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1


def _short(exc: Exception, limit: int = 200) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "…"
