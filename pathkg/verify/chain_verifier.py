"""Run every check on a chain and decide: pass, flagged (for review, with reasons) or rejected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pathkg.linking.entity_linker import EntityLinker
from pathkg.rewards.chain_format import DEFAULT_TAGS, ChainTags, parse_chain, plain_text
from pathkg.verify.chain_checks import (
    check_answer,
    check_entity_recall,
    check_format,
    check_negation,
    check_phi,
    check_unsupported,
    reference_ids,
)
from schemas.entity import Entity
from schemas.kg_path import KGPath
from schemas.verification import Verification


@dataclass(frozen=True)
class Thresholds:
    entity_recall_min: float = 0.5
    #: Checks whose failure rejects the sample outright instead of flagging it for review.
    reject_on: tuple[str, ...] = ("format", "phi")


class ChainVerifier:
    def __init__(self, linker: EntityLinker, thresholds: Thresholds | None = None, tags: ChainTags = DEFAULT_TAGS):
        self.linker = linker
        self.thresholds = thresholds or Thresholds()
        self.tags = tags

    def verify(
        self,
        response: str,
        reference_answer: str,
        question_type: str,
        description: Sequence[Entity],
        diagnosis: Sequence[Entity],
        paths: Sequence[KGPath],
        question: str = "",
    ) -> Verification:
        """`question` and `reference_answer` come from the report too: what they name is supported."""
        chain = parse_chain(response, self.tags)
        # Supported too: what the question and reference answer name, and the path nodes under the
        # names a chain writes for them (a name may link to a merged twin of the path's node id).
        path_names = "\n".join(f"{s.source_name}\n{s.target_name}" for p in paths for s in p.steps)
        given = self.linker.link(f"{question}\n{reference_answer}\n{path_names}")
        asserted = self.linker.link(plain_text(response))
        asserted_ids = [e.kg_id for e in asserted if not e.negated]
        checks = [
            check_format(chain),
            check_answer(chain, reference_answer, question_type),
            check_entity_recall(asserted_ids, reference_ids(description, diagnosis), self.thresholds.entity_recall_min),
            check_unsupported(asserted, description, diagnosis, paths, given),
            check_negation(asserted, description),
            check_phi(response),
        ]
        failed = [c for c in checks if not c.passed]
        if any(c.name in self.thresholds.reject_on for c in failed):
            status = "rejected"
        elif failed:
            status = "flagged"
        else:
            status = "pass"
        return Verification(status=status, checks=checks, reasons=[f"{c.name}: {c.reason}" for c in failed])
