"""Where a run's weights come from: a locally built tiny model, or a Qwen2-VL / Qwen2.5-VL checkpoint."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from model.tiny_vlm import CHAT_TEMPLATE, TinyVLMSpec, build_tiny_vlm
from model.train_config import LoraSection, ModelSection

log = logging.getLogger(__name__)


def resolve_init(section: ModelSection, texts: list[str], work_dir: Path) -> str:
    """A folder or hub id to load: `tiny` builds one under `work_dir/init` from the run's texts."""
    if section.init != "tiny":
        return section.init
    folder = Path(work_dir) / "init"
    if not (folder / "config.json").exists():
        spec = TinyVLMSpec.from_dict(section.tiny)
        build_tiny_vlm(texts, folder, spec, seed=section.seed)
        log.info("built a tiny Qwen2-VL-style model and tokenizer in %s", folder)
    return str(folder)


def load_model_and_processor(section: ModelSection, init: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    dtype = getattr(torch, section.dtype)
    processor = AutoProcessor.from_pretrained(init)
    if "{% generation %}" not in (processor.chat_template or ""):
        # Qwen2-VL's released template has no generation markers; ours renders the same turns and adds
        # them (and the `context` blocks of prefix-mode augmentation), so the loss masks stay exact.
        log.info("%s: using pathkg's Qwen2-VL chat template with generation markers", init)
        processor.chat_template = CHAT_TEMPLATE
        processor.tokenizer.chat_template = CHAT_TEMPLATE
    model = AutoModelForImageTextToText.from_pretrained(init, dtype=dtype)
    log.info("model %s: %.2fM parameters (%s)", init, model.num_parameters() / 1e6, section.dtype)
    return model, processor


def peft_config(section: LoraSection) -> Any:
    """A peft LoraConfig on the language model's projections, or None when LoRA is off."""
    if not section.enabled:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=section.r,
        lora_alpha=section.alpha,
        lora_dropout=section.dropout,
        target_modules=section.target_modules,
        task_type="CAUSAL_LM",
    )
