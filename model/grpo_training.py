"""Knowledge-aware GRPO with TRL's GRPOTrainer and pathkg's reward functions.

Rewards: format + semantic + 0.5 · entity by default (weights in config); TRL logs each component as
`rewards/<name>/mean` and the weighted total as `reward`. Generation goes through vLLM when the
`vllm` extra and a GPU are present (`trainer.use_vllm: true`), plain `generate` otherwise.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from pathlib import Path
from typing import Any

from model.data_adapters import load_rl, training_texts
from model.grpo_rewards import build_rewards
from model.model_loading import load_model_and_processor, peft_config, resolve_init
from model.progress_logging import MetricsLog
from model.sft_training import RunResult
from model.train_config import TrainConfig

log = logging.getLogger(__name__)

_DEFAULTS = {
    "report_to": "none",
    "logging_steps": 1,
    "save_strategy": "no",
    "num_generations": 4,  # the reference release: 4 samples per prompt
    "beta": 0.05,  # and KL 0.05
    "max_completion_length": 128,
}


def vllm_usable() -> bool:
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def grpo_args(config: TrainConfig, output_dir: Path, max_steps: int | None) -> Any:
    from trl import GRPOConfig

    values = {**_DEFAULTS, **config.trainer, "output_dir": str(output_dir), "remove_unused_columns": False}
    values.setdefault("reward_weights", None)
    if values.get("use_vllm") and not vllm_usable():
        log.warning("use_vllm requested but vllm or a GPU is missing: generating with plain `generate`")
        values["use_vllm"] = False
    if max_steps is not None:
        values["max_steps"] = max_steps
    return GRPOConfig(**values)


def run_grpo(
    config: TrainConfig, output_dir: Path, max_steps: int | None = None, data_path: str | None = None
) -> RunResult:
    from trl import GRPOTrainer

    output_dir = Path(output_dir)
    started = time.perf_counter()
    data = Path(data_path or config.data.path)
    train = load_rl(data, config.data.split, max_samples=config.data.max_samples)
    init = resolve_init(config.model, training_texts(train), output_dir)
    model, processor = load_model_and_processor(config.model, init)
    functions, weights = build_rewards(config.rewards, data, config.data.split)
    args = grpo_args(config, output_dir, max_steps)
    args.reward_weights = weights
    log.info("GRPO rewards: %s", ", ".join(f"{w} · {f.__name__}" for f, w in zip(functions, weights, strict=True)))
    metrics = MetricsLog(output_dir / "metrics.jsonl")
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=functions,
        args=args,
        train_dataset=train,
        processing_class=processor,
        peft_config=peft_config(config.lora),
        callbacks=[metrics],
    )
    trainer.train()
    trainer.save_model(str(output_dir / "final"))
    processor.save_pretrained(str(output_dir / "final"))
    seconds = time.perf_counter() - started
    rewards = metrics.values("reward")
    log.info("GRPO done: %d steps in %.1fs, reward %s", trainer.state.global_step, seconds, rewards)
    return RunResult(output_dir, trainer.state.global_step, metrics.values("loss"), seconds, metrics.records)
