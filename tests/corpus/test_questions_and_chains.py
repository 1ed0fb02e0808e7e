"""Questions from an extraction, the template writer, and the LLM writer against a loopback server."""

from __future__ import annotations

import asyncio
import re

import pytest

from pathkg.corpus.llm_writer import ChainWritingError, PHIInPromptError, write_chain_llm
from pathkg.corpus.question_templates import choose_template, reference_answers
from pathkg.corpus.template_writer import write_chain
from pathkg.llm.client import LLMClient, LLMSettings
from pathkg.llm.loopback_server import LoopbackServer
from pathkg.rewards.chain_format import parse_chain
from schemas import KGPath, KGPathStep, Question
from schemas.extraction import GradeInfo, ReportExtraction

EXTRACTION = ReportExtraction(
    case_id="TCGA-A2-A0YM",
    backend="rules",
    diagnosis="Infiltrating ductal carcinoma, Nottingham grade 3",
    histologic_type="infiltrating ductal carcinoma",
    grade=GradeInfo(value="3", system="Nottingham", score=9),
    pt="pT2",
    pn="pN0(i-)",
    margins="negative",
    lymphovascular_invasion=True,
    findings=[
        "Infiltrating ductal carcinoma with marked nuclear pleomorphism.",
        "Lymphovascular invasion is identified.",
    ],
)
PATH = KGPath(
    start_id="PKG:nuclear_pleomorphism",
    end_id="PKG:nottingham_g3",
    kg_version="kg-test",
    steps=[
        KGPathStep(
            source_id="PKG:nottingham",
            relation="HAS_COMPONENT",
            target_id="PKG:nuclear_pleomorphism",
            source_name="Nottingham grading system",
            target_name="nuclear pleomorphism",
            reversed=True,
        ),
        KGPathStep(
            source_id="PKG:nottingham",
            relation="DETERMINES",
            target_id="PKG:nottingham_g3",
            source_name="Nottingham grading system",
            target_name="Nottingham grade 3",
        ),
    ],
)


def question(qtype="grade", answer="Nottingham grade 3 (score 9)", case_id="TCGA-A2-A0YM"):
    _, text = choose_template(qtype, "wsi", case_id, 0)
    return Question(
        question_id="q1", case_id=case_id, patient_id=case_id, question_type=qtype, scale="wsi",
        question=text, reference_answer=answer, template_id="t",
    )  # fmt: skip


def test_reference_answers_cover_what_the_report_says():
    answers = reference_answers(EXTRACTION)
    assert answers == {
        "diagnosis": "Infiltrating ductal carcinoma, Nottingham grade 3",
        "histologic_subtype": "infiltrating ductal carcinoma",
        "grade": "Nottingham grade 3 (score 9)",
        "t_stage": "pT2",
        "n_stage": "pN0(i-)",
        "margins": "Margins are negative.",
        "lymphovascular_invasion": "Lymphovascular invasion is present.",
        "microscopic_description": "Infiltrating ductal carcinoma with marked nuclear pleomorphism. "
        "Lymphovascular invasion is identified.",
    }
    low = EXTRACTION.model_copy(update={"grade": GradeInfo(value="low"), "pt": None, "findings": []})
    assert reference_answers(low)["grade"] == "low grade" and "t_stage" not in reference_answers(low)


def test_templates_are_seeded_and_varied():
    assert choose_template("grade", "wsi", "TCGA-A", 0) == choose_template("grade", "wsi", "TCGA-A", 0)
    variants = {choose_template("diagnosis", "roi", f"TCGA-{i}", 0)[1] for i in range(40)}
    assert len(variants) == 3 and all("region of interest" in v for v in variants)


def test_template_chain_walks_the_path_in_its_stored_direction():
    chain = write_chain(question(), EXTRACTION.findings, [PATH])
    parsed = parse_chain(chain)
    assert parsed is not None
    assert parsed.observe.startswith("Infiltrating ductal carcinoma with marked nuclear pleomorphism.")
    # The first step is walked against its direction but stated the way the KG states it.
    assert "Nottingham grading system has the component nuclear pleomorphism" in parsed.think
    assert "Nottingham grading system determines Nottingham grade 3" in parsed.think
    assert parsed.answer == "Nottingham grade 3 (score 9)"
    no_path = parse_chain(write_chain(question(), EXTRACTION.findings, []))
    assert no_path is not None and "No knowledge-graph path" in no_path.think


def _chain_reply(body):
    user = body["messages"][1]["content"]
    answer = re.search(r"Reference answer: (.*)", user).group(1)
    path = re.search(r"1\. (.*)", user).group(1)
    return f"<observe>Marked nuclear pleomorphism.</observe>\n<think>{path}.</think>\n<answer>{answer}</answer>"


def run(coro):
    return asyncio.run(coro)


async def _write(server, q, findings=EXTRACTION.findings):
    async with LLMClient(LLMSettings(base_url=server.base_url, model="loopback-model", timeout_s=5)) as client:
        return await write_chain_llm(client, q, findings, EXTRACTION.diagnosis, [PATH])


def test_llm_writer_sends_the_paths_and_returns_a_chain():
    # The loopback server is a test double: it writes a chain from the prompt it receives.
    with LoopbackServer(reply=_chain_reply) as server:
        written = run(_write(server, question()))
        (logged,) = server.log
    chain = parse_chain(written.response)
    assert chain is not None and chain.answer == "Nottingham grade 3 (score 9)"
    assert "Nottingham grading system -HAS_COMPONENT-> nuclear pleomorphism" in chain.think
    system, user = logged.body["messages"]
    assert system["role"] == "system" and "<observe>" in system["content"]  # the static part comes first
    # chain_writing@v2: the case's findings and paths first, the question and its answer last (prefix caching).
    assert user["content"].startswith("Findings (from the report):")
    assert user["content"].index("Knowledge-graph paths") < user["content"].index("Question: ")
    assert "Reference answer: Nottingham grade 3" in user["content"]


def test_llm_writer_repairs_once_then_fails_clearly():
    replies = iter(["Sure, here it is: grade 3", "<observe>o</observe>\n<think>t</think>\n<answer>grade 3</answer>"])
    with LoopbackServer(reply=lambda body: next(replies)) as server:
        written = run(_write(server, question()))
        assert len(server.log) == 2
        assert "could not be used" in server.log[1].body["messages"][-1]["content"]
    assert parse_chain(written.response) is not None

    with (
        LoopbackServer(reply=lambda body: "no chain at all") as server,
        pytest.raises(ChainWritingError, match="case TCGA-A2-A0YM: the reply is not exactly"),
    ):
        run(_write(server, question()))


def test_llm_writer_never_sends_phi():
    with LoopbackServer(reply=_chain_reply) as server:
        with pytest.raises(PHIInPromptError, match="possible PHI"):
            run(_write(server, question(), findings=["Seen by Dr. John Smith on 03/14/2009, MRN 12345678."]))
        assert server.log == []
