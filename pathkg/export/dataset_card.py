"""The dataset card (`README.md` with YAML front matter) that `datasets` and the Hub read.

Besides configs, features and counts, the card records how to regenerate the corpus exactly
(`regeneration_record`): the command, the exact pipeline config (its text is in the card, with its
sha256), the environment variables the config reads, package versions, git revision, KG versions,
prompt versions, models (names only, never endpoints) and seeds, all as the run recorded them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml
from datasets import Features

#: Where in the export the exact config text is kept.
CONFIG_SECTION = "Pipeline config"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

LICENSE_NOTE = (
    "Derived from TCGA open-access data (NIH GDC data use policies apply). Report text from the "
    "TCGA path-reports corpus (tatonetti-lab/tcga-path-reports, MIT). Knowledge-graph vocabulary from "
    "OncoTree (CC BY 4.0), the Disease Ontology (CC0), NCI Thesaurus (CC BY 4.0) and PathoML "
    "(Apache-2.0); curated relations by the pathkg authors."
)


def _repo_root() -> Path | None:
    src = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out.stdout.strip()).resolve() if out.returncode == 0 and out.stdout.strip() else None


def _shown(path: Path, root: Path | None) -> str:
    """A path relative to the repository root when it lies inside it (the command runs from there)."""
    path = path.resolve()
    if root is not None and path.is_relative_to(root):
        return str(path.relative_to(root))
    return str(path)


#: Parameters that say where a service runs, not what the corpus is (no content key holds them).
ENDPOINT_KEYS = ("base_url", "base_urls_file", "neo4j_uri")
_KEYS = "|".join(ENDPOINT_KEYS)
# `key: value` up to a `,` `}` `]` or comment (flow style), or `key: [a, b]`.
_ENDPOINT_INLINE = re.compile(rf"(?P<key>\b(?:{_KEYS})\s*:[ \t]*)(?P<value>\[[^\]]*\]|[^,}}\]\n#]*[^,}}\]\n#\s])")
_ENDPOINT_BLOCK = re.compile(rf"^(?P<indent>[ \t]*)(?:-[ \t]+)?(?:{_KEYS})[ \t]*:[ \t]*(?:#.*)?$")
REDACTED = "<endpoint: set your own>"


def redact_endpoints(config_text: str) -> str:
    """The config with endpoint values (LLM servers, Neo4j) replaced: a card names models, never hosts.

    Everything else stays byte for byte; endpoints are not part of any content key, so the corpus
    regenerates the same from any server that serves the recorded model.
    """
    lines = config_text.split("\n")
    out: list[str] = []
    list_indent: int | None = None  # inside a block list of endpoints (`base_url:` then `- http://…` lines)
    for line in lines:
        if list_indent is not None:
            stripped = line.lstrip()
            if stripped.startswith("- ") and len(line) - len(stripped) >= list_indent:
                out.append(line[: len(line) - len(stripped)] + "- " + REDACTED)
                continue
            list_indent = None
        block = _ENDPOINT_BLOCK.match(line)
        if block:
            list_indent = len(block.group("indent"))
            out.append(line)
            continue
        out.append(_ENDPOINT_INLINE.sub(lambda m: m.group("key") + REDACTED, line))
    return "\n".join(out)


def regeneration_record(run_dir: Path) -> dict[str, Any]:
    """How to regenerate the run's corpus exactly, from what its manifest recorded.

    Keys: `command`, `run_from`, `config` (path, sha256, where its exact text is), `config_text` (the text;
    `render_card` prints it in its own section), `environment` (variables the config reads, as now set),
    `git_revision`, `pathkg_version`, `packages`, `seeds`, `models` and `prompts` (per stage, from the
    stages' recorded parameters), `run_id`. Endpoints are left out everywhere, the config text included
    (`redact_endpoints`); `config.sha256` is the hash of the exact text as run.
    """
    run_dir = Path(run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    config = manifest.get("config", {})
    text: str = config.get("text", "")
    invocation = (manifest.get("invocations") or [{}])[-1]
    lineage = invocation.get("lineage") or {}
    params = {stage: json.loads(rec["params"]) for stage, rec in lineage.items()}
    root = _repo_root()
    recorded_path = config.get("path")
    config_file = Path(config.get("base_dir", ".")) / Path(recorded_path).name if recorded_path else None
    command = ["pathkg", "run", _shown(config_file, root) if config_file else "CONFIG", "--run-dir"]
    command += [_shown(run_dir, root), "--workers", str(invocation.get("workers", 1))]
    if invocation.get("executor", "local") != "local":
        command += ["--executor", str(invocation["executor"])]
    relative = root is not None and not command[2].startswith("/")
    environment: dict[str, str] = {}
    for var, default in _ENV_REF.findall(text):
        value = os.environ.get(var)
        environment[var] = value if value else f"unset (default: {default})" if default else "unset"
    uses_llm = {s for s, p in params.items() if p.get("backend") == "llm" or p.get("writer") == "llm"}
    return {
        "command": " ".join(command),
        "run_from": "the pathkg repository root, at git_revision" if relative else "any directory",
        "config": {
            "path": _shown(config_file, root) if config_file else None,
            "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "stored_in": f"README.md (this card), section '{CONFIG_SECTION}': the exact text, endpoints redacted",
        },
        "config_text": redact_endpoints(text),
        "environment": environment,
        "git_revision": invocation.get("git_revision"),
        "pathkg_version": invocation.get("pathkg_version"),
        "packages": invocation.get("packages", {}),
        "seeds": {s: p["seed"] for s, p in params.items() if isinstance(p.get("seed"), int)},
        "models": {s: p["model"] for s, p in params.items() if s in uses_llm and p.get("model")},
        "prompts": {s: p["prompt"] for s, p in params.items() if s in uses_llm and p.get("prompt")},
        "run_id": manifest.get("run_id"),
    }


def render_card(
    configs: dict[str, tuple[str, Features]],
    counts: dict[str, dict[str, int]],
    info: dict[str, Any],
) -> str:
    """configs: name -> (folder, features); counts: name -> split -> rows; info: provenance to record.

    `info["config_text"]`, when present, is printed verbatim in the card's config section.
    """
    info = dict(info)
    config_text = info.pop("config_text", None)
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
        *(
            [
                f"## {CONFIG_SECTION}",
                "",
                "The exact pipeline config the corpus was generated with (its sha256 is `config.sha256` above):",
                "",
                "````yaml",
                config_text.rstrip("\n"),
                "````",
                "",
            ]
            if config_text is not None
            else []
        ),
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


def read_regeneration(card: str) -> tuple[dict[str, Any], str | None]:
    """The provenance block of a card and the exact config text it stores (None if it has none)."""
    block = re.search(r"## Provenance and how to regenerate\n\n```yaml\n(.*?)\n```\n", card, re.S)
    if block is None:
        raise ValueError("dataset card has no 'Provenance and how to regenerate' block")
    config = re.search(rf"## {re.escape(CONFIG_SECTION)}\n.*?````yaml\n(.*?)\n````\n", card, re.S)
    return yaml.safe_load(block.group(1)), config.group(1) if config else None
