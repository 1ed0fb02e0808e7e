"""PHI scrubbing: the first thing done to a report, before any other code or an LLM sees it.

Replaces protected health information with typed placeholders and counts each replacement:

| placeholder   | what                                                                   |
|---------------|------------------------------------------------------------------------|
| `[NAME]`      | person names after a title (Dr., Mrs.), before a degree (", MD"), after |
|               | a label (Patient:, Pathologist:, Signed by:); later bare repeats too    |
| `[DATE]`      | numeric (01/02/2003, 2003-01-02, 1.2.03) and written dates (Jan 5, 2003)|
| `[PHONE]`     | phone and fax numbers                                                  |
| `[ADDRESS]`   | street addresses, P.O. boxes, "City, ST 12345"                          |
| `[EMAIL]`     | e-mail addresses                                                       |
| `[MRN]`       | medical record / account / visit / SSN-style numbers after their label |
| `[ACCESSION]` | accession and pathology case numbers (S12-34567, "Path #: ...")         |
| `[AGE]`       | ages over 89 (HIPAA Safe Harbor); younger ages are kept                |

TCGA barcodes (`TCGA-A2-A0YM-01Z-00-DX1`) are case ids, not PHI: they are kept verbatim.

This is a rule-based scrubber tuned for surgical pathology reports. What it cannot see: a
name with no context at all (no title, degree or label, never repeated after one) and
institution names. Every detector works on the original text; overlapping detections are
resolved (earliest, then longest) and the text is rebuilt once, so placeholders never
feed later detectors.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from pathkg.text.vocabulary import report_vocabulary

TCGA_BARCODE = re.compile(r"\bTCGA-[A-Z0-9]{2}-[A-Z0-9]{4}(?:-[A-Z0-9]{2,4}[A-Z]?)*(?:\.[A-Za-z0-9-]+)?\b", re.I)

MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
FULL_MONTHS = (
    r"(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"|(?:JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER))"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19\d\d|20\d\d|\d\d)"
DATE_PATTERNS = [
    # 01/02/2003, 1-2-03, 01.02.2003 (month/day or day/month; both ranges are valid)
    re.compile(rf"(?<![\w/.-]){_DAY}([/.-]){_DAY}\1{_YEAR}(?![\w/]|\.\d)"),
    # 2003-01-02, 2003/1/2
    re.compile(rf"(?<![\w/.-])(?:19|20)\d\d([/.-]){_MONTH}\1{_DAY}(?![\w/]|\.\d)"),
    # January 5, 2003 / January 5th / Jan. 5th, 2003 (an abbreviated month needs its year)
    re.compile(rf"\b{FULL_MONTHS}\s+{_DAY}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d\d)?\b"),
    re.compile(rf"\b{MONTHS}\.?\s+{_DAY}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d\b", re.I),
    # 5 January 2003 / 5th of Jan, 2003
    re.compile(rf"\b{_DAY}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS}\.?,?\s+(?:19|20)\d\d\b", re.I),
    # January 2003
    re.compile(rf"\b{MONTHS}\.?,?\s+(?:19|20)\d\d\b", re.I),
]
# "Date of birth: 1/2/1950" style labels also catch dates written in odd shapes.
DATE_LABEL = re.compile(
    r"\b(?:D\.?O\.?B\.?|Date of Birth|Birth ?date|Date (?:Collected|Received|Reported|Signed|of Service|"
    r"of Procedure|Coll|Rec'?d)|Collected|Received on|Signed on)\s*[:#]?\s*"
    r"(?P<v>\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}(?:\s+\d{1,2}:\d\d(?::\d\d)?(?:\s*[AP]M)?)?)",
    re.I,
)

PHONE_PATTERNS = [
    re.compile(r"(?<![\w-])(?:\+?1[\s.-]?)?\(\d{3}\)\s?\d{3}[\s.-]?\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?\b", re.I),
    re.compile(r"(?<![\w.-])(?:\+?1[\s.-])?\d{3}[.-]\d{3}[.-]\d{4}(?:\s*(?:x|ext\.?)\s*\d{1,5})?\b", re.I),
    re.compile(
        r"\b(?:Phone|Tel(?:ephone)?|Fax|Pager|Cell|Ph)\.?\s*(?:no\.?|number|#)?\s*[:#]?\s*"
        r"(?P<v>\+?[\d(][\d\s().-]{6,}\d)",
        re.I,
    ),
]

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")

STREET_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Way|Place|Pl|"
    r"Parkway|Pkwy|Highway|Hwy|Terrace|Ter|Circle|Cir|Square|Sq)"
)
ADDRESS_PATTERNS = [
    re.compile(
        rf"\b\d{{1,6}}\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z]+\.?\s+){{1,3}}{STREET_SUFFIX}\b\.?"
        r"(?:,?\s+(?:Suite|Ste|Apt|Unit|Room|#)\.?\s*#?\s*\w+)?"
        r"(?:,\s+(?:[A-Z][a-z]+\s?){1,3},\s+[A-Z]{2}\.?\s+\d{5}(?:-\d{4})?)?"
    ),
    re.compile(r"\bP\.?\s?O\.?\s+Box\s+\d+\b", re.I),
    re.compile(r"\b(?:[A-Z][a-z]+\s){0,2}[A-Z][a-z]+,\s+[A-Z]{2}\.?\s+\d{5}(?:-\d{4})?\b"),
]

ID_LABEL = (
    r"(?:M\.?\s?R\.?\s?N\.?|M\.?R\.?\s*(?:Number|No\.?|#)|Medical\s+Record(?:\s+(?:Number|No\.?|#))?|"
    r"Med\.?\s+Rec(?:ord)?\.?(?:\s+(?:Number|No\.?|#))?|MR\s*#|Account\s*(?:Number|No\.?|#)|Acct\.?\s*(?:No\.?|#)?|"
    r"Visit\s*(?:Number|No\.?|#)|Reg\s*#|Registration\s*(?:Number|No\.?|#)|Patient\s+ID|Pt\.?\s+ID|"
    r"Unit\s+(?:Number|No\.?)|SSN|Social\s+Security(?:\s+(?:Number|No\.?))?|Hospital\s+(?:Number|No\.?|#)|"
    r"Insurance\s+(?:ID|Number|No\.?))"
)
ACCESSION_LABEL = (
    r"(?:Accession\s*(?:Number|No\.?|#)?|Acc\.?\s*(?:No\.?|#)|Path(?:ology)?\s*(?:Number|No\.?|#|Numb\.?)|"
    r"Surgical\s+Path(?:ology)?\s*(?:Number|No\.?|#)|Case\s*(?:Number|No\.?|#)|Specimen\s*(?:Number|No\.?|#)|"
    r"Lab\s*(?:Number|No\.?|#)|Report\s*(?:Number|No\.?|#))"
)
# A labelled id must hold three digits: "M.R. Number: Doctor." (de-identified) and "Path # : 4"
# (a page number) stay as they are.
# Accession-shaped ids with no label: S12-34567, SP-09-1234, CS-2011-012345.
ACCESSION_SHAPE = re.compile(r"\b[A-Z]{1,3}-?(?:19|20)?\d{2}-\d{4,7}\b")

_WORD_AGE = (
    r"(?:ninety|one hundred)(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|one hundred and \w+"
)
AGE_PATTERNS = [
    re.compile(rf"\b(?P<v>\d{{2,3}}|{_WORD_AGE})(?:\s*|-)(?:years?|yrs?|y)\.?(?:\s*|-)(?:old|o\.?)\b", re.I),
    re.compile(rf"\b(?P<v>\d{{2,3}}|{_WORD_AGE})\s*(?:yo|y/o|y\.o\.)(?!\w)", re.I),
    re.compile(r"\b(?:age|aged|age at diagnosis)\s*[:=]?\s*(?P<v>\d{2,3})\b", re.I),
    re.compile(r"\b(?P<v>\d{2,3})\s*-?\s*(?:year|yr)s?\s+of\s+age\b", re.I),
]

TITLE = r"(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Mx|Prof|Professor)\.?"
DEGREE = r"(?:M\.?\s?D\.?|D\.?\s?O\.?|Ph\.?\s?D\.?|MBBS|FRCPC?|R\.?N\.?|PA-C|MD,\s*PhD)"
NAME_LABEL = (
    r"(?:Patient(?:'s)?\s+Name|Patient|Name|Pt\.?\s+Name|Pathologist|Attending(?:\s+Pathologist)?|"
    r"Resident|Fellow|Surgeon|Physician|Ordering\s+(?:Physician|Provider|Doctor)|Referring\s+"
    r"(?:Physician|Provider|Doctor)|Provider|Clinician|Submitting\s+(?:Physician|Doctor)|"
    r"(?:Electronically\s+)?Signed(?:\s+out)?\s+by|Signed|Verified\s+by|Reviewed\s+by|Dictated\s+by|"
    r"Transcribed\s+by|Diagnosed\s*by|Reported\s+by|Requested\s+by|Examined\s+by|Grossed\s+by|"
    r"Copy\s+to|cc|Attn|Mother|Father|Spouse|Next\s+of\s+Kin|Contact)"
)
# A token followed by "(", "/", "-" or a digit is a code (EGFR(31G7), TPB-TPC), not a name.
_NAME_TOKEN = (
    r"(?:[A-Z](?:[a-z]+|[A-Z]+)(?:['-][A-Z]?[a-z]+|['-][A-Z]+)?|Mc[A-Z][a-z]+|O'[A-Z][a-z]+"
    r"|[A-Z](?:\.(?![A-Za-z])|(?![.\w])))"  # an initial, but not the M of "M.D."
    r"(?![\w(/-])"
)
TITLE_NAME = re.compile(rf"\b{TITLE}\s+(?P<v>{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,2}})")

# Function words and report words that are never a name, even right after a title or label.
_NEVER_NAMES = frozenset(
    """
    a an and are as at be by for from has have he her his in is it its of on or she that the
    their then there these this to was were which with without not no none see same unknown n/a
    na dr doctor mr mrs ms md do phd patient pathologist surgeon physician name date time number
    """.split()  # noqa: SIM905
)
# Surnames that are also report words: after a title or label they are names all the same.
_SURNAME_WORDS = frozenset(
    """
    brown white black green gray grey young king hill wood long short bell rose hall lane field
    moore price rice stone rivers ward west north south bishop mason baker cook fisher hunter
    parker turner walker carter cooper bailey may june
    """.split()  # noqa: SIM905
)
# Words that, capitalised, start a section or a sentence in reports (beyond the vocabulary).
_SECTION_WORDS = frozenset(
    """
    final diagnosis comment comments gross microscopic clinical history specimen specimens
    procedure addendum addenda frozen section report surgical pathology summary synoptic note
    notes received entire working carcinoma carcinomas tumor tumour breast lymph node nodes
    margin margins
    """.split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


@dataclass
class ScrubResult:
    """The scrubbed text and what was replaced (counts per placeholder type, no original text)."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class ScrubbedText(str):
    """A report text that went through `scrub_phi`. LLM code accepts only this type."""

    __slots__ = ()


