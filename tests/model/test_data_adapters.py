"""Export views → TRL rows; the LLaVA / SlideChat conversation JSON."""

from __future__ import annotations

import json

from model.data_adapters import load_rl, load_sft, normalise_chain
from model.llava_export import export_llava


def test_sft_rows_are_chat_messages_with_decoded_images(demo_export):
    ds = load_sft(demo_export)
    row = ds[0]
    user, assistant = row["messages"]
    assert user["role"] == "user" and user["content"][0] == {"type": "image", "text": None}
    assert "What is the diagnosis?" in user["content"][-1]["text"]
    assert assistant["content"][0]["text"].startswith("<observe>Glands.</observe>\n<think>")
    assert row["images"][0].size == (64, 48)
    assert set(ds["patient_id"]) and len(ds) == len(set(ds["sample_id"]))


def test_released_info_tags_are_read_and_rewritten_as_observe():
    released = "<info>Cells.</info>\n<think>So.</think>\n<answer>IDC</answer>"
    assert normalise_chain(released) == "<observe>Cells.</observe>\n<think>So.</think>\n<answer>IDC</answer>"
    assert normalise_chain("not a chain") == "not a chain"


def test_rl_rows_carry_reward_columns(demo_export):
    row = load_rl(demo_export)[0]
    assert row["answer"] == "Invasive ductal carcinoma"
    assert row["question_type"] == "diagnosis"
    assert row["gt_entity_ids"] == ["PKG:gland_formation", "ONCOTREE:IDC"]
    assert row["prompt"][0]["content"][0]["type"] == "image"


def test_llava_export_with_release_tags(demo_export, tmp_path):
    path, n = export_llava(demo_export, tmp_path / "llava", release_tags=True)
    records = json.loads(path.read_text())
    assert len(records) == n > 0
    rec = records[0]
    assert rec["conversations"][0]["from"] == "human" and rec["conversations"][0]["value"].startswith("<image>\n")
    assert rec["conversations"][1]["value"] == (
        "<info>Histopathological Findings: Glands.</info>\n<think>Clinical Reasoning: Gland formation supports "
        "carcinoma.</think>\n<answer>Final Diagnosis: Invasive ductal carcinoma</answer>"
    )
    assert (tmp_path / "llava" / rec["image"][0]).stat().st_size > 0
