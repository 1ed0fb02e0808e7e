"""PHI scrubbing on reports written for the test with PHI planted in many forms, and on real reports."""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import pytest

from pathkg.text.phi_scrub import ScrubbedText, scrub_phi

# A made-up report in the shape of a real one, with PHI planted in many forms.
PLANTED_REPORT = """SURGICAL PATHOLOGY REPORT. Patient Name: HENDERSON, MARGARET A. MRN: 00482913.
Accession #: S12-34567. DOB: 04/17/1931. Date Collected: 2012-03-05. Received: March 6, 2012.
Account Number: 7781-22910. Visit #: V0091827. SSN 123-45-6789. Case barcode TCGA-A2-A0YM-01Z-00-DX1.
Patient is a 94-year-old woman, address 1234 Maple Grove Avenue, Apt 5B, Springfield, IL 62704.
Phone: (217) 555-0143. Fax 217.555.0199. Email m.henderson@example.org. P.O. Box 4471.
Ordering physician: Dr. Jonathan Q. Whitfield. Pathologist: Kowalczyk, Teresa, MD.
CLINICAL HISTORY: ninety-three year old with left breast mass, seen 3rd of May, 2011 and on 5/6/11.
The patient, age 91, was referred by Mrs. Henderson's daughter Lisa Henderson (tel 217-555-0101).
A 45-year-old sister had breast cancer at age 52. Surgical pathology number SP-12-004711.
FINAL DIAGNOSIS: INVASIVE DUCTAL CARCINOMA, NOTTINGHAM GRADE 2 (3+2+1=6/9), 2.1 CM. pT2 pN0(i-) (0/3).
Electronically signed by Anneliese Brandtner, M.D. on 03/09/2012 14:22. cc: Dr. Okonkwo.
Seen again by Dr Brown on Jan. 9th, 2013. Specimen number: 12-SP-99881.
"""

PLANTED = [
    "HENDERSON", "MARGARET", "Henderson", "00482913", "S12-34567", "04/17/1931", "1931",
    "2012-03-05", "March 6, 2012", "7781-22910", "V0091827", "123-45-6789", "94-year-old",
    "1234 Maple Grove Avenue", "62704", "Springfield", "555-0143", "555.0199", "m.henderson@example.org",
    "4471", "Jonathan", "Whitfield", "Kowalczyk", "Teresa", "ninety-three", "May, 2011", "5/6/11",
    "age 91", "Lisa", "555-0101", "SP-12-004711", "Anneliese", "Brandtner", "03/09/2012", "Okonkwo",
    "Brown", "Jan. 9th, 2013", "99881",
]  # fmt: skip

KEPT = [
    "TCGA-A2-A0YM-01Z-00-DX1", "45-year-old", "age 52", "INVASIVE DUCTAL CARCINOMA", "NOTTINGHAM GRADE 2",
    "(3+2+1=6/9)", "2.1 CM", "pT2 pN0(i-) (0/3)", "left breast mass", "CLINICAL HISTORY", "FINAL DIAGNOSIS",
]  # fmt: skip


def test_planted_phi_is_replaced_and_clinical_text_is_kept() -> None:
    result = scrub_phi(PLANTED_REPORT)
    for phi in PLANTED:
        assert phi not in result.text, f"{phi!r} survived scrubbing:\n{result.text}"
    for kept in KEPT:
        assert kept in result.text, f"{kept!r} was scrubbed:\n{result.text}"
    assert isinstance(result.text, ScrubbedText)


def test_counts_per_placeholder_type() -> None:
    result = scrub_phi(PLANTED_REPORT)
    # Each count matches the placeholders in the text, and every type planted was seen.
    for kind, n in result.counts.items():
        assert result.text.count(f"[{kind}]") == n
    assert set(result.counts) == {"ACCESSION", "ADDRESS", "AGE", "DATE", "EMAIL", "MRN", "NAME", "PHONE"}
    assert result.counts["AGE"] == 3  # 94-year-old, ninety-three year old, age 91
    assert result.counts["EMAIL"] == 1
    assert result.counts["PHONE"] == 3
    assert result.counts["DATE"] == 7
    assert result.total == sum(result.counts.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Seen by Dr. Alvarez-Quintana today.", "Seen by Dr. [NAME] today."),
        ("Reviewed by: O'Donnell, Patrick J.", "Reviewed by: [NAME]"),
        ("Copy to Dr. McAllister and Dr. The", "Copy to Dr. [NAME] and Dr. The"),
        ("Signed: Priya Raghunathan, MD, PhD.", "Signed: [NAME], MD, PhD."),
        ("Collected 12.01.2010; reported 2010/01/14.", "Collected [DATE]; reported [DATE]."),
        ("Call 1-800-555-0199 ext. 42 or (312)555-0100.", "Call [PHONE] or [PHONE]."),
        ("Lives at 77 W. Oak Street, Chicago, IL 60610-1234.", "Lives at [ADDRESS]."),
        ("A 102 yo man; a 89 y/o woman; age: 95.", "A [AGE] man; a 89 y/o woman; age: [AGE]."),
        ("Med Rec No: A0048-2291 and MR# 99812", "Med Rec No: [MRN] and MR# [MRN]"),
        ("Path #: CS-2011-012345.", "Path #: [ACCESSION]."),
    ],
)
def test_forms(text: str, expected: str) -> None:
    assert scrub_phi(text).text == expected


def test_a_name_found_in_context_is_scrubbed_everywhere() -> None:
    text = "Patient: Zelinski, Harriet. FINAL DIAGNOSIS: carcinoma. Mrs Zelinski tolerated the procedure."
    result = scrub_phi(text)
    assert "Zelinski" not in result.text and "Harriet" not in result.text
    assert result.counts == {"NAME": 2}


def test_no_phi_leaves_text_alone() -> None:
    text = "Lymph nodes: 3/5 positive. Nottingham score 8/9. Tumor size 2.2 x 1.5 x 0.5 cm. M-8500/3, G 2."
    result = scrub_phi(text)
    assert result.text == text and result.counts == {}


def test_real_deidentified_reports_keep_their_clinical_text(shared_data: Path) -> None:
    """The real TCGA reports are already de-identified: scrubbing must leave their content alone."""
    csv.field_size_limit(sys.maxsize)
    with open(shared_data / "reports" / "tcga_brca_sample" / "reports.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 10
    for row in rows:
        result = scrub_phi(row["text"])
        # "Dr. The entire specimen" in de-identified text is not a name; no clinical word is lost.
        words_before = re.findall(r"[A-Za-z]{4,}", row["text"])
        words_after = set(re.findall(r"[A-Za-z]{4,}", result.text))
        lost = [w for w in words_before if w not in words_after]
        assert lost == [], f"{row['patient_id']}: scrubbed report words {lost[:10]}"
