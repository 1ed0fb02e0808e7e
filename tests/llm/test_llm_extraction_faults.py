"""LLM extraction against a fault-injecting OpenAI-compatible server.

The server (`pathkg.llm.loopback_server.LoopbackServer`) is the one allowed test double: a small
real HTTP server on loopback that speaks the OpenAI API, so that the real `openai` client, retry
policy, cache and validation run end to end, and that injects on demand what a real vLLM server
will not (500s, 429 + Retry-After, hangs, malformed / schema-failing / truncated answers).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pathkg.extract.backends import LLMBackend, LLMBackendConfig
from pathkg.extract.batch import BatchResult, InputRow, extract_rows
from pathkg.extract.prepare import UnscrubbedTextError
from pathkg.llm.client import LLMSettings
from pathkg.llm.loopback_server import LoopbackServer
from pathkg.llm.prompts import load_prompt
from pathkg.llm.report_extractor import LLMReportExtractor
from pathkg.llm.retry import RetryPolicy

PHI = ["Bartholomew", "Quigley", "00918273", "(415) 555-0187", "S11-90817"]


def report(mark: str, fault: str | None = None) -> str:
    directive = f" FAULT={fault}." if fault else ""
    return (
        f"SURGICAL PATHOLOGY. Patient: Quigley, Bartholomew. MRN: 00918273. Tel (415) 555-0187. "
        f"Accession #: S11-90817. CASEMARK={mark}.{directive} FINAL DIAGNOSIS: INVASIVE DUCTAL CARCINOMA, "
        f"NOTTINGHAM GRADE 2. pT1c pN0."
    )


# case id -> fault directive, and what must become of the case
CASES: dict[str, tuple[str | None, str]] = {
    "C00": (None, "extracted"),
    "C01": ("500:2", "extracted"),
    "C02": ("429:1", "extracted"),
    "C03": ("hang:1", "extracted"),
    "C04": ("malformed:1", "extracted"),
    "C05": ("schema:1", "extracted"),
    "C06": ("truncated:1", "extracted"),
    "C07": ("500:always", "HTTP 500 after 3 attempts"),
    "C08": ("malformed:always", "malformed JSON"),
    "C09": ("truncated:always", "truncated output"),
    "C10": ("schema:always", "schema validation failed"),
    "C11": ("hang:always", "timeout after 0.5 s after 3 attempts"),
    "C12": ("429:always", "HTTP 429 after 3 attempts"),
}


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(retry_after_s=1.0, hang_s=3.0) as srv:
        yield srv


def settings(base_url: str, cache_dir: Path, max_in_flight: int = 8) -> LLMSettings:
    return LLMSettings(
        base_url=base_url,
        model="loopback-model",
        timeout_s=0.5,
        max_in_flight=max_in_flight,
        retry=RetryPolicy(max_attempts=3, base_delay_s=0.05, max_delay_s=0.2),
        cache_dir=cache_dir,
    )


def run_batch(base_url: str, cache_dir: Path, rows: list[InputRow], max_in_flight: int = 8) -> tuple[BatchResult, dict]:
    async def go() -> tuple[BatchResult, dict]:
        backend = LLMBackend(LLMBackendConfig(settings(base_url, cache_dir, max_in_flight)))
        try:
            result = await extract_rows(rows, backend, concurrency=64)
        finally:
            await backend.aclose()
        return result, backend.client.stats.__dict__

    return asyncio.run(go())


def rows() -> list[InputRow]:
    return [InputRow(case_id, report(case_id, fault)) for case_id, (fault, _) in CASES.items()]


def test_every_case_ends_extracted_or_failed_with_its_reason(server: LoopbackServer, tmp_path: Path) -> None:
    result, stats = run_batch(server.base_url, tmp_path / "cache", rows())

    extracted = {r.case_id: r for r in result.records}
    failed = {f.case_id: f for f in result.failures}
    assert set(extracted) | set(failed) == set(CASES) and not set(extracted) & set(failed)  # none lost
    for case_id, (_, expected) in CASES.items():
        if expected == "extracted":
            record = extracted[case_id]
            # The answer is this case's own (no mix-up under concurrency), with provenance and tokens.
            assert record.diagnosis == f"loopback answer for {case_id}"
            assert record.histologic_type == "invasive ductal carcinoma" and record.pt == "pT1c"
            assert record.backend == "llm" and record.prompt_version == "report_extraction@v1"
            assert record.model == "loopback-model"
            assert record.prompt_tokens and record.prompt_tokens > 0 and record.completion_tokens
            assert record.phi_replacements == {"ACCESSION": 1, "MRN": 1, "NAME": 1, "PHONE": 1}
        else:
            assert case_id in failed, f"{case_id} should have failed ({expected})"
            assert expected in failed[case_id].message, failed[case_id].message
            assert case_id in failed[case_id].message
    # Invalid answers got exactly one repair request, whose prompt carries the reason.
    assert failed["C08"].error_type == "LLMExtractionError"
    assert failed["C08"].message.count("malformed JSON") == 2
    assert failed["C07"].error_type == "LLMRequestError"
    assert stats["retries"] > 0 and stats["cache_hits"] == 0


def test_no_unscrubbed_phi_reaches_the_endpoint(server: LoopbackServer, tmp_path: Path) -> None:
    run_batch(server.base_url, tmp_path / "cache", rows()[:3])
    bodies = json.dumps([entry.body for entry in server.log])
    assert server.log
    for phi in PHI:
        assert phi not in bodies
    assert "[NAME]" in bodies and "[MRN]" in bodies


def test_extractors_refuse_raw_text(server: LoopbackServer, tmp_path: Path) -> None:
    async def go() -> None:
        backend = LLMBackend(LLMBackendConfig(settings(server.base_url, tmp_path)))
        extractor = LLMReportExtractor(backend.client, load_prompt("report_extraction@v1"))
        try:
            with pytest.raises(UnscrubbedTextError):
                await extractor.extract(report("RAW"))  # type: ignore[arg-type]
        finally:
            await backend.aclose()

    asyncio.run(go())
    assert server.log == []


def test_retry_after_is_honoured(server: LoopbackServer, tmp_path: Path) -> None:
    run_batch(server.base_url, tmp_path / "cache", [InputRow("C02", report("C02", "429:1"))])
    times = [e.time for e in server.log]
    assert [e.outcome for e in server.log] == ["429", "ok"]
    assert times[1] - times[0] >= 1.0  # the server said Retry-After: 1


def test_repair_request_carries_the_error(server: LoopbackServer, tmp_path: Path) -> None:
    result, _ = run_batch(server.base_url, tmp_path / "cache", [InputRow("C05", report("C05", "schema:1"))])
    assert [r.case_id for r in result.records] == ["C05"]
    first, repair = server.log
    assert len(repair.body["messages"]) == len(first.body["messages"]) + 2
    assert "schema validation failed" in repair.body["messages"][-1]["content"]
    assert first.body["response_format"]["type"] == "json_schema"
    assert "histologic_type" in json.dumps(first.body["response_format"]["json_schema"]["schema"])


def test_rerun_resumes_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with LoopbackServer(retry_after_s=0.2, hang_s=3.0) as faulty:
        first, _ = run_batch(faulty.base_url, cache, rows())
    failed_before = {f.case_id for f in first.failures}
    assert failed_before == {c for c, (_, want) in CASES.items() if want != "extracted"}

    # The rerun talks to a healthy server: answered requests come from the cache, only failed cases are asked.
    with LoopbackServer(faults=False) as healthy:
        second, stats = run_batch(healthy.base_url, cache, rows())
        asked = {e.key for e in healthy.log}
    assert second.failures == [] and len(second.records) == len(CASES)
    reports_asked = {r.case_id for r in second.records if r.llm_attempts}
    assert reports_asked == failed_before
    assert len(asked) == len(failed_before)
    assert stats["cache_hits"] >= len(CASES) - len(failed_before)
    before = {r.case_id: r.model_dump(exclude={"llm_attempts"}) for r in first.records}
    after = {r.case_id: r.model_dump(exclude={"llm_attempts"}) for r in second.records}
    for case_id, record in before.items():
        assert after[case_id] == record


def test_requests_in_flight_are_bounded(tmp_path: Path) -> None:
    with LoopbackServer(latency_s=0.1) as slow:
        many = [InputRow(f"B{i:02d}", report(f"B{i:02d}")) for i in range(24)]
        result, _ = run_batch(slow.base_url, tmp_path / "cache", many, max_in_flight=4)
        assert len(result.records) == 24
        assert slow.max_in_flight_seen == 4


def test_preparation_in_worker_processes_gives_the_same_records(server: LoopbackServer, tmp_path: Path) -> None:
    def batch(workers: int, cache: str) -> list[dict]:
        async def go() -> list[dict]:
            config = LLMBackendConfig(settings(server.base_url, tmp_path / cache), cpu_workers=workers)
            backend = LLMBackend(config)
            try:
                result = await extract_rows([InputRow(f"W{i}", report(f"W{i}")) for i in range(6)], backend)
            finally:
                await backend.aclose()
            return [r.model_dump() for r in result.records]

        return asyncio.run(go())

    inline, pooled = batch(0, "a"), batch(2, "b")
    assert len(pooled) == 6 and pooled == inline
    assert pooled[0]["phi_replacements"] == {"ACCESSION": 1, "MRN": 1, "NAME": 1, "PHONE": 1}
