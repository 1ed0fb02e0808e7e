"""A report made ready for extraction: PHI scrubbed first, then OCR-normalised, then split.

`PreparedReport` is the only thing extractors (rules or LLM) accept, and `prepare_report` is the
only way to make one, so raw report text cannot reach an extractor, or an LLM endpoint, unscrubbed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from pathkg.text.ocr_normalise import normalise_ocr
from pathkg.text.phi_scrub import ScrubbedText, scrub_phi
from pathkg.text.sections import Section, split_sections

_TOKEN = object()


class UnscrubbedTextError(TypeError):
    """Raised when something other than a `PreparedReport` is handed to an extractor."""


@dataclass(frozen=True)
class PreparedReport:
    case_id: str
    text: ScrubbedText
    phi_replacements: dict[str, int]
    ocr_fixes: dict[str, int]
    _token: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._token is not _TOKEN or not isinstance(self.text, ScrubbedText):
            raise UnscrubbedTextError(f"case {self.case_id}: build a PreparedReport with prepare_report()")

    def __reduce__(self) -> tuple[object, tuple[str, str, dict[str, int], dict[str, int]]]:
        # Travels between processes (a preparation pool) as what it is: already scrubbed.
        return _rebuild, (self.case_id, str(self.text), self.phi_replacements, self.ocr_fixes)

    @cached_property
    def sections(self) -> list[Section]:
        """Split on first use (the LLM backend sends the whole text and never needs them)."""
        return split_sections(self.text)


def prepare_report(case_id: str, raw_text: str) -> PreparedReport:
    scrubbed = scrub_phi(raw_text)
    normalised = normalise_ocr(scrubbed.text)
    text = ScrubbedText(normalised.text)
    return PreparedReport(
        case_id=case_id,
        text=text,
        phi_replacements=scrubbed.counts,
        ocr_fixes=normalised.changes,
        _token=_TOKEN,
    )


def _rebuild(case_id: str, text: str, phi: dict[str, int], fixes: dict[str, int]) -> PreparedReport:
    return PreparedReport(case_id, ScrubbedText(text), phi, fixes, _token=_TOKEN)


def require_prepared(report: object, case_id: str = "?") -> PreparedReport:
    if not isinstance(report, PreparedReport):
        raise UnscrubbedTextError(
            f"case {case_id}: extractors take a PreparedReport (PHI-scrubbed), got {type(report).__name__}"
        )
    return report
