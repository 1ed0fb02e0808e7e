"""SFT with TRL's SFTTrainer on a Qwen2-VL-family model, loss on the assistant turn only.

The chat template carries `{% generation %}` markers, so TRL's vision collator masks every token
outside the assistant's chain (system, user text, image tokens, padding) with -100.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.data_adapters import load_sft, training_texts
from model.model_loading import load_model_and_processor, peft_config, resolve_init
from model.progress_logging import MetricsLog
from model.train_config import TrainConfig

log = logging.getLogger(__name__)

#: SFTConfig values this module needs whatever the YAML says (vision rows are collated on the fly).
_REQUIRED = {"assistant_only_loss": True, "remove_unused_columns": False}
_DEFAULTS = {"report_to": "none", "logging_steps": 1, "save_strategy": "no", "max_length": None}


@dataclass
class RunResult:
    output_dir: Path
    steps: int
    losses: list[float]
    seconds: float
    metrics: list[dict[str, Any]]


def sft_args(config: TrainConfig, output_dir: Path, max_steps: int | None) -> Any:
    from trl import SFTConfig

    values = {**_DEFAULTS, **config.trainer, **_REQUIRED, "output_dir": str(output_dir)}
    if max_steps is not None:
        values["max_steps"] = max_steps
    return SFTConfig(**values)


def run_sft(
    config: TrainConfig, output_dir: Path, max_steps: int | None = None, data_path: str | None = None
) -> RunResult:
    """Train, save the model and processor to `output_dir/final`, and return the logged losses."""
    from trl import SFTTrainer

    output_dir = Path(output_dir)
    started = time.perf_counter()
    train = load_sft(Path(data_path or config.data.path), config.data.split, max_samples=config.data.max_samples)
    init = resolve_init(config.model, training_texts(train), output_dir)
    model, processor = load_model_and_processor(config.model, init)
    metrics = MetricsLog(output_dir / "metrics.jsonl")
    trainer = SFTTrainer(
        model=model,
        args=sft_args(config, output_dir, max_steps),
        train_dataset=train,
        processing_class=processor,
        peft_config=peft_config(config.lora),
        callbacks=[metrics],
    )
    trainer.train()
    trainer.save_model(str(output_dir / "final"))
    processor.save_pretrained(str(output_dir / "final"))
    seconds = time.perf_counter() - started
    losses = metrics.values("loss")
    log.info(
        "SFT done: %d steps in %.1fs, loss %s → %s",
        trainer.state.global_step,
        seconds,
        losses[0] if losses else None,
        losses[-1] if losses else None,
    )
    return RunResult(output_dir, trainer.state.global_step, losses, seconds, metrics.records)
