"""The two extraction backends behind one call: raw report text in, `ReportExtraction` out.

Both start the same way — `prepare_report` scrubs PHI first, then normalises OCR and splits
sections — so the LLM backend only ever sends scrubbed text. `RulesBackend` is offline and
deterministic; `LLMBackend` talks to an OpenAI-compatible endpoint (see `pathkg.llm.client`).
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from pathkg.extract.prepare import PreparedReport, prepare_report
from pathkg.extract.rules import RULES_VERSION, extract_rules
from pathkg.llm.client import LLMClient, LLMSettings
from pathkg.llm.prompts import load_prompt
from pathkg.llm.report_extractor import LLMReportExtractor
from schemas.extraction import ReportExtraction, ReportFields


class Backend(Protocol):
    name: str

    async def extract(self, case_id: str, raw_text: str) -> ReportExtraction: ...

    async def aclose(self) -> None: ...


def _record(prepared: PreparedReport, fields: ReportFields, backend: str, **provenance: object) -> ReportExtraction:
    return ReportExtraction(
        **fields.model_dump(),
        case_id=prepared.case_id,
        backend=backend,
        phi_replacements=prepared.phi_replacements,
        ocr_fixes=prepared.ocr_fixes,
        **provenance,  # type: ignore[arg-type]
    )


def extract_with_rules(case_id: str, raw_text: str) -> ReportExtraction:
    prepared = prepare_report(case_id, raw_text)
    return _record(prepared, extract_rules(prepared), "rules", extractor_version=RULES_VERSION)


def _process_pool(workers: int) -> ProcessPoolExecutor | None:
    # spawn, not fork: the pool may be started from a thread of a process that runs an event loop.
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) if workers > 0 else None


class RulesBackend:
    """Rules on the event loop, or in `cpu_workers` processes (about 30 ms of CPU per real report)."""

    name = "rules"

    def __init__(self, cpu_workers: int = 0):
        self._pool = _process_pool(cpu_workers)

    async def extract(self, case_id: str, raw_text: str) -> ReportExtraction:
        if self._pool is None:
            return extract_with_rules(case_id, raw_text)
        return await asyncio.get_running_loop().run_in_executor(self._pool, extract_with_rules, case_id, raw_text)

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class LLMBackendConfig:
    settings: LLMSettings
    prompt: str = "report_extraction@v1"
    temperature: float = 0.0
    max_tokens: int = 1500
    # Processes that scrub and normalise reports off the event loop (0: on the loop). Worth it when
    # the endpoint answers faster than one core can prepare reports (several ms each).
    cpu_workers: int = 0


class LLMBackend:
    """Create inside the event loop that will use it (the HTTP client binds to that loop)."""

    name = "llm"

    def __init__(self, config: LLMBackendConfig):
        self.config = config
        self.prompt = load_prompt(config.prompt)
        self.client = LLMClient(config.settings)
        self.extractor = LLMReportExtractor(
            self.client, self.prompt, temperature=config.temperature, max_tokens=config.max_tokens
        )
        self._pool = _process_pool(config.cpu_workers)

    async def _prepare(self, case_id: str, raw_text: str) -> PreparedReport:
        if self._pool is None:
            return prepare_report(case_id, raw_text)
        return await asyncio.get_running_loop().run_in_executor(self._pool, prepare_report, case_id, raw_text)

    async def extract(self, case_id: str, raw_text: str) -> ReportExtraction:
        prepared = await self._prepare(case_id, raw_text)
        result = await self.extractor.extract(prepared)
        return _record(
            prepared,
            result.fields,
            "llm",
            extractor_version=self.prompt.id,
            prompt_version=self.prompt.id,
            model=self.config.settings.model,
            prompt_tokens=result.prompt_tokens,
            completion_tokens=result.completion_tokens,
            llm_attempts=result.requests,
        )

    async def aclose(self) -> None:
        await self.client.aclose()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
