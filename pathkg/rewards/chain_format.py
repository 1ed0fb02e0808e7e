"""The chain format: exactly `<observe>…</observe>\\n<think>…</think>\\n<answer>…</answer>`.

Tag names are defined once here. The reference release writes `<info>` where the paper's reward
code expects `<observe>`; `ChainTags.accepting_info()` reads both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pathkg.rewards.completions import completion_text


@dataclass(frozen=True)
class ChainTags:
    observe: str = "observe"
    think: str = "think"
    answer: str = "answer"
    #: Other names accepted for the observe block when reading (never when writing).
    observe_aliases: tuple[str, ...] = field(default=())

    @classmethod
    def accepting_info(cls) -> ChainTags:
        return cls(observe_aliases=("info",))

    def render(self, observe: str, think: str, answer: str) -> str:
        o, t, a = self.observe, self.think, self.answer
        return f"<{o}>{observe}</{o}>\n<{t}>{think}</{t}>\n<{a}>{answer}</{a}>"


DEFAULT_TAGS = ChainTags()


@dataclass(frozen=True)
class Chain:
    observe: str
    think: str
    answer: str
    observe_tag: str


@cache
def _pattern(tags: ChainTags) -> re.Pattern[str]:
    names = "|".join(re.escape(n) for n in (tags.observe, *tags.observe_aliases))
    t, a = re.escape(tags.think), re.escape(tags.answer)
    body = r"((?:(?!</?(?:{all})>).)+?)".format(all="|".join([names, t, a]))
    return re.compile(
        rf"\s*<(?P<otag>{names})>{body}</(?P=otag)>\n<{t}>{body}</{t}>\n<{a}>{body}</{a}>\s*",
        re.DOTALL,
    )


def parse_chain(text: str, tags: ChainTags = DEFAULT_TAGS) -> Chain | None:
    """The three blocks of a well-formed chain, or None (wrong order, missing, nested, extra text)."""
    m = _pattern(tags).fullmatch(text)
    if m is None:
        return None
    observe, think, answer = (g.strip() for g in m.group(2, 3, 4))
    if not (observe and think and answer):
        return None
    return Chain(observe, think, answer, m.group("otag"))


_ANY_TAG = re.compile(r"</?[A-Za-z_]+>")


def plain_text(text: str) -> str:
    """The chain's words without its tags (each tag becomes a line break), for entity linking."""
    return _ANY_TAG.sub("\n", text)


def format_reward(completions: list[Any], tags: ChainTags = DEFAULT_TAGS, **_: Any) -> list[float]:
    """1.0 for a chain of exactly observe → think → answer blocks (non-empty), else 0.0."""
    return [1.0 if parse_chain(completion_text(c), tags) else 0.0 for c in completions]
