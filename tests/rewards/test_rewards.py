"""The shared reward functions, on chains written the way the corpus and models write them."""

from __future__ import annotations

import pytest

from pathkg.rewards import (
    ChainTags,
    EntityReward,
    answer_reward,
    answers_agree,
    entity_score,
    format_reward,
    parse_chain,
)

GOOD = (
    "<observe>Nests of atypical squamous cells with keratin pearls.</observe>\n"
    "<think>Keratin pearls support squamous cell carcinoma.</think>\n"
    "<answer>Squamous cell carcinoma</answer>"
)


@pytest.mark.parametrize(
    ("text", "score"),
    [
        (GOOD, 1.0),
        ("  " + GOOD + "\n", 1.0),
        (GOOD.replace("\n<think>", "<think>"), 0.0),  # blocks must be separated by one newline
        ("<think>t</think>\n<observe>o</observe>\n<answer>a</answer>", 0.0),  # wrong order
        ("<observe>o</observe>\n<think>t</think>", 0.0),  # missing answer
        ("<observe>o</observe>\n<think> </think>\n<answer>a</answer>", 0.0),  # empty block
        ("<observe>o <think>x</think></observe>\n<think>t</think>\n<answer>a</answer>", 0.0),  # nested
        ("Answer: " + GOOD, 0.0),  # text outside the blocks
        ("<info>o</info>\n<think>t</think>\n<answer>a</answer>", 0.0),  # released tag, default tags
    ],
)
def test_format_reward(text, score):
    assert format_reward([text]) == [score]


def test_info_tag_is_accepted_when_asked_and_chat_turns_are_read():
    released = (
        "<info>Histopathological Findings: o</info>\n<think>Clinical Reasoning: t</think>\n"
        "<answer>Final Diagnosis: a</answer>"
    )
    assert format_reward([released], tags=ChainTags.accepting_info()) == [1.0]
    chain = parse_chain(released, ChainTags.accepting_info())
    assert chain is not None and chain.observe_tag == "info" and chain.answer == "Final Diagnosis: a"
    assert format_reward([[{"role": "assistant", "content": GOOD}]]) == [1.0]
    assert ChainTags().render("o", "t", "a") == "<observe>o</observe>\n<think>t</think>\n<answer>a</answer>"


@pytest.mark.parametrize(
    ("pred", "ref", "kind", "agree"),
    [
        ("pT2", "T2", "t_stage", True),
        ("The tumour is staged ypT1c.", "pT1c", "t_stage", True),
        ("pT2a", "T2", "t_stage", True),
        ("pT2", "pT3", "t_stage", False),
        ("pN0(i-)", "N0", "n_stage", True),
        ("pN1a (sn)", "pN1a", "n_stage", True),
        ("pN1", "pN2", "n_stage", False),
        ("Grade II", "grade 2", "grade", True),
        ("moderately differentiated", "G2", "grade", True),
        ("Nottingham grade 3 (score 8/9)", "poorly differentiated", "grade", True),
        ("well differentiated", "grade 2", "grade", False),
        ("Margins are free of tumour.", "negative", "margins", True),
        ("Tumor involves the inked margin (positive).", "negative", "margins", False),
        ("No lymphovascular invasion is seen.", "absent", "lymphovascular_invasion", True),
        ("Lymphovascular invasion present.", "absent", "lymphovascular_invasion", False),
        ("Invasive ductal carcinoma, NOS", "invasive ductal carcinoma", "diagnosis", True),
        ("Lobular carcinoma", "invasive ductal carcinoma", "diagnosis", False),
    ],
)
def test_answers_agree(pred, ref, kind, agree):
    assert answers_agree(pred, ref, kind) is agree


def test_answer_reward_reads_the_answer_block():
    wrong = GOOD.replace("<answer>Squamous cell carcinoma</answer>", "<answer>Adenocarcinoma</answer>")
    scores = answer_reward(
        [GOOD, wrong, "no chain"], answer=["squamous cell carcinoma"] * 3, question_type=["diagnosis"] * 3
    )
    assert scores == [1.0, 0.0, 0.0]
    assert answer_reward([GOOD]) == [None]


def test_entity_score_modes():
    assert entity_score({"a", "b"}, {"a", "c", "d", "e"}, "recall") == 0.25
    assert entity_score({"a", "b"}, {"a", "c", "d", "e"}, "dice") == pytest.approx(2 / 6)
    assert entity_score({"a", "b"}, {"a", "c", "d", "e"}, "f1") == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert entity_score({"x"}, set()) is None
    assert entity_score(set(), {"a"}, "f1") == 0.0
    with pytest.raises(ValueError, match="unknown entity reward mode"):
        entity_score({"a"}, {"a"}, "jaccard")  # type: ignore[arg-type]


def test_entity_reward_uses_the_linker_so_synonyms_match():
    # A dictionary linker in miniature: two names of one KG node.
    names = {
        "keratin pearls": "PKG:keratin_pearls",
        "squamous pearls": "PKG:keratin_pearls",
        "squamous cell carcinoma": "NCIT:C2929",
    }

    def link(text: str) -> list[str]:
        low = text.lower()
        return [node for name, node in names.items() if name in low]

    reward = EntityReward(link)
    synonym = GOOD.replace("keratin pearls", "squamous pearls")
    assert reward([GOOD, synonym], gt_entity_ids=[["PKG:keratin_pearls", "NCIT:C2929"]] * 2) == [1.0, 1.0]
    assert reward(
        ["<observe>o</observe>\n<think>t</think>\n<answer>adenocarcinoma</answer>"], gt_entity_ids=[["NCIT:C2929"]]
    ) == [0.0]
    assert EntityReward(link, mode="dice")([GOOD], gt_entity_ids=[["NCIT:C2929"]]) == [pytest.approx(2 / 3)]
