"""Seeded phrasings of each question type, and the report's answer phrased for each.

The template is chosen by a hash of (seed, case, type, scale), so a rerun with the same seed
asks the same questions and a new seed varies the wording across the corpus.
"""

from __future__ import annotations

import hashlib

from schemas.extraction import ReportExtraction

TEMPLATES: dict[str, tuple[str, ...]] = {
    "diagnosis": (
        "What is the most likely diagnosis for this {subject}?",
        "Based on the histopathological features in this {subject}, what is the diagnosis?",
        "Examine this {subject}. What diagnosis do the findings support?",
    ),
    "histologic_subtype": (
        "What is the histologic type of the tumour in this {subject}?",
        "Which histologic subtype does this {subject} show?",
        "Classify the tumour in this {subject} by histologic type.",
    ),
    "grade": (
        "What is the histologic grade of the tumour in this {subject}?",
        "How differentiated is the tumour in this {subject}? Give the grade.",
        "Grade the tumour shown in this {subject}.",
    ),
    "t_stage": (
        "What is the pathologic T category of this tumour?",
        "Based on this {subject} and the findings, what is the pT stage?",
        "Assign the primary tumour (pT) category for this case.",
    ),
    "n_stage": (
        "What is the pathologic N category (regional lymph nodes) for this case?",
        "What is the pN stage?",
        "Based on the lymph node findings, assign the pN category.",
    ),
    "margins": (
        "What is the status of the surgical margins?",
        "Are the resection margins involved by tumour?",
        "Describe the margin status for this specimen.",
    ),
    "lymphovascular_invasion": (
        "Is lymphovascular invasion present?",
        "Does this tumour show lymphovascular invasion?",
        "Is there evidence of lymphovascular space invasion in this {subject}?",
    ),
    "microscopic_description": (
        "Describe the key microscopic findings in this {subject}.",
        "What are the main histopathological observations in this {subject}?",
        "Summarize what is seen microscopically in this {subject}.",
    ),
}

SUBJECTS = {"wsi": "whole-slide image", "roi": "region of interest"}
#: Questions that need the whole slide; a tile alone cannot answer them.
WSI_ONLY = frozenset({"t_stage", "n_stage", "margins", "lymphovascular_invasion"})


def choose_template(question_type: str, scale: str, case_id: str, seed: int) -> tuple[str, str]:
    """(template id, question text) for this case, type and scale."""
    options = TEMPLATES[question_type]
    digest = hashlib.sha256(f"{seed}:{case_id}:{question_type}:{scale}".encode()).digest()
    index = digest[0] % len(options)
    return f"{question_type}/{index}", options[index].format(subject=SUBJECTS[scale])


def reference_answers(ex: ReportExtraction, max_findings: int = 3) -> dict[str, str]:
    """The answers the report supports, by question type (types it says nothing about are absent)."""
    answers: dict[str, str] = {}
    if ex.diagnosis:
        answers["diagnosis"] = ex.diagnosis.strip()
    if ex.histologic_type:
        answers["histologic_subtype"] = ex.histologic_type.strip()
    if ex.grade.value:
        system = f"{ex.grade.system} " if ex.grade.system else ""
        score = f" (score {ex.grade.score})" if ex.grade.score else ""
        value = ex.grade.value
        grade = f"grade {value}" if value[:1].isdigit() else f"{value} grade"  # 'low' / 'high' read as words
        answers["grade"] = f"{system}{grade}{score}"
    if ex.pt:
        answers["t_stage"] = ex.pt
    if ex.pn:
        answers["n_stage"] = ex.pn
    if ex.margins:
        answers["margins"] = f"Margins are {ex.margins}."
    if ex.lymphovascular_invasion is not None:
        answers["lymphovascular_invasion"] = (
            "Lymphovascular invasion is present."
            if ex.lymphovascular_invasion
            else "Lymphovascular invasion is absent (not identified)."
        )
    if ex.findings:
        answers["microscopic_description"] = " ".join(ex.findings[:max_findings])
    return answers
