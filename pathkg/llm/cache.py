"""On-disk cache of LLM responses, keyed by model + messages + request parameters.

One JSON file per response under `<dir>/<key[:2]>/<key>.json`, written atomically (temp file +
rename), so a killed run never leaves a torn entry and a rerun replays every answered request
without calling the endpoint. Only answered requests are stored (an HTTP error is not an answer);
an answer that fails validation is stored too (its repair request then replays as well), but
when the repair fails as well the extractor forgets both, so a retry of that case asks again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def cache_key(model: str, messages: list[dict[str, str]], params: dict[str, Any]) -> str:
    payload = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, json.JSONDecodeError):  # unreadable entry: treat as a miss, it gets rewritten
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def forget(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # No fsync: losing a cache entry to a power cut costs one request, not correctness.
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
