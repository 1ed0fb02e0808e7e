"""generate: one chain of thought per question.

`writer: template` (default): the deterministic offline writer, labelled `template` in provenance.
`writer: llm`: an OpenAI-compatible endpoint (a vLLM server) through the shared async client; the
prompt carries findings, diagnosis, question and the serialized KG paths. An I/O stage: requests
run concurrently on asyncio (run.concurrency in the config bounds them too).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from pathkg.corpus.llm_writer import PROMPT, write_chain_llm
from pathkg.corpus.template_writer import PROMPT_VERSION, write_chain
from pathkg.llm.client import LLMClient, LLMSettings
from pathkg.llm.endpoints import resolve_base_urls
from pathkg.llm.prompts import load_prompt
from pathkg.llm.retry import RetryPolicy
from pipelines.stage import ConfigPath, Stage, StageParams
from schemas.case_paths import CasePaths
from schemas.extraction import ReportExtraction
from schemas.generated_chain import GeneratedChain
from schemas.question import Question


class GenerateParams(StageParams):
    writer: Literal["template", "llm"] = "template"
    max_paths: int = Field(default=3, ge=0, description="KG paths given to the writer.")
    base_url: str | list[str] | None = Field(
        default=None,
        description="OpenAI-compatible endpoint(s): one URL or a list, balanced by requests in flight "
        "(default $PATHKG_LLM_BASE_URL, which may hold several separated by commas).",
    )
    base_urls_file: ConfigPath | None = Field(default=None, description="A file with one base URL per line.")
    model: str | None = Field(default=None, description="Served model name (default $PATHKG_LLM_MODEL).")
    prompt: str = Field(default=PROMPT, description="Chain-writing prompt (llm writer): name@version, or a .md file.")
    temperature: float = 0.2
    max_tokens: int = 1024
    timeout_s: float = 120.0
    max_attempts: int = Field(default=5, ge=1)
    max_in_flight: int = Field(default=32, ge=1, description="Requests in flight per endpoint.")

    @model_validator(mode="after")
    def _endpoints_readable(self) -> GenerateParams:
        if self.writer == "llm":
            resolve_base_urls(self.base_url, self.base_urls_file)  # a bad URL or file fails the config
        return self


class GenerateStage(Stage):
    name: ClassVar[str] = "generate"
    kind: ClassVar[str] = "io"
    output_model = GeneratedChain
    Params = GenerateParams
    params: GenerateParams
    # Where and how fast we ask do not change what the answer is; model, prompt and sampling do.
    key_exclude: ClassVar[frozenset[str]] = frozenset(
        {"timeout_s", "max_in_flight", "max_attempts", "base_url", "base_urls_file"}
    )
    _client: LLMClient | None = None

    def _llm(self) -> LLMClient:
        if self._client is None:
            p = self.params
            base_url = p.base_url or os.environ.get("PATHKG_LLM_BASE_URL", "").split(",")
            urls = resolve_base_urls(base_url, p.base_urls_file)
            model = p.model or os.environ.get("PATHKG_LLM_MODEL")
            if not urls or not model:
                raise ValueError(
                    "writer 'llm' needs base_url (or base_urls_file) and model "
                    "(params or $PATHKG_LLM_BASE_URL / $PATHKG_LLM_MODEL)"
                )
            self._client = LLMClient(
                LLMSettings(
                    base_urls=tuple(urls),
                    model=model,
                    timeout_s=p.timeout_s,
                    max_in_flight=p.max_in_flight,
                    retry=RetryPolicy(max_attempts=p.max_attempts),
                    cache_dir=self.context.work_dir / "llm_cache",
                )
            )
        return self._client

    @classmethod
    def kind_for(cls, params: GenerateParams) -> Literal["cpu", "io"]:  # type: ignore[override]
        # The template writer is pure computation: it runs on the worker pool, not on the event loop.
        return "cpu" if params.writer == "template" else "io"

    def process(self, case_id: str, inputs: dict[str, list[Any]]) -> list[GeneratedChain]:
        if self.params.writer != "template":
            raise TypeError("the llm writer runs through aprocess() on the event loop")
        extraction: ReportExtraction = self.one_of(inputs, ReportExtraction, case_id)
        paths = self.one_of(inputs, CasePaths, case_id).paths[: self.params.max_paths]
        return [
            GeneratedChain(
                question=q,
                response=write_chain(q, extraction.findings, paths, self.params.max_paths),
                generator_backend="template",
                prompt_version=PROMPT_VERSION,
            )
            for q in self.records_of(inputs, Question)
        ]

    async def aprocess(self, case_id: str, inputs: dict[str, list[Any]]) -> list[GeneratedChain]:
        if self.params.writer == "template":
            return self.process(case_id, inputs)
        extraction: ReportExtraction = self.one_of(inputs, ReportExtraction, case_id)
        paths = self.one_of(inputs, CasePaths, case_id).paths[: self.params.max_paths]
        questions = self.records_of(inputs, Question)
        client = self._llm()
        written = await asyncio.gather(
            *(
                write_chain_llm(
                    client,
                    q,
                    extraction.findings,
                    extraction.diagnosis or "",
                    paths,
                    temperature=self.params.temperature,
                    max_tokens=self.params.max_tokens,
                    prompt_spec=self.params.prompt,
                )
                for q in questions
            )
        )
        return [
            GeneratedChain(
                question=q,
                response=w.response,
                generator_backend="llm",
                generator_model=client.settings.model,
                prompt_version=load_prompt(self.params.prompt).id,
                prompt_tokens=w.prompt_tokens,
                completion_tokens=w.completion_tokens,
            )
            for q, w in zip(questions, written, strict=True)
        ]

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
