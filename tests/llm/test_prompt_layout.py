"""Prompts are laid out for a vLLM server's prefix cache: the static part first, the per-case text last.

A rendered prompt is what the server tokenises: the messages in order (here joined the way a chat
template joins them, role markers between contents). Two renderings that differ only in their
per-case values must share a prefix that covers the whole static part (the system message and the
user template's text before its first value), so that the server computes that part once.
"""

from __future__ import annotations

import pytest

from pathkg.corpus.llm_writer import PROMPT, chain_messages
from pathkg.llm.prompts import PROMPT_DIR, load_prompt
from schemas import KGPath, KGPathStep, Question

SENTINEL = "\x00VALUE\x00"


def rendered(messages: list[dict[str, str]]) -> str:
    return "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages)


def shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def static_part(name: str, version: str) -> str:
    """The rendering up to the first value: what every request of this prompt has in common."""
    prompt = load_prompt(f"{name}@{version}")
    user = prompt.user
    first = min(user.index(p) for p in ("{report}", "{findings}", "{question}") if p in user)
    return rendered([{"role": "system", "content": prompt.system}, {"role": "user", "content": user[:first]}])[:-1]


@pytest.mark.parametrize("path", sorted(PROMPT_DIR.glob("*/*.md")), ids=lambda p: f"{p.parent.name}@{p.stem}")
def test_every_prompt_keeps_its_values_out_of_the_system_message(path) -> None:
    prompt = load_prompt(f"{path.parent.name}@{path.stem}")
    assert "{" not in prompt.system  # the system message is entirely static
    assert prompt.user.count("{") >= 1


def test_report_prompts_share_the_whole_static_part() -> None:
    prompt = load_prompt("report_extraction@v1")
    one = rendered(prompt.messages(report="[NAME] INVASIVE DUCTAL CARCINOMA, GRADE 2. pT1c pN0."))
    two = rendered(prompt.messages(report="INVASIVE LOBULAR CARCINOMA. pT2 pN1a."))
    static = static_part("report_extraction", "v1")
    assert one.startswith(static) and two.startswith(static)
    assert shared_prefix(one, two) >= len(static)
    assert len(static) > 0.9 * (len(prompt.system) + len(prompt.user) - len("{report}"))  # nearly all of it


def _path(target: str) -> KGPath:
    step = KGPathStep(
        source_id="PKG:a", relation="SUPPORTS", target_id="PKG:b", source_name="keratin pearls", target_name=target
    )
    return KGPath(start_id="PKG:a", end_id="PKG:b", kg_version="kg-test", steps=[step])


def _question(case_id: str, qtype: str, text: str, answer: str) -> Question:
    return Question(
        question_id=f"{case_id}-{qtype}", case_id=case_id, patient_id=case_id, question_type=qtype, scale="wsi",
        question=text, reference_answer=answer, template_id="t",
    )  # fmt: skip


def test_chain_prompts_share_the_static_part_and_a_case_shares_its_findings_and_paths() -> None:
    prompt = load_prompt(PROMPT)
    findings = ["Keratin pearls are present.", "No lymphovascular invasion."]
    paths = [_path("squamous cell carcinoma")]
    diagnosis_q = _question("TCGA-22-4609", "diagnosis", "What is the diagnosis?", "squamous cell carcinoma")
    stage_q = _question("TCGA-22-4609", "t_stage", "What is the pT category?", "pT2")
    one = rendered(chain_messages(prompt, diagnosis_q, findings, "Squamous cell carcinoma", paths))
    two = rendered(chain_messages(prompt, stage_q, findings, "Squamous cell carcinoma", paths))
    other = rendered(
        chain_messages(prompt, _question("TCGA-X", "diagnosis", "Q?", "adenocarcinoma"), ["Glands."], "Adeno", [])
    )
    name, _, version = PROMPT.partition("@")
    static = static_part(name, version)
    assert shared_prefix(one, other) >= len(static)  # any two cases: the instructions
    # Two questions of one case: the instructions and the case's findings, diagnosis and paths.
    case_block = one[: one.index("Question: ")]
    assert "Keratin pearls are present." in case_block and "keratin pearls -SUPPORTS->" in case_block
    assert shared_prefix(one, two) >= len(case_block)
