"""Augmentation: parameters from the seed per element, exact flips, stored in the shards,
and self-pairs only with augmentation (two different views of one image)."""
from __future__ import annotations

import h5py
import numpy as np

import simgen
from simgen.augment import PARAM_NAMES, augment_images, element_params


def test_parameters_depend_only_on_seed_split_position_and_slot():
    ops = ("flip", "rotate", "crop", "color")
    whole = element_params(ops, 7, "train", 0, 500, 3)
    assert np.array_equal(whole[200:300], element_params(ops, 7, "train", 200, 300, 3))
    assert not np.array_equal(whole, element_params(ops, 8, "train", 0, 500, 3))
    assert not np.array_equal(whole, element_params(ops, 7, "test", 0, 500, 3))
    flip, angle, scale = whole[..., 0], whole[..., 1], whole[..., 2]
    assert set(np.unique(flip).tolist()) == {0.0, 1.0} and 0.4 < flip.mean() < 0.6
    assert np.abs(angle).max() <= 15 and scale.min() >= 0.7 and scale.max() <= 1
    only_flip = element_params(("flip",), 7, "train", 0, 500, 3)
    assert np.array_equal(only_flip[..., 0], flip)
    assert (only_flip[..., 1:] == np.array([0, 1, 0, 0, 1, 1, 1])).all()  # identity


def test_flip_is_exact_and_identity_leaves_pixels_alone():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 2, 9, 7, 3), dtype=np.uint8)
    params = element_params(("flip",), 1, "train", 0, 6, 2)
    out = images.copy()
    augment_images(out, params)
    for i in range(6):
        for j in range(2):
            want = images[i, j, :, ::-1] if params[i, j, 0] else images[i, j]
            assert np.array_equal(out[i, j], want)
    color = element_params(("color",), 1, "train", 0, 6, 2)
    out = images.copy()
    augment_images(out, color)
    assert not np.array_equal(out, images)
    assert np.abs(out.astype(int) - images.astype(int)).mean() < 60


def test_allow_self_builds_two_different_views_and_records_parameters(tree, tmp_path):
    src = tree({"a": 4, "b": 4})
    out = tmp_path / "o"
    m = simgen.build(str(src), str(out), learning_size=2, augment="flip,rotate,crop,color",
                     allow_self=True, image_size=12, seed=5, workers=1, quiet=True,
                     shard_size="4KiB")
    assert m["splits"]["train"]["space"] == 8 * 9 // 2  # C(8, 2) pairs + 8 self-pairs
    assert m["schema"]["augment"]["columns"] == list(PARAM_NAMES)
    assert len(m["shards"]) > 1
    images, sources, params = [], [], []
    for s in m["shards"]:
        with h5py.File(out / s["file"]) as f:
            images.append(f["images"][:])
            sources.append(f["sources"][:])
            params.append(f["augment"][:])
    images, sources, params = map(np.concatenate, (images, sources, params))
    assert np.array_equal(params, element_params(("flip", "rotate", "crop", "color"), 5,
                                                 "train", 0, 36, 2))
    self_rows = np.flatnonzero(sources[:, 0] == sources[:, 1])
    assert len(self_rows) == 8
    for r in self_rows:  # one image, two independently augmented views
        assert not np.array_equal(images[r, 0], images[r, 1])
