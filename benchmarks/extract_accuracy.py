"""Agreement of the rule extractor with WSI-Bench reference answers (histologic type and grade).

    .venv/bin/python benchmarks/extract_accuracy.py [--data ../shared/data] [--show-misses]

For every slide in `WSI-Bench-Report-only-dev.jsonl` (a report-style text), the rule extractor
reads type and grade from the text (after PHI scrub and OCR normalisation, as the stage does);
the reference is the `T-answer` of the `Classification` (type) and `Grade` questions about the
same slide in `WSI-Bench-test-dev.jsonl`. Free-text answers are mapped to the same canonical
vocabulary with the same lexicon (`pathkg.extract.histology`, `pathkg.extract.grading`), so a
reference the lexicon cannot read is counted apart (coverage), not as a disagreement.

Type agreement is reported exactly (same canonical type) and by family (a subtype agrees with its
parent: "non-keratinizing squamous cell carcinoma" ~ "squamous cell carcinoma").
Grade agreement compares normalised values ('1'..'4', 'low', 'high').
"""

from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path

from pathkg.extract.grading import find_grade
from pathkg.extract.histology import FAMILY, classify_type
from pathkg.extract.prepare import prepare_report
from pathkg.extract.rules import extract_rules

REPO = Path(__file__).resolve().parent.parent


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("PATHKG_DATA", REPO.parent / "shared" / "data")))
    ap.add_argument("--show-misses", action="store_true")
    args = ap.parse_args()
    bench = args.data / "benchmarks" / "wsi_bench"
    reports = {r["image"]: r["T-answer"] for r in load(bench / "WSI-Bench-Report-only-dev.jsonl")}
    questions = load(bench / "WSI-Bench-test-dev.jsonl")
    ref_type = {q["image"]: q["T-answer"] for q in questions if q["metadata"] == "Classification"}
    ref_grade = {q["image"]: q["T-answer"] for q in questions if q["metadata"] == "Grade"}

    counts: dict[str, int] = defaultdict(int)
    per_project: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # type n, agree, grade n, agree
    misses: list[str] = []
    for image, text in sorted(reports.items()):
        project = image.split("/")[0]
        case_id = "-".join(Path(image).name.split("-")[:3])
        fields = extract_rules(prepare_report(case_id, text))
        if image in ref_type:
            counts["type_refs"] += 1
            want = classify_type(ref_type[image])
            got = fields.histologic_type
            if want is None:
                counts["type_ref_unreadable"] += 1
            else:
                counts["type_n"] += 1
                per_project[project][0] += 1
                counts["type_extracted"] += got is not None
                if got == want:
                    counts["type_exact"] += 1
                if got is not None and FAMILY.get(got) == FAMILY.get(want):
                    counts["type_family"] += 1
                    per_project[project][1] += 1
                else:
                    misses.append(f"type  {case_id} {project}: got {got!r}, reference {want!r}")
        if image in ref_grade:
            counts["grade_refs"] += 1
            reference = find_grade(ref_grade[image])
            want_grade = reference.value
            got_grade = fields.grade.value
            # A Gleason score is not on the grade scale the extractor reports: counted as unreadable.
            if want_grade is None or reference.system == "Gleason":
                counts["grade_ref_unreadable"] += 1
            else:
                counts["grade_n"] += 1
                per_project[project][2] += 1
                counts["grade_extracted"] += got_grade is not None
                if got_grade == want_grade:
                    counts["grade_agree"] += 1
                    per_project[project][3] += 1
                else:
                    misses.append(f"grade {case_id} {project}: got {got_grade!r}, reference {want_grade!r}")

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} = {100 * a / b:.1f}%" if b else "n/a"

    print(f"WSI-Bench dev: {len(reports)} report texts")
    print(
        f"histologic type: {counts['type_refs']} Classification references, {counts['type_ref_unreadable']} unreadable"
    )
    print(f"  exact agreement:  {pct(counts['type_exact'], counts['type_n'])}")
    print(f"  family agreement: {pct(counts['type_family'], counts['type_n'])}")
    print(f"  extractor gave a type: {pct(counts['type_extracted'], counts['type_n'])}")
    print(f"grade: {counts['grade_refs']} Grade references, {counts['grade_ref_unreadable']} unreadable (Gleason etc.)")
    print(f"  agreement:        {pct(counts['grade_agree'], counts['grade_n'])}")
    print(f"  extractor gave a grade: {pct(counts['grade_extracted'], counts['grade_n'])}")
    print("per project (type family agree / n, grade agree / n):")
    for project, (tn, ta, gn, ga) in sorted(per_project.items()):
        print(f"  {project:<10} type {ta}/{tn}  grade {ga}/{gn}")
    if args.show_misses:
        print("\n".join(misses))


if __name__ == "__main__":
    main()
