"""Annotator tokens: `RUN_DIR/review/annotators.json` keeps each annotator's name and the sha256 of their token.

The token itself is shown once, when it is made; adding an existing name again issues a new token and the
old one stops working.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AnnotatorTokens:
    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def for_run(cls, run_dir: Path) -> AnnotatorTokens:
        return cls(Path(run_dir) / "review" / "annotators.json")

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def names(self) -> list[str]:
        return sorted(self._load())

    def add(self, name: str) -> str:
        """Make (or replace) `name`'s token and return it. ValueError on a name that is not a plain handle."""
        if not _NAME.match(name):
            raise ValueError(f"annotator name {name!r}: use letters, digits and . _ @ - (at most 64 characters)")
        token = secrets.token_urlsafe(24)
        table = self._load()
        table[name] = {"token_sha256": _digest(token), "created": datetime.now(UTC).isoformat()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".annotators-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(table, fh, indent=2, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        return token

    def annotator_for(self, token: str | None) -> str | None:
        """The annotator a token belongs to, or None (compared in constant time)."""
        if not token:
            return None
        digest = _digest(token)
        found = None
        for name, entry in self._load().items():
            if hmac.compare_digest(entry["token_sha256"], digest):
                found = name
        return found
