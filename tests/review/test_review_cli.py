"""`pathkg review` from a terminal: tokens, list, show, accept, reject, edit, stats, Label Studio round trip."""

from __future__ import annotations

import json

import pytest

from pathkg.review.audit_log import AuditLog
from tests.review.review_run import GOOD_CHAIN, build_run
from tests.review.review_server import add_annotator, cli


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    _, dump, _ = build_run(run_dir)
    return run_dir, dump


def test_review_cli_round_trip(run, tmp_path):
    run_dir, dump = run
    rd = str(run_dir)
    alice, bob = add_annotator(run_dir, "alice"), add_annotator(run_dir, "bob")
    assert len(alice) >= 32 and alice != bob
    cli("review", "add-annotator", "no spaces please", rd, code=2)

    rows = [json.loads(line) for line in cli("review", "list", rd, "--json").splitlines()]
    assert [(r["sample_id"], r["status"], r["version"]) for r in rows] == [
        ("rv02-necrosis", "pending", 0),
        ("rv03-hallucination", "pending", 0),
        ("rv04-thin", "pending", 0),
    ]
    assert "rv04-thin" in cli("review", "list", rd)
    shown = cli("review", "show", rd, "rv02-necrosis")
    assert "<observe>" in shown and "asserts what the report negates: tumour necrosis" in shown

    cli("review", "accept", rd, "rv04-thin", code=2)  # no token
    cli("review", "accept", rd, "rv04-thin", "--token", "nope", code=2)
    out = cli("review", "accept", rd, "rv04-thin", "--note", "fine", env={"PATHKG_REVIEW_TOKEN": alice})
    assert "rv04-thin: pending → accepted by alice" in out
    cli("review", "reject", rd, "rv04-thin", "--reason", "wrong_answer", "--version", "0", "--token", bob, code=3)
    cli("review", "reject", rd, "rv04-thin", "--reason", "made_up", "--token", bob, code=2)
    cli("review", "reject", rd, "rv04-thin", "--reason", "wrong_answer", "--token", bob)
    cli("review", "reject", rd, "rv03-hallucination", "--reason", "hallucinated_entity", "--token", alice)
    cli("review", "reject", rd, "rv03-hallucination", "--reason", "hallucinated_entity", "--token", bob)

    chain = tmp_path / "chain.txt"
    chain.write_text(GOOD_CHAIN)
    # No --kg-dump: the run's own KG dump (RUN_DIR/kg/dump here) is found.
    out = cli("review", "edit", rd, "rv02-necrosis", "--response-file", str(chain), "--token", alice)
    assert "re-verification: pass" in out

    stats = cli("review", "stats", rd)
    assert "accepted 0" not in stats and "edited 1" in stats and "rejected 2" in stats
    assert "exportable after review 1" in stats and "5 decisions, 0 lines ignored" in stats
    # alice and bob both decided rv03 (reject, reject) and rv04 (accept, reject).
    assert "alice" in stats and "bob" in stats and "0.50" in stats

    tasks_file = tmp_path / "ls" / "tasks.json"
    cli("review", "export-labelstudio", rd, str(tasks_file))
    tasks = json.loads(tasks_file.read_text())
    assert [t["data"]["sample_id"] for t in tasks] == ["rv02-necrosis", "rv03-hallucination", "rv04-thin"]
    assert tasks[0]["data"]["response"] == GOOD_CHAIN and tasks[0]["data"]["image"].endswith("thumbnail.png")
    assert '<Choices name="decision"' in (tmp_path / "ls" / "tasks.label_config.xml").read_text()
    # What Label Studio's JSON export gives back: the tasks with their annotations.
    tasks[2]["annotations"] = [
        {
            "id": 7,
            "completed_by": {"email": "dana@lab.org"},
            "created_at": "2026-01-02T10:00:00Z",
            "result": [
                {"from_name": "decision", "to_name": "findings", "type": "choices", "value": {"choices": ["accept"]}},
                {"from_name": "note", "to_name": "findings", "type": "textarea", "value": {"text": ["looks right"]}},
            ],
        }
    ]
    tasks[1]["annotations"] = [{"id": 8, "completed_by": 3, "result": []}]
    tasks_file.write_text(json.dumps(tasks))
    out = cli("review", "import-labelstudio", rd, str(tasks_file), "--kg-dump", str(dump), code=1)
    assert "imported 1 decisions (1 problems)" in out and "annotation 8" in out
    out = cli("review", "import-labelstudio", rd, str(tasks_file), "--kg-dump", str(dump), code=1)
    assert "imported 0 decisions" in out  # idempotent
    last = AuditLog.for_run(run_dir).read().decisions[-1]
    assert (last.sample_id, last.annotator, last.decision, last.via, last.note) == (
        "rv04-thin",
        "labelstudio:dana@lab.org",
        "accept",
        "labelstudio",
        "looks right",
    )
    assert last.time.isoformat() == "2026-01-02T10:00:00+00:00"
