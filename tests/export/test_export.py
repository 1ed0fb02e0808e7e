"""The Hugging Face export: shards, card, views, splits by patient; loaded back with `datasets`."""

from __future__ import annotations

import json
import os

import pyarrow.parquet as pq
import pytest
from PIL import Image as PILImage

from pathkg.export.corpus_export import export_corpus
from pathkg.export.export_validation import validate_export
from pathkg.export.splits import split_for_patient
from schemas import Entity, ImageRef, Provenance, Sample, Verification
from schemas.verification import CheckResult


def make_samples(root, n_patients=12, per_patient=3):
    (root / "images").mkdir(parents=True)
    samples = []
    for p in range(n_patients):
        patient = f"TCGA-AA-{p:04d}"
        img = root / "images" / f"{patient}-thumb.png"
        PILImage.new("RGB", (64, 48), (200, 100 + p, 150)).save(img)
        for q in range(per_patient):
            samples.append(
                Sample(
                    sample_id=f"{patient}-{q}",
                    case_id=patient,
                    patient_id=patient,
                    project="TCGA-BRCA",
                    scale="wsi",
                    images=[
                        ImageRef(path=f"images/{patient}-thumb.png", kind="thumbnail", level=1, width=64, height=48)
                    ],
                    question_type="diagnosis",
                    question=f"What is the diagnosis? ({q})",
                    findings=["Infiltrating glands with nuclear pleomorphism."],
                    diagnosis="Invasive ductal carcinoma",
                    response="<observe>Glands.</observe>\n<think>Gland formation supports carcinoma.</think>\n"
                    "<answer>Invasive ductal carcinoma</answer>",
                    answer="Invasive ductal carcinoma",
                    description_entities=[
                        Entity(
                            kg_id="PKG:gland_formation",
                            name="gland formation",
                            type="Finding",
                            text="glands",
                            start=12,
                            end=18,
                        ),
                        Entity(
                            kg_id="PKG:necrosis",
                            name="necrosis",
                            type="Finding",
                            text="necrosis",
                            start=0,
                            end=8,
                            negated=True,
                        ),
                    ],
                    diagnosis_entities=[
                        Entity(
                            kg_id="ONCOTREE:IDC",
                            name="invasive ductal carcinoma",
                            type="Disease",
                            text="x",
                            start=0,
                            end=1,
                        )
                    ],
                    verification=Verification(
                        status="pass", checks=[CheckResult(name="format", passed=True, score=1.0)]
                    ),
                    provenance=Provenance(
                        report_sha256="f" * 64,
                        kg_version="kg-0123456789abcdef",
                        generator_backend="template",
                        prompt_version="template-v1",
                        run_id="run1",
                        code_version="0.1.0",
                    ),
                )
            )
    return samples


def test_splits_are_deterministic_and_roughly_proportional():
    ids = [f"TCGA-XX-{i:04d}" for i in range(2000)]
    splits = [split_for_patient(i) for i in ids]
    assert splits == [split_for_patient(i) for i in ids]
    assert 0.75 < splits.count("train") / 2000 < 0.85
    with pytest.raises(ValueError, match="sum to 1"):
        split_for_patient("x", (0.5, 0.2, 0.2))


