"""Versioned prompt files: `<name>/<version>.md` with a front matter and `## system` / `## user` /
`## repair` sections. The version (`report_extraction@v1`) goes into every record's provenance;
the prompt text itself is part of every cache key, so editing a file never serves stale answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).resolve().parent


class PromptNotFoundError(FileNotFoundError):
    pass


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str
    repair: str

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def messages(self, **values: str) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user.replace("{report}", values["report"])},
        ]

    def repair_message(self, error: str) -> dict[str, str]:
        return {"role": "user", "content": self.repair.replace("{error}", error)}


@cache
def load_prompt(spec: str) -> Prompt:
    """Load `name@version` (or `name/version`) from this package's prompt files, or a prompt file by path
    (`…/<name>/<version>.md`, e.g. a prompt being drafted outside the package; its front matter names it)."""
    if spec.endswith(".md"):
        path = Path(spec).expanduser()
        name, version = path.parent.name, path.stem
    else:
        name, _, version = spec.replace("/", "@").partition("@")
        path = PROMPT_DIR / name / f"{version or 'v1'}.md"
    if not path.is_file():
        known = sorted(f"{p.parent.name}@{p.stem}" for p in PROMPT_DIR.glob("*/*.md"))
        raise PromptNotFoundError(f"prompt {spec!r} not found at {path}; known prompts: {', '.join(known)}")
    text = path.read_text(encoding="utf-8")
    front = re.match(r"---\n(?P<meta>.*?)\n---\n", text, re.S)
    meta = dict(re.findall(r"^(\w+):\s*(.+)$", front.group("meta"), re.M)) if front else {}
    body = text[front.end() :] if front else text
    sections = dict(re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", body, re.S | re.M))
    missing = {"system", "user", "repair"} - set(sections)
    if missing:
        raise ValueError(f"prompt file {path} lacks section(s): {', '.join(sorted(missing))}")
    return Prompt(
        name=meta.get("name", name),
        version=meta.get("version", version),
        system=sections["system"].strip(),
        user=sections["user"].strip(),
        repair=sections["repair"].strip(),
    )