def _value_span(match: re.Match[str], kind: str, group: str = "v") -> Span:
    start, end = match.span(group) if match.group(group) is not None else match.span()
    return Span(start, end, kind)


def _is_name_token(token: str, after_title: bool) -> bool:
    if re.fullmatch(r"[A-Z]\.?", token):  # an initial
        return True
    bare = token.strip(".,").lower()
    if not bare or bare in _NEVER_NAMES or any(ch.isdigit() for ch in bare):
        return False
    if bare in _SURNAME_WORDS and after_title:
        return True
    return bare not in report_vocabulary() and bare not in _SECTION_WORDS


def _name_prefix(value: str, start: int, after_title: bool) -> Span | None:
    """The leading run of tokens in `value` that read as a name (stops at the first report word)."""
    end = None
    for m in re.finditer(r"[^\s,]+", value):
        if not _is_name_token(m.group(0), after_title):
            break
        end = m.end()
    if end is None:
        return None
    # A lone initial ("Dr. J.") is not enough to call a name.
    if re.fullmatch(r"[A-Z]\.?", value[:end].strip()):
        return None
    return Span(start, start + end, "NAME")


_DEGREE_AT = re.compile(rf"(?<![A-Za-z]){DEGREE}(?![A-Za-z])")
_NAME_BEFORE = re.compile(rf"(?P<v>{_NAME_TOKEN}(?:,?\s+{_NAME_TOKEN}){{1,3}}),?\s+$")
_LABEL_BEFORE = re.compile(rf"\b{NAME_LABEL}\s*$", re.I)
_BY_LABEL_BEFORE = re.compile(r"\b(?:Signed|Verified|Reviewed|Dictated|Diagnosed\s*|Copy)\s+$", re.I)
_LAST_WORD = re.compile(r"([A-Za-z]+)'?s?\s*$")
_LABEL_LAST_WORDS = frozenset(
    """
    name patient pathologist attending resident fellow surgeon physician provider doctor
    clinician by signed out cc attn mother father spouse kin contact to
    """.split()  # noqa: SIM905
)
# Case-sensitive, like TITLE: an upper-case report ("DR.") skips the title scan.
_TITLE_WORDS = ("Dr", "Doctor", "Mr", "Ms", "Miss", "Mx", "Prof")
_SEPARATOR = re.compile(r"[:\-]")
_BY_LABEL_WORDS = ("signed", "verified", "reviewed", "dictated", "diagnosed", "copy")
_NAME_AFTER = re.compile(rf"\s*(?P<v>{_NAME_TOKEN}(?:,?\s+{_NAME_TOKEN}){{0,3}})")


