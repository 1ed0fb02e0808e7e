"""The LLM chain writer: the prompt carries findings, diagnosis, the question and the serialized KG
paths; the model must use the paths' entities. Through the shared async client (retries, cache,
bounded concurrency); a reply that is not a well-formed chain gets one repair request, then fails.

The static part of the prompt (system message, instructions) comes first so that a vLLM server's
prefix cache serves it once for the whole corpus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pathkg.llm.client import LLMClient
from pathkg.llm.prompts import Prompt, load_prompt
from pathkg.rewards.chain_format import DEFAULT_TAGS, ChainTags, parse_chain
from pathkg.text.phi_scrub import scrub_phi
from schemas.kg_path import KGPath
from schemas.question import Question

PROMPT = "chain_writing@v1"


class ChainWritingError(RuntimeError):
    pass


class PHIInPromptError(ChainWritingError):
    pass


@dataclass
class WrittenChain:
    response: str
    prompt_tokens: int
    completion_tokens: int


def serialize_paths(paths: Sequence[KGPath]) -> str:
    if not paths:
        return "(no path links these findings to the diagnosis)"
    lines = []
    for i, path in enumerate(paths, 1):
        steps = "; ".join(f"{s.source_name} -{s.relation}-> {s.target_name}" for s in path.steps)
        lines.append(f"{i}. {steps}")
    return "\n".join(lines)


def chain_messages(
    prompt: Prompt, question: Question, findings: Sequence[str], diagnosis: str, paths: Sequence[KGPath]
) -> list[dict[str, str]]:
    values = {
        "question": question.question,
        "findings": "\n".join(f"- {f}" for f in findings) or "- (none stated)",
        "diagnosis": diagnosis or "(not stated)",
        "answer": question.reference_answer,
        "paths": serialize_paths(paths),
    }
    user = prompt.user
    for key, value in values.items():
        user = user.replace("{" + key + "}", value)
    leaked = scrub_phi(user).counts
    if any(leaked.values()):
        kinds = ", ".join(k for k, v in leaked.items() if v)
        raise PHIInPromptError(f"case {question.case_id}: the prompt would carry possible PHI ({kinds}); not sent")
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": user}]


async def write_chain_llm(
    client: LLMClient,
    question: Question,
    findings: Sequence[str],
    diagnosis: str,
    paths: Sequence[KGPath],
    *,
    temperature: float = 0.2,
    max_tokens: int = 1024,
    tags: ChainTags = DEFAULT_TAGS,
) -> WrittenChain:
    prompt = load_prompt(PROMPT)
    messages = chain_messages(prompt, question, findings, diagnosis, paths)
    params = {"temperature": temperature, "max_tokens": max_tokens}
    first = await client.complete(messages, label=question.case_id, **params)
    tokens = [first.prompt_tokens, first.completion_tokens]
    if parse_chain(first.content, tags) is not None:
        return WrittenChain(first.content.strip(), *tokens)
    client.forget(first)  # never serve an unusable reply from the cache again
    error = "the reply is not exactly <observe>, <think> and <answer> blocks in that order"
    if first.finish_reason == "length":
        error += " (it was cut off at max_tokens)"
    repair = [*messages, {"role": "assistant", "content": first.content}, prompt.repair_message(error)]
    second = await client.complete(repair, label=question.case_id, **params)
    tokens = [tokens[0] + second.prompt_tokens, tokens[1] + second.completion_tokens]
    if parse_chain(second.content, tags) is None:
        client.forget(second)
        raise ChainWritingError(f"case {question.case_id}: {error}, also after one repair request")
    return WrittenChain(second.content.strip(), *tokens)
