"""Reward functions shared by verification and RL training: one implementation of each.

Every reward is a plain callable in TRL's shape, `f(completions, **columns) -> list[float | None]`,
where dataset columns arrive as keyword arguments and `None` means "not applicable".
"""

from pathkg.rewards.answer_match import answer_reward, answers_agree, normalise_answer
from pathkg.rewards.chain_format import ChainTags, format_reward, parse_chain
from pathkg.rewards.completions import completion_text
from pathkg.rewards.entity_reward import EntityReward, entity_score

__all__ = [
    "ChainTags",
    "EntityReward",
    "answer_reward",
    "answers_agree",
    "completion_text",
    "entity_score",
    "format_reward",
    "normalise_answer",
    "parse_chain",
]