def _find_all(text: str, word: str) -> Iterator[int]:
    i = text.find(word)
    while i >= 0:
        yield i
        i = text.find(word, i + 1)


def _name_spans(text: str, low: str | None = None) -> list[Span]:
    """Names after a title, before a degree, after a label. Anchors (the title, the degree, the
    label's colon) are found first and the name is matched next to them: far faster than
    scanning the whole text with the name patterns."""
    low = low if low is not None else text.lower()
    spans: list[Span] = []
    if any(w in text for w in _TITLE_WORDS):
        for m in TITLE_NAME.finditer(text):
            span = _name_prefix(m.group("v"), m.start("v"), after_title=True)
            if span:
                spans.append(span)
    for d in _DEGREE_AT.finditer(text):
        window_start = max(0, d.start() - 80)
        m = _NAME_BEFORE.search(text, window_start, d.start())
        if m is None:
            continue
        value = m.group("v")
        # Walk back from the degree: the name is the trailing run of name-like tokens.
        tokens = list(re.finditer(r"[^\s,]+", value))
        first = None
        for tok in reversed(tokens):
            if not _is_name_token(tok.group(0), after_title=True):
                break
            first = tok
        if first is not None and first.start() < tokens[-1].end():
            span_start, span_end = m.start("v") + first.start(), m.start("v") + tokens[-1].end()
            if not re.fullmatch(r"[A-Z]\.?", text[span_start:span_end]):
                spans.append(Span(span_start, span_end, "NAME"))
    # Where a label word starts (in the lower-cased text): a separator needs one in the 20 characters
    # before it for `_LAST_WORD` to find a label there, so the look-back runs only near one.
    # (Positions agree only while lower-casing kept the length: otherwise look back at every separator.)
    aligned = len(low) == len(text)
    starts = sorted(i for w in _LABEL_LAST_WORDS for i in _find_all(low, w)) if aligned else []
    for sep in _SEPARATOR.finditer(text):
        c = sep.start()
        if aligned:
            k = bisect.bisect_left(starts, c - 20)
            if k == len(starts) or starts[k] >= c:
                continue
        last = _LAST_WORD.search(text, max(0, c - 20), c)
        if last is None or last.group(1).lower() not in _LABEL_LAST_WORDS:
            continue
        if not _LABEL_BEFORE.search(text, max(0, c - 45), c):
            continue
        m = _NAME_AFTER.match(text, c + 1)
        if m:
            span = _name_prefix(m.group("v"), m.start("v"), after_title=True)
            if span:
                spans.append(span)
    by_labels = any(w in low for w in _BY_LABEL_WORDS)
    for b in re.finditer(r"(?<![A-Za-z])(?:by|to)\s+", text, re.I) if by_labels else ():
        if not _BY_LABEL_BEFORE.search(text, max(0, b.start() - 20), b.start()):
            continue
        m = _NAME_AFTER.match(text, b.end())
        if m:
            span = _name_prefix(m.group("v"), m.start("v"), after_title=True)
            if span:
                spans.append(span)
    return spans


