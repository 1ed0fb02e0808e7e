"""A trainer callback that shows each logged step (rich) and appends it to `metrics.jsonl`."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

log = logging.getLogger("model.training")


class MetricsLog(TrainerCallback):
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("")
        self.records: list[dict[str, Any]] = []

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **_: Any) -> None:
        if not logs:
            return
        record = {"step": state.global_step, **{k: v for k, v in logs.items() if isinstance(v, int | float | str)}}
        self.records.append(record)
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in record.items()}
        log.info("step %s/%s %s", state.global_step, state.max_steps, shown)

    def values(self, key: str) -> list[float]:
        return [r[key] for r in self.records if key in r]
