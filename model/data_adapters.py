"""Read the export's training views as the datasets TRL's trainers take.

`sft` view → rows `{messages, images}` (chat turns with image placeholders; the assistant turn is
the chain); `rl` view → rows `{prompt, images, answer, question_type, gt_entity_ids}`, the columns
GRPOTrainer passes to reward functions by name. A path may be an export folder (with `sft/` and
`rl/` subfolders) or a folder of Parquet files written by `pathkg train augment`.

Chains are re-rendered with the tags in use (default `observe`); data in the reference release's
format (`<info>`) is read through `ChainTags.accepting_info()`.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path
from typing import Any

from datasets import Dataset, Image, load_dataset

from pathkg.rewards import ChainTags, parse_chain

log = logging.getLogger(__name__)

READ_TAGS = ChainTags.accepting_info()


class TrainingDataError(ValueError):
    pass


def parquet_files(path: Path, view: str, split: str) -> list[str]:
    """The Parquet shards of one view and split: `path/view/split-*.parquet` or `path/split*.parquet`."""
    path = Path(path)
    for folder in (path / view, path):
        files = sorted(glob.glob(str(folder / f"{split}-*.parquet"))) + sorted(
            glob.glob(str(folder / f"{split}.parquet"))
        )
        if files:
            return files
    raise TrainingDataError(f"no {view!r} shards for split {split!r} under {path} (looked in {path / view} and {path})")


def load_view(path: Path, view: str, split: str = "train", decode_images: bool = True) -> Dataset:
    ds = load_dataset("parquet", data_files={split: parquet_files(path, view, split)}, split=split)
    if "images" in ds.column_names:
        ds = ds.cast_column("images", [Image(decode=decode_images)])
    return ds


def normalise_chain(text: str, tags: ChainTags = ChainTags()) -> str:
    """The chain rendered with `tags`; text that does not parse (released or ours) is kept as is."""
    chain = parse_chain(text, READ_TAGS) or parse_chain(text, tags)
    if chain is None:
        return text
    return tags.render(chain.observe, chain.think, chain.answer)


def _clean_block(c: dict[str, Any]) -> dict[str, Any]:
    # Arrow stores `text: None` on image blocks; chat templates want `{"type": "image"}` only.
    if c["type"] == "image":
        return {"type": "image"}
    block = {"type": "text", "text": c["text"]}
    if c.get("context"):  # a given prefix of the chain: rendered, not trained (trajectory prefix mode)
        block["context"] = True
    return block


def _clean_content(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_clean_block(c) for c in content]


def sft_messages(row: dict[str, Any], tags: ChainTags = ChainTags()) -> list[dict[str, Any]]:
    messages = []
    for turn in row["messages"]:
        content = _clean_content(turn["content"])
        if turn["role"] == "assistant" and not any(c.get("context") for c in content):
            text = "".join(c.get("text") or "" for c in content)
            content = [{"type": "text", "text": normalise_chain(text, tags)}]
        messages.append({"role": turn["role"], "content": content})
    if not messages or messages[-1]["role"] != "assistant":
        raise TrainingDataError(f"sample {row.get('sample_id')}: the last turn is not the assistant's chain")
    n_placeholders = sum(c["type"] == "image" for m in messages for c in m["content"])
    if n_placeholders != len(row["images"]):
        raise TrainingDataError(
            f"sample {row.get('sample_id')}: {n_placeholders} image placeholders but {len(row['images'])} images"
        )
    return messages


def load_sft(
    path: Path, split: str = "train", tags: ChainTags = ChainTags(), max_samples: int | None = None
) -> Dataset:
    """Rows `{sample_id, patient_id, messages, images}` ready for `SFTTrainer` (images decoded to PIL)."""
    ds = load_view(path, "sft", split)
    if max_samples is not None:
        ds = ds.select(range(min(max_samples, len(ds))))
    keep = {"sample_id", "patient_id", "messages", "images"}
    ds = ds.remove_columns([c for c in ds.column_names if c not in keep])
    rows = [{**row, "messages": sft_messages(row, tags)} for row in ds]
    log.info("SFT data: %d rows from %s (%s)", len(rows), path, split)
    return Dataset.from_list(rows, features=None).cast_column("images", [Image()])


def load_rl(path: Path, split: str = "train", max_samples: int | None = None) -> Dataset:
    """Rows `{prompt, images, answer, question_type, gt_entity_ids}` ready for `GRPOTrainer`."""
    ds = load_view(path, "rl", split)
    if max_samples is not None:
        ds = ds.select(range(min(max_samples, len(ds))))
    rows = [
        {**row, "prompt": [{"role": t["role"], "content": _clean_content(t["content"])} for t in row["prompt"]]}
        for row in ds
    ]
    log.info("RL data: %d rows from %s (%s)", len(rows), path, split)
    return Dataset.from_list(rows).cast_column("images", [Image()])


def training_texts(ds: Dataset) -> list[str]:
    """Every text of a chat dataset (for training a local tokenizer on what the model will see)."""
    column = "messages" if "messages" in ds.column_names else "prompt"
    texts = []
    for turns in ds[column]:
        for turn in turns:
            texts.extend(c["text"] for c in turn["content"] if c.get("text"))
    for extra in ("answer",):
        if extra in ds.column_names:
            texts.extend(t for t in ds[extra] if t)
    return texts
