"""The KG-aligned Entity Reward.

Entities of the prediction and of the ground truth are KG node ids found by the same linker
the pipeline uses, so synonyms and abbreviations of one concept count as one match.
Modes: `recall` (the paper: R = (1/|E_gt|) Σ match(e_pred, e_gt)), `dice` (the reference
release: 2·hits / (|E_pred| + |E_gt|)) and `f1`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pathkg.rewards.chain_format import plain_text
from pathkg.rewards.completions import completion_text

Mode = Literal["recall", "dice", "f1"]


def entity_score(predicted: Iterable[str], reference: Iterable[str], mode: Mode = "recall") -> float | None:
    """Score two sets of KG ids; None when the reference has none (nothing to reward)."""
    pred, ref = set(predicted), set(reference)
    if not ref:
        return None
    hits = len(pred & ref)
    if mode == "recall":
        return hits / len(ref)
    if mode == "dice":
        return 2 * hits / (len(pred) + len(ref))
    if mode == "f1":
        if hits == 0:
            return 0.0
        precision, recall = hits / len(pred), hits / len(ref)
        return 2 * precision * recall / (precision + recall)
    raise ValueError(f"unknown entity reward mode {mode!r}; use recall, dice or f1")


@dataclass
class EntityReward:
    """A TRL reward function: `EntityReward(link)(completions, gt_entity_ids=[...])`.

    `link(text)` returns the KG ids asserted in the text (negated mentions excluded).
    The linker reads the chain's words without its tags.
    """

    link: Callable[[str], Iterable[str]]
    mode: Mode = "recall"
    __name__: str = "entity_reward"

    def __call__(
        self, completions: list[Any], gt_entity_ids: list[list[str]] | None = None, **_: Any
    ) -> list[float | None]:
        if gt_entity_ids is None:
            return [None] * len(completions)
        scores = []
        for completion, gt in zip(completions, gt_entity_ids, strict=True):
            scores.append(entity_score(self.link(plain_text(completion_text(completion))), gt or [], self.mode))
        return scores
