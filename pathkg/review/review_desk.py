"""The review actions the web page and the CLI share: accept, reject, edit (re-verified), preview an edit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from pathkg.review.audit_log import AuditLog
from pathkg.review.reverification import Reverifier
from pathkg.review.review_state import SampleReview, derive_states, load_queue, queue_path
from schemas.review import RejectReason, ReviewDecision
from schemas.sample import Sample
from schemas.verification import Verification


class ReviewError(ValueError):
    """A decision that cannot be recorded as asked (unknown sample, accepting a chain that fails format)."""


class ReviewDesk:
    def __init__(self, run_dir: Path, reverifier: Reverifier | None = None):
        self.run_dir = Path(run_dir)
        self.log = AuditLog.for_run(self.run_dir)
        self.reverifier = reverifier
        self._queue: list[Sample] | None = None
        self._queue_mtime: float | None = None

    def queue(self) -> list[Sample]:
        path = queue_path(self.run_dir)
        mtime = path.stat().st_mtime if path.exists() else None
        if self._queue is None or mtime != self._queue_mtime:
            self._queue, self._queue_mtime = load_queue(self.run_dir), mtime
        return self._queue

    def states(self) -> dict[str, SampleReview]:
        return derive_states(self.queue(), self.log.read().decisions)

    def state(self, sample_id: str) -> SampleReview:
        state = self.states().get(sample_id)
        if state is None:
            raise ReviewError(f"no sample {sample_id!r} in the review queue of {self.run_dir}")
        return state

    def preview(self, sample_id: str, response: str) -> Verification:
        """Re-verify an edited chain without saving it."""
        if self.reverifier is None:
            raise ReviewError("re-verification needs the run's KG dump (--kg-dump)")
        return self.reverifier.verify(self.state(sample_id).sample, response)

    def _record(self, state: SampleReview, annotator: str, version: int, **fields: object) -> ReviewDecision:
        decision = ReviewDecision(
            decision_id=str(fields.pop("decision_id", None) or uuid.uuid4().hex),
            sample_id=state.sample.sample_id,
            annotator=annotator,
            time=fields.pop("time", None) or datetime.now(UTC),
            status_before=state.status,
            response_before=state.response,
            version=version,
            **fields,
        )
        return self.log.append(decision)

    def accept(
        self, sample_id: str, annotator: str, version: int, note: str | None = None, via: str = "web", **meta: object
    ) -> ReviewDecision:
        """Record an acceptance. `meta` may fix `decision_id` and `time` (imports)."""
        state = self.state(sample_id)
        if state.verification.status == "rejected":
            raise ReviewError(
                f"sample {sample_id}: the chain fails {', '.join(state.verification.reasons)}; edit it, do not accept"
            )
        return self._record(
            state,
            annotator,
            version,
            decision="accept",
            status_after="accepted",
            response_after=state.response,
            note=note or None,
            via=via,
            **meta,
        )

    def reject(
        self,
        sample_id: str,
        annotator: str,
        version: int,
        reason: RejectReason,
        note: str | None = None,
        via: str = "web",
        **meta: object,
    ) -> ReviewDecision:
        state = self.state(sample_id)
        return self._record(
            state,
            annotator,
            version,
            decision="reject",
            status_after="rejected",
            response_after=state.response,
            reason=reason,
            note=note or None,
            via=via,
            **meta,
        )

    def edit(
        self,
        sample_id: str,
        annotator: str,
        version: int,
        response: str,
        note: str | None = None,
        via: str = "web",
        **meta: object,
    ) -> ReviewDecision:
        """Save an edited chain with its re-verification (made here, whatever a preview showed)."""
        state = self.state(sample_id)
        response = response.replace("\r\n", "\n").strip()
        verification = self.preview(sample_id, response)
        return self._record(
            state,
            annotator,
            version,
            decision="edit",
            status_after="edited",
            response_after=response,
            verification_after=verification,
            note=note or None,
            via=via,
            **meta,
        )
