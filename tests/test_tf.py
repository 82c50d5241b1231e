"""simgen.tf with the real TensorFlow / Keras 3 (CPU): tf.data and PyDataset readers feed a
tiny k-input model through model.fit."""
from __future__ import annotations

import numpy as np
import pytest

import simgen

import keras
import tensorflow as tf

import simgen.tf as stf


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from conftest import build_triplets

    root = tmp_path_factory.mktemp("tf")
    out = build_triplets(root, 70, 8, "8KiB")
    return out


def tiny_model(k=3, shape=(8, 8, 3)):
    """k image inputs → one shared embedding → k-1 similarity scores (sigmoid)."""
    embed = keras.Sequential([keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(4)])
    inputs = [keras.Input(shape, dtype="uint8", name=f"image_{j}") for j in range(k)]
    z = [embed(x) for x in inputs]
    diffs = [keras.layers.Subtract()([z[0], z[j]]) for j in range(1, k)]
    out = keras.layers.Dense(k - 1, activation="sigmoid")(keras.layers.Concatenate()(diffs))
    model = keras.Model(inputs, out)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def test_tf_dataset_signature_and_values(built):
    ds = stf.dataset(built, split="train", batch_size=32)
    x_spec, y_spec = ds.element_spec
    assert len(x_spec) == 3 and all(s.shape.as_list() == [None, 8, 8, 3] for s in x_spec)
    assert all(s.dtype == tf.uint8 for s in x_spec) and y_spec.shape.as_list() == [None, 2]
    assert int(ds.cardinality()) == 3
    batches = list(ds.as_numpy_iterator())
    ref_images, ref_labels = simgen.load(built)["train"][:]
    for j in range(3):
        assert np.array_equal(np.concatenate([x[j] for x, _ in batches]), ref_images[:, j])
    assert np.array_equal(np.concatenate([y for _, y in batches]), ref_labels)
    fixed = stf.dataset(built, batch_size=32, drop_remainder=True, inputs="stacked")
    assert fixed.element_spec[0].shape.as_list() == [32, 3, 8, 8, 3]
    assert int(fixed.cardinality()) == 2
    one, two = (list(stf.dataset(built, batch_size=70, shuffle=True, seed=1).as_numpy_iterator())
                for _ in range(2))
    assert np.array_equal(one[0][1], two[0][1])
    with pytest.raises(simgen.SimgenError, match="inputs must be one of"):
        stf.dataset(built, inputs="columns")


def test_py_dataset_batches(built):
    ref_images, _ = simgen.load(built)["train"][:]
    ordered = stf.TuplePyDataset(built, batch_size=32, inputs="stacked")
    assert np.array_equal(np.concatenate([ordered[i][0] for i in range(3)]), ref_images)
    seq = stf.TuplePyDataset(built, batch_size=32, shuffle=True, seed=0)
    assert isinstance(seq, keras.utils.PyDataset) and len(seq) == 3
    x, y = seq[2]
    assert len(x) == 3 and x[0].shape == (6, 8, 8, 3) and y.shape == (6, 2)
    epoch0 = np.concatenate([seq[i][0][0] for i in range(3)])
    seq.on_epoch_end()
    epoch1 = np.concatenate([seq[i][0][0] for i in range(3)])
    assert not np.array_equal(epoch0, epoch1)  # reshuffled, same tuples
    key = lambda a: sorted(a.reshape(len(a), -1).sum(1).tolist())  # noqa: E731
    assert key(epoch0) == key(epoch1) == key(ref_images[:, 0])
    with pytest.raises(IndexError):
        seq[3]


@pytest.mark.parametrize("reader", ["tf.data", "PyDataset"])
def test_model_fit_one_epoch(built, reader):
    keras.utils.set_random_seed(0)
    model = tiny_model()
    if reader == "tf.data":
        data = stf.dataset(built, batch_size=16, shuffle=True, seed=0)
    else:
        data = stf.TuplePyDataset(built, batch_size=16, shuffle=True, seed=0, workers=2,
                                  use_multiprocessing=True)
    history = model.fit(data, epochs=1, verbose=0, shuffle=False)  # the readers shuffle
    loss = history.history["loss"]
    assert len(loss) == 1 and np.isfinite(loss[0])
    preds = model.predict(data, verbose=0)
    assert preds.shape == (70, 2)
