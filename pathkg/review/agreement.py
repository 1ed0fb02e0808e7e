"""Agreement between annotators who decided the same sample: per pair, observed agreement and Cohen's kappa."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

from schemas.review import ReviewDecision


@dataclass(frozen=True)
class PairAgreement:
    annotator_a: str
    annotator_b: str
    samples: int
    agreed: int
    #: Cohen's kappa over accept / edit / reject; None when chance agreement is 1 (one category only).
    kappa: float | None

    @property
    def observed(self) -> float:
        return self.agreed / self.samples if self.samples else 0.0


def last_decisions(decisions: Iterable[ReviewDecision]) -> dict[str, dict[str, str]]:
    """sample_id -> annotator -> that annotator's last decision on it."""
    out: dict[str, dict[str, str]] = {}
    for d in decisions:
        out.setdefault(d.sample_id, {})[d.annotator] = d.decision
    return out


def pairwise_agreement(decisions: Iterable[ReviewDecision]) -> list[PairAgreement]:
    by_sample = last_decisions(decisions)
    annotators = sorted({a for per in by_sample.values() for a in per})
    pairs = []
    for a, b in combinations(annotators, 2):
        both = [(per[a], per[b]) for per in by_sample.values() if a in per and b in per]
        if not both:
            continue
        n = len(both)
        agreed = sum(x == y for x, y in both)
        ca, cb = Counter(x for x, _ in both), Counter(y for _, y in both)
        expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
        kappa = None if expected >= 1 else round((agreed / n - expected) / (1 - expected), 4)
        pairs.append(PairAgreement(a, b, n, agreed, kappa))
    return pairs