def _repeat_name_spans(text: str, names: list[str], taken: list[Span]) -> list[Span]:
    """Other occurrences of surnames / given names already found in context."""
    tokens = {
        t
        for name in names
        for t in re.findall(r"[A-Za-z][A-Za-z'-]+", name)
        if len(t) >= 3 and t.lower() not in report_vocabulary() and t.lower() not in _NEVER_NAMES
    }
    spans = []
    for token in tokens:
        for m in re.finditer(rf"(?<![\w-]){re.escape(token)}(?![\w-])", text, re.I):
            if any(s.start <= m.start() < s.end for s in taken):
                continue
            start = m.start()
            # A given name right before a known surname ("daughter Lisa Henderson") goes too.
            before = re.search(rf"(?:{_NAME_TOKEN}\s+){{1,2}}$", text[: m.start()])
            if before:
                words = list(re.finditer(r"\S+", before.group(0)))
                for w in reversed(words):
                    if not _is_name_token(w.group(0), after_title=False) or w.group(0)[0].islower():
                        break
                    start = before.start() + w.start()
            spans.append(Span(start, m.end(), "NAME"))
    return spans


def _age_spans(text: str, low: str | None = None) -> list[Span]:
    low = low if low is not None else text.lower()
    words = {"ninety": 90, "one hundred": 100}
    number = "ninety" in low or "hundred" in low or _GATE_AGE_NUMBER.search(low) is not None
    label = _GATE_AGE_LABEL.search(low) is not None
    spans = []
    # Patterns 0, 1, 3 need a number (or a written age) before a "y"; pattern 2 needs its label.
    for pattern in [p for p, gate in zip(AGE_PATTERNS, (number, number, label, number), strict=True) if gate]:
        for m in pattern.finditer(text):
            value = m.group("v").lower()
            over = int(value) > 89 if value.isdigit() else any(value.startswith(w) for w in words)
            if over:
                # "age: 95" keeps its label; "94-year-old" goes whole.
                labelled = m.group(0)[:3].lower() == "age"
                spans.append(Span(*(m.span("v") if labelled else m.span()), "AGE"))
    return spans


