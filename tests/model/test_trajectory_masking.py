"""Trajectory-masked variants: seeded, recorded, target unchanged, never across the split."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from model.data_adapters import load_sft
from model.trajectory_masking import MASK, MaskingConfig, augment_export, make_variant

CHAIN = (
    "<observe>Infiltrating glands are seen. Nuclei are pleomorphic. Mitoses are frequent.</observe>\n"
    "<think>Step 1: gland formation supports carcinoma. Step 2: pleomorphism supports a higher grade.</think>\n"
    "<answer>Invasive ductal carcinoma</answer>"
)


def test_variant_masks_units_and_records_them():
    config = MaskingConfig(observation_ratio=0.5, reasoning_ratio=0.5, entity_ratio=1.0)
    v = make_variant(CHAIN, "s1", 7, config, mentions=["carcinoma"])
    assert v is not None and v.parent_id == "s1" and v.seed == 7
    assert v.masked and MASK in v.hint
    for unit in v.masked:
        assert unit.kind in {"observation", "reasoning", "entity"}
        assert unit.text not in v.hint  # what was masked is not shown
    assert make_variant(CHAIN, "s1", 7, config, ["carcinoma"]) == v  # seeded
    assert "<answer>" not in v.hint  # the answer is never given away
    assert make_variant("no chain", "s1", 7, config) is None


def test_a_variant_always_hides_something():
    v = make_variant(CHAIN, "s1", 0, MaskingConfig(observation_ratio=0.0, reasoning_ratio=0.0, entity_ratio=0.0))
    assert v is not None and len(v.masked) == 1 and v.masked[0].kind == "reasoning"


def test_augment_export_keeps_target_and_split(demo_export, tmp_path):
    counts = augment_export(demo_export, tmp_path / "aug", MaskingConfig(n_variants=3, entity_ratio=1.0))
    parents = load_sft(demo_export)
    assert counts == {"train": 3 * len(parents)}
    table = pq.read_table(tmp_path / "aug" / "train.parquet").to_pylist()
    by_parent = {p["sample_id"]: p for p in parents}
    assert {r["parent_id"] for r in table} == set(by_parent)
    assert len({r["seed"] for r in table}) == len(table)
    for r in table:
        parent = by_parent[r["parent_id"]]
        assert r["patient_id"] == parent["patient_id"]
        assert r["messages"][1]["content"][0]["text"] == parent["messages"][1]["content"][0]["text"]
        assert json.loads(r["masked"])
    # Entity mentions come from the export's default view (asserted entities only).
    assert any(u["kind"] == "entity" for r in table for u in json.loads(r["masked"]))
    again = augment_export(demo_export, tmp_path / "aug2", MaskingConfig(n_variants=3, entity_ratio=1.0))
    assert again == counts
    assert pq.read_table(tmp_path / "aug2" / "train.parquet").to_pylist() == table
    # The augmented folder trains directly.
    aug = load_sft(tmp_path / "aug")
    assert len(aug) == counts["train"] and "[MASK]" in aug[0]["messages"][0]["content"][-1]["text"]
