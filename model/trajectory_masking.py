"""Trajectory-masked SFT augmentation: N seeded variants of each verified trajectory.

In each variant, parts of the evidence and reasoning (observation sentences, reasoning steps,
entity mentions) are hidden behind `[MASK]` in a partial trajectory shown in the model's input;
the target stays the full chain, so the model learns to rebuild what is missing. Each variant
records its parent sample, its seed and exactly what was masked. Augmentation runs inside one
split of the export (patient-level), so no variant crosses the split.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from datasets import Dataset, Features, List, Value

from model.data_adapters import READ_TAGS, load_view
from model.pseudo_bags import pseudo_bag_variants, write_cluster_labels
from pathkg.export.views import SFT_FEATURES
from pathkg.rewards import ChainTags, parse_chain

log = logging.getLogger(__name__)

MASK = "[MASK]"
HINT_HEADER = "Partial trajectory (hidden parts are shown as [MASK]; write the complete chain):"
_BLOCK = {"type": Value("string"), "text": Value("string"), "context": Value("bool")}
AUGMENTED_FEATURES = Features(
    {
        **SFT_FEATURES,
        "messages": List({"role": Value("string"), "content": List(_BLOCK)}),
        "parent_id": Value("string"),
        "seed": Value("int64"),
        "masked": Value("string"),
        "feature_bag": Value("string"),
        "dropped_cluster": Value("int64"),
    }
)
_SENTENCE = re.compile(r"(?<=[.!?;])\s+(?=\S)")


@dataclass(frozen=True)
class MaskingConfig:
    """What a variant hides. Each unit is masked independently with its ratio; at least one unit is."""

    n_variants: int = 10
    #: `input`: parts of the chain hidden in a partial trajectory in the user turn, the loss on the full chain.
    #: `prefix`: a prefix of the chain (observations, then reasoning steps) given as context inside the
    #: assistant turn and left out of the loss, which covers the rest.
    mode: str = "input"
    observation_ratio: float = 0.3
    reasoning_ratio: float = 0.3
    entity_ratio: float = 0.3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ("input", "prefix"):
            raise ValueError(f"unknown augmentation mode {self.mode!r}; use input or prefix")


@dataclass(frozen=True)
class MaskedUnit:
    kind: str  # observation | reasoning | entity
    index: int
    text: str


@dataclass
class Variant:
    parent_id: str
    seed: int
    hint: str
    masked: list[MaskedUnit] = field(default_factory=list)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


def _mask_entities(text: str, mentions: list[str], rng: random.Random, ratio: float, start: int) -> tuple[str, list]:
    masked = []
    for i, mention in enumerate(sorted(set(mentions), key=len, reverse=True)):
        pattern = re.compile(rf"\b{re.escape(mention)}\b", re.IGNORECASE)
        if rng.random() < ratio and pattern.search(text):
            text = pattern.sub(MASK, text)
            masked.append(MaskedUnit("entity", start + i, mention))
    return text, masked


def make_variant(
    chain_text: str, parent_id: str, seed: int, config: MaskingConfig, mentions: list[str] | None = None
) -> Variant | None:
    """One masked view of a chain (None when the chain does not parse: only verified chains are used)."""
    chain = parse_chain(chain_text, READ_TAGS)
    if chain is None:
        return None
    rng = random.Random(seed)
    units = {"observation": sentences(chain.observe), "reasoning": sentences(chain.think)}
    ratios = {"observation": config.observation_ratio, "reasoning": config.reasoning_ratio}
    keep = {kind: [rng.random() >= ratios[kind] for _ in parts] for kind, parts in units.items()}
    masked = [
        MaskedUnit(kind, i, part) for kind, parts in units.items() for i, part in enumerate(parts) if not keep[kind][i]
    ]
    rendered = {
        kind: " ".join(p if keep[kind][i] else MASK for i, p in enumerate(parts)) for kind, parts in units.items()
    }
    entity_masked: list[MaskedUnit] = []
    if mentions:
        for kind in rendered:
            rendered[kind], found = _mask_entities(
                rendered[kind], mentions, rng, config.entity_ratio, len(entity_masked)
            )
            entity_masked.extend(found)
    masked.extend(entity_masked)
    if not masked:  # a variant that hides nothing teaches copying: hide one reasoning step
        i = rng.randrange(len(units["reasoning"]))
        masked.append(MaskedUnit("reasoning", i, units["reasoning"][i]))
        rendered["reasoning"] = " ".join(MASK if j == i else p for j, p in enumerate(units["reasoning"]))
    o, t = chain.observe_tag, ChainTags().think
    hint = f"<{o}>{rendered['observation']}</{o}>\n<{t}>{rendered['reasoning']}</{t}>"
    return Variant(parent_id=parent_id, seed=seed, hint=hint, masked=masked)


def prefix_cuts(chain_text: str) -> list[int]:
    """Offsets where a given prefix may end: before `<think>`, then after each reasoning step.

    A cut sits before the whitespace that opens the next step, so byte-level tokens never straddle it.
    """
    chain = parse_chain(chain_text, READ_TAGS)
    if chain is None:
        return []
    think_open = f"<{ChainTags().think}>"
    start = chain_text.find(think_open)
    body_start = start + len(think_open)
    body_end = chain_text.find(f"</{ChainTags().think}>", body_start)
    cuts = [start]
    cuts += [body_start + m.start() for m in _SENTENCE.finditer(chain_text[body_start:body_end])]
    return cuts


def with_prefix(messages: list[dict[str, Any]], chain_text: str, cut: int) -> list[dict[str, Any]]:
    """The assistant turn split at `cut`: the prefix is context (not trained), the rest is the target."""
    out = [dict(t) for t in messages]
    out[-1] = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": chain_text[:cut], "context": True},
            {"type": "text", "text": chain_text[cut:], "context": False},
        ],
    }
    return out


def variant_seed(base_seed: int, parent_id: str, index: int) -> int:
    # Stable across runs and Python processes (no hash randomisation).
    return random.Random(f"{base_seed}:{parent_id}:{index}").randrange(2**31)


def with_hint(messages: list[dict[str, Any]], hint: str) -> list[dict[str, Any]]:
    """The user turn gets the partial trajectory after its text; the assistant turn is unchanged."""
    out = []
    for turn in messages:
        content = [dict(c) for c in turn["content"]]
        if turn["role"] == "user":
            last_text = max(i for i, c in enumerate(content) if c["type"] == "text")
            content[last_text]["text"] = f"{content[last_text]['text']}\n\n{HINT_HEADER}\n{hint}"
        out.append({"role": turn["role"], "content": content})
    return out


def _entity_mentions(path: Path, split: str) -> dict[str, list[str]]:
    """sample_id → the surface texts of its asserted entities, from the export's default config."""
    try:
        ds = load_view(path, "data", split, decode_images=False)
    except Exception as exc:
        log.warning("no entity mentions for %s (%s): %s", path, split, exc)
        return {}
    out: dict[str, list[str]] = {}
    for row in ds.select_columns(["sample_id", "description_entities", "diagnosis_entities"]):
        ents = [*row["description_entities"], *row["diagnosis_entities"]]
        out[row["sample_id"]] = [e["name"] for e in ents if not e["negated"] and len(e["name"]) > 2]
    return out


