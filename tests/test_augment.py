"""Augmentation: parameters from the seed per element, exact flips, stored in the shards,
and self-pairs only with augmentation (two different views of one image)."""
from __future__ import annotations

import h5py
import numpy as np

import pytest

import simgen
from simgen.errors import SimgenError
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


def read_all(out, m, name):
    return np.concatenate([h5py.File(out / s["file"])[name][:] for s in m["shards"]])


def test_labels_none_gives_self_supervised_tuples(tree, tmp_path):
    src = tree({"a": 3, "b": 3})
    with pytest.raises(SimgenError, match="--allow-self"):
        simgen.build(str(src), str(tmp_path / "x"), labels=None, learning_size=3, seed=1)
    out = tmp_path / "o"
    m = simgen.build(str(src), str(out), labels=None, learning_size=3, augment="flip,color",
                     allow_self=True, num_tuples=20, image_size=8, seed=1, workers=1,
                     quiet=True)
    assert m["splits"]["train"]["space"] == 6 * 5  # anchor · its own copy · 5 negatives
    sources, labels = read_all(out, m, "sources"), read_all(out, m, "labels")
    assert (sources[:, 0] == sources[:, 1]).all() and (sources[:, 2] != sources[:, 0]).all()
    assert (labels == [1, 0]).all()


def test_channels_first_shards_are_augmented_like_channels_last(tree, tmp_path):
    src = tree({"a": 3, "b": 3})
    common = dict(learning_size=2, augment="flip,rotate", allow_self=True, image_size=(6, 9),
                  seed=2, workers=1, quiet=True)
    last = simgen.build(str(src), str(tmp_path / "l"), **common)
    first = simgen.build(str(src), str(tmp_path / "f"), data_format="channels_first", **common)
    a = read_all(tmp_path / "l", last, "images")
    b = read_all(tmp_path / "f", first, "images")
    assert b.shape == (21, 2, 3, 6, 9)
    assert np.array_equal(np.moveaxis(b, 2, -1), a)
