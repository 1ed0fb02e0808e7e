"""One function per verification check; each returns a CheckResult an annotator can read.

format / answer / entity come from `pathkg.rewards` (the very functions GRPO optimises);
unsupported entities, negation contradictions and PHI leaks are verification-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pathkg.rewards.answer_match import answers_agree
from pathkg.rewards.chain_format import Chain
from pathkg.rewards.entity_reward import entity_score
from pathkg.text.phi_scrub import scrub_phi
from schemas.entity import Entity
from schemas.kg_path import KGPath
from schemas.verification import CheckResult


def check_format(chain: Chain | None) -> CheckResult:
    if chain is None:
        return CheckResult(
            name="format", passed=False, score=0.0, reason="not exactly <observe>, <think>, <answer> blocks in order"
        )
    return CheckResult(name="format", passed=True, score=1.0)


def check_answer(chain: Chain | None, reference: str, question_type: str) -> CheckResult:
    if chain is None:
        return CheckResult(name="answer", passed=False, score=0.0, reason="no <answer> block to compare")
    if answers_agree(chain.answer, reference, question_type):
        return CheckResult(name="answer", passed=True, score=1.0)
    return CheckResult(
        name="answer",
        passed=False,
        score=0.0,
        reason=f"answer {chain.answer!r} does not agree with the report's {question_type}: {reference!r}",
    )


def reference_ids(description: Sequence[Entity], diagnosis: Sequence[Entity]) -> list[str]:
    return list(dict.fromkeys(e.kg_id for e in (*description, *diagnosis) if not e.negated))


def check_entity_recall(asserted: Iterable[str], reference: Sequence[str], minimum: float) -> CheckResult:
    score = entity_score(asserted, reference, "recall")
    if score is None:
        return CheckResult(name="entity", passed=True, score=None, reason="no reference entities")
    missing = sorted(set(reference) - set(asserted))
    passed = score >= minimum
    reason = None if passed else f"recall {score:.2f} < {minimum:.2f}; missing {', '.join(missing)}"
    return CheckResult(name="entity", passed=passed, score=round(score, 4), reason=reason)


def check_unsupported(
    asserted: Sequence[Entity],
    description: Sequence[Entity],
    diagnosis: Sequence[Entity],
    paths: Sequence[KGPath],
    question_entities: Sequence[Entity] = (),
) -> CheckResult:
    """KG entities the chain asserts that neither the findings, the diagnosis nor a path contains."""
    supported = {e.kg_id for e in (*description, *diagnosis, *question_entities)}
    for path in paths:
        for step in path.steps:
            supported.update((step.source_id, step.target_id))
    unsupported = {e.kg_id: e.name for e in asserted if not e.negated and e.kg_id not in supported}
    if not unsupported:
        return CheckResult(name="unsupported_entities", passed=True, score=0.0)
    names = ", ".join(f"{name} ({kg_id})" for kg_id, name in sorted(unsupported.items()))
    return CheckResult(
        name="unsupported_entities",
        passed=False,
        score=float(len(unsupported)),
        reason=f"entities in neither the findings nor the KG paths: {names}",
    )


def check_negation(asserted: Sequence[Entity], description: Sequence[Entity]) -> CheckResult:
    """The chain asserts a finding that the report negates ("no pleural invasion")."""
    negated = {e.kg_id: e.name for e in description if e.negated}
    affirmed_in_report = {e.kg_id for e in description if not e.negated}
    contradictions = {
        e.kg_id: e.name for e in asserted if not e.negated and e.kg_id in negated and e.kg_id not in affirmed_in_report
    }
    if not contradictions:
        return CheckResult(name="negation", passed=True, score=0.0)
    names = ", ".join(f"{n} ({i})" for i, n in sorted(contradictions.items()))
    return CheckResult(
        name="negation",
        passed=False,
        score=float(len(contradictions)),
        reason=f"asserts what the report negates: {names}",
    )


def check_phi(text: str) -> CheckResult:
    found = scrub_phi(text).counts
    if not any(found.values()):
        return CheckResult(name="phi", passed=True, score=0.0)
    kinds = ", ".join(f"{k}: {v}" for k, v in sorted(found.items()) if v)
    return CheckResult(name="phi", passed=False, score=float(sum(found.values())), reason=f"possible PHI ({kinds})")
