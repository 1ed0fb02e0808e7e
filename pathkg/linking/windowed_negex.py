"""NegEx with a short window for trailing cues.

Plain NegEx negates an entity when a trailing cue appears anywhere later in the same clause, so
"ER positive, other cells are negative" would negate ER. In pathology the trailing cue follows
its finding closely ("Lymphovascular invasion: not identified"), so trailing cues count only
within `following_window` tokens of the entity, or of the last entity of a list the entity heads
("lymph-vascular invasion, perineural invasion, and extrathyroidal extension are not identified":
entities joined only by commas, 'and', 'or' share the trailing cue).
"""

from __future__ import annotations

from negspacy.negation import Negex
from spacy.language import Language
from spacy.tokens import Doc, Span

#: Tokens that join the entities of a list ("A, B and C are not identified").
COORDINATORS = frozenset({",", "and", "or", "nor", "/", "and/or"})


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
        # The entities of the doc being negated, and the tokens inside them: `Doc.ents` builds new
        # Span objects on every access, so reading it per entity made negation quadratic.
        self._ents: tuple[Span, ...] = ()
        self._inside: frozenset[int] = frozenset()

    def negex(self, doc: Doc) -> Doc:
        """NegEx over the entities of each clause (as negspacy's, with the doc's entities read once)."""
        if self.span_keys:
            return super().negex(doc)
        self._ents = tuple(doc.ents)
        self._inside = frozenset(i for e in self._ents for i in range(e.start, e.end))
        try:
            preceding, following, terminating = self.process_negations(doc)
            for first, last in self.termination_boundaries(doc, terminating):
                sub_preceding = [i for i in preceding if first <= i[1] < last]
                sub_following = [i for i in following if first <= i[1] < last]
                for e in self._ents:  # the entities within the clause, as `doc[first:last].ents` lists them
                    if e.start >= first and e.end <= last:
                        self._apply_negation(e, sub_preceding, sub_following)
        finally:
            self._ents, self._inside = (), frozenset()
        return doc

    def _apply_negation(self, span: Span, sub_preceding: list, sub_following: list) -> None:
        # A cue word inside an entity is part of its name, not a cue: "negative" in "ER negative, PR negative".
        inside = self._inside if self._ents else {i for e in span.doc.ents for i in range(e.start, e.end)}
        sub_preceding = [m for m in sub_preceding if m[1] not in inside]
        sub_following = [m for m in sub_following if m[1] not in inside]
        if any(start < span.start for _, start, _ in sub_preceding):
            span._.set(self.extension_name, True)
            return
        if self._trailing_cue(span, [start for _, start, _ in sub_following]):
            span._.set(self.extension_name, True)

    def _trailing_cue(self, span: Span, cue_starts: list[int]) -> bool:
        """A trailing cue close after `span`, or after the list of entities that `span` starts."""
        doc, end = span.doc, span.end
        while True:
            if any(0 <= start - end <= self.following_window for start in cue_starts):
                return True
            following = next((e for e in (self._ents or doc.ents) if e.start >= end), None)
            gap = doc[end : following.start] if following is not None else None
            if gap is None or len(gap) == 0 or any(t.lower_ not in COORDINATORS for t in gap):
                return False
            end = following.end
