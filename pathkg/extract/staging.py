"""Pathologic TNM categories: pT / pN / pM with y / r prefixes and suffixes such as (m), (sn), (i-).

Accepted forms: `pT1c`, `ypT2`, `pT2(mult)` (→ `pT2(m)`), `pN1a (sn)` (→ `pN1a(sn)`), `pN0(i-)`,
`pMX`, compact strings (`pT2N2aMXG3`, `pT2(mult)N0(sn)L0V0R0`), and bare `T2, N0, MX` after a
"TNM" / "stage" / "classification" label. Run after OCR normalisation (which turns `pNO` into `pN0`).
Output always carries the `p` (`ypT2`, `pMX`); a clinical `cM0` keeps its `c`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SUFFIX = r"(?:\s?\((?:m|mult|\d+|sn|i[+-]|mol[+-]|f)\))*"
_T_CAT = r"(?:[0-4](?:mi|[a-d](?:\d)?)?|is|X|x)"
_N_CAT = r"(?:[0-3](?:mi|[a-c])?|X|x)"
_M_CAT = r"(?:[01][a-c]?|X|x)"

_PT = re.compile(rf"(?<![A-Za-z])(?P<pre>[yr]{{0,2}})pT(?P<cat>{_T_CAT})(?P<suf>{_SUFFIX})(?![a-z0-9])")
_PN = re.compile(rf"(?<![A-Za-z])(?P<pre>[yr]{{0,2}})p?N(?P<cat>{_N_CAT})(?P<suf>{_SUFFIX})(?![a-z0-9])")
_PM = re.compile(rf"(?<![A-Za-z])(?P<pre>[yr]{{0,2}})(?P<p>[pc]?)M(?P<cat>{_M_CAT})(?P<suf>{_SUFFIX})(?![a-z0-9])")
# Bare categories after a staging label: "PTNM CLASSIFICATION: T2, N0, MX", "Tumor classification: ..., pT2".
_LABELLED = re.compile(
    r"(?:TNM|stag(?:e|ing)|classification)\b[^.:]{0,30}[:\s]\s*(?P<body>(?:[^.]|\.(?=\d)){0,80})", re.I
)
_BARE_T = re.compile(rf"(?<![A-Za-z])(?P<pre>[yr]{{0,2}})p?T(?P<cat>{_T_CAT})(?P<suf>{_SUFFIX})(?![a-z0-9])")


@dataclass
class Staging:
    pt: str | None = None
    pn: str | None = None
    pm: str | None = None


def _suffix(raw: str) -> str:
    parts = re.findall(r"\(([^)]*)\)", raw)
    return "".join(f"({'m' if p.lower() == 'mult' else p.lower()})" for p in parts)


def _cat(cat: str) -> str:
    return cat.upper() if cat.lower() == "x" else cat


def _t(m: re.Match[str]) -> str:
    return f"{m.group('pre')}pT{_cat(m.group('cat'))}{_suffix(m.group('suf'))}"


def find_staging(text: str) -> Staging:
    """The first pT / pN / pM stated in `text` (a pN or pM right after a pT wins over a loose one)."""
    staging = Staging()
    t_match = _PT.search(text)
    if t_match is None:
        for label in _LABELLED.finditer(text):
            t_match = _BARE_T.search(label.group("body"))
            if t_match:
                body_start = label.start("body")
                text_for_rest = text[body_start + t_match.end() : body_start + t_match.end() + 40]
                staging.pt = _t(t_match)
                _fill_after_t(staging, text_for_rest)
                break
    else:
        staging.pt = _t(t_match)
        _fill_after_t(staging, text[t_match.end() : t_match.end() + 40])
    if staging.pn is None:
        m = _first_with_p(_PN, text, "N")
        if m:
            staging.pn = f"{m.group('pre')}pN{_cat(m.group('cat'))}{_suffix(m.group('suf'))}"
    if staging.pm is None:
        m = _first_with_p(_PM, text, "M")
        if m:
            staging.pm = f"{m.group('pre')}{m.group('p') or 'p'}M{_cat(m.group('cat'))}"
    return staging


def _first_with_p(pattern: re.Pattern[str], text: str, letter: str) -> re.Match[str] | None:
    """A category written with its p (pN0, pMX): bare N0 / MX alone is too weak to take."""
    for m in pattern.finditer(text):
        if m.group(0).lstrip("yr").lower().startswith(("p", "c")):
            return m
    return None


def _fill_after_t(staging: Staging, rest: str) -> None:
    """N and M categories that directly follow a T category (compact or comma-separated)."""
    n = re.match(rf"\s*,?\s*(?P<pre>[yr]{{0,2}})p?N(?P<cat>{_N_CAT})(?P<suf>{_SUFFIX})(?![a-z0-9])", rest)
    if n is None:
        return
    staging.pn = f"{n.group('pre')}pN{_cat(n.group('cat'))}{_suffix(n.group('suf'))}"
    m = re.match(rf"(?:\s*\(\d+/\d+\))?\s*,?\s*(?P<p>[pc]?)M(?P<cat>{_M_CAT})(?![a-z0-9])", rest[n.end() :])
    if m:
        staging.pm = f"{m.group('p') or 'p'}M{_cat(m.group('cat'))}"
