"""The run manifest: what ran, with what, from which code, how long it took, what it produced.

`<run_dir>/manifest.json` is rewritten atomically after every stage, so a killed run still
leaves a truthful record of what had finished.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pathkg
from pathkg.io.location import Location

TRACKED_PACKAGES = (
    "pathkg", "pydantic", "pyarrow", "typer", "rich", "numpy", "openslide-python", "openslide-bin",
    "neo4j", "ladybug", "spacy", "scispacy", "openai", "datasets", "torch", "transformers", "trl",
    "peft", "ray", "vllm",
)  # fmt: skip


def package_versions() -> dict[str, str]:
    versions = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    return versions


def git_revision() -> str:
    """The source revision of the installed pathkg, '+dirty' when it has uncommitted changes."""
    src = Path(pathkg.__file__).resolve().parent.parent
    try:
        rev = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(src), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunManifest:
    FILE = "manifest.json"

    def __init__(self, run_dir: Path | str | Location, data: dict[str, Any]):
        self.location = run_dir if isinstance(run_dir, Location) else Location.of(run_dir)
        self.run_dir = self.location.local if self.location.local is not None else self.location.url
        self.data = data

    @classmethod
    def path_in(cls, run_dir: Path) -> Path:
        return Path(run_dir) / cls.FILE

    @classmethod
    def load(cls, run_dir: Path | str | Location) -> RunManifest:
        location = run_dir if isinstance(run_dir, Location) else Location.of(run_dir)
        if not location.exists(cls.FILE):
            raise FileNotFoundError(f"{location.url} is not a pathkg run directory (no {cls.FILE})")
        return cls(location, json.loads(location.read_text(cls.FILE)))

    @classmethod
    def open(
        cls, run_dir: Path | str | Location, config_text: str, base_dir: Path, config_path: str | None
    ) -> RunManifest:
        """Load the run's manifest, or start one; the config recorded is the one now run."""
        try:
            manifest = cls.load(run_dir)
        except FileNotFoundError:
            manifest = cls(run_dir, {"run_id": uuid.uuid4().hex[:12], "created": now(), "invocations": []})
        manifest.data["config"] = {"path": config_path, "base_dir": str(base_dir), "text": config_text}
        return manifest

    @property
    def run_id(self) -> str:
        return self.data["run_id"]

    def start_invocation(self, command: str, workers: int) -> dict[str, Any]:
        inv = {
            "command": command,
            "started": now(),
            "finished": None,
            "workers": workers,
            "pathkg_version": pathkg.__version__,
            "git_revision": git_revision(),
            "packages": package_versions(),
            "stages": {},
        }
        self.data["invocations"].append(inv)
        self.save()
        return inv

    def save(self) -> None:
        text = json.dumps(self.data, indent=2, sort_keys=True, default=str) + "\n"
        self.location.write_text_atomic(text, self.FILE)
