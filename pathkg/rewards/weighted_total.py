"""The total reward: a weighted sum of components, each a TRL reward function.

Weights come from config (default format + semantic + 0.5 · entity). A component that is None for a
completion (not applicable, or a judge failure) is left out of that completion's sum — the same
rule TRL's GRPOTrainer applies (a NaN-skipping sum) — never counted as 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

DEFAULT_WEIGHTS: dict[str, float] = {"format": 1.0, "semantic": 1.0, "entity": 0.5}

RewardFn = Callable[..., list[float | None]]


def weighted_total(components: Mapping[str, list[float | None]], weights: Mapping[str, float]) -> list[float | None]:
    """Per completion Σ w·r over the components that have a value; None when none has."""
    unknown = set(weights) - set(components)
    if unknown:
        raise KeyError(f"weights for missing reward components: {sorted(unknown)}")
    n = len(next(iter(components.values()), []))
    totals: list[float | None] = []
    for i in range(n):
        present = [(weights[name], values[i]) for name, values in components.items() if values[i] is not None]
        totals.append(sum(w * v for w, v in present) if present else None)
    return totals


def score_components(
    functions: Mapping[str, RewardFn], completions: list[Any], **columns: Any
) -> dict[str, list[float | None]]:
    """Call every reward function the way TRL does (dataset columns as keyword arguments)."""
    return {name: fn(completions, **columns) for name, fn in functions.items()}
