"""The LLM chain writer: the prompt carries findings, diagnosis, the question and the serialized KG
paths; the model must use the paths' entities. Through the shared async client (retries, cache,
bounded concurrency); a reply that is not a well-formed chain gets one repair request, then fails.

The static part of the prompt (system message, instructions) comes first so that a vLLM server's
prefix cache serves it once for the whole corpus; from `chain_writing@v2` on, the case's findings,
diagnosis and paths come before the question, so the questions of one case share a longer prefix.

Every value put into the prompt is checked for PHI (`scrub_phi` must find nothing) before anything
is sent: the case's findings, diagnosis and paths as one block, the question and its reference
answer each on their own. The results are memoised (a bounded memo), since the same case block
comes back for each question of a case and the same wordings and answers for many cases.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pathkg.llm.client import LLMClient, RequestParams
from pathkg.llm.prompts import Prompt, load_prompt
from pathkg.rewards.chain_format import DEFAULT_TAGS, ChainTags, parse_chain
from pathkg.text.phi_scrub import scrub_phi
from schemas.kg_path import KGPath
from schemas.question import Question

PROMPT = "chain_writing@v2"


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
    case_block = "\n\n".join((values["findings"], values["diagnosis"], values["paths"]))
    kinds = sorted({*_phi_kinds(case_block), *_phi_kinds(values["question"]), *_phi_kinds(values["answer"])})
    if kinds:
        raise PHIInPromptError(
            f"case {question.case_id}: the prompt would carry possible PHI ({', '.join(kinds)}); not sent"
        )
    user = prompt.user
    for key, value in values.items():
        user = user.replace("{" + key + "}", value)
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": user}]


_PHI_MEMO: OrderedDict[str, tuple[str, ...]] = OrderedDict()
_PHI_MEMO_SIZE = 4096


def _phi_kinds(value: str) -> tuple[str, ...]:
    """The PHI kinds `scrub_phi` finds in `value`, memoised: the same findings, paths, question
    wordings and answers come back for many questions (one case's questions, one template's wording)."""
    kinds = _PHI_MEMO.get(value)
    if kinds is not None:
        _PHI_MEMO.move_to_end(value)
        return kinds
    kinds = tuple(k for k, v in scrub_phi(value).counts.items() if v)
    _PHI_MEMO[value] = kinds
    if len(_PHI_MEMO) > _PHI_MEMO_SIZE:
        _PHI_MEMO.popitem(last=False)
    return kinds


@lru_cache(maxsize=64)
def _request_params(temperature: float, max_tokens: int) -> RequestParams:
    return RequestParams({"temperature": temperature, "max_tokens": max_tokens})


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
    prompt_spec: str = PROMPT,
) -> WrittenChain:
    prompt = load_prompt(prompt_spec)
    messages = chain_messages(prompt, question, findings, diagnosis, paths)
    params = _request_params(temperature, max_tokens)
    first = await client.complete(messages, label=question.case_id, params=params)
    tokens = [first.prompt_tokens, first.completion_tokens]
    if parse_chain(first.content, tags) is not None:
        return WrittenChain(first.content.strip(), *tokens)
    client.forget(first)  # never serve an unusable reply from the cache again
    error = "the reply is not exactly <observe>, <think> and <answer> blocks in that order"
    if first.finish_reason == "length":
        error += " (it was cut off at max_tokens)"
    repair = [*messages, {"role": "assistant", "content": first.content}, prompt.repair_message(error)]
    second = await client.complete(repair, label=question.case_id, params=params)
    tokens = [tokens[0] + second.prompt_tokens, tokens[1] + second.completion_tokens]
    if parse_chain(second.content, tags) is None:
        client.forget(second)
        raise ChainWritingError(f"case {question.case_id}: {error}, also after one repair request")
    return WrittenChain(second.content.strip(), *tokens)
