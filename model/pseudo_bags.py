"""Pseudo-bag masking (the feature side of dual-modality augmentation): k-means over a slide's patch
features; each variant drops one cluster, so the model sees the slide without one kind of tissue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class PseudoBagVariant:
    dropped_cluster: int
    keep: np.ndarray  # indices of the patches kept


def cluster_bag(features: np.ndarray, k: int = 8, seed: int = 0) -> np.ndarray:
    """k-means labels of the patches (k shrinks to the number of patches on tiny bags)."""
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(features)))
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(features).astype(np.int64)


def pseudo_bag_variants(labels: np.ndarray, n_variants: int, seed: int = 0) -> list[PseudoBagVariant]:
    """One dropped cluster per variant, cycling through the clusters in a seeded order."""
    clusters = sorted(set(labels.tolist()))
    if len(clusters) < 2:
        raise ValueError("pseudo-bag masking needs at least two clusters (the bag is too small)")
    order = clusters[:]
    random.Random(seed).shuffle(order)
    variants = []
    for i in range(n_variants):
        dropped = order[i % len(order)]
        variants.append(PseudoBagVariant(dropped, np.flatnonzero(labels != dropped)))
    return variants


def write_cluster_labels(h5_path: Path, k: int = 8, seed: int = 0) -> np.ndarray:
    """Cluster a feature bag and store the labels beside its features (`pseudo_bag_labels`)."""
    import h5py

    with h5py.File(h5_path, "r+") as h5:
        labels = cluster_bag(np.asarray(h5["features"]), k, seed)
        if "pseudo_bag_labels" in h5:
            del h5["pseudo_bag_labels"]
        h5.create_dataset("pseudo_bag_labels", data=labels)
        h5["pseudo_bag_labels"].attrs.update(k=k, seed=seed)
    return labels
