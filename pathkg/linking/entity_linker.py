"""Link mentions in text to KG nodes, with negation and uncertainty.

A blank spaCy pipeline (no model download): a sentencizer (also splitting on ';'), scispacy's
AbbreviationDetector, a PhraseMatcher over every dictionary term (lower-cased; short alphabetic
abbreviations matched in upper case only, so 'ER' is not 'er', while codes with a digit such as 'pT2'
match in any case; a hyphen inside a word counts as a space, so 'in-situ' is 'in situ'), then
negspacy's NegEx twice: once for negation, once with uncertainty cues (see windowed_negex.py). An
abbreviation defined in the text ("ductal carcinoma in situ (DCIS)") links every later use of the
short form to the node of the long form even when the dictionary does not list it. A biomarker
written with its result ("ER: positive", "negative for HER2") links to the status node.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import spacy
from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  (registers its factory)
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pathkg.linking import windowed_negex  # noqa: F401  (registers the "pathkg_negex" factory)
from pathkg.linking.context_cues import negation_termset, uncertainty_termset
from schemas.entity import Entity

#: When one term names several nodes, the first type in this order wins.
TYPE_PRIORITY = (
    "Finding", "Disease", "StageCategory", "Grade", "BiomarkerStatus", "Biomarker", "MolecularSubtype",
    "Anatomy", "GradingSystem", "StagingSystem", "Criterion", "Concept",
)  # fmt: skip
KIND_PRIORITY = ("name", "synonym", "abbreviation")
#: Terms that are ordinary words or units in a report ('ALL', 'CM', 'IS'), whatever code they also are.
UNITS = frozenset({"cm", "mm", "um", "µm", "ml", "mg", "g", "kg", "hr", "hpf", "x", "mcg", "cc"})
SHORT_ABBREVIATION = 5
#: A hyphen inside a word ('in-situ', 'High-grade', 'Ki-67'): matched as a space, in terms and text alike.
_INNER_HYPHEN = re.compile(r"(?<=\w)-(?=\w)")
#: Result words that turn a biomarker into its status: "ER: positive", "negative for HER2", "Ki-67: low".
STATUS_VALUES = ("positive", "negative", "equivocal", "low", "high")
_STATUS_FILLERS = frozenset({":", "-", "is", "are", "was", "were", "interpreted", "as", "considered"})


def dehyphenate(text: str) -> str:
    """`text` with word-internal hyphens as spaces; same length, so character offsets carry over."""
    return _INNER_HYPHEN.sub(" ", text)


@dataclass(frozen=True)
class DictionaryTerm:
    term: str
    node_id: str
    node_type: str
    name: str
    kind: str


def _rank(t: DictionaryTerm) -> tuple[int, int, str]:
    type_rank = TYPE_PRIORITY.index(t.node_type) if t.node_type in TYPE_PRIORITY else len(TYPE_PRIORITY)
    kind_rank = KIND_PRIORITY.index(t.kind) if t.kind in KIND_PRIORITY else len(KIND_PRIORITY)
    return (kind_rank, type_rank, t.node_id)


def read_dictionary(path: Path) -> list[DictionaryTerm]:
    """Read an `entity_dictionary.parquet` written with a KG dump."""
    table = pq.read_table(path, columns=["term", "node_id", "node_type", "name", "kind"])
    columns = [table[name].to_pylist() for name in table.column_names]
    return [DictionaryTerm(*values) for values in zip(*columns, strict=True)]


class EntityLinker:
    def __init__(self, terms: Iterable[DictionaryTerm], min_chars: int = 2):
        self.nlp = spacy.blank("en")
        self.nlp.add_pipe("sentencizer", config={"punct_chars": [".", "!", "?", ";"]})
        self.nlp.add_pipe("abbreviation_detector")
        self.negex = self.nlp.add_pipe(
            "pathkg_negex", config={"neg_termset": negation_termset(), "extension_name": "negex"}
        )
        self.uncertain = self.nlp.add_pipe(
            "pathkg_negex",
            name="uncertainty",
            config={"neg_termset": uncertainty_termset(), "extension_name": "uncertain", "following_window": 4},
        )
        best: dict[str, DictionaryTerm] = {}
        for t in terms:
            if len(t.term) < min_chars or t.term in STOP_WORDS or t.term in UNITS:
                continue
            key = dehyphenate(t.term.upper() if self._is_short_abbreviation(t) else t.term)
            if key not in best or _rank(t) < _rank(best[key]):
                best[key] = t
        self.terms = best
        self.statuses = self._biomarker_statuses(best)
        self.nodes = {t.node_id: t for t in sorted(best.values(), key=_rank, reverse=True)}
        self.lower = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.exact = PhraseMatcher(self.nlp.vocab, attr="ORTH")
        lower_keys = [k for k, t in best.items() if not self._is_short_abbreviation(t)]
        exact_keys = [k for k, t in best.items() if self._is_short_abbreviation(t)]
        patterns = [
            (matcher, keys, list(self.nlp.tokenizer.pipe(keys)))
            for matcher, keys in ((self.lower, lower_keys), (self.exact, exact_keys))
        ]
        # `PhraseMatcher.add` makes a lexeme of each match key, computing every lexical attribute (about
        # half of the build). A key the tokenizer did not already make a token of holds a space or splits
        # into several tokens, so it never is a token of any text: its lexeme needs no attributes.
        getters, self.nlp.vocab.lex_attr_getters = self.nlp.vocab.lex_attr_getters, {}
        try:
            for matcher, keys, docs in patterns:
                for key, doc in zip(keys, docs, strict=True):
                    matcher.add(key, [doc])
        finally:
            self.nlp.vocab.lex_attr_getters = getters

    @staticmethod
    def _is_short_abbreviation(t: DictionaryTerm) -> bool:
        """Short alphabetic abbreviations ('ER', 'ALL') are matched in upper case only; codes with a digit
        ('pT2', 'pN0', 'HER2') cannot be an English word and are matched in any case."""
        return t.kind == "abbreviation" and len(t.term) <= SHORT_ABBREVIATION and not any(c.isdigit() for c in t.term)

    @staticmethod
    def _biomarker_statuses(best: dict[str, DictionaryTerm]) -> dict[tuple[str, str], DictionaryTerm]:
        """(biomarker node, result word) -> status node, from status terms named '<biomarker term> <result>'."""
        statuses: dict[tuple[str, str], DictionaryTerm] = {}
        for key, t in best.items():
            if t.node_type != "BiomarkerStatus":
                continue
            head, _, value = key.lower().rpartition(" ")
            marker = best.get(head) or best.get(head.upper())
            if value in STATUS_VALUES and marker is not None and marker.node_type == "Biomarker":
                statuses.setdefault((marker.node_id, value), t)
        return statuses

    def _with_status(self, doc: Doc, span: Span) -> Span:
        """A biomarker mention with its result next to it becomes the status node, spanning both."""
        if span.label_ != "Biomarker":
            return span
        if span.start >= 2 and doc[span.start - 1].lower_ == "for":  # "positive for ER", "equivocal for HER2"
            status = self.statuses.get((span.kb_id_, doc[span.start - 2].lower_))
            if status is not None:
                return Span(doc, span.start - 2, span.end, label=status.node_type, kb_id=status.node_id)
        i = span.end
        while i < len(doc) and i - span.end < 3 and doc[i].lower_ in _STATUS_FILLERS:
            i += 1
        if i < len(doc):
            status = self.statuses.get((span.kb_id_, doc[i].lower_))
            if status is not None:
                return Span(doc, span.start, i + 1, label=status.node_type, kb_id=status.node_id)
        return span

    @classmethod
    def from_dump(cls, dump_dir: Path) -> EntityLinker:
        return cls(read_dictionary(Path(dump_dir) / "entity_dictionary.parquet"))

    def _spans(self, doc: Doc) -> list[Span]:
        spans = []
        for matcher in (self.lower, self.exact):
            for match_id, start, end in matcher(doc):
                term = self.terms[self.nlp.vocab.strings[match_id]]
                spans.append(Span(doc, start, end, label=term.node_type, kb_id=term.node_id))
        # Short forms the text itself defines: "... carcinoma in situ (DCIS) ... DCIS ...".
        linked = {(s.start, s.end): s for s in spans}
        for short in getattr(doc._, "abbreviations", []):
            long_form = short._.long_form
            target = linked.get((long_form.start, long_form.end))
            if target is not None and (short.start, short.end) not in linked:
                spans.append(Span(doc, short.start, short.end, label=target.label_, kb_id=target.kb_id_))
        return filter_spans([self._with_status(doc, s) for s in filter_spans(spans)])

    def link(self, text: str) -> list[Entity]:
        """Every KG entity mentioned in `text`, in order, with character offsets into `text`."""
        doc = self.nlp.make_doc(dehyphenate(text))
        doc = self.nlp.get_pipe("sentencizer")(doc)
        with warnings.catch_warnings():  # scispacy warns when a text defines no abbreviation
            warnings.simplefilter("ignore", UserWarning)
            doc = self.nlp.get_pipe("abbreviation_detector")(doc)
        doc.ents = self._spans(doc)
        doc = self.negex(doc)
        doc = self.uncertain(doc)
        return [
            Entity(
                kg_id=ent.kb_id_,
                name=self.nodes[ent.kb_id_].name,
                type=ent.label_,
                text=text[ent.start_char : ent.end_char],
                start=ent.start_char,
                end=ent.end_char,
                negated=bool(ent._.negex),
                uncertain=bool(ent._.uncertain),
            )
            for ent in doc.ents
        ]

    def asserted_ids(self, text: str) -> list[str]:
        """KG ids the text asserts (negated mentions left out), for the entity reward."""
        return list(dict.fromkeys(e.kg_id for e in self.link(text) if not e.negated))


@functools.lru_cache(maxsize=4)
def linker_for_dump(dump_dir: str, version: str) -> EntityLinker:
    """One linker per KG dump and process, shared by every stage that links (link, verify, rewards).

    `version` keys the cache: a dump rebuilt in the same folder gets a new linker.
    """
    return EntityLinker.from_dump(Path(dump_dir))