def augment_rows(
    rows: Iterable[dict[str, Any]],
    config: MaskingConfig,
    mentions: dict[str, list[str]],
    bags: dict[str, PatientBag] | None = None,
) -> Iterator[dict]:
    for row in rows:
        bag = (bags or {}).get(row["patient_id"])
        drops = pseudo_bag_variants(bag.labels, config.n_variants, config.seed) if bag else []
        assistant = next(t for t in row["messages"] if t["role"] == "assistant")
        chain_text = "".join(c.get("text") or "" for c in assistant["content"])
        cuts = prefix_cuts(chain_text) if config.mode == "prefix" else []
        if config.mode == "prefix":
            order = random.Random(variant_seed(config.seed, row["sample_id"], -1)).sample(cuts, len(cuts))
        for k in range(config.n_variants):
            seed = variant_seed(config.seed, row["sample_id"], k)
            if config.mode == "prefix":
                if k >= len(cuts):  # a short chain has fewer distinct prefixes than variants
                    break
                cut = order[k]
                yield {
                    "sample_id": f"{row['sample_id']}~p{k}",
                    "patient_id": row["patient_id"],
                    "parent_id": row["sample_id"],
                    "seed": seed,
                    "masked": json.dumps(
                        [{"kind": "context_prefix", "index": cuts.index(cut), "text": chain_text[:cut]}]
                    ),
                    "messages": with_prefix(row["messages"], chain_text, cut),
                    "images": row["images"],
                    "feature_bag": str(bag.path) if bag else None,
                    "dropped_cluster": drops[k].dropped_cluster if bag else None,
                }
                continue
            variant = make_variant(chain_text, row["sample_id"], seed, config, mentions.get(row["sample_id"]))
            if variant is None:
                log.warning("sample %s: chain does not parse; not augmented", row["sample_id"])
                break
            yield {
                "sample_id": f"{row['sample_id']}~m{k}",
                "patient_id": row["patient_id"],
                "parent_id": variant.parent_id,
                "seed": variant.seed,
                "masked": json.dumps([asdict(u) for u in variant.masked]),
                "messages": with_hint(row["messages"], variant.hint),
                "images": row["images"],
                "feature_bag": str(bag.path) if bag else None,
                "dropped_cluster": drops[k].dropped_cluster if bag else None,
            }


