"""The audit log: torn writes never count, versions are checked across processes, agreement figures."""

from __future__ import annotations

import multiprocessing as mp
import uuid
from datetime import UTC, datetime

import pytest

from pathkg.review.agreement import pairwise_agreement
from pathkg.review.audit_log import AuditLog, VersionConflict, encode_line


def decision(sample_id: str, version: int, annotator: str = "alice", kind: str = "accept", **extra):
    from schemas.review import ReviewDecision

    status = {"accept": "accepted", "reject": "rejected", "edit": "edited"}[kind]
    return ReviewDecision(
        decision_id=uuid.uuid4().hex,
        sample_id=sample_id,
        annotator=annotator,
        decision=kind,
        time=datetime(2026, 1, 1, tzinfo=UTC),
        status_after=status,
        response_before="r",
        response_after="r",
        version=version,
        reason="other" if kind == "reject" else None,
        **extra,
    )


def test_a_torn_last_line_never_counts_at_any_byte(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(decision("s1", 0))
    log.append(decision("s2", 0))
    whole = log.path.read_bytes()
    last = encode_line(decision("s3", 0))
    for cut in range(len(last)):  # every crash point inside the third write
        log.path.write_bytes(whole + last[:cut])
        contents = log.read()
        assert [d.sample_id for d in contents.decisions] == ["s1", "s2"], cut
        assert len(contents.ignored) == (1 if cut else 0)
    # The next append after a crash starts a fresh line and counts; the torn one still does not.
    log.path.write_bytes(whole + last[:40])
    log.append(decision("s3", 0))
    contents = log.read()
    assert [d.sample_id for d in contents.decisions] == ["s1", "s2", "s3"]
    assert contents.ignored == [(3, "unreadable line: JSONDecodeError")]


def test_a_tampered_line_is_reported_not_counted(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(decision("s1", 0, note="fine"))
    log.path.write_text(log.path.read_text().replace('"fine"', '"edited later"'))
    contents = log.read()
    assert contents.decisions == [] and contents.ignored == [(1, "seal mismatch")]


def test_version_check_refuses_a_stale_decision(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append(decision("s1", 0, "alice"))
    with pytest.raises(VersionConflict, match="version 0, now 1"):
        log.append(decision("s1", 0, "bob"))
    log.append(decision("s1", 1, "bob", kind="reject"))
    assert log.read().versions() == {"s1": 2}


def _race(path: str, who: str, n: int, results) -> None:
    log = AuditLog(path)
    won = 0
    for i in range(n):
        try:
            log.append(decision(f"s{i}", 0, who))
            won += 1
        except VersionConflict:
            pass
    results.put((who, won))


def test_two_processes_racing_on_the_same_samples_never_both_win(tmp_path):
    path = str(tmp_path / "audit.jsonl")
    results = mp.get_context("fork").Queue()
    procs = [mp.get_context("fork").Process(target=_race, args=(path, who, 30, results)) for who in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    wins = dict(results.get(timeout=5) for _ in procs)
    contents = AuditLog(path).read()
    assert wins["a"] + wins["b"] == 30 == len(contents.decisions)
    assert contents.versions() == {f"s{i}": 1 for i in range(30)} and contents.ignored == []


def test_agreement_kappa():
    kinds = {"alice": ["accept", "accept", "reject", "reject"], "bob": ["accept", "reject", "reject", "reject"]}
    decisions = [decision(f"s{i}", 0, who, k) for who, ks in kinds.items() for i, k in enumerate(ks)]
    (pair,) = pairwise_agreement(decisions)
    assert (pair.annotator_a, pair.annotator_b, pair.samples, pair.agreed) == ("alice", "bob", 4, 3)
    assert pair.observed == 0.75 and pair.kappa == 0.5  # expected agreement 0.5 by chance
