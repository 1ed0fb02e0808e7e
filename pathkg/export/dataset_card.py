"""The dataset card (`README.md` with YAML front matter) that `datasets` and the Hub read."""

from __future__ import annotations

from typing import Any

import yaml
from datasets import Features

LICENSE_NOTE = (
    "Derived from TCGA open-access data (NIH GDC data use policies apply). Report text from the "
    "TCGA path-reports corpus (tatonetti-lab/tcga-path-reports, MIT). Knowledge-graph vocabulary from "
    "OncoTree (CC BY 4.0), the Disease Ontology (CC0), NCI Thesaurus (CC BY 4.0) and PathoML "
    "(Apache-2.0); curated relations by the pathkg authors."
)


def render_card(
    configs: dict[str, tuple[str, Features]],
    counts: dict[str, dict[str, int]],
    info: dict[str, Any],
) -> str:
    """configs: name -> (folder, features); counts: name -> split -> rows; info: provenance to record."""
    front: dict[str, Any] = {
        "license": "other",
        "license_name": "tcga-derived-mixed",
        "pretty_name": "PathReasoner KG-grounded pathology reasoning corpus (pathkg export)",
        "language": ["en"],
        "task_categories": ["image-text-to-text", "visual-question-answering"],
        "tags": ["pathology", "histopathology", "knowledge-graph", "chain-of-thought", "tcga"],
        "configs": [],
        "dataset_info": [],
    }
    for name, (folder, features) in configs.items():
        splits = counts.get(name, {})
        front["configs"].append(
            {
                "config_name": name,
                **({"default": True} if name == "default" else {}),
                "data_files": [{"split": s, "path": f"{folder}/{s}-*.parquet"} for s in sorted(splits)],
            }
        )
        front["dataset_info"].append(
            {
                "config_name": name,
                "features": features._to_yaml_list(),
                "splits": [{"name": s, "num_examples": n} for s, n in sorted(splits.items())],
            }
        )
    default_counts = counts.get("default", {})
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        "# PathReasoner corpus (pathkg export)",
        "",
        "Knowledge-graph-grounded chains of thought about TCGA pathology slides and reports, in the form",
        "`<observe>…</observe>\\n<think>…</think>\\n<answer>…</answer>`, verified before export. Samples that",
        "verification flagged are exported only after an annotator accepted them.",
        "",
        "## Configs",
        "- `default`: the full sample (question, findings, diagnosis, response, answer, linked entities, KG",
        "  paths, verification and review records, provenance), images as `Image` features.",
        "- `sft`: chat `messages` with `images`, for supervised fine-tuning.",
        "- `rl`: `prompt`, `images`, reference `answer`, `question_type` and `gt_entity_ids`, for GRPO.",
        "",
        "Splits are by patient (deterministic hash of the patient id): no patient is in two splits.",
        "",
        "## Counts",
        "",
        "| split | samples |",
        "|---|---|",
        *[f"| {s} | {n} |" for s, n in sorted(default_counts.items())],
        "",
        "## Loading",
        "",
        "```python",
        "from datasets import load_dataset",
        'ds = load_dataset("path/to/export")            # default config',
        'sft = load_dataset("path/to/export", "sft")',
        "```",
        "",
        "## Provenance and how to regenerate",
        "",
        "```yaml",
        yaml.safe_dump(info, sort_keys=True, allow_unicode=True).rstrip(),
        "```",
        "",
        "## Licence and sources",
        "",
        LICENSE_NOTE,
        "",
    ]
    return "\n".join(lines)


def read_front_matter(card: str) -> dict[str, Any]:
    if not card.startswith("---\n"):
        raise ValueError("dataset card has no YAML front matter")
    end = card.index("\n---", 4)
    return yaml.safe_load(card[4:end])
