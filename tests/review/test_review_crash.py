"""Kill the server in the middle of a save: the log stays readable, the half-written decision does not count,
and the next save (after a restart) lands on a line of its own."""

from __future__ import annotations

import threading
import time

import httpx
import pyarrow.parquet as pq

from pathkg.review.audit_log import FAULT_PAUSE_ENV, AuditLog
from pathkg.review.review_state import derive_states, load_queue
from tests.review.review_run import build_run, run_pipeline
from tests.review.review_server import add_annotator, cli, review_server


def test_server_killed_mid_save(tmp_path):
    run_dir = tmp_path / "run"
    config, dump, _ = build_run(run_dir)
    token = add_annotator(run_dir, "carol")
    auth = {"Authorization": f"Bearer {token}"}
    log_path = run_dir / "review" / "audit.jsonl"
    outcome: dict[str, object] = {}

    def save(base: str) -> None:
        try:
            outcome["status"] = httpx.post(
                f"{base}/api/samples/rv04-thin/decisions",
                headers=auth,
                timeout=120,
                json={"decision": "accept", "version": 0},
            ).status_code
        except httpx.HTTPError as exc:
            outcome["error"] = type(exc).__name__

    with review_server(run_dir, dump, env={FAULT_PAUSE_ENV: "60"}) as (proc, base):
        saver = threading.Thread(target=save, args=(base,))
        saver.start()
        deadline = time.monotonic() + 30
        while not (log_path.exists() and log_path.stat().st_size > 0):  # half the record is on disk
            assert time.monotonic() < deadline, "the save never started writing"
            time.sleep(0.05)
        proc.kill()  # SIGKILL: no cleanup, like a power cut
        proc.wait(10)
        saver.join(30)
    assert "status" not in outcome and outcome.get("error"), outcome  # the client never heard "saved"

    raw = log_path.read_bytes()
    assert raw and not raw.endswith(b"\n")
    contents = AuditLog.for_run(run_dir).read()
    assert contents.decisions == [] and contents.ignored == [(1, "torn line (no newline: the write did not finish)")]
    assert {k: v.status for k, v in derive_states(load_queue(run_dir), contents.decisions).items()} == {
        "rv02-necrosis": "pending",
        "rv03-hallucination": "pending",
        "rv04-thin": "pending",
    }
    stats = cli("review", "stats", str(run_dir))
    assert "0 decisions, 1 lines ignored" in stats and "pending 3" in stats

    with review_server(run_dir, dump) as (_, base):
        saved = httpx.post(
            f"{base}/api/samples/rv04-thin/decisions",
            headers=auth,
            timeout=60,
            json={"decision": "accept", "version": 0},
        )
        assert saved.status_code == 200, saved.text
    contents = AuditLog.for_run(run_dir).read()
    assert [(d.sample_id, d.annotator, d.decision, d.version) for d in contents.decisions] == [
        ("rv04-thin", "carol", "accept", 0)
    ]
    assert len(contents.ignored) == 1
    lines = log_path.read_bytes().split(b"\n")
    assert lines[0] == raw and lines[2] == b""  # the torn line kept as it was, the new record on its own line

    run_pipeline(config, run_dir)
    exported = {r["sample_id"] for r in pq.read_table(run_dir / "export" / "data").to_pylist()}
    assert exported == {"rv00-pass-1", "rv01-pass-2", "rv04-thin"}
