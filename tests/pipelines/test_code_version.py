"""A stage's code version covers the project modules it calls, so editing one reruns the stage."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.content_key import code_closure, code_closure_hash, code_version_of
from pipelines.stages.generate import GenerateStage
from pipelines.stages.verify import VerifyStage


def test_generate_covers_the_writers_it_calls() -> None:
    closure = code_closure("pipelines.stages.generate")
    assert {"pathkg.corpus.template_writer", "pathkg.corpus.llm_writer", "schemas.generated_chain"} <= closure.keys()
    assert not any(name.startswith("pipelines.runner") for name in closure)  # the runner is not stage code


def test_verify_covers_the_linker_and_the_rewards() -> None:
    closure = code_closure("pipelines.stages.verify")
    assert "pathkg.linking.entity_linker" in closure
    assert any(name.startswith("pathkg.rewards") for name in closure)


def test_editing_an_imported_module_changes_the_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "ckpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "stage.py").write_text("from ckpkg.writer import write\nfrom . import wording\n")
    (pkg / "writer.py").write_text("def write():\n    return 'a'\n")
    (pkg / "wording.py").write_text("TEXT = 'v1'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    packages = ("ckpkg",)
    first = code_closure_hash("ckpkg.stage", packages)
    assert set(code_closure("ckpkg.stage", packages)) == {"ckpkg", "ckpkg.stage", "ckpkg.writer", "ckpkg.wording"}
    for edited, text in (("wording.py", "TEXT = 'v2'\n"), ("writer.py", "def write():\n    return 'b'\n")):
        (pkg / edited).write_text(textwrap.dedent(text))
        code_closure.cache_clear()
        again = code_closure_hash("ckpkg.stage", packages)
        assert again != first
        first = again
    sys.modules.pop("ckpkg", None)


def test_code_versions_keep_the_declared_version() -> None:
    assert code_version_of(GenerateStage).startswith(f"{GenerateStage.version}+")
    assert code_version_of(GenerateStage) != code_version_of(VerifyStage)