# Cheap gates: a detector runs only when the text holds what every one of its matches needs.
# Each gate starts with a character class or is a substring test, which Python's re scans fast.
_GATE_NUMERIC_DATE = re.compile(r"\d[/.-]\d{1,2}[/.-]\d")
_GATE_PHONE = re.compile(r"\d{3}\D{0,3}\d{3}\D{0,2}\d{4}")
_GATE_ZIP = re.compile(r"[A-Z]{2}\.?\s+\d{5}")
_GATE_MONTH = re.compile(
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d|\d\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
)
# Necessary conditions of SSN / ACCESSION_SHAPE / ADDRESS_PATTERNS[2] / the age gate, each led by a
# literal or a digit so that re finds them with a fast scan.
_GATE_SSN = re.compile(r"-(?<=\d\d\d-)\d\d-\d\d\d\d")
_GATE_ACCESSION = re.compile(r"-(?<=\d\d-)\d\d\d\d")
_GATE_FIVE_DIGITS = re.compile(r"\d\d\d\d\d")
_GATE_AGE_NUMBER = re.compile(r"\d\d\s*-?\s*y")
_GATE_AGE_LABEL = re.compile(r"age(?<![a-z0-9_]age)[ds]?(?:\s+at\s+diagnosis)?\s*[:=]?\s*\d\d")
_STREET_WORDS = tuple(w for w in STREET_SUFFIX.strip("(?:)").split("|"))
_ID_CANDIDATE = re.compile(r"(?<![\w-])[A-Z]{0,4}-?\d[\w-]*")
_MRN_BEFORE = re.compile(rf"\b{ID_LABEL}\s*[:#]?\s*$", re.I)
_ACCESSION_BEFORE = re.compile(rf"\b{ACCESSION_LABEL}\s*[:#]?\s*$", re.I)


