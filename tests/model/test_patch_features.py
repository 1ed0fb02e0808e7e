"""Patch-feature bags from a real slide (HDF5) and pseudo-bag masking by k-means."""

from __future__ import annotations

import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest

from model.patch_features import extract_features, tiny_encoder
from model.pseudo_bags import cluster_bag, pseudo_bag_variants, write_cluster_labels


def test_features_of_a_real_slide(shared_data, demo_export, tmp_path):
    slide = shared_data / "slides" / "cmu-1-small-region.svs"
    # Named the way TCGA slides are (patient barcode first), for a patient of the demo export.
    out = tmp_path / "bags" / "TCGA-AA-0000-01Z-00-DX1.h5"
    seen = []
    n = extract_features(slide, out, tiny_encoder(dim=16), patch_size=256, progress=lambda d, t: seen.append((d, t)))
    assert n > 10 and seen[-1] == (n, n)
    with h5py.File(out) as h5:
        feats, coords = np.asarray(h5["features"]), np.asarray(h5["coords"])
        assert feats.shape == (n, 16) and coords.shape == (n, 2)
        assert h5.attrs["patch_size"] == 256 and h5.attrs["encoder"].startswith("tiny-random-cnn")
    assert np.isfinite(feats).all() and feats.std(axis=0).max() > 0  # patches differ
    w, h = 2220, 2967  # the slide's level-0 size
    assert (coords >= 0).all() and (coords[:, 0] + 256 <= w).all() and (coords[:, 1] + 256 <= h).all()
    assert len({tuple(c) for c in coords}) == n
    labels = write_cluster_labels(out, k=3)
    with h5py.File(out) as h5:
        assert np.array_equal(np.asarray(h5["pseudo_bag_labels"]), labels)


def test_pseudo_bag_variants_drop_one_cluster_each():
    rng = np.random.default_rng(0)
    feats = np.concatenate([rng.normal(c * 10, 1, size=(20, 4)) for c in range(3)])
    labels = cluster_bag(feats, k=3)
    assert sorted(np.bincount(labels).tolist()) == [20, 20, 20]
    variants = pseudo_bag_variants(labels, n_variants=4, seed=1)
    assert len({v.dropped_cluster for v in variants[:3]}) == 3
    for v in variants:
        assert len(v.keep) == 40 and not (labels[v.keep] == v.dropped_cluster).any()
    with pytest.raises(ValueError, match="two clusters"):
        pseudo_bag_variants(np.zeros(5, dtype=np.int64), 2)


def test_augment_with_pseudo_bag_masking(shared_data, demo_export, tmp_path):
    from model.trajectory_masking import MaskingConfig, augment_export

    bags = tmp_path / "bags"
    slide = shared_data / "slides" / "cmu-1-small-region.svs"
    extract_features(slide, bags / "TCGA-AA-0001-01Z-00-DX1.h5", tiny_encoder(dim=8), patch_size=512)
    out = tmp_path / "aug"
    augment_export(demo_export, out, MaskingConfig(n_variants=3), features_dir=bags, clusters=3)
    rows = pq.read_table(out / "train.parquet").to_pylist()
    with_bag = [r for r in rows if r["feature_bag"]]
    assert with_bag and {r["patient_id"] for r in with_bag} == {"TCGA-AA-0001"}
    by_parent: dict[str, set[int]] = {}
    for r in with_bag:
        by_parent.setdefault(r["parent_id"], set()).add(r["dropped_cluster"])
    assert all(len(dropped) == 3 for dropped in by_parent.values())  # three variants, three clusters dropped
    assert all(r["dropped_cluster"] is None for r in rows if not r["feature_bag"])
    with h5py.File(bags / "TCGA-AA-0001-01Z-00-DX1.h5") as h5:
        assert len(set(h5["pseudo_bag_labels"][()].tolist())) == 3