@dataclass(frozen=True)
class PatientBag:
    path: Path
    labels: Any  # np.ndarray of k-means cluster ids, one per patch


def patient_bags(features_dir: Path, patient_ids: Iterable[str], k: int = 8, seed: int = 0) -> dict[str, PatientBag]:
    """Feature bags (`pathkg slides features`) whose file name starts with a patient id (TCGA barcodes do).

    Cluster labels are read from the bag (`pseudo_bag_labels`) or computed and stored there.
    """
    import h5py

    bags = {}
    files = sorted(Path(features_dir).glob("*.h5"))
    for patient in set(patient_ids):
        match = next((f for f in files if f.stem.upper().startswith(patient.upper())), None)
        if match is None:
            continue
        with h5py.File(match, "r") as h5:
            labels = h5["pseudo_bag_labels"][()] if "pseudo_bag_labels" in h5 else None
        if labels is None:
            labels = write_cluster_labels(match, k, seed)
        if len(set(labels.tolist())) >= 2:
            bags[patient] = PatientBag(match, labels)
    log.info("pseudo-bag masking: %d patients with a feature bag in %s", len(bags), features_dir)
    return bags


def augment_export(
    export_dir: Path,
    out_dir: Path,
    config: MaskingConfig,
    splits: tuple[str, ...] = ("train",),
    progress: Any = None,
    features_dir: Path | None = None,
    clusters: int = 8,
) -> dict[str, int]:
    """Write `out_dir/{split}.parquet` (variants) and `out_dir/augment.json`; returns rows per split.

    With `features_dir`, each variant of a patient that has a feature bag also drops one k-means
    cluster of its patches (pseudo-bag masking): `feature_bag` and `dropped_cluster` say which.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for split in splits:
        ds = load_view(export_dir, "sft", split, decode_images=False)
        mentions = _entity_mentions(export_dir, split)
        bags = patient_bags(features_dir, ds["patient_id"], clusters, config.seed) if features_dir else None
        rows = list(augment_rows(ds, config, mentions, bags))
        if progress is not None:
            progress(split, len(ds), len(rows))
        if rows:
            tmp = out_dir / f".{split}.parquet.tmp"
            Dataset.from_list(rows, features=AUGMENTED_FEATURES).to_parquet(str(tmp))
            tmp.replace(out_dir / f"{split}.parquet")
        counts[split] = len(rows)
    manifest = {"source": str(export_dir), "config": asdict(config), "counts": counts, "mask_token": MASK}
    (out_dir / "augment.json").write_text(json.dumps(manifest, indent=2))
    return counts
