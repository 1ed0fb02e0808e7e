"""Content keys: a stage's work for a case is identified by what went into it.

key = sha256(stage name, code version, parameters, input fingerprints). Equal key means the
output would be the same, so the runner skips it; any change in inputs, parameters or code
gives a new key and the case is redone.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

#: Top-level packages of this project whose modules count as a stage's code when the stage imports them.
CODE_PACKAGES = ("pathkg", "schemas")


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


def key_params_json(params: BaseModel, key_exclude: Iterable[str]) -> str:
    """A stage's parameters as they enter its content keys (the runner's keys and `pathkg diff`'s recomputed ones)."""
    return canonical_json(params.model_dump(mode="json", exclude=set(key_exclude)))


def downstream_key(stage: str, code_version: str, params_json: str, upstream: Iterable[tuple[str, str]]) -> str:
    """The key of a case-scope stage that reads other stages: its upstream stages' keys for the case, in order."""
    return content_key(stage, code_version, params_json, [(up, key) for up, key in upstream])


@functools.lru_cache(maxsize=1024)
def _imported_modules(source: str, module_name: str, packages: tuple[str, ...]) -> frozenset[str]:
    """Names of the project modules a module's source imports (absolute and relative imports).

    Cached by source text: the stages of a run share most of their closures, so each module is parsed once."""
    found: set[str] = set()
    package = module_name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            # `from pkg import module` names a module too.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(name for name in found if name.split(".", 1)[0] in packages)


@functools.cache
def _package_dirs(top: str) -> tuple[str, ...]:
    spec = importlib.util.find_spec(top)  # imports only the top package's __init__
    return tuple(spec.submodule_search_locations or ()) if spec else ()


def _module_source(name: str) -> str | None:
    """A project module's source, found on disk without importing it (importing spaCy to hash a file is slow)."""
    loaded = sys.modules.get(name)
    candidates = [getattr(loaded, "__file__", None)] if loaded is not None else []
    top, _, rest = name.partition(".")
    for base in _package_dirs(top):
        path = Path(base, *rest.split(".")) if rest else Path(base)
        candidates += [str(path.with_suffix(".py")), str(path / "__init__.py")]
    for candidate in candidates:
        if candidate and candidate.endswith(".py") and os.path.isfile(candidate):
            return Path(candidate).read_text(encoding="utf-8")
    return None


@functools.cache
def code_closure(module_name: str, packages: tuple[str, ...] = CODE_PACKAGES) -> dict[str, str]:
    """Source of a module and of every module of `packages` it imports, transitively, by module name.

    A stage's output depends on the writers, linkers and schemas it calls, not only on its own
    module: an edit to any of them (a template's wording, a regex of the PHI scrub) must rerun it.
    """
    seen: dict[str, str] = {}
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        source = _module_source(name)
        if source is None:
            continue  # `from pkg import function`: the name is not a module
        seen[name] = source
        todo.extend(_imported_modules(source, name, packages) - seen.keys())
    return seen


def code_closure_hash(module_name: str, packages: tuple[str, ...] = CODE_PACKAGES) -> str:
    h = hashlib.sha256()
    for name, source in sorted(code_closure(module_name, packages).items()):
        h.update(name.encode())
        h.update(b"\x00")
        h.update(source.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()


def code_version_of(cls: type) -> str:
    """Declared version plus a hash of the stage's module and the project modules it imports.

    The declared `version` is what a developer bumps on purpose; the source hash catches the
    edit nobody remembered to bump for, in the stage's module or in any project module it uses.
    """
    declared = getattr(cls, "version", "0")
    module = inspect.getmodule(cls)
    if module is None or module.__name__ == "__main__":
        try:
            digest = sha256_text(inspect.getsource(module))  # type: ignore[arg-type]
        except (OSError, TypeError):
            digest = sha256_text(cls.__qualname__)
    else:
        # A class defined somewhere without a source file has only its name to go by.
        has_source = _module_source(module.__name__) is not None
        digest = code_closure_hash(module.__name__) if has_source else sha256_text(cls.__qualname__)
    return f"{declared}+{digest[:12]}"
