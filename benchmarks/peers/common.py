"""What the peer scripts share: the image list, random tuples as a user draws them, raw output."""
from __future__ import annotations

import os

import h5py
import numpy as np

SLAB = 1024  # tuples per h5py write (peers write in slabs too, so their memory stays fair)


def list_images(root: str) -> tuple[list[str], np.ndarray]:
    """Files of root/<class>/ in sorted order, and their integer class ids."""
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    paths, labels = [], []
    for c, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, name))):
            paths.append(os.path.join(root, name, f))
            labels.append(c)
    return paths, np.array(labels)


def draw_tuples(labels: np.ndarray, k: int, n: int, seed: int) -> np.ndarray:
    """(n, k) image indices: anchor, one positive (same class, not itself), k-2 negatives;
    for k=2 the second element is a positive or a negative with equal odds. Vectorised."""
    rng = np.random.default_rng(seed)
    order = np.argsort(labels, kind="stable")
    counts = np.bincount(labels)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order)) - start[labels[order]]
    anchor = rng.integers(0, len(labels), n)
    c = labels[anchor]
    positive = order[start[c] + (rank[anchor] + rng.integers(1, counts[c])) % counts[c]]
    cols = [anchor, positive]
    for _ in range(k - 2):
        other = (c + rng.integers(1, len(counts), n)) % len(counts)
        cols.append(order[start[other] + rng.integers(0, counts[other])])
    out = np.stack(cols, axis=1)
    if k == 2:
        other = (c + rng.integers(1, len(counts), n)) % len(counts)
        negative = order[start[other] + rng.integers(0, counts[other])]
        out[:, 1] = np.where(rng.random(n) < 0.5, positive, negative)
    return out


def write_h5(out: str, tuples: np.ndarray, labels: np.ndarray, shape: tuple, fill) -> None:
    """images (n, k, *shape) + labels, slab by slab; fill(rows (m, k)) → uint8 (m, k, *shape)."""
    n, k = tuples.shape
    with h5py.File(out, "w") as f:
        images = f.create_dataset("images", (n, k) + tuple(shape), np.uint8)
        for off in range(0, n, SLAB):
            images[off : off + SLAB] = fill(tuples[off : off + SLAB])
        cls = labels[tuples]
        f.create_dataset("labels", data=(cls[:, 1:] == cls[:, :1]).astype(np.uint8))
