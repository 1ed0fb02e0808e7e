"""Section and specimen-part splitting on the real TCGA reports."""

from __future__ import annotations

from pathlib import Path

from pathkg.text.ocr_normalise import normalise_ocr
from pathkg.text.sections import sections_of, split_parts, split_sections


def _sections(shared_data: Path, case_id: str):
    text = normalise_ocr((shared_data / "reports" / "tcga_brca_sample" / f"{case_id}.txt").read_text()).text
    return text, split_sections(text)


def test_headers_of_a_long_report(shared_data: Path) -> None:
    _, sections = _sections(shared_data, "TCGA-A2-A0YM")
    kinds = [s.kind for s in sections]
    assert kinds == ["preamble", "specimen", "intraoperative", "diagnosis", "comment", "gross", "microscopic"]
    diagnosis = sections_of(sections, "diagnosis")[0]
    assert diagnosis.text.startswith("A. LEFT BREAST LUMP") and "PTNM CLASSIFICATION" in diagnosis.text
    assert sections_of(sections, "gross")[0].text.startswith("The specimen is received in eight")


def test_synoptic_checklist_keeps_its_fields(shared_data: Path) -> None:
    _, sections = _sections(shared_data, "TCGA-BH-A0HA")
    assert [s.kind for s in sections] == ["diagnosis", "synoptic"]
    synoptic = sections[1].text
    assert "PROCEDURE: Simple mastectomy" in synoptic and "HER2/NEU: zero or 1+" in synoptic
    _, checklist = _sections(shared_data, "TCGA-E9-A1NH")
    assert [s.kind for s in checklist] == ["preamble", "synoptic", "comment"]


def test_numbered_and_lettered_parts(shared_data: Path) -> None:
    _, sections = _sections(shared_data, "TCGA-BH-A0HA")
    parts = split_parts(sections[0].text)
    assert [p.label for p in parts] == ["1", "2", "3", "4", "5"]
    assert parts[1].text.startswith("PART 2: LYMPH NODE, RIGHT, SENTINEL NODE #1")
    # Inside PART 1 the list items A. B. C. are not parts of the report.
    assert "A. B. INVASIVE" in parts[0].text

    _, b6 = _sections(shared_data, "TCGA-B6-A401")
    lettered = split_parts(sections_of(b6, "diagnosis")[0].text)
    assert [p.label for p in lettered] == ["A", "B"]
    assert lettered[0].text.startswith('A. "SENTINEL LYMPH NODE #1" (BIOPSY)')


def test_part_letters_must_run_in_order(shared_data: Path) -> None:
    text, _ = _sections(shared_data, "TCGA-A2-A1G4")
    parts = split_parts(text)
    assert [p.label for p in parts] == ["A", "B", "C"]  # "PART c" inside the gross description is skipped
    assert parts[2].text.startswith("PART C RIGHT BREAST, MODIFIED RADICAL MASTECTOMY")


def test_no_header_is_one_preamble() -> None:
    assert [s.kind for s in split_sections("Just some text without headers.")] == ["preamble"]
