"""simgen.dataset_from_directory streams exactly the tuples `simgen build` writes."""
from __future__ import annotations

import numpy as np
import pytest

import simgen
from simgen.generator import TupleBatches
from simgen.loaders import load


@pytest.mark.parametrize("options", [
    dict(learning_size=3, strategy="combination", num_tuples=37),
    dict(learning_size=2, strategy="random", num_tuples=25, color_mode="grayscale",
         interpolation="lanczos5", antialias=False, pad_to_aspect_ratio=True),
    dict(learning_size=4, strategy="permutation", num_tuples=30, data_format="channels_first",
         interpolation="mitchellcubic", crop_to_aspect_ratio=True),
    dict(learning_size=3, num_tuples=20, augment="flip,rotate,color", labels=None,
         allow_self=True, data_format="channels_first"),
])
def test_same_seed_same_tuples_as_build(tree, tmp_path, options):
    src = tree({"a": 9, "b": 8, "c": 10})
    common = dict(image_size=(10, 7), seed=9, validation_split=0.25, subset="both",
                  allow_small_classes=True, **options)
    simgen.build(str(src), str(tmp_path / "out"), workers=1, quiet=True, **common)
    built = load(str(tmp_path / "out"))
    train, validation = simgen.dataset_from_directory(str(src), batch_size=8, verbose=False,
                                                      **common)
    for streamed, split in ((train, built["train"]), (validation, built["validation"])):
        images = np.concatenate([b[0] for b in streamed])
        labels = np.concatenate([b[1] for b in streamed])
        want_images, want_labels = split[:]
        assert images.dtype == np.uint8 and images.shape == want_images.shape
        assert np.array_equal(images, want_images) and np.array_equal(labels, want_labels)
        assert len(streamed) == -(-len(split) // 8)
    assert set(train.file_paths).isdisjoint(validation.file_paths)


def test_batches_shapes_random_access_and_unbatched(tree, capsys):
    src = tree({"a": 3, "b": 3})
    ds = simgen.dataset_from_directory(str(src), learning_size=3, image_size=6, seed=1,
                                       num_tuples=10, strategy="random", batch_size=4)
    assert capsys.readouterr().out == "Found 6 files belonging to 2 classes.\n"
    assert [b[0].shape for b in ds] == [(4, 3, 6, 6, 3), (4, 3, 6, 6, 3), (2, 3, 6, 6, 3)]
    assert [b[1].shape for b in ds] == [(4, 2), (4, 2), (2, 2)]
    assert np.array_equal(ds[-1][0], ds[2][0])
    with pytest.raises(IndexError):
        ds[3]
    single = TupleBatches(ds.job, "train", None)
    assert len(single) == 10
    image, label = single[9]
    assert image.shape == (3, 6, 6, 3) and label.shape == (2,)
    assert np.array_equal(image, ds[2][0][1]) and ds.class_names == ["a", "b"]


def test_generator_refuses_bad_arguments_like_keras(tree):
    src = tree({"a": 3, "b": 3})
    with pytest.raises(simgen.SimgenError, match="`color_mode` must be one of"):
        simgen.dataset_from_directory(str(src), color_mode="bgr")
