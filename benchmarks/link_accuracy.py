"""Entity-linker accuracy on the hand-annotated gold sentences (`tests/data/link_gold.jsonl`).

    .venv/bin/python benchmarks/link_accuracy.py [--dump DIR] [--gold FILE] [--data ../shared/data]
                                                 [--misses N] [--show-sentences]

Builds the KG dump from `../shared/data/ontologies` and `kg_dumps/pathology_seed` into a temporary
folder (or uses `--dump`), links every gold sentence on its own with `EntityLinker.link`, and prints
micro precision / recall / F1 of linked mentions (kg_id equal, spans overlapping), negation and
uncertainty accuracy on the matched mentions, the scores per TCGA project, and the most frequent
misses and false positives. How the gold is scored: `pathkg/linking/link_evaluation.py`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from pathkg.kg.build import build_kg
from pathkg.linking.entity_linker import EntityLinker
from pathkg.linking.link_evaluation import LinkScores, evaluate, load_gold

REPO = Path(__file__).resolve().parent.parent


def report(scores: LinkScores, misses: int, show_sentences: bool) -> None:
    s = scores.summary()
    print(f"sentences {s['sentences']}, gold mentions {s['gold_mentions']}: tp {s['tp']}, fp {s['fp']}, fn {s['fn']}")
    print(f"  ({s['ignored']} predicted links ignored: generic KG concepts or optional gold links)")
    print(f"precision {scores.precision:.3f}  recall {scores.recall:.3f}  F1 {scores.f1:.3f}")
    print(
        f"negation accuracy {scores.negation_accuracy:.3f} on {scores.tp} matched mentions"
        f" (negated gold mentions found negated: {scores.negated_recall:.3f});"
        f" uncertainty accuracy {scores.uncertainty_accuracy:.3f}"
    )
    print("per project (P / R / matched of gold):")
    for project, p in scores.by_project().items():
        print(f"  {project:<10} P {p.precision:.2f}  R {p.recall:.2f}  {p.tp}/{p.tp + p.fn}")
    print("worst misses (count, gold kg_id, mention):")
    for n, kg_id, text in scores.worst_misses(misses):
        print(f"  {n:>3}  {kg_id:<32} {text!r}")
    print("worst false positives (count, linked kg_id, mention):")
    for n, kg_id, text in scores.worst_false_positives(misses):
        print(f"  {n:>3}  {kg_id:<32} {text!r}")
    errors = scores.negation_errors()
    if errors:
        print("negation errors (gold negated, linked negated):")
        for m in errors:
            print(f"  {m.sentence_id}  {m.gold.text!r}  {m.gold.negated} {m.predicted.negated}")
    if show_sentences:
        for r in scores.results:
            if r.missed or r.false_positives:
                print(f"\n{r.sentence.id} ({r.sentence.source_id}): {r.sentence.text}")
                for g in r.missed:
                    print(f"    miss {g.kg_id} {g.text!r}")
                for p in r.false_positives:
                    print(f"    fp   {p.kg_id} {p.text!r} ({p.name})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", type=Path, help="an existing KG dump folder (default: build one)")
    ap.add_argument("--gold", type=Path, default=REPO / "tests" / "data" / "link_gold.jsonl")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PATHKG_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--misses", type=int, default=20, help="how many of the worst misses / false positives")
    ap.add_argument("--show-sentences", action="store_true", help="every sentence with a miss or a false positive")
    args = ap.parse_args()
    gold = load_gold(args.gold)
    with tempfile.TemporaryDirectory() as tmp:
        dump = args.dump
        if dump is None:
            t0 = time.perf_counter()
            dump = Path(tmp) / "kg"
            build_kg(args.data / "ontologies", REPO / "kg_dumps" / "pathology_seed", dump)
            print(f"built the KG dump in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        linker = EntityLinker.from_dump(dump)
        t1 = time.perf_counter()
        scores = evaluate(gold, linker.link)
        t2 = time.perf_counter()
    print(f"linker loaded in {t1 - t0:.1f} s; {len(gold)} sentences linked in {t2 - t1:.2f} s")
    report(scores, args.misses, args.show_sentences)


if __name__ == "__main__":
    main()
