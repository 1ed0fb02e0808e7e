"""The paper's metrics over a predictions file: BLEU, ROUGE-1/2/L, embedding similarity, entity
precision / recall / F1 on KG ids, diagnosis accuracy, format rate.

Predictions: JSONL rows `{sample_id, prediction}`, or WSI-Bench style `{question_id, question,
T-answer, answer}` (the model's text under `answer` or `prediction`, the reference under `T-answer`).
References: an export folder (rl view: answer, question type, entity ids; default view: the full
reference chain) or a JSONL file `{sample_id, reference, answer?, question_type?, gt_entity_ids?}`
(WSI-Bench files work as is: `question_id` and `T-answer`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pathkg.rewards import answers_agree, parse_chain
from pathkg.rewards.chain_format import ChainTags, plain_text
from pathkg.rewards.semantic_reward import EmbeddingSimilarity, answer_part

log = logging.getLogger(__name__)

READ_TAGS = ChainTags.accepting_info()
#: Question types scored by diagnosis accuracy (ours, and WSI-Bench's `metadata` task names, lower-cased).
DIAGNOSIS_TYPES = {"diagnosis", "subtype", "classification"}


@dataclass
class Reference:
    key: str
    text: str  # the reference chain / report (for BLEU, ROUGE, embedding similarity)
    answer: str | None = None
    question_type: str | None = None
    entity_ids: list[str] | None = None


@dataclass
class Scores:
    n: int
    bleu: float
    rouge1: float
    rouge2: float
    rougeL: float
    embedding_similarity: float | None
    entity_precision: float | None
    entity_recall: float | None
    entity_f1: float | None
    diagnosis_accuracy: float | None
    diagnosis_n: int
    format_rate: float
    missing_predictions: int


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for i, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{i}: not JSON: {exc}") from exc
    return rows


def _key(row: dict[str, Any]) -> str:
    for k in ("sample_id", "question_id", "id"):
        if k in row:
            return str(row[k])
    raise ValueError(f"a row has no sample_id / question_id / id: {sorted(row)}")


def prediction_text(row: dict[str, Any]) -> str:
    for k in ("prediction", "answer", "response", "text"):
        if row.get(k) is not None:
            return str(row[k])
    return ""


def references_from_jsonl(path: Path) -> dict[str, Reference]:
    refs = {}
    for row in read_jsonl(path):
        text = row.get("reference") or row.get("T-answer") or row.get("response") or ""
        kind = row.get("question_type") or (str(row["metadata"]).lower() if row.get("metadata") else None)
        refs[_key(row)] = Reference(
            _key(row), text, row.get("answer") or row.get("T-answer"), kind, row.get("gt_entity_ids")
        )
    return refs


def references_from_export(export_dir: Path, split: str) -> dict[str, Reference]:
    from model.data_adapters import load_view

    rl = load_view(export_dir, "rl", split, decode_images=False).select_columns(
        ["sample_id", "answer", "question_type", "gt_entity_ids"]
    )
    full = load_view(export_dir, "data", split, decode_images=False).select_columns(["sample_id", "response"])
    chains = dict(zip(full["sample_id"], full["response"], strict=True))
    return {
        r["sample_id"]: Reference(
            r["sample_id"], chains.get(r["sample_id"], r["answer"]), r["answer"], r["question_type"], r["gt_entity_ids"]
        )
        for r in rl
    }


def load_references(ref: Path, split: str = "test") -> dict[str, Reference]:
    ref = Path(ref)
    return references_from_export(ref, split) if ref.is_dir() else references_from_jsonl(ref)


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def text_overlap(predictions: list[str], references: list[str]) -> dict[str, float]:
    """Corpus BLEU-4 (sacrebleu, 0–1) and mean ROUGE-1/2/L F-measures (rouge-score, stemmed)."""
    import sacrebleu
    from rouge_score import rouge_scorer

    bleu = sacrebleu.corpus_bleu(predictions, [references]).score / 100 if predictions else 0.0
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    rouge = [scorer.score(r, p) for p, r in zip(predictions, references, strict=True)]
    out = {"bleu": bleu}
    for name in ("rouge1", "rouge2", "rougeL"):
        out[name] = _mean(s[name].fmeasure for s in rouge) or 0.0
    return out


def entity_prf(pred_ids: list[set[str]], ref_ids: list[set[str]]) -> tuple[float | None, float | None, float | None]:
    """Micro precision / recall / F1 over KG ids (rows without reference entities left out)."""
    tp = fp = fn = 0
    for pred, ref in zip(pred_ids, ref_ids, strict=True):
        if not ref:
            continue
        tp, fp, fn = tp + len(pred & ref), fp + len(pred - ref), fn + len(ref - pred)
    if tp + fn == 0:
        return None, None, None
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(
    predictions: list[dict[str, Any]],
    references: dict[str, Reference],
    link: Callable[[str], Iterable[str]] | None = None,
    embedder: EmbeddingSimilarity | None = None,
) -> tuple[Scores, list[dict[str, Any]]]:
    """Scores over the predictions that have a reference, and one row of per-sample values each."""
    by_key = {_key(p): prediction_text(p) for p in predictions}
    keys = [k for k in references if k in by_key]
    missing = len(references) - len(keys)
    preds = [by_key[k] for k in keys]
    refs = [references[k] for k in keys]
    plain_preds = [plain_text(p).strip() for p in preds]
    plain_refs = [plain_text(r.text).strip() for r in refs]
    overlap = text_overlap(plain_preds, plain_refs)
    similarity = embedder.similarity(plain_preds, plain_refs) if embedder is not None else [None] * len(keys)
    formats = [parse_chain(p, READ_TAGS) is not None for p in preds]
    precision = recall = f1 = None
    pred_ids: list[set[str]] = [set() for _ in keys]
    if link is not None:
        pred_ids = [set(link(p)) for p in plain_preds]
        ref_ids = [
            set(r.entity_ids) if r.entity_ids is not None else set(link(t))
            for r, t in zip(refs, plain_refs, strict=True)
        ]
        precision, recall, f1 = entity_prf(pred_ids, ref_ids)
    correct = []
    rows = []
    for i, (k, p, r) in enumerate(zip(keys, preds, refs, strict=True)):
        is_diagnosis = r.answer is not None and (r.question_type is None or r.question_type in DIAGNOSIS_TYPES)
        agree = answers_agree(answer_part(p), r.answer, r.question_type or "diagnosis") if is_diagnosis else None
        if agree is not None:
            correct.append(agree)
        rows.append(
            {
                "key": k,
                "format": formats[i],
                "diagnosis_correct": agree,
                "embedding_similarity": similarity[i],
                "predicted_entities": sorted(pred_ids[i]),
            }
        )
    sims = [s for s in similarity if s is not None]
    scores = Scores(
        n=len(keys),
        bleu=overlap["bleu"],
        rouge1=overlap["rouge1"],
        rouge2=overlap["rouge2"],
        rougeL=overlap["rougeL"],
        embedding_similarity=_mean(sims),
        entity_precision=precision,
        entity_recall=recall,
        entity_f1=f1,
        diagnosis_accuracy=_mean(float(c) for c in correct),
        diagnosis_n=len(correct),
        format_rate=_mean(float(f) for f in formats) or 0.0,
        missing_predictions=missing,
    )
    if missing:
        log.warning("%d references have no prediction (scored over %d)", missing, len(keys))
    return scores, rows


def write_report(scores: Scores, rows: list[dict[str, Any]], out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "per_sample.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = out_dir / "scores.json"
    path.write_text(json.dumps(asdict(scores), indent=2))
    return path
