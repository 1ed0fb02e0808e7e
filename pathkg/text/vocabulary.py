"""The report vocabulary: words common across real pathology reports.

It lets the PHI scrubber tell a report word that follows "Dr." in de-identified text
("Dr. The specimen ...") from a surname, and lets OCR normalisation rejoin hyphenated line
breaks only into words that real reports use. The list ships as `data/report_vocabulary.txt`;
it was built from the 527 TCGA-BRCA reports (MIT) with

    python -m pathkg.text.vocabulary CORPUS.csv pathkg/text/data/report_vocabulary.txt

keeping words that occur in at least `min_reports` different reports, so no patient-specific
string can enter it.
"""

from __future__ import annotations

import collections
import csv
import re
import sys
from functools import cache
from pathlib import Path

VOCABULARY_FILE = Path(__file__).with_name("data") / "report_vocabulary.txt"
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")


@cache
def report_vocabulary() -> frozenset[str]:
    """Lower-case words (hyphenated compounds included) common in real reports."""
    words = VOCABULARY_FILE.read_text(encoding="utf-8").split()
    return frozenset(words)


def build_vocabulary(texts: list[str], min_reports: int = 5) -> list[str]:
    counts: collections.Counter[str] = collections.Counter()
    for text in texts:
        counts.update({w.lower() for w in WORD.findall(text)})
    return sorted(w for w, n in counts.items() if n >= min_reports)


def main(argv: list[str]) -> None:
    corpus, out = Path(argv[0]), Path(argv[1])
    csv.field_size_limit(sys.maxsize)
    with open(corpus, newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    out.write_text("\n".join(build_vocabulary(texts)) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
