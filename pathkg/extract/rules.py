"""Rule-based extraction (the offline default): a `PreparedReport` → `ReportFields`.

Where each value is looked for, in order, first hit wins:
- the *primary tumour's part*: among the diagnosis's specimen parts (PART 1 / A., B. ...) that
  name an invasive tumour, the one with the largest tumour (reports with two tumours name both);
- the synoptic checklist (its labelled fields are the most explicit statement of a value);
- the diagnosis section(s), then the microscopic description, then the comment;
- the whole report.
Type and grade come from the primary part first (the checklist may describe another tumour);
stage, size, nodes and receptors come from the checklist first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from pathkg.extract import findings as f
from pathkg.extract.grading import Grade, find_grade
from pathkg.extract.histology import TypeMention, find_types
from pathkg.extract.prepare import PreparedReport, require_prepared
from pathkg.extract.staging import find_staging
from pathkg.text.sections import sections_of, split_parts
from schemas.extraction import GradeInfo, ReportFields

RULES_VERSION = "rules-1"
T = TypeVar("T")
_GENERIC = {"carcinoma", "adenocarcinoma"}
# A diagnosis statement in narrative reports: "..., the diagnosis is X." / "consistent with X".
_STATEMENT = re.compile(
    r"(?:the\s+(?:final\s+)?diagnosis\s+is|diagnosed\s+as)"
    r"\s+(?P<d>[^.]{5,300})",
    re.I,
)


def _metastatic(text: str, mention: TypeMention) -> bool:
    return "metasta" in text[max(0, mention.start - 25) : mention.start].lower()


def _primary_mentions(mentions: list[TypeMention], text: str) -> list[TypeMention]:
    """Mentions ranked for naming the primary: invasive before in situ, a metastasis (in a node)
    last but one, a generic "carcinoma" after a specific type, then text order."""
    return sorted(mentions, key=lambda m: (m.type.in_situ, _metastatic(text, m), m.type.name in _GENERIC, m.start))


def _part_size(text: str, mention: TypeMention) -> float | None:
    return f.labelled_size_mm(text) or f.first_size_mm(text[mention.end : mention.end + 160])


def _regions(report: PreparedReport) -> tuple[list[str], list[str]]:
    """(tumour regions for type and grade, checklist-first regions for everything else)."""
    diagnosis = [s.text for s in sections_of(report.sections, "diagnosis")]
    synoptic = [s.text for s in sections_of(report.sections, "synoptic")]
    micro = [s.text for s in sections_of(report.sections, "microscopic")]
    comment = [s.text for s in sections_of(report.sections, "comment")]

    primary: list[str] = []
    candidates = []
    for body in diagnosis or [report.text]:
        for part in split_parts(body):
            mentions = _primary_mentions(find_types(part.text), part.text)
            invasive = [m for m in mentions if not m.type.in_situ and not _metastatic(part.text, m)]
            if invasive:
                candidates.append((_part_size(part.text, invasive[0]) or 0.0, -len(candidates), part.text))
    if candidates:
        primary = [max(candidates)[2]]
    tumour = [*primary, *diagnosis, *synoptic, *micro, *comment, report.text]
    checklist = [*synoptic, *primary, *diagnosis, *micro, *comment, report.text]
    return tumour, checklist


def _synoptic(report: PreparedReport) -> list[str]:
    return [s.text for s in sections_of(report.sections, "synoptic")]


def _first(regions: list[str], finder: Callable[[str], T | None]) -> T | None:
    for region in regions:
        value = finder(region)
        if value is not None:
            return value
    return None


def _histologic_type(regions: list[str]) -> tuple[str | None, str | None]:
    """The type and the sentence that names it. A specific invasive type in a later region beats a
    generic "carcinoma" (or an in situ one) in an earlier region."""
    fallback: tuple[str, str] | None = None
    for region in regions:
        mentions = _primary_mentions(find_types(region), region)
        if not mentions:
            continue
        best = mentions[0]
        found = (best.type.name, _sentence_around(region, best.start, best.end))
        if not best.type.in_situ and best.type.name not in _GENERIC:
            return found
        if fallback is None or (fallback[0] not in _GENERIC and best.type.in_situ is False):
            fallback = fallback or found
    return fallback if fallback else (None, None)


def _sentence_around(text: str, start: int, end: int) -> str:
    left = text.rfind(". ", 0, start)
    left = 0 if left < 0 else left + 2
    right = text.find(". ", end)
    right = len(text) if right < 0 else right + 1
    return text[left:right].strip()


def _grade(regions: list[str]) -> GradeInfo:
    merged = Grade()
    for region in regions:
        g = find_grade(region)
        if merged.value is None and g.value is not None:
            merged.value, merged.system = g.value, g.system or merged.system
            merged.score = merged.score if merged.score is not None else g.score
            merged.components = merged.components or g.components
        elif merged.value is not None:
            if merged.score is None and g.score is not None:
                merged.score = g.score
            if not merged.components and len(g.components) == 3:
                merged.components = g.components
            if merged.system is None and g.system is not None and g.value == merged.value:
                merged.system = g.system
        if merged.value and merged.score is not None and merged.components and merged.system:
            break
    return GradeInfo(value=merged.value, system=merged.system, score=merged.score, components=merged.components)


def extract_rules(report: PreparedReport) -> ReportFields:
    report = require_prepared(report)
    tumour, checklist = _regions(report)
    histologic_type, type_sentence = _histologic_type(tumour)

    statement = _STATEMENT.search(report.text)
    diagnosis = statement.group("d").strip() if statement else type_sentence

    pt = _first(checklist, lambda r: find_staging(r).pt)
    pn = _first(checklist, lambda r: find_staging(r).pn)
    pm = _first(checklist, lambda r: find_staging(r).pm)
    positive, examined = _lymph_nodes(report, checklist)
    body = " ".join(s.text for s in sections_of(report.sections, "diagnosis", "synoptic", "microscopic", "comment"))
    return ReportFields(
        diagnosis=diagnosis,
        histologic_type=histologic_type,
        # A checklist's labelled grade beats a garbled narrative; then the primary tumour's part.
        grade=_grade([*_synoptic(report), *tumour]),
        pt=pt,
        pn=pn,
        pm=pm,
        tumor_size_mm=_first(tumour[:1], f.labelled_size_mm)
        or _first(checklist, f.labelled_size_mm)
        or _size_after_type(tumour),
        margins=_first(tumour[:1] + checklist, f.margin_status),
        lymphovascular_invasion=_first(tumour, f.lymphovascular_invasion),
        perineural_invasion=_first(tumour, f.perineural_invasion),
        lymph_nodes_positive=positive,
        lymph_nodes_examined=examined,
        er=_first(checklist, lambda r: f.receptor_status(r, "er")),
        pr=_first(checklist, lambda r: f.receptor_status(r, "pr")),
        her2=_first(checklist, lambda r: f.receptor_status(r, "her2")),
        necrosis=_first(tumour, f.necrosis),
        findings=f.findings_sentences(body or report.text),
    )


def _size_after_type(regions: list[str]) -> float | None:
    for region in regions:
        mentions = [
            m
            for m in _primary_mentions(find_types(region), region)
            if not m.type.in_situ and not _metastatic(region, m)
        ]
        if mentions:
            return f.first_size_mm(region[mentions[0].end : mentions[0].end + 160])
    return None


def _lymph_nodes(report: PreparedReport, checklist: list[str]) -> tuple[int | None, int | None]:
    """Labelled totals if the checklist has them, else the sum over the diagnosis's node parts."""
    for region in _synoptic(report):
        positive, examined = f.lymph_node_counts(region)
        if positive is not None or examined is not None:
            return positive, examined
    for section in sections_of(report.sections, "diagnosis"):
        parts = split_parts(section.text)
        counts = [f.lymph_node_counts(p.text) for p in parts]
        counts = [c for c in counts if c[1] is not None]
        if counts:
            return sum(c[0] or 0 for c in counts), sum(c[1] or 0 for c in counts)
    return _first_pair(checklist)


def _first_pair(regions: list[str]) -> tuple[int | None, int | None]:
    for region in regions:
        pair = f.lymph_node_counts(region)
        if pair != (None, None):
            return pair
    return None, None
