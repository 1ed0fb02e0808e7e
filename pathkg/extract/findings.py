"""Findings other than type, grade and stage: tumour size, margins, lymphovascular and perineural
invasion, lymph node counts, ER / PR / HER2, necrosis, and the findings sentences themselves.

Each finder takes a text region and returns None when the region does not state the finding;
the caller decides which region to ask first (synoptic, the primary tumour's part, the diagnosis).
"""

from __future__ import annotations

import re

_NUMBER = r"\d+(?:[.,]\d+)?"
_UNIT = r"(?P<unit>cm|mm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b"
_DIMS = rf"(?P<dims>{_NUMBER}\.?(?:\s*[x×]\s*{_NUMBER}\.?){{0,2}})\s*{_UNIT}"
_MEASURE = re.compile(_DIMS, re.I)
_SIZE_LABEL = re.compile(
    r"(?:size\s+of\s+(?:the\s+)?invasive\s+(?:component|carcinoma|tumou?r)|greatest\s+dimension(?:\s*\(pT\))?"
    r"|maximum\s+dimension(?:\s+(?:of\s+)?invasive\s+component)?|tumou?r\s+size|tumou?r\s+diameters?"
    r"|estimated\s+tumou?r\s+dimension\s+of|invasive\s+tumou?rs?\s+measures?|tumou?r\s+measures?"
    r"|size\s+of\s+(?:the\s+)?tumou?r)\s*[:\-]?\s*(?:[A-Za-z. ]{0,25}?)",
    re.I,
)


def _to_mm(dims: str, unit: str) -> float:
    values = [float(v.replace(",", ".").rstrip(".")) for v in re.split(r"\s*[xX×]\s*", dims)]
    size = max(values)
    return round(size * 10, 2) if unit.lower().startswith(("cm", "centi")) else size


def labelled_size_mm(text: str) -> float | None:
    for label in _SIZE_LABEL.finditer(text):
        m = _MEASURE.search(text, label.end(), label.end() + 60)
        if m and not re.search(r"\d", text[label.end() : m.start()]):
            return _to_mm(m.group("dims"), m.group("unit"))
    return None


def first_size_mm(text: str) -> float | None:
    """The first measurement that is not a distance (to a margin, from the skin ...)."""
    for m in _MEASURE.finditer(text):
        if re.search(
            r"margin|less\s+than|from|distance\s+(?:to|from)|within|<", text[max(0, m.start() - 35) : m.start()], re.I
        ):
            continue
        return _to_mm(m.group("dims"), m.group("unit"))
    return None


# --- margins ---------------------------------------------------------------------------------
_MARGIN = (
    r"(?:(?:surgical|resection|excision(?:al)?|specimen|inked|final)\s+)?margins?(?:\s+of\s+(?:excision|resection))?"
)
_MARGIN_NEGATIVE = re.compile(
    rf"{_MARGIN}(?:\s+status)?\s*(?:[:\-]|are|is)?\s*(?:all\s+)?(?:negative|free|uninvolved|clear|not\s+involved)"
    rf"|(?:negative|free|uninvolved|clear)\s+{_MARGIN}|{_MARGIN}\s+(?:of\s+\w+\s+)?(?:are|is)\s+(?:widely\s+)?free"
    rf"|all\s+(?:surgical\s+)?margins\s+(?:of\s+resection\s+)?(?:are\s+)?(?:free|negative)|\bR0\b",
    re.I,
)
_MARGIN_POSITIVE = re.compile(
    rf"{_MARGIN}(?:\s+status)?\s*(?:[:\-]|are|is)?\s*(?:focally\s+)?(?:positive|involved)(?!\s+by\s+[\w\s]+:)"
    rf"|(?:carcinoma|tumou?r)\s+(?:extends\s+)?(?:to|at)\s+(?:the\s+)?(?:inked\s+)?{_MARGIN}|\bR[12]\b",
    re.I,
)
_MARGIN_CLOSE = re.compile(
    rf"{_MARGIN}[^.;]{{0,30}}(?:less\s+than|<)\s*0?\.\d\s*cm|{_MARGIN}[^.;]{{0,10}}\bclose\b|\bclose\s+{_MARGIN}",
    re.I,
)


def margin_status(text: str) -> str | None:
    if _MARGIN_POSITIVE.search(text) and not re.search(r"uninvolved|not\s+involved", text, re.I):
        return "positive"
    if _MARGIN_NEGATIVE.search(text):
        return "negative"
    if _MARGIN_CLOSE.search(text):
        return "close"
    return None


# --- present / absent findings ------------------------------------------------------------------
_PRESENT = r"(?:present|identified|seen|noted|positive|extensive|focal|yes)"
_ABSENT = r"(?:absent|not\s+(?:identified|seen|present)|negative|none|no)"


