"""Section splitting of a pathology report, and specimen parts inside a section.

Real TCGA text has lost its line breaks (they survive as ". "), so a header is recognised by its
words at a sentence start followed by ":" or ".": `FINAL DIAGNOSIS:`, `GROSS DESCRIPTION.`,
`MICROSCOPIC EXAM.`, `CASE SYNOPSIS:`, `BREAST TISSUE CHECKLIST.`, `COMMENT:` ...

Section kinds: `diagnosis`, `microscopic`, `gross`, `synoptic`, `comment`, `clinical`,
`intraoperative`, `addendum`, `specimen`; text before the first header is `preamble`.
Specimen parts: `PART 1:` ... or lettered parts `A. "SENTINEL NODE" ...`, `B. Breast, left ...`
(letters only when they run A, B, C ... in order, so list items inside a part are not parts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SECTION_HEADERS: list[tuple[str, str]] = [
    ("diagnosis", r"(?:FINAL\s+)?(?:PATHOLOGIC(?:AL)?\s+|SURGICAL\s+PATHOLOGY\s+)?DIAGNOS[EI]S"
     r"(?:\s+BASED\s+ON\s+GROSS\s+AND\s+MICROSCOPIC\s+EXAMINATION)?|FINAL\s+REPORT|CONCLUSION|INTERPRETATION"),
    ("microscopic", r"MICROSCOPIC\s+(?:DESCRIPTION|EXAM(?:INATION)?|FINDINGS)|MICROSCOPY|HISTOLOGY"),
    ("gross", r"GROSS\s+(?:DESCRIPTION|EXAM(?:INATION)?)|MACROSCOPIC\s+(?:DESCRIPTION|EXAMINATION)|MACROSCOPY"),
    ("synoptic", r"(?:CASE\s+)?SYNOPSIS|SYNOPTIC(?:\s+REPORT)?|[A-Z]+\s+(?:TISSUE\s+)?CHECKLIST|CHECKLIST|"
     r"PATHOLOGIC\s+STAGE|TUMOU?R\s+SUMMARY|CANCER\s+SUMMARY"),
    ("comment", r"COMMENTS?|NOTE"),
    ("clinical", r"CLINICAL\s+(?:HISTORY|NOTES|INFORMATION|DATA)|PATIENT\s+HISTORY|HISTORY"),
    ("intraoperative", r"INTRA\s*-?\s*OPERATIVE\s+CONSULTATION|FROZEN\s+SECTION(?:\s+DIAGNOSIS)?|FS\s+DIAGNOSIS"),
    ("addendum", r"ADDEND(?:UM|A)(?:\s+\d+)?"),
    ("specimen", r"SPECIMENS?(?:\s+SUBMITTED)?|PROCEDURE|TISSUES?\s+SUBMITTED"),
]  # fmt: skip

_HEADER = re.compile(
    r"(?:^|(?<=[.:;]\s)|(?<=\n))(?P<header>"
    + "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in SECTION_HEADERS)
    + r")\s*(?:\(S\)\s*)?[:.](?=\s|$)",
    re.I,
)
_PART_NUMBERED = re.compile(
    r"(?:^|(?<=[.:;]\s)|(?<=\n))PART\s+(?P<label>\d{1,2}\s*[:.\-]|[A-L](?=\s*[:.\-]|\s+[A-Z]{3}))", re.I
)
_PART_LETTER = re.compile(r"(?:^|(?<=[.:;]\s)|(?<=\n)|(?<=\.\s\s))(?P<label>[A-L])[.)]\s+(?=\"|[A-Z][A-Za-z]+[\s,\"])")


@dataclass(frozen=True)
class Section:
    kind: str
    header: str
    start: int  # offset of the body in the text the sections were split from
    end: int
    text: str


@dataclass(frozen=True)
class Part:
    label: str
    start: int
    end: int
    text: str


def split_sections(text: str) -> list[Section]:
    """The report's sections in order; a report with no recognised header is one `preamble`."""
    matches = []
    seen_body = False
    for m in _HEADER.finditer(text):
        kind = next(k for k, _ in SECTION_HEADERS if m.group(k) is not None)
        # After the first diagnosis / gross / microscopic / synoptic header, "PROCEDURE:" or
        # "Specimen:" is a checklist field or a repeated page header, not a new section.
        if kind == "specimen" and seen_body:
            continue
        seen_body = seen_body or kind in ("diagnosis", "gross", "microscopic", "synoptic")
        matches.append(m)
    sections: list[Section] = []
    first = matches[0].start() if matches else len(text)
    if text[:first].strip():
        sections.append(Section("preamble", "", 0, first, text[:first].strip()))
    for i, m in enumerate(matches):
        kind = next(k for k, _ in SECTION_HEADERS if m.group(k) is not None)
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        body = text[m.end() : end]
        sections.append(Section(kind, m.group("header"), m.end(), end, body.strip()))
    return sections


def sections_of(sections: list[Section], *kinds: str) -> list[Section]:
    return [s for s in sections if s.kind in kinds]


def split_parts(text: str) -> list[Part]:
    """Specimen parts of a section: `PART n:` if present, else lettered parts A, B, C ... in order."""
    numbered = [(m.group("label").strip(" :.-").upper(), m.start()) for m in _PART_NUMBERED.finditer(text)]
    chain = _in_order(numbered)
    if len(chain) >= 2:
        return _parts(text, chain)
    chain = _in_order([(m.group("label").upper(), m.start()) for m in _PART_LETTER.finditer(text)])
    return _parts(text, chain) if len(chain) >= 2 else []


def _in_order(labels: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The labels that run 1, 2, 3 ... or A, B, C ... (a restart begins a new, later run)."""
    chain: list[tuple[str, int]] = []
    for label, start in labels:
        first = label in ("1", "A")
        if chain and label == _next(chain[-1][0]):
            chain.append((label, start))
        elif first:
            chain = [(label, start)]
    return chain


def _next(label: str) -> str:
    return str(int(label) + 1) if label.isdigit() else chr(ord(label) + 1)


def _parts(text: str, starts: list[tuple[str, int]]) -> list[Part]:
    parts = []
    for i, (label, start) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
        parts.append(Part(label, start, end, text[start:end].strip()))
    return parts
