"""A real export (real Sample records, real PNG images) and a tiny Qwen2-VL-style model built from its texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from pathkg.export.corpus_export import export_corpus
from tests.export.test_export import make_samples


@pytest.fixture(scope="session")
def demo_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("run")
    export_corpus(make_samples(root, n_patients=8, per_patient=2), root / "export", root)
    return root / "export"


@pytest.fixture(scope="session")
def tiny_vlm(demo_export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from model.data_adapters import load_sft, training_texts
    from model.tiny_vlm import build_tiny_vlm

    texts = training_texts(load_sft(demo_export))
    return build_tiny_vlm(texts, tmp_path_factory.mktemp("tiny") / "init")
