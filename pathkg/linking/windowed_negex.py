"""NegEx with a short window for trailing cues.

Plain NegEx negates an entity when a trailing cue appears anywhere later in the same clause, so
"ER positive, other cells are negative" would negate ER. In pathology the trailing cue follows
its finding closely ("Lymphovascular invasion: not identified"), so trailing cues count only
within `following_window` tokens of the entity.
"""

from __future__ import annotations

from negspacy.negation import Negex
from spacy.language import Language
from spacy.tokens import Span


@Language.factory(
    "pathkg_negex",
    default_config={"neg_termset": None, "extension_name": "negex", "following_window": 3},
)
def make_windowed_negex(nlp: Language, name: str, neg_termset: dict, extension_name: str, following_window: int):
    return WindowedNegex(nlp, name, neg_termset, extension_name=extension_name, following_window=following_window)


class WindowedNegex(Negex):
    def __init__(self, nlp: Language, name: str, neg_termset: dict, extension_name: str, following_window: int):
        super().__init__(nlp, name, neg_termset, extension_name=extension_name)
        self.following_window = following_window

    def _apply_negation(self, span: Span, sub_preceding: list, sub_following: list) -> None:
        if any(start < span.start for _, start, _ in sub_preceding):
            span._.set(self.extension_name, True)
            return
        if any(0 <= start - span.end <= self.following_window for _, start, _ in sub_following):
            span._.set(self.extension_name, True)
