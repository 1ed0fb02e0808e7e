"""Score the entity linker against the hand-annotated gold standard (`tests/data/link_gold.jsonl`).

Each gold line is one sentence copied verbatim from a real report (TCGA-BRCA OCR reports, WSI-Bench
report texts) with the KG concepts a pathologist would link in it:

- `entities`: required mentions, each `{kg_id, text, start, end, negated[, uncertain][, alt_kg_ids]}`.
  `alt_kg_ids` lists nodes that are the same concept in the KG under another id (unmerged DO / NCIt /
  OncoTree duplicates, or a finding and its diagnosis node such as DCIS), so either one counts.
- `optional`: links that are right but that a reasoning chain does not need (the anatomy `surgical
  margin` inside "margins are free of tumour", the biomarker `ER` inside "ER: positive"); a predicted
  link that matches one is neither a true nor a false positive.
- `missing_in_kg`: concepts the sentence states that the KG has no node for; not scored.

Each line also names its `source` (a path under ../shared/data), `source_id` (the report file's
patient, the CSV's `patient_id`, or the WSI-Bench `question_id`), `patient_id` and TCGA `project`.

Annotation conventions: the concept the words name, at the most specific KG node, read in the organ of
the report (testicular OncoTree codes in a TGCT text, `ajcc8_breast` stage categories in a breast
report); a status for a biomarker written with its result ("ER: positive" is `er_positive`); the
finding for a margin or node statement ("margins free of tumor" is `negative_margin`, asserted); the
specimen's own organ is optional, an invaded or involved structure is required; `negated` is what the
sentence asserts about the concept ("no lymphovascular invasion"), `uncertain` marks "cannot rule
out" / "not unequivocally present".

A predicted mention matches a gold mention when its kg_id is the gold kg_id (or one of its alt ids)
and the character spans overlap; matching is one-to-one, exact ids first. Predicted links to the
KG's upper-level scaffolding (node types in `GENERIC_TYPES`, ids in `GENERIC_IDS`: "tumor",
"grade", "tumor cells") are ignored unless the gold asks for them. Scores are micro-averaged over
mentions; negation (and uncertainty) accuracy is measured on matched mentions only.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from schemas.entity import Entity

#: Node types that are ontology scaffolding, never a finding or a diagnosis.
GENERIC_TYPES = frozenset({"Concept", "CellularComponent"})
#: Header words of a report that the KG happens to name: 'tumor', 'grade', 'tumor cells', 'neoplasm', ...
GENERIC_IDS = frozenset(
    {
        "NCIT:C18009",  # Tumor Tissue ('tumor')
        "NCIT:C18000",  # Histologic Grade ('grade')
        "NCIT:C12922",  # Neoplastic Cell ('tumor cells')
        "NCIT:C3262",  # Neoplasm
        "NCIT:C35867",  # Morphologic Finding ('morphology')
        "NCIT:C83490",  # Microscopic Finding
        "NCIT:C19790",  # Histologic Subtype ('subtype')
        "HISTO:0000001",  # Tumor Parenchyma
        "HISTO:0000002",  # Tumor Stroma
        "HISTO:0000037",  # Neoplastic Cellular Component
        "HISTO:0000055",  # Neoplastic Entity
    }
)


@dataclass(frozen=True)
class GoldMention:
    kg_id: str
    text: str
    start: int
    end: int
    negated: bool = False
    uncertain: bool = False
    alt_kg_ids: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.kg_id, *self.alt_kg_ids)


@dataclass(frozen=True)
class GoldSentence:
    id: str
    text: str
    source: str
    source_id: str
    project: str
    entities: tuple[GoldMention, ...]
    optional: tuple[GoldMention, ...] = ()
    missing_in_kg: tuple[str, ...] = ()


def _mention(d: dict) -> GoldMention:
    return GoldMention(
        kg_id=d["kg_id"],
        text=d["text"],
        start=d["start"],
        end=d["end"],
        negated=bool(d.get("negated", False)),
        uncertain=bool(d.get("uncertain", False)),
        alt_kg_ids=tuple(d.get("alt_kg_ids", ())),
    )


def load_gold(path: Path) -> list[GoldSentence]:
    """Read the gold file, checking that every mention's span holds its text."""
    sentences = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        d = json.loads(line)
        s = GoldSentence(
            id=d["id"],
            text=d["text"],
            source=d["source"],
            source_id=d["source_id"],
            project=d.get("project", ""),
            entities=tuple(_mention(e) for e in d.get("entities", ())),
            optional=tuple(_mention(e) for e in d.get("optional", ())),
            missing_in_kg=tuple(d.get("missing_in_kg", ())),
        )
        for m in (*s.entities, *s.optional):
            if s.text[m.start : m.end] != m.text:
                raise ValueError(f"{path}:{n}: span {m.start}:{m.end} of {s.id} is not {m.text!r}")
        sentences.append(s)
    return sentences


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def is_generic(entity: Entity) -> bool:
    return entity.type in GENERIC_TYPES or entity.kg_id in GENERIC_IDS


