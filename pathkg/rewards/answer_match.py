"""Does an answer agree with the reference? Pathology answers say the same thing many ways.

`pT2` = `T2` = `ypT2`; `pN0(i-)` = `N0`; grade II = grade 2 = G2 = moderately differentiated =
Nottingham grade 2; "margins free of tumour" = negative margins; "no lymphovascular invasion" =
absent. Free-text answers (diagnosis, subtype) agree when the normalised reference phrase is
contained in the prediction, or, given a linker, when they name the same KG disease.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from pathkg.rewards.chain_format import DEFAULT_TAGS, ChainTags, parse_chain
from pathkg.rewards.completions import completion_text

_T = re.compile(r"\b(?:[cpyr]{0,3})T\s*(is|x|[0-4][a-d]?(?:\([a-z]+\))?)", re.IGNORECASE)
_N = re.compile(r"\b(?:[cpyr]{0,3})N\s*(x|[0-3][a-c]?|1mi)", re.IGNORECASE)
_M = re.compile(r"\b(?:[cpyr]{0,3})M\s*(x|[01][a-c]?)", re.IGNORECASE)

_GRADE_WORDS: tuple[tuple[str, str], ...] = (
    ("undifferentiated", "4"),
    ("anaplastic", "4"),
    ("poorly differentiated", "3"),
    ("poorly-differentiated", "3"),
    ("moderately differentiated", "2"),
    ("moderately-differentiated", "2"),
    ("well differentiated", "1"),
    ("well-differentiated", "1"),
    ("high grade", "3"),
    ("high-grade", "3"),
    ("intermediate grade", "2"),
    ("low grade", "1"),
    ("low-grade", "1"),
)
_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}
_GRADE_NUM = re.compile(r"\b(?:grade|g|who grade|nottingham grade|fnclcc grade)\s*([1-4]|iv|iii|ii|i)\b")

_NEGATIVE = (
    "negative", "free", "uninvolved", "not involved", "clear", "no tumor", "no tumour", "absent",
    "not identified", "no evidence", "not present",
)  # fmt: skip
_POSITIVE = ("positive", "involved", "present", "identified", "seen")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[^\w\s()+\-]", " ", text)
    return " ".join(text.split())


def _grade(text: str) -> str | None:
    t = _plain(text)
    m = _GRADE_NUM.search(t)
    if m:
        return _ROMAN.get(m.group(1), m.group(1))
    for words, value in _GRADE_WORDS:
        if words in t:
            return value
    bare = t.strip()
    if bare in _ROMAN or bare in {"1", "2", "3", "4"}:
        return _ROMAN.get(bare, bare)
    return None


def _category(pattern: re.Pattern[str], prefix: str, text: str) -> str | None:
    m = pattern.search(text)
    return f"{prefix}{m.group(1).lower()}" if m else None


def _status(text: str) -> str | None:
    t = _plain(text)
    if any(neg in t for neg in _NEGATIVE) or re.search(r"\bno\b", t):
        return "negative"
    if "close" in t:
        return "close"
    if any(pos in t for pos in _POSITIVE):
        return "positive"
    return None


#: question type -> how to reduce an answer to what must agree.
NORMALISERS: dict[str, Callable[[str], str | None]] = {
    "t_stage": lambda s: _category(_T, "t", s),
    "n_stage": lambda s: _category(_N, "n", s),
    "m_stage": lambda s: _category(_M, "m", s),
    "grade": _grade,
    "margins": _status,
    "lymphovascular_invasion": _status,
    "perineural_invasion": _status,
}


def normalise_answer(text: str, question_type: str) -> str | None:
    """The comparable core of an answer for a question type (None when it says nothing usable)."""
    normaliser = NORMALISERS.get(question_type)
    if normaliser is None:
        plain = _plain(text)
        return plain or None
    return normaliser(text)


def answers_agree(
    prediction: str,
    reference: str,
    question_type: str,
    disease_ids: Callable[[str], Iterable[str]] | None = None,
) -> bool:
    """True when the prediction says what the reference says, for this kind of question."""
    if question_type in NORMALISERS:
        pred, ref = normalise_answer(prediction, question_type), normalise_answer(reference, question_type)
        if question_type == "t_stage" and pred and ref and ref[-1].isdigit():
            pred = pred[: len(ref)] if pred.startswith(ref) else pred  # T2 accepts T2a
        return pred is not None and pred == ref
    pred, ref = _plain(prediction), _plain(reference)
    if not pred or not ref:
        return False
    if ref in pred:
        return True
    if disease_ids is not None:
        ref_ids = set(disease_ids(reference))
        return bool(ref_ids) and ref_ids <= set(disease_ids(prediction))
    return False


def answer_reward(
    completions: list[Any],
    answer: list[str] | None = None,
    question_type: list[str] | None = None,
    tags: ChainTags = DEFAULT_TAGS,
    **_: Any,
) -> list[float | None]:
    """1.0 when the chain's <answer> agrees with the reference answer, 0.0 when not or unparsable."""
    if answer is None:
        return [None] * len(completions)
    kinds = question_type or ["diagnosis"] * len(completions)
    scores: list[float | None] = []
    for completion, ref, kind in zip(completions, answer, kinds, strict=True):
        chain = parse_chain(completion_text(completion), tags)
        scores.append(1.0 if chain and answers_agree(chain.answer, ref, kind) else 0.0)
    return scores
