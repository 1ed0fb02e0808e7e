"""The paper's metrics on our export and on a WSI-Bench-style file."""

from __future__ import annotations

import json

import pytest

from model.evaluation import entity_prf, evaluate, load_references, read_jsonl, write_report
from model.grpo_rewards import linker_from_export


def test_perfect_and_wrong_predictions_on_the_export(demo_export, tmp_path):
    refs = load_references(demo_export, "train")
    assert refs
    ref = next(iter(refs.values()))
    assert ref.text.startswith("<observe>") and ref.entity_ids == ["PKG:gland_formation", "ONCOTREE:IDC"]
    linker = linker_from_export(demo_export, "train")
    perfect = [{"sample_id": k, "prediction": r.text} for k, r in refs.items()]
    scores, rows = evaluate(perfect, refs, link=linker.asserted_ids)
    assert scores.n == len(refs) and scores.missing_predictions == 0
    assert scores.bleu == pytest.approx(1.0) and scores.rouge1 == pytest.approx(1.0)
    assert scores.rougeL == pytest.approx(1.0)
    assert scores.format_rate == 1.0 and scores.diagnosis_accuracy == 1.0
    assert scores.entity_recall == 1.0
    wrong = [{"sample_id": k, "prediction": "<answer>Lymphoma</answer>"} for k in list(refs)[:2]]
    scores, rows = evaluate(wrong, refs, link=linker.asserted_ids)
    assert scores.n == 2 and scores.missing_predictions == len(refs) - 2
    assert scores.format_rate == 0.0 and scores.diagnosis_accuracy == 0.0 and scores.entity_recall == 0.0
    assert scores.bleu < 0.1
    path = write_report(scores, rows, tmp_path / "eval")
    assert json.loads(path.read_text())["n"] == 2


def test_wsi_bench_style_files(tmp_path):
    ref = tmp_path / "bench.jsonl"
    rows = [
        {"question_id": "q1", "question": "Subtype?", "T-answer": "The molecular subtype is Luminal B."},
        {"question_id": "q2", "question": "Subtype?", "T-answer": "The molecular subtype is Basal-like."},
        {"question_id": "q3", "question": "Describe.", "T-answer": "Sheets of atypical cells.", "metadata": "Report"},
    ]
    ref.write_text("".join(json.dumps(r) + "\n" for r in rows))
    preds = tmp_path / "preds.jsonl"
    preds.write_text(
        json.dumps({"question_id": "q1", "answer": "The molecular subtype is Luminal B."})
        + "\n"
        + json.dumps({"question_id": "q2", "answer": "Luminal A."})
        + "\n"
    )
    scores, _ = evaluate(read_jsonl(preds), load_references(ref))
    assert scores.n == 2 and scores.diagnosis_accuracy == 0.5 and scores.missing_predictions == 1
    assert load_references(ref)["q3"].question_type == "report"  # WSI-Bench's task name; not a diagnosis
    assert 0.0 < scores.rouge1 < 1.0


def test_entity_prf_micro():
    assert entity_prf([{"a", "b"}, {"c"}], [{"a"}, {"c", "d"}]) == (2 / 3, 2 / 3, pytest.approx(2 / 3))
    assert entity_prf([{"a"}], [set()]) == (None, None, None)
