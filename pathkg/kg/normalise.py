"""The one normalisation of names and terms, shared by the entity dictionary, the stores and the linker."""

from __future__ import annotations

import re
import unicodedata

_SPACE = re.compile(r"\s+")


def normalise_term(text: str) -> str:
    """NFKC, lower-case, whitespace collapsed, outer whitespace stripped. Punctuation is kept: it
    distinguishes terms such as 'pT1a' / 'pT1' and 'HER2 3+' / 'HER2'."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
