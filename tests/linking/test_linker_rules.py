"""The linker rules the gold evaluation asked for, on a small hand-made dictionary (no KG build)."""

from __future__ import annotations

import pytest

from pathkg.linking.entity_linker import DictionaryTerm, EntityLinker


def term(text: str, node_id: str, node_type: str, kind: str = "name") -> DictionaryTerm:
    return DictionaryTerm(text, node_id, node_type, text, kind)


TERMS = [
    term("ductal carcinoma in situ", "PKG:dcis", "Finding"),
    term("dcis", "PKG:dcis", "Finding", "abbreviation"),
    term("lymphovascular invasion", "PKG:lvi", "Finding"),
    term("perineural invasion", "PKG:pni", "Finding"),
    term("necrosis", "PKG:necrosis", "Finding"),
    term("vascular invasion", "PKG:lvi", "Finding", "synonym"),
    term("pt2", "PKG:breast:pT2", "StageCategory", "abbreviation"),
    term("pn0", "PKG:breast:pN0", "StageCategory", "abbreviation"),
    term("estrogen receptor", "PKG:er", "Biomarker"),
    term("er", "PKG:er", "Biomarker", "abbreviation"),
    term("er positive", "PKG:er_positive", "BiomarkerStatus"),
    term("er negative", "PKG:er_negative", "BiomarkerStatus"),
    term("progesterone receptor", "PKG:pr", "Biomarker"),
    term("pr", "PKG:pr", "Biomarker", "abbreviation"),
    term("pr negative", "PKG:pr_negative", "BiomarkerStatus"),
    term("her2", "PKG:her2", "Biomarker"),
    term("her2 negative", "PKG:her2_negative", "BiomarkerStatus"),
    term("ki-67", "PKG:ki67", "Biomarker"),
    term("ki-67 low", "PKG:ki67_low", "BiomarkerStatus"),
]


@pytest.fixture(scope="module")
def linker() -> EntityLinker:
    return EntityLinker(TERMS)


def links(linker: EntityLinker, text: str) -> list[tuple[str, str, bool, bool]]:
    return [(e.kg_id, e.text, e.negated, e.uncertain) for e in linker.link(text)]


def test_a_hyphen_inside_a_word_is_a_space(linker: EntityLinker) -> None:
    text = "DUCTAL CARCINOMA IN-SITU (DCIS), NUCLEAR GRADE 2."
    assert links(linker, text)[0] == ("PKG:dcis", "DUCTAL CARCINOMA IN-SITU", False, False)
    (ki67,) = linker.link("Ki-67: LOW.")  # a hyphenated dictionary term still matches itself
    assert (ki67.kg_id, ki67.text, ki67.start) == ("PKG:ki67_low", "Ki-67: LOW", 0)


def test_codes_with_a_digit_match_in_any_case_words_only_in_upper_case(linker: EntityLinker) -> None:
    assert [e.kg_id for e in linker.link("Tumor classification: G 2, pT2, pN0 (0/11).")] == [
        "PKG:breast:pT2",
        "PKG:breast:pN0",
    ]
    assert linker.link("the other er cells") == []
    assert [e.kg_id for e in linker.link("ER and PR were performed.")] == ["PKG:er", "PKG:pr"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ESTROGEN RECEPTOR: POSITIVE.", ("PKG:er_positive", "ESTROGEN RECEPTOR: POSITIVE")),
        ("PROGESTERONE RECEPTOR: NEGATIVE.", ("PKG:pr_negative", "PROGESTERONE RECEPTOR: NEGATIVE")),
        ("The tumor is negative for HER2 by FISH.", ("PKG:her2_negative", "negative for HER2")),
        ("ER is positive in 90% of cells.", ("PKG:er_positive", "ER is positive")),
    ],
)
def test_a_biomarker_with_its_result_is_the_status_and_not_negated(
    linker: EntityLinker, text: str, expected: tuple[str, str]
) -> None:
    (e,) = linker.link(text)
    assert (e.kg_id, e.text, e.negated) == (*expected, False)


def test_a_trailing_cue_negates_the_whole_list_before_it(linker: EntityLinker) -> None:
    text = "Lymphovascular invasion, perineural invasion, and necrosis are not identified."
    assert [(e.kg_id, e.negated) for e in linker.link(text)] == [
        ("PKG:lvi", True),
        ("PKG:pni", True),
        ("PKG:necrosis", True),
    ]
    text = "Lymphovascular invasion is present, perineural invasion is not identified."
    assert [(e.kg_id, e.negated) for e in linker.link(text)] == [("PKG:lvi", False), ("PKG:pni", True)]


@pytest.mark.parametrize(
    "text",
    [
        "Vascular invasion is not observed.",
        "Necrosis is not evident in the sections.",
        "The tumour lacks necrosis.",
        "Perineural invasion is not apparent.",
    ],
)
def test_prose_negations(linker: EntityLinker, text: str) -> None:
    (e,) = linker.link(text)
    assert e.negated


def test_cannot_rule_out_is_uncertain_not_negated(linker: EntityLinker) -> None:
    assert links(linker, "At least atypical ductal hyperplasia-cannot rule out DCIS-lesion.") == [
        ("PKG:dcis", "DCIS", False, True)
    ]
