"""reports: a case's pathology report → one `ReportExtraction` (PHI scrubbed first, always).

`backend: rules` (default) extracts offline with rules; `backend: llm` asks an OpenAI-compatible
endpoint (vLLM) with the versioned prompt, through the bounded, retrying, caching client. Either
way the report is PHI-scrubbed before anything else reads it, and only scrubbed text is sent.
With `rules` the stage is plain computation and runs on the worker pool like any CPU stage. With
`llm` it is an I/O stage: cases run concurrently on one event loop (the run's `concurrency`), and the
LLM client bounds requests in flight (`max_in_flight`). A case the LLM cannot answer fails with its
reason (the runner records it; `pathkg retry` tries again, replaying answered requests from the cache).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from pathkg.extract.backends import Backend, LLMBackend, LLMBackendConfig, RulesBackend, extract_with_rules
from pathkg.llm.client import LLMSettings
from pathkg.llm.endpoints import resolve_base_urls
from pathkg.llm.retry import RetryPolicy
from pipelines.stage import ConfigPath, Stage, StageParams
from schemas.case import Case
from schemas.extraction import ReportExtraction

DEFAULT_BASE_URL = "http://127.0.0.1:8000/v1"


class ReportsParams(StageParams):
    backend: Literal["rules", "llm"] = "rules"
    base_url: str | list[str] | None = Field(
        default=None,
        description="OpenAI-compatible endpoint(s) (llm): one URL or a list, balanced by requests in flight "
        "(default http://127.0.0.1:8000/v1 when no base_urls_file either).",
    )
    base_urls_file: ConfigPath | None = Field(default=None, description="A file with one base URL per line (llm).")
    model: str | None = Field(default=None, description="Model name the endpoint serves (llm; required).")
    api_key_env: str = Field(default="PATHKG_LLM_API_KEY", description="Environment variable with the API key.")
    prompt: str = Field(default="report_extraction@v1", description="Prompt file name@version.")
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=1500, ge=16)
    timeout_s: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=5, ge=1)
    max_in_flight: int = Field(default=32, ge=1, description="Requests in flight per endpoint.")
    cpu_workers: int = Field(
        default=0,
        ge=0,
        description="(llm) Processes that scrub and normalise reports before their requests, off the event "
        "loop (0: on the loop). The rules backend runs on the run's worker pool.",
    )
    cache_dir: ConfigPath | None = Field(default=None, description="LLM response cache (default: the run's work dir).")

    @model_validator(mode="after")
    def _llm_needs_model(self) -> ReportsParams:
        if self.backend == "llm" and not self.model:
            raise ValueError("backend 'llm' needs 'model' (the name the endpoint serves)")
        if self.backend == "llm":
            self.endpoints()  # a malformed URL or an unreadable file fails the config, not every case
        return self

    def endpoints(self) -> list[str]:
        urls = resolve_base_urls(self.base_url, self.base_urls_file)
        return urls or [DEFAULT_BASE_URL]


class ReportsStage(Stage):
    name: ClassVar[str] = "reports"
    version: ClassVar[str] = "1"
    kind: ClassVar[Literal["cpu", "io"]] = "io"
    output_model = ReportExtraction
    Params = ReportsParams
    # Where and how fast we ask do not change what the answer is; model, prompt and sampling do.
    key_exclude: ClassVar[frozenset[str]] = frozenset(
        {"base_url", "base_urls_file", "api_key_env", "timeout_s", "max_attempts", "max_in_flight", "cache_dir"}
        | {"cpu_workers"}
    )

    params: ReportsParams
    _backend: Backend | None = None
    _keeper: AsyncIterator[None] | None = None

    def _make_backend(self) -> Backend:
        p = self.params
        if p.backend == "rules":
            return RulesBackend(p.cpu_workers)
        settings = LLMSettings(
            base_urls=tuple(p.endpoints()),
            model=p.model or "",
            api_key=os.environ.get(p.api_key_env, "EMPTY"),
            timeout_s=p.timeout_s,
            max_in_flight=p.max_in_flight,
            retry=RetryPolicy(max_attempts=p.max_attempts),
            cache_dir=p.cache_dir or self.context.work_dir / "llm_cache",
        )
        return LLMBackend(LLMBackendConfig(settings, p.prompt, p.temperature, p.max_tokens, p.cpu_workers))

    @classmethod
    def kind_for(cls, params: ReportsParams) -> Literal["cpu", "io"]:  # type: ignore[override]
        return "cpu" if params.backend == "rules" else "io"

    @staticmethod
    def _case(case_id: str, inputs: dict[str, list[Any]]) -> Case:
        cases = [r for records in inputs.values() for r in records if isinstance(r, Case)]
        if len(cases) != 1:
            raise TypeError(f"case {case_id}: reports expects one Case from its upstream, got {len(cases)}")
        return cases[0]

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[ReportExtraction]:
        if self.params.backend != "rules":
            raise TypeError("the llm backend runs through aprocess() on the event loop")
        return [extract_with_rules(case_id, self._case(case_id, inputs).report_text)]

    async def aprocess(self, case_id: str, inputs: dict[str, list[Any]]) -> list[ReportExtraction]:
        case = self._case(case_id, inputs)
        if self._backend is None:
            self._backend = self._make_backend()
            self._keeper = _close_at_loop_shutdown(self._backend)
            await anext(self._keeper)
        return [await self._backend.extract(case_id, case.report_text)]

    def close(self) -> None:
        # Called synchronously inside the event loop; the HTTP client is closed by the loop's
        # async-generator shutdown (see _close_at_loop_shutdown), while the loop still runs.
        self._backend = None


async def _close_at_loop_shutdown(backend: Backend) -> AsyncIterator[None]:
    """Held open for the loop's lifetime; `asyncio.run` finalises it on shutdown, closing the client."""
    try:
        yield
    finally:
        await backend.aclose()
