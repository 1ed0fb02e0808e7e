"""The GRPO reward components, built from config: the same functions verification uses.

format (pathkg.rewards.format_reward), answer (answer_reward), entity (EntityReward with the
pipeline's linker; modes recall / dice / f1), semantic (embedding cosine offline, or an LLM judge).
Each is named for its component so TRL logs `rewards/<name>/mean` per step.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.train_config import RewardSection
from pathkg.rewards import EntityReward, answer_reward, format_reward
from pathkg.rewards.semantic_reward import EmbeddingSimilarity, LLMJudge

log = logging.getLogger(__name__)

COMPONENTS = ("format", "semantic", "entity", "answer")


@dataclass
class NamedReward:
    """A reward function under its component name (TRL reads `__name__` for its log keys)."""

    fn: Callable[..., list[float | None]]
    __name__: str

    def __call__(self, completions: list[Any], **columns: Any) -> list[float | None]:
        return self.fn(completions, **columns)


def linker_from_export(export_dir: Path, split: str = "train") -> Any:
    """An EntityLinker over the KG entities the export itself names (names and surface texts as terms).

    Used when no KG dump is configured: the linker is the pipeline's, its dictionary the data's own ids.
    """
    from model.data_adapters import load_view
    from pathkg.linking.entity_linker import DictionaryTerm, EntityLinker

    ds = load_view(export_dir, "data", split, decode_images=False)
    terms: dict[tuple[str, str], DictionaryTerm] = {}
    for row in ds.select_columns(["description_entities", "diagnosis_entities"]):
        for e in (*row["description_entities"], *row["diagnosis_entities"]):
            for term, kind in ((e["name"], "name"), (e["text"], "synonym")):
                if term and len(term) > 2:
                    terms.setdefault(
                        (term.lower(), e["kg_id"]), DictionaryTerm(term, e["kg_id"], e["type"], e["name"], kind)
                    )
    log.info("entity linker from %s: %d terms", export_dir, len(terms))
    return EntityLinker(terms.values())


def semantic_reward(section: RewardSection) -> Callable[..., list[float | None]]:
    if section.semantic == "embedding":
        return EmbeddingSimilarity()
    if section.semantic == "judge":
        judge = dict(section.judge)
        if "model" not in judge:
            raise ValueError("rewards.judge.model is required for the LLM judge (and base_url for a local server)")
        return LLMJudge(**judge)
    raise ValueError(f"unknown semantic backend {section.semantic!r}; use embedding or judge")


def build_rewards(
    section: RewardSection, data_path: Path, split: str = "train"
) -> tuple[list[NamedReward], list[float]]:
    """The reward functions with a non-zero weight, and their weights, in config order."""
    unknown = set(section.weights) - set(COMPONENTS)
    if unknown:
        raise ValueError(f"unknown reward components {sorted(unknown)}; choose from {COMPONENTS}")
    functions, weights = [], []
    for name, weight in section.weights.items():
        if not weight:
            continue
        if name == "format":
            fn: Callable[..., list[float | None]] = format_reward
        elif name == "answer":
            fn = answer_reward
        elif name == "semantic":
            fn = semantic_reward(section)
        else:
            from pathkg.linking.entity_linker import EntityLinker

            linker = (
                EntityLinker.from_dump(Path(section.linker_dump))
                if section.linker_dump
                else linker_from_export(data_path, split)
            )
            fn = EntityReward(linker.asserted_ids, mode=section.entity_mode)  # type: ignore[arg-type]
        functions.append(NamedReward(fn, name))
        weights.append(float(weight))
    return functions, weights