def _presence(
    text: str, subject: str, codes_absent: str | None = None, codes_present: str | None = None
) -> bool | None:
    for m in re.finditer(subject, text, re.I):
        before = text[max(0, m.start() - 25) : m.start()]
        after = text[m.end() : m.end() + 40]
        if re.search(r"\b(?:no|without|negative\s+for|absence\s+of)\s+(?:\w+\s+){0,2}$", before, re.I):
            return False
        if re.match(r"\s*(?:is\s+|are\s+|was\s+)?(?:not\s+(?:identified|seen|present)|absent)", after, re.I):
            return False
        state = re.match(
            rf"\s*(?:\([^)]*\)\s*)?(?:[:\-]\s*|is\s+|are\s+|was\s+)?(?P<s>{_ABSENT}|{_PRESENT})\b", after, re.I
        )
        if state:
            return not re.fullmatch(_ABSENT, state.group("s"), re.I)
        if re.search(r"\b(?:is|are)\s+(?:\w+\s+)?(?:identified|present|seen)", after[:30], re.I):
            return True
    if codes_absent and re.search(codes_absent, text):
        return False
    if codes_present and re.search(codes_present, text):
        return True
    return None


def lymphovascular_invasion(text: str) -> bool | None:
    subject = (
        r"(?:lympho-?\s?vascular|angiolymphatic|lymphatic(?:/vascular)?|vascular|vessel|venous/lymphatic"
        r"(?:\s*\([^)]*\))?|endolymphatic|lymph\s+vessel)\s+(?:space\s+)?invasion(?:\s*\([^)]*\))?"
    )
    return _presence(text, subject, codes_absent=r"(?<![A-Za-z])p?L0(?!\d)", codes_present=r"(?<![A-Za-z])p?L1(?!\d)")


def perineural_invasion(text: str) -> bool | None:
    return _presence(
        text, r"peri-?\s?neural\s+(?:invasion|infiltration)", codes_absent=r"\bPn0\b", codes_present=r"\bPn1\b"
    )


def necrosis(text: str) -> bool | None:
    """Tumour necrosis; necrosis inside ductal carcinoma in situ (comedo, central) does not count."""
    for m in re.finditer(r"necrosis", text, re.I):
        before = text[max(0, m.start() - 90) : m.start()]
        in_situ = re.search(r"(?:in[\s-]situ|DCIS|comedo)(?!\s*:\s*(?:none|not|absent|negative))", before, re.I)
        if in_situ and not re.search(r"invasive", before[-30:], re.I):
            continue
        after = text[m.end() : m.end() + 40]
        if re.match(r"(?:/calcification)?\s*:\s*necrosis\s+only", after, re.I):
            return True
        if re.search(r"\b(?:no|without|negative\s+for|absence\s+of)\s+(?:\w+\s+){0,2}$", before[-30:], re.I):
            return False
        state = re.match(
            rf"(?:/\w+)?\s*(?:[:\-]\s*|is\s+|are\s+|was\s+)?(?:\w+\s+)?(?P<s>{_ABSENT}|{_PRESENT})\b", after, re.I
        )
        if state:
            return not re.fullmatch(_ABSENT, state.group("s"), re.I)
        if re.search(
            r"(?:extensive|focal|central|geographic|moderate|marked|tumou?r(?:al)?|areas\s+of)\s+$", before, re.I
        ):
            return True
    return None


# --- lymph nodes -----------------------------------------------------------------------------
_NODE = r"(?:lymph\s+)?(?:[nm]o[dnu]es?|LNs?)"
_COUNT = r"(?P<{}>\d+|[oO]|no|none|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_WORD_NUMBERS = {
    "o": 0, "no": 0, "none": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip


def _int(token: str) -> int:
    return int(token) if token.isdigit() else _WORD_NUMBERS[token.lower()]


_LN_LABELLED_POS = re.compile(
    r"(?:lymph\s+nodes?\s+positive|number\s+(?:of\s+nodes\s+)?(?:involved|positive)|nodes?\s+(?:involved|positive))"
    r"\s*(?:\([^)]*\))?\s*[:\-]\s*" + _COUNT.format("n") + r"\b",
    re.I,
)
_LN_LABELLED_EXAMINED = re.compile(
    r"(?:lymph\s+nodes?\s+examined|number\s+(?:of\s+nodes\s+)?examined|total\s+(?:number\s+of\s+)?(?:lymph\s+)?nodes"
    r"(?:\s+examined)?|nodes?\s+examined)\s*(?:\([^)]*\))?\s*[:\-]\s*" + _COUNT.format("n") + r"\b",
    re.I,
)
_LN_RATIO = re.compile(r"\((?P<pos>\d+)\s*/\s*(?P<tot>\d+)\)|(?<![\d/.])(?P<pos2>\d+)\s*/\s*(?P<tot2>\d+)(?![\d/])")
_LN_OF = re.compile(
    rf"\b{_COUNT.format('pos')}\s+(?:of|out\s+of)\s+{_COUNT.format('tot')}\s+(?:\w+\s+){{0,3}}{_NODE}", re.I
)


