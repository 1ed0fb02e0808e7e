"""Linking with negation, and verification flagging planted errors with the right reason."""

from __future__ import annotations

import pytest

from pathkg.linking.entity_linker import DictionaryTerm, EntityLinker
from pathkg.verify.chain_verifier import ChainVerifier
from schemas import KGPath, KGPathStep

TERMS = [
    DictionaryTerm("keratin pearls", "PKG:keratin_pearls", "Finding", "keratin pearls", "name"),
    DictionaryTerm("keratinization", "PKG:keratin_pearls", "Finding", "keratin pearls", "synonym"),
    DictionaryTerm("intercellular bridges", "PKG:intercellular_bridges", "Finding", "intercellular bridges", "name"),
    DictionaryTerm("squamous cell carcinoma", "NCIT:C2929", "Disease", "squamous cell carcinoma", "name"),
    DictionaryTerm("scc", "NCIT:C2929", "Disease", "squamous cell carcinoma", "abbreviation"),
    DictionaryTerm("adenocarcinoma", "NCIT:C2852", "Disease", "adenocarcinoma", "name"),
    DictionaryTerm("gland formation", "PKG:gland_formation", "Finding", "gland formation", "name"),
    DictionaryTerm("pleural invasion", "PKG:pleural_invasion", "Finding", "visceral pleural invasion", "name"),
    DictionaryTerm("necrosis", "PKG:necrosis", "Finding", "tumour necrosis", "name"),
    DictionaryTerm("lymphovascular invasion", "PKG:lvi", "Finding", "lymphovascular invasion", "name"),
    DictionaryTerm("lvi", "PKG:lvi", "Finding", "lymphovascular invasion", "abbreviation"),
    DictionaryTerm("ductal carcinoma in situ", "NCIT:C2924", "Disease", "ductal carcinoma in situ", "name"),
    DictionaryTerm("er", "PKG:er", "Biomarker", "estrogen receptor", "abbreviation"),
]


@pytest.fixture(scope="module")
def linker():
    return EntityLinker(TERMS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Keratin pearls and intercellular bridges are seen.",
            [("PKG:keratin_pearls", False), ("PKG:intercellular_bridges", False)],
        ),
        ("No pleural invasion.", [("PKG:pleural_invasion", True)]),
        ("Lymphovascular invasion: not identified.", [("PKG:lvi", True)]),
        (
            "There is no necrosis, lymphovascular invasion or pleural invasion.",
            [("PKG:necrosis", True), ("PKG:lvi", True), ("PKG:pleural_invasion", True)],
        ),
        ("Necrosis is present; LVI absent.", [("PKG:necrosis", False), ("PKG:lvi", True)]),
        ("The tumor is ER positive, other cells are negative.", [("PKG:er", False)]),
        ("Ductal carcinoma in situ (DCIS) is present. DCIS is cribriform.", [("NCIT:C2924", False)] * 3),
        ("Focal keratinization, consistent with SCC.", [("PKG:keratin_pearls", False), ("NCIT:C2929", False)]),
        ("The errand was a clerical error.", []),  # 'er' inside words is not estrogen receptor
    ],
)
def test_linker_finds_entities_and_negation(linker, text, expected):
    assert [(e.kg_id, e.negated) for e in linker.link(text)] == expected


def test_linker_offsets_point_into_the_text(linker):
    text = "Findings suspicious for pleural invasion."
    (entity,) = linker.link(text)
    assert text[entity.start : entity.end] == "pleural invasion" and entity.uncertain and not entity.negated


FINDINGS = "Nests of atypical squamous cells with keratin pearls and intercellular bridges. No pleural invasion."


@pytest.fixture(scope="module")
def case(linker):
    description = linker.link(FINDINGS)
    diagnosis = linker.link("Squamous cell carcinoma")
    path = KGPath(
        start_id="PKG:keratin_pearls",
        end_id="NCIT:C2929",
        kg_version="kg-test",
        steps=[
            KGPathStep(
                source_id="PKG:keratin_pearls",
                relation="SUPPORTS",
                target_id="NCIT:C2929",
                source_name="keratin pearls",
                target_name="squamous cell carcinoma",
            )
        ],
    )
    return description, diagnosis, [path]


def chain(observe, think, answer):
    return f"<observe>{observe}</observe>\n<think>{think}</think>\n<answer>{answer}</answer>"


def verify(linker, case, response, answer="Squamous cell carcinoma"):
    description, diagnosis, paths = case
    return ChainVerifier(linker).verify(response, answer, "diagnosis", description, diagnosis, paths)


def test_a_faithful_chain_passes(linker, case):
    good = chain(
        "Atypical squamous cells with keratin pearls and intercellular bridges; no pleural invasion.",
        "Keratin pearls support squamous cell carcinoma.",
        "Squamous cell carcinoma",
    )
    result = verify(linker, case, good)
    assert result.status == "pass", result.reasons
    assert {c.name: c.passed for c in result.checks} == {
        "format": True, "answer": True, "entity": True, "unsupported_entities": True, "negation": True, "phi": True,
    }  # fmt: skip


def test_planted_errors_are_flagged_with_the_right_reason(linker, case):
    hallucinated = chain(
        "Atypical squamous cells with keratin pearls and gland formation.",
        "Keratin pearls support squamous cell carcinoma.",
        "Squamous cell carcinoma",
    )
    result = verify(linker, case, hallucinated)
    assert result.status == "flagged"
    assert [r.split(":")[0] for r in result.reasons] == ["unsupported_entities"]
    assert "gland formation (PKG:gland_formation)" in result.reasons[0]

    contradicted = chain(
        "Keratin pearls and intercellular bridges; the tumour shows pleural invasion.",
        "Keratin pearls support squamous cell carcinoma.",
        "Squamous cell carcinoma",
    )
    result = verify(linker, case, contradicted)
    assert result.status == "flagged"
    assert [r.split(":")[0] for r in result.reasons] == ["negation"]
    assert "visceral pleural invasion (PKG:pleural_invasion)" in result.reasons[0]

    wrong = chain(
        "Atypical squamous cells with keratin pearls and intercellular bridges.",
        "Keratin pearls support squamous cell carcinoma.",
        "Adenocarcinoma",
    )
    result = verify(linker, case, wrong)
    assert result.status == "flagged"
    assert "answer" in [r.split(":")[0] for r in result.reasons]
    assert any("does not agree with the report's diagnosis" in r for r in result.reasons)


def test_broken_format_and_phi_reject(linker, case):
    assert verify(linker, case, "Squamous cell carcinoma.").status == "rejected"
    leaked = chain(
        "Keratin pearls and intercellular bridges. Patient John Smith, MRN 12345678, seen on 03/14/2009.",
        "Keratin pearls support squamous cell carcinoma.",
        "Squamous cell carcinoma",
    )
    result = verify(linker, case, leaked)
    assert result.status == "rejected"
    assert any(r.startswith("phi: possible PHI") for r in result.reasons)