@dataclass(frozen=True)
class Match:
    sentence_id: str
    gold: GoldMention
    predicted: Entity


@dataclass
class SentenceResult:
    sentence: GoldSentence
    matches: list[Match] = field(default_factory=list)
    missed: list[GoldMention] = field(default_factory=list)
    false_positives: list[Entity] = field(default_factory=list)
    ignored: list[Entity] = field(default_factory=list)


def score_sentence(sentence: GoldSentence, predicted: Sequence[Entity]) -> SentenceResult:
    """Match one sentence's predicted entities to its gold mentions (one to one, exact ids first)."""
    result = SentenceResult(sentence)
    free = list(predicted)
    pending = list(sentence.entities)
    for exact in (True, False):
        still = []
        for g in pending:
            ids = (g.kg_id,) if exact else g.alt_kg_ids
            hit = next((p for p in free if p.kg_id in ids and _overlaps(g.start, g.end, p.start, p.end)), None)
            if hit is None:
                still.append(g)
            else:
                free.remove(hit)
                result.matches.append(Match(sentence.id, g, hit))
        pending = still
    result.missed = pending
    for p in free:
        acceptable = any(p.kg_id in o.ids and _overlaps(o.start, o.end, p.start, p.end) for o in sentence.optional)
        (result.ignored if acceptable or is_generic(p) else result.false_positives).append(p)
    return result


@dataclass
class LinkScores:
    results: list[SentenceResult]

    @property
    def tp(self) -> int:
        return sum(len(r.matches) for r in self.results)

    @property
    def fp(self) -> int:
        return sum(len(r.false_positives) for r in self.results)

    @property
    def fn(self) -> int:
        return sum(len(r.missed) for r in self.results)

    @property
    def ignored(self) -> int:
        return sum(len(r.ignored) for r in self.results)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def matches(self) -> list[Match]:
        return [m for r in self.results for m in r.matches]

    @property
    def negation_accuracy(self) -> float:
        """Share of matched mentions whose negated flag agrees with the gold."""
        ms = self.matches
        return sum(m.gold.negated == m.predicted.negated for m in ms) / len(ms) if ms else 0.0

    @property
    def negated_recall(self) -> float:
        """Share of matched gold-negated mentions that the linker marks negated."""
        ms = [m for m in self.matches if m.gold.negated]
        return sum(m.predicted.negated for m in ms) / len(ms) if ms else 0.0

    @property
    def uncertainty_accuracy(self) -> float:
        ms = self.matches
        return sum(m.gold.uncertain == m.predicted.uncertain for m in ms) / len(ms) if ms else 0.0

    def negation_errors(self) -> list[Match]:
        return [m for m in self.matches if m.gold.negated != m.predicted.negated]

    def by_project(self) -> dict[str, LinkScores]:
        groups: dict[str, list[SentenceResult]] = {}
        for r in self.results:
            groups.setdefault(r.sentence.project, []).append(r)
        return {k: LinkScores(v) for k, v in sorted(groups.items())}

    def worst_misses(self, n: int = 15) -> list[tuple[int, str, str]]:
        """The most frequent missed gold mentions: (count, kg_id, lower-cased text)."""
        c = Counter((g.kg_id, g.text.lower()) for r in self.results for g in r.missed)
        return [(k, i, t) for (i, t), k in c.most_common(n)]

    def worst_false_positives(self, n: int = 15) -> list[tuple[int, str, str]]:
        c = Counter((p.kg_id, p.text.lower()) for r in self.results for p in r.false_positives)
        return [(k, i, t) for (i, t), k in c.most_common(n)]

    def summary(self) -> dict[str, float | int]:
        return {
            "sentences": len(self.results),
            "gold_mentions": self.tp + self.fn,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "ignored": self.ignored,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "negation_accuracy": round(self.negation_accuracy, 4),
            "negated_recall": round(self.negated_recall, 4),
            "uncertainty_accuracy": round(self.uncertainty_accuracy, 4),
        }


def evaluate(gold: Iterable[GoldSentence], link: Callable[[str], list[Entity]]) -> LinkScores:
    """Link every gold sentence on its own with `link` (e.g. `EntityLinker.link`) and score it."""
    return LinkScores([score_sentence(s, link(s.text)) for s in gold])