def lymph_node_counts(text: str) -> tuple[int | None, int | None]:
    """(positive, examined) from labelled counts, else "1 of 15 nodes" / "(0/3)" in a node context."""
    pos = _LN_LABELLED_POS.search(text)
    tot = _LN_LABELLED_EXAMINED.search(text)
    if pos or tot:
        return (_int(pos.group("n")) if pos else None, _int(tot.group("n")) if tot else None)
    m = _LN_OF.search(text)
    if m:
        return _int(m.group("pos")), _int(m.group("tot"))
    for m in _LN_RATIO.finditer(text):
        window = text[max(0, m.start() - 120) : m.end() + 40]
        if not re.search(_NODE + r"|sentinel|axilla", window, re.I):
            continue
        p, t = (m.group("pos"), m.group("tot")) if m.group("pos") else (m.group("pos2"), m.group("tot2"))
        if (
            int(p) <= int(t)
            and int(t) > 0
            and not re.match(r"\s*9\b", text[m.start("tot" if m.group("pos") else "tot2") :])
        ):
            return int(p), int(t)
    return None, None


# --- receptors -------------------------------------------------------------------------------
_STATUS = (
    r"(?P<s>positive|negative|equivocal|borderline|pending|weakly\s+positive|amplified|not\s+amplified"
    r"|zero\s+or\s+1\+|[0-3]\+)"
)
_RECEPTORS = {
    "er": r"(?:estrogen\s+receptors?(?:\s*\(ER\))?|\bER\b(?!/)|oestrogen\s+receptors?)",
    "pr": r"(?:progesterone\s+receptors?(?:\s*\(PR\))?|\bP[Rg]R\b|\bPR\b)",
    "her2": r"(?:her-?\s?2(?:\s*/\s*neu)?|c-?erb-?b-?2|\bHER2\b)",
}


def _status(word: str) -> str:
    word = re.sub(r"\s+", " ", word.lower())
    if word in ("zero or 1+", "0+", "1+", "not amplified"):
        return "negative"
    if word in ("2+", "equivocal", "borderline", "weakly positive"):
        return "equivocal"
    if word in ("3+", "amplified"):
        return "positive"
    return word


def receptor_status(text: str, receptor: str) -> str | None:
    subject = _RECEPTORS[receptor]
    # "POSITIVE FOR ESTROGEN AND PROGESTERONE RECEPTORS AND NEGATIVE FOR HER-2"
    for m in re.finditer(
        r"(?P<s>positive|negative)\s+for\s+(?P<what>[\w\s/-]{0,60}?)(?=\s+and\s+(?:positive|negative)\b|[.;,]|$)",
        text,
        re.I,
    ):
        if re.search(subject, m.group("what"), re.I):
            return m.group("s").lower()
    for m in re.finditer(subject, text, re.I):
        after = text[m.end() : m.end() + 60]
        score = re.match(
            rf"[^.]{{0,10}}?(?:status)?\s*[:\-]?\s*(?:\([^)]*\)\s*)?(?:is\s+)?(?:interpreted\s+as\s+)?{_STATUS}",
            after,
            re.I,
        )
        if score:
            status = _status(score.group("s"))
            if status == "negative" or status == "positive":
                # "Her-2/neu: NEGATIVE. Score: 1+" is negative; "WEAKLY POSITIVE (SCORE 2+)" is equivocal.
                two_plus = re.match(r"[^.]{0,50}\bscore\s*[:\-]?\s*2\+", after, re.I)
                if receptor == "her2" and two_plus:
                    return "equivocal"
            return status
    return None


# --- sentences ------------------------------------------------------------------------------------
_SENTENCE_SPLIT = re.compile(r"(?<=[.;])\s+(?=[A-Z(\"])")
_FINDING_WORDS = re.compile(
    r"carcinoma|tumou?r|invasi|margin|lymph|node|grade|necrosis|mitos|mitotic|pleomorph|differentiat|"
    r"receptor|her-?2|metasta|in\s?situ|dcis|lcis|nottingham|tubul|calcification|atypi|nuclei|nuclear|"
    r"keratin|gland|stroma|size|cm\b|mm\b",
    re.I,
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_SPLIT.split(text) if s.strip()]


def findings_sentences(text: str, limit: int = 40) -> list[str]:
    """Sentences that state a finding, in order, de-duplicated (page headers and boilerplate out)."""
    seen: set[str] = set()
    out: list[str] = []
    for s in sentences(text):
        key = s.lower()
        if len(s) < 12 or key in seen or not _FINDING_WORDS.search(s):
            continue
        if re.search(r"confidential|unauthorized|certify|accreditation|registry", s, re.I):
            continue
        seen.add(key)
        out.append(s)
        if len(out) >= limit:
            break
    return out
