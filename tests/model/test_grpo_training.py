"""GRPO for a few steps: our reward functions get the dataset's columns and each component is logged."""

from __future__ import annotations

import json

import pytest

from model.grpo_training import run_grpo
from model.train_config import TrainConfig


@pytest.mark.slow
def test_grpo_runs_and_logs_every_reward_component(demo_export, tiny_vlm, tmp_path):
    config = TrainConfig()
    config.model.init = str(tiny_vlm)
    config.data.path = str(demo_export)
    config.data.max_samples = 4
    config.rewards.weights = {"format": 1.0, "semantic": 1.0, "entity": 0.5, "answer": 1.0}
    config.trainer = {
        "per_device_train_batch_size": 4,
        "num_generations": 4,
        "max_completion_length": 12,
        "learning_rate": 1e-4,
        "gradient_checkpointing": False,
        "use_cpu": True,
        "seed": 0,
    }
    result = run_grpo(config, tmp_path / "grpo", max_steps=2)
    assert result.steps == 2
    steps = [json.loads(line) for line in (tmp_path / "grpo" / "metrics.jsonl").read_text().splitlines()]
    logged = [s for s in steps if "reward" in s]
    assert len(logged) == 2
    for s in logged:
        for name in ("format", "semantic", "entity", "answer"):
            assert 0.0 <= s[f"rewards/{name}/mean"] <= 1.0
        # A random tiny model writes no chain: format and answer are 0, semantic is a real cosine > 0.
        assert s["rewards/format/mean"] == 0.0 and s["rewards/answer/mean"] == 0.0
        assert s["rewards/semantic/mean"] > 0.0
        total = s["rewards/format/mean"] + s["rewards/semantic/mean"] + 0.5 * s["rewards/entity/mean"]
        assert abs(s["reward"] - total - s["rewards/answer/mean"]) < 1e-4
