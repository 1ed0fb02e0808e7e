"""OCR normalisation of report text: fixes the OCR errors that real TCGA reports carry, and no more.

Conservative by construction: every rule fires only in a context where the reading is not in
doubt, and none changes what a clause means.

- Staging: a space inside a category (`pT 2 N 1a` → `pT2 N1a`, OCR `N la` → `N1a` after a pT);
  letter O read for digit 0 in TNM categories (`pNO` → `pN0`, `T2, NO, MX` → `T2, N0, MX`,
  `pT2(mult)NO(sn)LOVORO` → `pT2(mult)N0(sn)L0V0R0`), an upper-case `P` prefix (`PMX` → `pMX`).
- Roman numerals read with `l`/`1`/`|` for `I` after grade / stage / type / "of" (`GRADE Il` → `GRADE II`).
- Line breaks that the corpus renders as ". ": a hyphenated word broken across lines is rejoined
  (`infil-. trating` → `infiltrating` when the joined word is a report word, `pink-. tan` → `pink-tan`
  otherwise) and a break between two lower-case words is removed (`in. keeping with` → `in keeping
  with`; not after an abbreviation such as "e.g."). Upper-case text keeps its breaks: there a new
  line and a new sentence look the same.
- Punctuation doubled by those breaks (`,.` → `,`), runs of spaces.

Returns the text and the number of changes per rule, so a run can report what it touched.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from pathkg.text.phi_scrub import ScrubbedText
from pathkg.text.vocabulary import report_vocabulary


@dataclass
class NormalisedText:
    text: str
    changes: dict[str, int] = field(default_factory=dict)


# --- staging ----------------------------------------------------------------------------
# pNO / ypNO / pNO(i-) / rpNO: "p" (with y/r prefixes) + N + letter O where 0 belongs.
_PN_O = re.compile(r"(?<![A-Za-z])([yr]{0,2}p)([NnTtMm])[Oo](?=[\s,.;:)(]|$)")
# A T category followed by a glued or comma-separated NO, e.g. "T2, NO, MX", "pT2(mult)NO(sn)".
_T_THEN_NO = re.compile(
    r"(\b[yr]{0,2}p?T(?:[0-4][a-d]?|is|X|x)(?:\s?\((?:m|mult|sn|i[+-])\))?\s*,?\s*)N[Oo](?=[\s,.;(]|$|[LVMR])"
)
# Residual tumour / lymphatic / venous invasion codes glued to a staging string: LOVORO → L0V0R0.
_LVR_O = re.compile(r"(?<=[)\d])((?:[LVR][O0]){2,3})(?=[\s,.;]|$)")
# "pT 2 N 1a" (a space inside the category) and OCR "N la" (l for 1) right after a pT category.
_P_SPACE = re.compile(r"(?<![A-Za-z])([yr]{0,2}p[TNM])\s(?=(?:[0-4][a-d]?|X|is)\b)")
_N_AFTER_T = re.compile(
    r"(\b[yr]{0,2}pT(?:[0-4][a-d]?|is|X)(?:\([a-z+-]+\))?\s+)N\s?(?:([0-3])|[lI](?=[a-c]?[\s.,;(]|$))"
)
_P_UPPER = re.compile(r"\bP([TNM](?:[0-4][a-d]?|X|is)\b)")

# --- roman numerals -----------------------------------------------------------------------
_ROMAN_CONTEXT = re.compile(
    r"\b(grade|stage|type|of|figo|who|fuhrman)(\s+)([Il1|]{1,3}[VvAaBbCc]?|[Il|]?V)(?=[\s,.;:)/]|$)", re.I
)

# --- line breaks ----------------------------------------------------------------------------
_HYPHEN_BREAK = re.compile(r"\b([A-Za-z]{2,})-\.\s+([A-Za-z]{2,})\b")
# A ". " between two lower-case words: a line break (a sentence does not start in lower case).
# Written dot first, with the context behind it as look-behinds: the same matches, found ten times faster.
_LOWER_BREAK = re.compile(r"\.(?<=[a-z,]\.)(?<![.\s][a-z]\.)\s+(?=[a-z]{2,}|x\s)")
_DIM_BREAK = re.compile(r"(\d(?:\.\d+)?)\.\s+x\.\s+(?=\d)")
_DOUBLE_PUNCT = re.compile(r"([,;:])\.(?=\s)")
_SPACES = re.compile(r"[ \t]{2,}")


def _roman(match: re.Match[str]) -> str:
    word, space, token = match.groups()
    if token.isdigit():  # "grade 1", "stage 11"? digits are digits.
        return match.group(0)
    if re.fullmatch(r"I{1,3}[VABCvabc]?|IV", token):
        return match.group(0)
    fixed = re.sub(r"[l1|]", "I", token)
    if not re.fullmatch(r"I{1,3}[VABCvabc]?|IV", fixed):
        return match.group(0)
    if word.lower() == "of" and len(fixed) == 1:
        return match.group(0)  # "of l" is too weak a context for a single I
    return f"{word}{space}{fixed.upper() if fixed[-1] in 'abcv' else fixed}"


def _hyphen(match: re.Match[str]) -> str:
    left, right = match.groups()
    vocab = report_vocabulary()
    joined = left + right
    if joined.lower() in vocab and left.lower() not in vocab:
        return joined
    compound = f"{left}-{right}"
    if right[0].islower() or compound.lower() in vocab:
        return compound
    return match.group(0)  # "NODE-. ONE BENIGN ...": a new line that starts a new item


# Gates: a rule runs only when its gate matches, and every match of a rule contains a gate match (a
# necessary condition, so the output is the same). Gates start with a literal or a rare character,
# which Python's re scans for quickly; the rules themselves start with look-behinds or classes that
# are tried at every position of a several-kilobyte report. `None`: always run.
_Gate = Callable[[str, str], bool]  # (text, lower-cased text) -> may the rule match?


def _gate(pattern: str, lower: bool = False) -> _Gate:
    compiled = re.compile(pattern)
    if lower:
        return lambda text, low: compiled.search(low) is not None
    return lambda text, low: compiled.search(text) is not None


def _any_of(*needles: str) -> _Gate:
    return lambda text, low: any(n in text for n in needles)


# Replacements are functions (a template string would be parsed again at every match).
_RULES: list[tuple[str, re.Pattern[str], Callable[[re.Match[str]], str], _Gate | None]] = [
    ("tnm_upper_p", _P_UPPER, lambda m: "p" + m.group(1), _gate(r"P[TNM](?:[0-4]|X|is)")),
    ("tnm_spacing", _P_SPACE, lambda m: m.group(1), _gate(r"p[TNM]\s")),
    ("tnm_spacing", _N_AFTER_T, lambda m: f"{m.group(1)}N{m.group(2) or '1'}", _gate(r"pT(?:[0-4]|is|X)")),
    ("tnm_letter_o", _PN_O, lambda m: f"{m.group(1)}{m.group(2).upper()}0", _gate(r"p[NnTtMm][Oo](?:[\s,.;:)(]|$)")),
    ("tnm_letter_o", _T_THEN_NO, lambda m: f"{m.group(1)}N0", _gate(r"N[Oo](?:[\s,.;(LVMR]|$)")),
    ("tnm_letter_o", _LVR_O, lambda m: m.group(1).replace("O", "0"), _gate(r"[LVR][O0][LVR][O0]")),
    (
        "roman_numeral",
        _ROMAN_CONTEXT,
        _roman,
        _gate(r"(?:grade|stage|type|of|figo|who|fuhrman)\s+(?:[il1|]{1,3}[vabc]?|[il|]?v)(?:[\s,.;:)/]|$)", lower=True),
    ),
    ("hyphen_break", _HYPHEN_BREAK, _hyphen, _gate(r"-(?<=[A-Za-z][A-Za-z]-)\.\s+[A-Za-z]{2}")),
    ("line_break", _DIM_BREAK, lambda m: m.group(1) + " x ", _gate(r"\.\s+x\.")),
    ("line_break", _LOWER_BREAK, lambda m: " ", None),
    ("double_punctuation", _DOUBLE_PUNCT, lambda m: m.group(1), _any_of(",.", ";.", ":.")),
    ("spaces", _SPACES, lambda m: " ", _any_of("  ", "\t")),
]


def normalise_ocr(text: str) -> NormalisedText:
    """Apply the OCR rules; a `ScrubbedText` stays a `ScrubbedText`."""
    scrubbed = isinstance(text, ScrubbedText)
    changes: Counter[str] = Counter()
    low = text.lower()
    for name, pattern, repl, gate in _RULES:
        if gate is not None and not gate(text, low):
            continue

        def counted(m: re.Match[str], repl=repl, name=name) -> str:
            new = repl(m)
            if new != m.group(0):
                changes[name] += 1
            return new

        new_text = pattern.sub(counted, text)
        if new_text != text:
            text, low = new_text, new_text.lower()
    out = ScrubbedText(text) if scrubbed else text
    return NormalisedText(out, dict(sorted(changes.items())))