def test_export_loads_with_datasets_offline_and_validates(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    samples = make_samples(tmp_path / "run")
    out = tmp_path / "run" / "export"
    result = export_corpus(
        samples, out, tmp_path / "run", max_shard_bytes=40_000, info={"kg_version": "kg-0123456789abcdef"}
    )
    assert sum(result.counts["default"].values()) == 36 and result.patients == 12
    assert validate_export(out) == []
    # Size-bounded shards, named the Hugging Face way.
    train = sorted(p.name for p in (out / "data").glob("train-*.parquet"))
    assert len(train) > 1 and train[0] == f"train-00000-of-{len(train):05d}.parquet"

    from datasets import load_dataset

    ds = load_dataset(str(out))
    assert set(ds) <= {"train", "validation", "test"}
    assert sum(len(split) for split in ds.values()) == 36
    row = ds["train"][0]
    assert row["images"][0].size == (64, 48)  # decoded as a PIL image
    assert row["provenance"]["kg_version"] == "kg-0123456789abcdef"
    assert row["verification"]["status"] == "pass"
    patients = {s: set(ds[s]["patient_id"]) for s in ds}
    assert all(not (patients[a] & patients[b]) for a in patients for b in patients if a < b)

    rl = load_dataset(str(out), "rl")["train"][0]
    assert rl["gt_entity_ids"] == ["PKG:gland_formation", "ONCOTREE:IDC"]  # the negated finding is not a target
    assert rl["prompt"][0]["content"][0]["type"] == "image"
    sft = load_dataset("parquet", data_dir=str(out / "sft"))["train"][0]
    assert sft["messages"][1]["content"][0]["text"].startswith("<observe>")

    card = (out / "README.md").read_text()
    assert "config_name: sft" in card and "num_examples" in card and "license: other" in card


def test_validation_finds_tampering_and_leaks(tmp_path):
    out = tmp_path / "run" / "export"
    export_corpus(make_samples(tmp_path / "run", n_patients=4, per_patient=2), out, tmp_path / "run")
    shard = next((out / "data").glob("train-*.parquet"))
    table = pq.read_table(shard)
    responses = table.column("response").to_pylist()
    responses[0] = "no chain here"
    pq.write_table(table.set_column(table.schema.get_field_index("response"), "response", [responses]), shard)
    problems = validate_export(out)
    assert any("checksum mismatch" in p for p in problems)
    assert any("fails the observe/think/answer format" in p for p in problems)
    sums = json.loads((out / "checksums.json").read_text())
    os.remove(out / next(k for k in sums if k.startswith("rl/")))
    assert any("listed in checksums.json but missing" in p for p in validate_export(out))


def test_cli_validate_exit_codes(tmp_path):
    import subprocess

    from tests.conftest import REPO_ROOT

    out = tmp_path / "run" / "export"
    export_corpus(make_samples(tmp_path / "run", n_patients=3, per_patient=1), out, tmp_path / "run")
    pathkg = str(REPO_ROOT / ".venv/bin/pathkg")
    ok = subprocess.run([pathkg, "export", "validate", str(out)], capture_output=True, text=True)
    assert ok.returncode == 0 and "valid" in ok.stdout
    (out / "README.md").write_text((out / "README.md").read_text() + "\nedited\n")
    bad = subprocess.run([pathkg, "export", "validate", str(out)], capture_output=True, text=True)
    assert bad.returncode == 1 and "README.md: checksum mismatch" in bad.stdout


def test_rows_built_from_arrow_columns_equal_the_record_views(tmp_path, monkeypatch):
    """The export reshapes Arrow batches; every row equals what the record-level view functions give,
    and samples keep their order within each split, however the batches, pieces and shards fall."""
    import pyarrow as pa

    from pathkg.export import corpus_export
    from pathkg.export.corpus_export import export_batches, sample_batches
    from pathkg.export.views import rl_row, sft_row

    monkeypatch.setattr(corpus_export, "IMAGES_AT_ONCE", 3)  # images held at once: pieces of 3 rows

    samples = make_samples(tmp_path / "run", n_patients=9, per_patient=3)
    # A sample that also names its diagnosis entity among the findings: listed once, findings first.
    samples[0] = samples[0].model_copy(
        update={"description_entities": [*samples[0].description_entities, *samples[0].diagnosis_entities]}
    )
    out = tmp_path / "run" / "export"
    export_batches(sample_batches(samples, size=5), out, tmp_path / "run", max_shard_bytes=30_000)
    root = tmp_path / "run"
    expected: dict[str, dict[str, list]] = {}
    for s in samples:
        split = split_for_patient(s.patient_id)
        images = [{"bytes": (root / r.path).read_bytes(), "path": r.path.rsplit("/", 1)[-1]} for r in s.images]
        views = expected.setdefault(split, {"sft": [], "rl": [], "default": []})
        views["sft"].append(sft_row(s, images))
        views["rl"].append(rl_row(s, images))
        views["default"].append((s.sample_id, split, [r.model_dump() for r in s.images], images))
    assert expected["train"]["rl"][0]["gt_entity_ids"] == ["PKG:gland_formation", "ONCOTREE:IDC"]
    for split, views in expected.items():
        for name, folder in (("sft", "sft"), ("rl", "rl")):
            shards = sorted((out / folder).glob(f"{split}-*.parquet"))
            assert pa.concat_tables([pq.read_table(p) for p in shards]).to_pylist() == views[name], (split, name)
        shards = sorted((out / "data").glob(f"{split}-*.parquet"))
        rows = pa.concat_tables([pq.read_table(p) for p in shards]).to_pylist()
        assert [(r["sample_id"], r["split"], r["image_meta"], r["images"]) for r in rows] == views["default"]
    assert len(sorted((out / "data").glob("train-*.parquet"))) > 1
