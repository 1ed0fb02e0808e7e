"""The GPU check: a ~100M-parameter Qwen2-VL-style model in bf16 on one GPU, 20 SFT and 5 GRPO steps.

Prints steps/s and peak GPU memory for each phase as one JSON line per phase (and a summary).
Data: an export folder (argument), or a small synthetic-but-real one built from Sample records.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from model.grpo_training import run_grpo
from model.sft_training import run_sft
from model.train_config import TrainConfig

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def demo_export(root: Path) -> Path:
    from pathkg.export.corpus_export import export_corpus
    from tests.export.test_export import make_samples

    export_corpus(make_samples(root, n_patients=24, per_patient=4), root / "export", root)
    return root / "export"


def phase(name: str, run, config: TrainConfig, out: Path, steps: int, data: str) -> dict:
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize()
    started = time.perf_counter()
    result = run(config, out, max_steps=steps, data_path=data)
    torch.cuda.synchronize()
    wall = time.perf_counter() - started
    runtime = next((r["train_runtime"] for r in result.metrics if "train_runtime" in r), wall)
    report = {
        "phase": name,
        "steps": result.steps,
        "steps_per_s": round(result.steps / runtime, 3),
        "train_runtime_s": round(runtime, 1),
        "wall_s_with_setup": round(wall, 1),
        "peak_gpu_mem_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
        "loss_first_last": result.losses[:1] + result.losses[-1:],
        "rewards": [round(r["reward"], 4) for r in result.metrics if "reward" in r],
    }
    print(json.dumps(report), flush=True)
    return report


def main() -> None:
    if not torch.cuda.is_available():
        sys.exit("gpu_smoke: no CUDA device visible to torch")
    work = Path(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else Path(tempfile.mkdtemp(prefix="gpu-smoke-"))
    data = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else str(demo_export(work / "data"))
    sft = TrainConfig.from_yaml(CONFIGS / "gpu-100m.yaml")
    grpo = TrainConfig.from_yaml(CONFIGS / "gpu-100m-grpo.yaml")
    print(json.dumps({"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "data": data}), flush=True)
    s = phase("sft", run_sft, sft, work / "sft", 20, data)
    grpo.model.init = str(work / "sft" / "final")
    g = phase("grpo", run_grpo, grpo, work / "grpo", 5, data)
    print(json.dumps({"summary": {"sft": s, "grpo": g}}), flush=True)


if __name__ == "__main__":
    main()
