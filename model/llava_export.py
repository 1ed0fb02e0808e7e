"""The corpus as LLaVA / SlideChat conversation JSON, so it trains in those codebases too.

    [{"id": ..., "image": [...], "conversations": [{"from": "human", "value": "<image>\\n..."},
                                                  {"from": "gpt", "value": "<observe>...</observe>..."}]}]

With `release_tags`, answers use the reference release's blocks: `<info>Histopathological Findings: …</info>`,
`<think>Clinical Reasoning: …</think>`, `<answer>Final Diagnosis: …</answer>`. Images are written beside the
JSON (`images/`), paths relative to it.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from model.data_adapters import READ_TAGS, load_view
from pathkg.rewards import ChainTags, parse_chain

RELEASE_TAGS = ChainTags(observe="info")


def release_chain(text: str) -> str:
    chain = parse_chain(text, READ_TAGS)
    if chain is None:
        return text
    return RELEASE_TAGS.render(
        f"Histopathological Findings: {chain.observe}",
        f"Clinical Reasoning: {chain.think}",
        f"Final Diagnosis: {chain.answer}",
    )


def conversation(row: dict[str, Any], image_paths: list[str], release_tags: bool = False) -> dict[str, Any]:
    turns = []
    for turn in row["messages"]:
        text = "".join(c.get("text") or "" for c in turn["content"] if c["type"] == "text")
        if turn["role"] == "user":
            n_images = sum(c["type"] == "image" for c in turn["content"])
            turns.append({"from": "human", "value": "<image>\n" * n_images + text})
        elif turn["role"] == "assistant":
            turns.append({"from": "gpt", "value": release_chain(text) if release_tags else text})
    return {"id": row["sample_id"], "image": image_paths, "conversations": turns}


def export_llava(export_dir: Path, out_dir: Path, split: str = "train", release_tags: bool = False) -> tuple[Path, int]:
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    ds = load_view(export_dir, "sft", split, decode_images=False)
    records = []
    for row in ds:
        paths = []
        for i, image in enumerate(row["images"]):
            rel = f"images/{row['sample_id']}-{i}.png"
            if not (out_dir / rel).exists():
                PILImage.open(io.BytesIO(image["bytes"])).save(out_dir / rel)
            paths.append(rel)
        records.append(conversation(row, paths, release_tags))
    target = out_dir / f"{split}.json"
    tmp = target.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(records, ensure_ascii=False, indent=1))
    os.replace(tmp, target)
    return target, len(records)
