"""SFT: the assistant-only loss mask, token by token, and an overfit run that drives the loss down."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoProcessor

from model.data_adapters import load_sft
from model.sft_training import run_sft
from model.tiny_vlm import CHAT_TEMPLATE
from model.train_config import TrainConfig


def test_assistant_only_mask_token_by_token(demo_export, tiny_vlm):
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    processor = AutoProcessor.from_pretrained(tiny_vlm)
    tok = processor.tokenizer
    rows = [dict(r) for r in load_sft(demo_export).select(range(3))]
    # Different lengths so the batch is padded.
    rows[1]["messages"][1]["content"][0]["text"] += " Extra words make this one longer."
    collator = DataCollatorForVisionLanguageModeling(processor, assistant_only_loss=True)
    batch = collator([dict(r) for r in rows])
    image_id = tok.convert_tokens_to_ids("<|image_pad|>")
    for row, ids, labels, attention in zip(
        rows, batch["input_ids"], batch["labels"], batch["attention_mask"], strict=True
    ):
        target = row["messages"][1]["content"][0]["text"] + "<|im_end|>"
        trained = [i for i, label in enumerate(labels.tolist()) if label != -100]
        # The trained tokens are one contiguous run: exactly the assistant's chain and its end-of-turn token.
        assert trained == list(range(trained[0], trained[-1] + 1))
        assert tok.decode(ids[trained]) == target
        assert ids[trained].tolist() == labels[trained].tolist()
        # Everything before it is the prompt: system, user text, every image token; after it only padding.
        prompt = tok.decode(ids[: trained[0]])
        assert prompt.endswith("<|im_start|>assistant\n") and "What is the diagnosis?" in prompt
        assert (ids[: trained[0]] == image_id).sum() > 0
        assert all(labels[i] == -100 for i in range(len(ids)) if ids[i] == image_id)
        tail = range(trained[-1] + 1, len(ids))
        assert all(attention[i] == 0 or tok.decode(ids[i]) == "\n" for i in tail)
        assert all(labels[i] == -100 for i in tail)
    assert CHAT_TEMPLATE.count("{% generation %}") == 3  # string content, text blocks, end-of-turn


@pytest.mark.slow
def test_sft_overfits_a_handful_of_samples(demo_export, tiny_vlm, tmp_path):
    config = TrainConfig()
    config.model.init = str(tiny_vlm)
    config.data.path = str(demo_export)
    config.data.max_samples = 2
    config.trainer = {
        "per_device_train_batch_size": 2,
        "learning_rate": 1e-2,
        "lr_scheduler_type": "constant",
        "gradient_checkpointing": False,
        "use_cpu": True,
        "seed": 0,
    }
    result = run_sft(config, tmp_path / "sft", max_steps=20)
    assert result.steps == 20 and len(result.losses) == 20
    # Measured: 5.95 → 1.04 (seed 0); well below the start, not a lucky dip.
    assert result.losses[-1] < 0.3 * result.losses[0], result.losses
    assert max(result.losses[-3:]) < 0.4 * result.losses[0], result.losses
    assert (tmp_path / "sft" / "final" / "model.safetensors").exists()
    assert (tmp_path / "sft" / "metrics.jsonl").read_text().count('"loss"') >= 20
    # The saved model reloads with the fitted weights: its loss on the training rows is the low one.
    from transformers import AutoModelForImageTextToText
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    def loss_of(folder):
        model = AutoModelForImageTextToText.from_pretrained(folder)
        processor = AutoProcessor.from_pretrained(folder)
        rows = [dict(r) for r in load_sft(demo_export).select(range(2))]
        batch = DataCollatorForVisionLanguageModeling(processor, assistant_only_loss=True)(rows)
        with torch.no_grad():
            return model(**batch).loss.item()

    fitted, initial = loss_of(tmp_path / "sft" / "final"), loss_of(tiny_vlm)
    assert fitted < 0.4 * initial, (fitted, initial)


def test_lora_trains_adapters_only(demo_export, tiny_vlm, tmp_path):
    config = TrainConfig()
    config.model.init = str(tiny_vlm)
    config.data.path = str(demo_export)
    config.data.max_samples = 2
    config.lora.enabled = True
    config.lora.r = 4
    config.trainer = {"per_device_train_batch_size": 2, "learning_rate": 1e-2, "use_cpu": True, "seed": 0}
    config.trainer["gradient_checkpointing"] = False
    result = run_sft(config, tmp_path / "lora", max_steps=2)
    assert result.steps == 2 and len(result.losses) == 2
    final = tmp_path / "lora" / "final"
    adapter = json.loads((final / "adapter_config.json").read_text())
    assert adapter["r"] == 4 and set(adapter["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj"}
    assert (final / "adapter_model.safetensors").stat().st_size > 0
    assert not (final / "model.safetensors").exists()  # only the adapters are saved


CHAIN = (
    "<observe>Infiltrating glands are seen. Nuclei are pleomorphic.</observe>\n"
    "<think>Step 1: gland formation supports carcinoma. Step 2: pleomorphism supports a higher grade. "
    "Step 3: together, an invasive ductal carcinoma.</think>\n<answer>Invasive ductal carcinoma</answer>"
)


def test_prefix_mode_trains_exactly_the_rest_of_the_chain(demo_export, tiny_vlm, tmp_path):
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    from model.trajectory_masking import MaskingConfig, augment_export, prefix_cuts, with_prefix

    processor = AutoProcessor.from_pretrained(tiny_vlm)
    tok = processor.tokenizer
    cuts = prefix_cuts(CHAIN)
    assert [CHAIN[c:][:8] for c in cuts] == ["<think>S", " Step 2:", " Step 3:"]
    row = dict(load_sft(demo_export)[0])
    rows = [{**row, "messages": with_prefix(row["messages"], CHAIN, cut)} for cut in cuts]
    batch = DataCollatorForVisionLanguageModeling(processor, assistant_only_loss=True)(rows)
    for cut, ids, labels in zip(cuts, batch["input_ids"], batch["labels"], strict=True):
        trained = [i for i, label in enumerate(labels.tolist()) if label != -100]
        assert trained == list(range(trained[0], trained[-1] + 1))
        assert tok.decode(ids[trained]) == CHAIN[cut:] + "<|im_end|>"  # the rest, token for token
        assert tok.decode(ids[: trained[0]]).endswith("<|im_start|>assistant\n" + CHAIN[:cut])  # prefix: context
    # From the export: one variant per cut; the rendered assistant turn is still the whole chain.
    augment_export(demo_export, tmp_path / "aug", MaskingConfig(n_variants=5, mode="prefix"))
    aug = load_sft(tmp_path / "aug")
    parents = {r["sample_id"]: r for r in load_sft(demo_export)}
    assert len(aug) == len(parents)  # the demo chains have one reasoning step: one cut each
    for r in aug:
        blocks = r["messages"][1]["content"]
        assert [bool(b.get("context")) for b in blocks] == [True, False]
        parent_chain = parents[r["sample_id"].split("~")[0]]["messages"][1]["content"][0]["text"]
        assert blocks[0]["text"] + blocks[1]["text"] == parent_chain
        assert blocks[1]["text"].startswith("<think>")
