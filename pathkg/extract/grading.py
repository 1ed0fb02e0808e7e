"""Histologic grade: value, system, total score and component scores.

Values are normalised to arabic numerals ("3" for `GRADE III`, `G3`, `poorly differentiated`);
"low" / "high" where a report only says low- / high-grade. Systems: Nottingham (Elston-Ellis,
modified Bloom-Richardson), Fuhrman, WHO, FIGO, Gleason, or None when a report gives a grade
without naming a system (then a three-tier differentiation grade is assumed, and said so by
`system=None`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4}
_NUM = r"(?:IV|I{1,3}|[1-4])"

SYSTEMS: list[tuple[str, re.Pattern[str]]] = [
    ("Nottingham", re.compile(r"notting\w*|no\s?t+ingham|elston|bloom[\s-]*richardson|\bSBR\b|\bMBR\b", re.I)),
    ("Fuhrman", re.compile(r"fu(?:h)?rman", re.I)),
    ("ISUP", re.compile(r"\bISUP\b|\bWHO/ISUP\b", re.I)),
    ("FIGO", re.compile(r"\bFIGO\b", re.I)),
    ("Gleason", re.compile(r"gleason", re.I)),
    ("WHO", re.compile(r"\bWHO\b", re.I)),
]

DIFFERENTIATION = [
    (re.compile(r"\bwell[\s-]+(?:to[\s-]+moderately[\s-]+)?differentiated", re.I), "1"),
    (re.compile(r"\bmoderately[\s-]+(?:to[\s-]+poorly[\s-]+)?differentiated", re.I), "2"),
    (re.compile(r"\b(?:poorly|un)[\s-]*differentiated", re.I), "3"),
]

# "GRADE III OF III", "grade 3/3", "Grade: 2", "G 2", "G III", "histologic grade : III",
# "Nottingham histologic score 3/3" (a grade written as a score out of 3).
_GRADE_PATTERNS = [
    re.compile(rf"\b(?:combined\s+|overall\s+|histologic(?:al)?\s+|tumou?r\s+|nottingham\s+|fuhrman\s+|figo\s+"
               rf"|who\s+)?grade\s*(?:\(1,\s*2,\s*3\))?\s*[:=\-]?\s*(?P<g>{_NUM})"
               rf"(?:\s*(?:of|/)\s*(?P<of>{_NUM}))?(?![\w+])", re.I),
    re.compile(rf"\bG\s?(?P<g>{_NUM})(?![\w+.])"),
    re.compile(r"\bhistologic\s+score\s*(?P<g>[1-3])\s*/\s*(?P<of>3)\b", re.I),
]  # fmt: skip
# Used only when nothing else states the grade: "NUCLEAR GRADE II WITH LOW MITOTIC INDEX".
_NUCLEAR_GRADE = re.compile(rf"\bnuclear\s+grade\s*[:=\-]?\s*(?P<g>{_NUM})(?![\w+])", re.I)
_HIGH_LOW = re.compile(r"\b(?P<g>high|low|intermediate)[\s-]grade\b", re.I)

_TOTAL = re.compile(
    r"(?:total|overall|combined|nottingham|sbr|mbr)?\s*(?:nottingham\s+)?(?:score|points?)\s*(?:of|is|=|-|:)?\s*"
    r"(?P<s>[3-9])\s*(?:/|of|out\s+of)\s*9\b|(?P<s2>[3-9])\s*/\s*9\b|\bG\s*[1-3]\s*\((?P<words>three|four|five|six|seven|eight|nine)\s+points\)",
    re.I,
)
_WORDS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
COMPONENTS = {
    "tubule_formation": (
        r"(?:tubule(?:s|\s+formation)?|architectur\w*|glandular(?:/tubular)?\s+(?:differentiation|formation))"
    ),
    "nuclear_pleomorphism": r"(?:nuclear\s+(?:pleomorphism|grade|score)|nuclei|pleomorphism)",
    "mitotic_count": r"(?:mitos[ie]s|mitotic\s+(?:activity|rate|count|index|figures)?(?:\s+score)?)",
}
_COMPONENT_VALUE = r"\s*(?:score)?\s*[:=\-]?\s*(?P<v>[1-3])(?!\s*[/.]\d|\d|\s*(?:cm|mm|%))"


@dataclass
class Grade:
    value: str | None = None
    system: str | None = None
    score: int | None = None
    components: dict[str, int] = field(default_factory=dict)


def _arabic(token: str) -> str:
    token = token.upper()
    return str(ROMAN[token]) if token in ROMAN else token


def _in_situ_context(text: str, start: int) -> bool:
    before = text[max(0, start - 40) : start].lower()
    return bool(re.search(r"(?:in[\s-]situ|dcis|intraductal)[^.]*$", before))


def _explicit_grade(text: str, patterns: list[re.Pattern[str]]) -> str | None:
    for pattern in patterns:
        for m in pattern.finditer(text):
            if _in_situ_context(text, m.start()):
                continue
            of = m.groupdict().get("of")
            if of is not None and _arabic(of) not in ("3", "4"):
                continue
            return _arabic(m.group("g"))
    return None


def find_grade(text: str) -> Grade:
    """The grade stated in `text`: an explicit grade, else one implied by the Nottingham score,
    else by differentiation words, else a nuclear grade, else high / low grade."""
    grade = Grade(value=_explicit_grade(text, _GRADE_PATTERNS))
    total = _TOTAL.search(text)
    if total:
        grade.score = int(total.group("s") or total.group("s2") or _WORDS[total.group("words").lower()])
    grade.components = find_components(text)
    if grade.score is None and len(grade.components) == 3:
        grade.score = sum(grade.components.values())
    if grade.value is None and grade.score is not None:
        grade.value = "1" if grade.score <= 5 else "2" if grade.score <= 7 else "3"
    if grade.value is None:
        for pattern, value in DIFFERENTIATION:
            if pattern.search(text):
                grade.value = value
                break
    if grade.value is None:
        grade.value = _explicit_grade(text, [_NUCLEAR_GRADE])
    if grade.value is None:
        m = _HIGH_LOW.search(text)
        if m:
            grade.value = m.group("g").lower()
    for name, pattern in SYSTEMS:
        if pattern.search(text):
            grade.system = name
            break
    if grade.system is None and (grade.score is not None or grade.components) and grade.value:
        grade.system = "Nottingham"
    return grade


def find_components(text: str) -> dict[str, int]:
    components: dict[str, int] = {}
    for name, words in COMPONENTS.items():
        m = re.search(words + _COMPONENT_VALUE, text, re.I)
        if m:
            components[name] = int(m.group("v"))
    return components
