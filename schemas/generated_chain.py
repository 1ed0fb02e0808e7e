"""The generate stage's output: one chain of thought for one question."""

from typing import Literal

from pydantic import Field

from schemas.question import Question
from schemas.record import Record


class GeneratedChain(Record):
    question: Question
    response: str = Field(description="<observe>…</observe>\\n<think>…</think>\\n<answer>…</answer>")
    generator_backend: Literal["template", "llm"]
    generator_model: str | None = None
    prompt_version: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
