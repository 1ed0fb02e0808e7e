"""LLM extraction of a `PreparedReport` (PHI-scrubbed) into `ReportFields`.

The request carries the `ReportFields` JSON schema as `response_format` (vLLM enforces it with
guided decoding); the answer is parsed and validated with pydantic. An answer that is truncated
(`finish_reason == "length"`), not JSON, or not valid against the schema gets exactly one repair
request (the conversation plus the error); if the repair fails too, `LLMExtractionError` says why
both failed. A request that fails after its retries raises `LLMRequestError` (from the client).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pathkg.extract.prepare import PreparedReport, require_prepared
from pathkg.llm.client import Completion, LLMClient, RequestParams
from pathkg.llm.prompts import Prompt
from schemas.extraction import ReportFields


class LLMExtractionError(ValueError):
    """The model's answer could not be used, even after one repair attempt."""


class InvalidAnswer(ValueError):
    pass


@dataclass
class LLMExtraction:
    fields: ReportFields
    prompt_tokens: int
    completion_tokens: int
    requests: int  # HTTP requests made (0 when everything came from the cache)
    repaired: bool


def response_format() -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": "report_fields", "schema": ReportFields.model_json_schema(), "strict": True},
    }


def parse_answer(completion: Completion) -> ReportFields:
    if completion.finish_reason == "length":
        raise InvalidAnswer(f"truncated output (finish_reason=length after {len(completion.content)} characters)")
    text = completion.content.strip()
    if text.startswith("```"):  # some servers wrap JSON in a code fence even when told not to
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(data, dict):
        raise InvalidAnswer(f"expected a JSON object, got {type(data).__name__}")
    try:
        return ReportFields.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:8])
        raise InvalidAnswer(f"schema validation failed: {problems}") from None


class LLMReportExtractor:
    def __init__(self, client: LLMClient, prompt: Prompt, *, temperature: float = 0.0, max_tokens: int = 1500):
        self.client = client
        self.prompt = prompt
        # Serialised once: the JSON schema inside is kilobytes.
        self.params = RequestParams(
            {"temperature": temperature, "max_tokens": max_tokens, "response_format": response_format()}
        )

    async def extract(self, report: PreparedReport) -> LLMExtraction:
        report = require_prepared(report)
        label = f"case {report.case_id}"
        messages = self.prompt.messages(report=report.text)
        first = await self.client.complete(messages, label=label, params=self.params)
        tokens = [first]
        try:
            fields = parse_answer(first)
            repaired = False
        except InvalidAnswer as error:
            repair_messages = [
                *messages,
                {"role": "assistant", "content": first.content},
                self.prompt.repair_message(str(error)),
            ]
            second = await self.client.complete(repair_messages, label=f"{label} (repair)", params=self.params)
            tokens.append(second)
            try:
                fields = parse_answer(second)
            except InvalidAnswer as again:
                self.client.forget(first, second)  # a retry of this case asks the model again
                raise LLMExtractionError(
                    f"{label}: unusable LLM answer after one repair attempt: first: {error}; repair: {again}"
                ) from None
            repaired = True
        return LLMExtraction(
            fields=fields,
            prompt_tokens=sum(c.prompt_tokens for c in tokens),
            completion_tokens=sum(c.completion_tokens for c in tokens),
            requests=sum(c.attempts for c in tokens),
            repaired=repaired,
        )
