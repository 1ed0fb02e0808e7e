"""The review state of each queued sample, derived from the queue and the audit log (never stored apart).

The queue (`RUN_DIR/review/queue.parquet`) holds the flagged samples the export stage left for review;
the audit log holds every decision. A sample's state is its last decision applied to it:
- accept: the annotator vouches for the current chain (the original, or the last edit);
- edit: a new chain, re-verified when saved; it joins the export only if that verification passes;
- reject: never exported.
A chain that fails the format or PHI check (verification status `rejected`) cannot be accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pathkg.review.audit_log import AuditLog, LogContents
from schemas.arrow import from_arrow_row
from schemas.review import ReviewDecision, ReviewStatus
from schemas.sample import ReviewState, Sample
from schemas.verification import Verification


def queue_path(run_dir: Path) -> Path:
    return Path(run_dir) / "review" / "queue.parquet"


def load_queue(run_dir: Path) -> list[Sample]:
    """The flagged samples of a run; FileNotFoundError naming the file when the export stage has not run."""
    path = queue_path(run_dir)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no review queue (run the pipeline's export stage first)")
    return [from_arrow_row(Sample, row) for row in pq.read_table(path).to_pylist()]


@dataclass
class SampleReview:
    sample: Sample
    decisions: list[ReviewDecision] = field(default_factory=list)

    @property
    def version(self) -> int:
        return len(self.decisions)

    @property
    def last(self) -> ReviewDecision | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def status(self) -> ReviewStatus:
        return self.last.status_after if self.last else "pending"

    @property
    def response(self) -> str:
        """The chain as it stands: the last edit's, or the generated one."""
        for d in reversed(self.decisions):
            if d.decision == "edit":
                return d.response_after
        return self.sample.response

    @property
    def verification(self) -> Verification:
        """The checks of `response`: the last edit's re-verification, or the pipeline's."""
        for d in reversed(self.decisions):
            if d.decision == "edit" and d.verification_after is not None:
                return d.verification_after
        return self.sample.verification

    @property
    def annotators(self) -> list[str]:
        return sorted({d.annotator for d in self.decisions})

    @property
    def exportable(self) -> bool:
        if self.status == "accepted":
            return self.verification.status != "rejected"
        return self.status == "edited" and self.verification.status == "pass"

    def reviewed_sample(self) -> Sample:
        """The sample as the annotators left it, with its review record (for the export)."""
        last = self.last
        if last is None:
            return self.sample
        return self.sample.model_copy(
            update={
                "response": self.response,
                "verification": self.verification,
                "review": ReviewState(
                    status=self.status,
                    annotator=last.annotator,
                    decision=_decision_text(last),
                    time=last.time.isoformat(),
                ),
            }
        )


def _decision_text(d: ReviewDecision) -> str:
    parts = [d.decision]
    if d.reason:
        parts.append(d.reason)
    if d.note:
        parts.append(d.note)
    return ": ".join(parts)


def derive_states(queue: Iterable[Sample], decisions: Iterable[ReviewDecision]) -> dict[str, SampleReview]:
    """sample_id -> state, in queue order. Decisions on samples no longer queued are left out."""
    states = {s.sample_id: SampleReview(s) for s in queue}
    for d in decisions:
        if d.sample_id in states:
            states[d.sample_id].decisions.append(d)
    return states


class ReviewedSamples:
    """What the export stage needs: each flagged sample as the annotators left it."""

    def __init__(self, contents: LogContents):
        self.by_sample: dict[str, list[ReviewDecision]] = {}
        for d in contents.decisions:
            self.by_sample.setdefault(d.sample_id, []).append(d)

    @classmethod
    def load(cls, run_dir: Path) -> ReviewedSamples:
        return cls(AuditLog.for_run(run_dir).read())

    def exportable(self, sample: Sample) -> Sample | None:
        """The sample as accepted or edited-until-it-passes, with its review record; None otherwise
        (undecided, rejected, an edit that still fails, or an accepted chain failing format or PHI)."""
        decisions = self.by_sample.get(sample.sample_id)
        if not decisions:
            return None
        state = SampleReview(sample, decisions)
        return state.reviewed_sample() if state.exportable else None


def review_fingerprint(run_dir: Path) -> str | None:
    """Changes whenever a decision is recorded; None when there is none (keys of unreviewed runs stay put)."""
    return AuditLog.for_run(run_dir).read().seal()
