"""Content keys: a stage's work for a case is identified by what went into it.

key = sha256(stage name, code version, parameters, input fingerprints). Equal key means the
output would be the same, so the runner skips it; any change in inputs, parameters or code
gives a new key and the case is redone.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from typing import Any


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def content_key(stage: str, code_version: str, params_json: str, inputs: Any) -> str:
    h = hashlib.sha256()
    for part in (stage, code_version, params_json, canonical_json(inputs)):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


def code_version_of(cls: type) -> str:
    """Declared version plus a hash of the module that defines the stage.

    The declared `version` is what a developer bumps on purpose; the source hash catches the
    edit nobody remembered to bump for.
    """
    declared = getattr(cls, "version", "0")
    try:
        source = inspect.getsource(inspect.getmodule(cls))  # type: ignore[arg-type]
    except (OSError, TypeError):
        source = cls.__qualname__
    return f"{declared}+{sha256_text(source)[:12]}"