def _labelled_id_spans(text: str) -> list[Span]:
    """Ids of 3+ digits right after an MRN / account / accession label (label looked up behind each id)."""
    spans = []
    for m in _ID_CANDIDATE.finditer(text):
        if sum(ch.isdigit() for ch in m.group(0)) < 3:
            continue
        lo = max(0, m.start() - 45)
        if _MRN_BEFORE.search(text, lo, m.start()):
            spans.append(Span(m.start(), m.end(), "MRN"))
        elif _ACCESSION_BEFORE.search(text, lo, m.start()):
            spans.append(Span(m.start(), m.end(), "ACCESSION"))
    return spans


def _detect(text: str) -> list[Span]:
    spans: list[Span] = []
    low = text.lower()
    if "@" in text:
        spans.extend(Span(*m.span(), "EMAIL") for m in EMAIL.finditer(text))
    numeric_date = _GATE_NUMERIC_DATE.search(text) is not None
    if numeric_date:
        spans.extend(_value_span(m, "DATE") for m in DATE_LABEL.finditer(text))
    if numeric_date:
        for pattern in DATE_PATTERNS[:2]:
            spans.extend(Span(*m.span(), "DATE") for m in pattern.finditer(text))
    # Written dates: only around a month word next to a number, in windows.
    for w in _GATE_MONTH.finditer(low):
        lo, hi = max(0, w.start() - 16), min(len(text), w.end() + 24)
        for pattern in DATE_PATTERNS[2:]:
            spans.extend(Span(*m.span(), "DATE") for m in pattern.finditer(text, lo, hi))
    spans.extend(_labelled_id_spans(text))
    if _GATE_SSN.search(text):
        spans.extend(Span(*m.span(), "MRN") for m in SSN.finditer(text))
    if _GATE_ACCESSION.search(text):
        spans.extend(Span(*m.span(), "ACCESSION") for m in ACCESSION_SHAPE.finditer(text))
    if _GATE_PHONE.search(text):
        for pattern in PHONE_PATTERNS:
            for m in pattern.finditer(text):
                spans.append(_value_span(m, "PHONE") if "v" in pattern.groupindex else Span(*m.span(), "PHONE"))
    if any(w in text for w in _STREET_WORDS) and re.search(rf"\b{STREET_SUFFIX}\b", text):
        spans.extend(Span(*m.span(), "ADDRESS") for m in ADDRESS_PATTERNS[0].finditer(text))
    if "box" in low:
        spans.extend(Span(*m.span(), "ADDRESS") for m in ADDRESS_PATTERNS[1].finditer(text))
    if _GATE_FIVE_DIGITS.search(text) and _GATE_ZIP.search(text):
        spans.extend(Span(*m.span(), "ADDRESS") for m in ADDRESS_PATTERNS[2].finditer(text))
    spans.extend(_age_spans(text, low))
    spans.extend(_name_spans(text, low))
    return spans


def _resolve(spans: list[Span], protected: list[tuple[int, int]]) -> list[Span]:
    """Drop spans touching a TCGA barcode; among overlaps keep the earliest, then the longest."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if span.end <= span.start or any(span.start < e and s < span.end for s, e in protected):
            continue
        if kept and span.start < kept[-1].end:
            continue
        kept.append(span)
    return kept


def scrub_phi(text: str) -> ScrubResult:
    """Replace PHI in `text` with typed placeholders; returns the new text and counts per type."""
    protected = [m.span() for m in TCGA_BARCODE.finditer(text)] if "tcga-" in text.lower() else []
    spans = _resolve(_detect(text), protected)
    names = [text[s.start : s.end] for s in spans if s.kind == "NAME"]
    if names:
        spans = _resolve(spans + _repeat_name_spans(text, names, spans), protected)
    counts: Counter[str] = Counter()
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(f"[{span.kind}]")
        counts[span.kind] += 1
        pos = span.end
    out.append(text[pos:])
    return ScrubResult(ScrubbedText("".join(out)), dict(sorted(counts.items())))
