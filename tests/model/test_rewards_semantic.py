"""The semantic reward (MiniLM embeddings offline; an LLM judge whose failures are None) and the total."""

from __future__ import annotations

import logging
import socket

import pytest

from pathkg.rewards.semantic_reward import EmbeddingSimilarity, LLMJudge, minilm_path, parse_judge_reply
from pathkg.rewards.weighted_total import weighted_total

IDC = "<observe>Glands.</observe>\n<think>Gland formation.</think>\n<answer>Invasive ductal carcinoma</answer>"


@pytest.fixture(scope="module")
def embedder() -> EmbeddingSimilarity:
    return EmbeddingSimilarity()


def test_minilm_ships_in_site_packages():
    path = minilm_path()
    assert (path / "model.safetensors").stat().st_size > 80_000_000
    assert "site-packages" in str(path)


def test_embedding_similarity_ranks_meaning(embedder):
    answers = ["Invasive ductal carcinoma"] * 3
    completions = [IDC, "<answer>invasive carcinoma of the breast, ductal type</answer>", "The weather is sunny today."]
    same, close, unrelated = embedder(completions, answer=answers)
    assert same == pytest.approx(1.0, abs=1e-4)
    assert 0.5 < close < same
    assert unrelated < 0.3
    assert embedder([IDC], answer=[""]) == [None]
    assert embedder([IDC]) == [None]


def test_judge_failure_is_none_and_logged(caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    judge = LLMJudge(model="judge", base_url=f"http://127.0.0.1:{port}/v1", timeout=2, max_retries=0)
    with caplog.at_level(logging.WARNING):
        scores = judge([IDC, IDC], answer=["Invasive ductal carcinoma", "Invasive ductal carcinoma"])
    assert scores == [None, None] and judge.failures == 2
    assert "semantic judge" in caplog.text and "semantic_judge_v1" in caplog.text
    assert "{reference}" in judge.rubric and judge.rubric_version == "semantic_judge_v1"


def test_judge_reply_parsing():
    assert parse_judge_reply('{"score": 0.7, "reason": "close"}') == 0.7
    assert parse_judge_reply('```json\n{"score": 1}\n```') == 1.0
    assert parse_judge_reply('Sure! {"score": 0.4, "reason": "x"} hope that helps') == 0.4
    assert parse_judge_reply('{"score": 7}') is None
    assert parse_judge_reply("no score") is None


def test_weighted_total_leaves_missing_components_out():
    components = {"format": [1.0, 0.0, 1.0], "semantic": [0.5, None, None], "entity": [1.0, 0.5, None]}
    weights = {"format": 1.0, "semantic": 1.0, "entity": 0.5}
    assert weighted_total(components, weights) == [2.0, 0.25, 1.0]
    assert weighted_total({"semantic": [None]}, {"semantic": 1.0}) == [None]
    with pytest.raises(KeyError, match="missing reward components"):
        weighted_total({"format": [1.0]}, {"format": 1.0, "entity": 0.5})


def test_judge_round_trip_through_an_openai_compatible_server():
    """The loopback server (pathkg.llm) stands in for the judge's LLM; the client, rubric and parsing are real."""
    from pathkg.llm.loopback_server import LoopbackServer

    def reply(body):
        prompt = body["messages"][0]["content"]
        if "MODEL ANSWER:\nLymphoma" in prompt:
            return "I cannot grade this."  # no score: a failure, not a 0
        if "MODEL ANSWER:\nMelanoma" in prompt:
            return '{"score": 0.1, "reason": "different tumour"}'
        return '{"score": 0.8, "reason": "same diagnosis"}'

    with LoopbackServer(reply=reply) as server:
        judge = LLMJudge(model=server.model, base_url=server.base_url, timeout=10, max_retries=0)
        completions = [IDC, "<answer>Lymphoma</answer>", "<answer>Melanoma</answer>"]
        scores = judge(
            completions, answer=["Invasive ductal carcinoma"] * 3, prompts=[[{"role": "user", "content": "Q"}]] * 3
        )
        sent = [r.body["messages"][0]["content"] for r in server.log]
    assert scores == [0.8, None, 0.1] and judge.failures == 1
    assert all("REFERENCE ANSWER:\nInvasive ductal carcinoma" in s for s in sent)
    assert "MODEL ANSWER:\nInvasive ductal carcinoma" in sent[0]  # the <answer> block, not the whole chain
