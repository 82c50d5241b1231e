"""TensorFlow / Keras 3 glue (`pip install simgen[tf]`): tf.data and PyDataset readers.

    ds = simgen.tf.dataset("ds/", split="train", batch_size=32)     # a tf.data.Dataset
    seq = simgen.tf.TuplePyDataset("ds/", split="train", batch_size=32)  # a keras PyDataset
    model.fit(ds, epochs=3)     # x = (image_0, …, image_{k-1}), each (B, H, W, C) uint8

Both yield `(x, y)` with the k images as k model inputs and y = labels (B, k-1) uint8;
`inputs="stacked"` gives x as one (B, k, H, W, C) array instead.
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .errors import SimgenError
from .loaders.numpy import TupleSplit, load

__all__ = ["TuplePyDataset", "dataset", "output_signature"]

INPUTS = ("split", "stacked")


def _split(path: str, split: str) -> TupleSplit:
    splits = load(path)
    if split not in splits:
        raise SimgenError(f"no split {split!r} in {path}; have {sorted(splits)}")
    return splits[split]


def _check_inputs(inputs: str) -> None:
    if inputs not in INPUTS:
        raise SimgenError(f"inputs must be one of {list(INPUTS)}, received: {inputs!r}")


def as_model_inputs(images: np.ndarray, labels: np.ndarray, inputs: str = "split"):
    """(images (B,k,…), labels) → ((image_0, …, image_{k-1}), labels), or stacked as is."""
    if inputs == "stacked":
        return images, labels
    return tuple(images[:, j] for j in range(images.shape[1])), labels


def output_signature(split: TupleSplit, batch_size: int | None = None, inputs: str = "split"):
    """The fixed (x, y) TensorSpec structure of `dataset(...)`, shapes read from the shards."""
    _check_inputs(inputs)
    element = split.element_shape
    k = split.k or split.get(0, ("classes",))[0].shape[0]
    if inputs == "stacked":
        x = tf.TensorSpec((batch_size, k) + element, tf.uint8, name="images")
    else:
        x = tuple(tf.TensorSpec((batch_size,) + element, tf.uint8, name=f"image_{j}")
                  for j in range(k))
    return x, tf.TensorSpec((batch_size, k - 1), tf.uint8, name="labels")


def dataset(path: str, split: str = "train", batch_size: int | None = None, shuffle: bool = False,
            seed: int | None = None, drop_remainder: bool = False, inputs: str = "split",
            prefetch: bool = True) -> tf.data.Dataset:
    """A split as a batched `tf.data.Dataset` of (x, y), ready for `model.fit`.

    Built with `from_generator` and a fixed `output_signature` (the batch axis is fixed too
    when `drop_remainder`). `shuffle` reshuffles every epoch; `seed` makes epoch e's order
    depend only on (seed, e).
    """
    reader = _split(path, split)
    batch_size = batch_size or reader.batch_size
    signature = output_signature(reader, batch_size if drop_remainder else None, inputs)
    epochs = iter(range(1 << 62))

    def batches():
        epoch_seed = None if seed is None else [seed, next(epochs)]
        for images, labels in reader.batches(batch_size, shuffle, epoch_seed, drop_remainder):
            yield as_model_inputs(images, labels, inputs)

    ds = tf.data.Dataset.from_generator(batches, output_signature=signature)
    ds = ds.apply(tf.data.experimental.assert_cardinality(
        reader.num_batches(batch_size, drop_remainder)))
    return ds.prefetch(tf.data.AUTOTUNE) if prefetch else ds


class TuplePyDataset(keras.utils.PyDataset):
    """A split as a Keras 3 `PyDataset`: item i is batch i as (x, y) numpy arrays.

    Picklable with no open files, so `workers=2, use_multiprocessing=True` works; shuffled
    batches are re-drawn after every epoch when `shuffle` (from `seed` and the epoch).
    """

    def __init__(self, path: str, split: str = "train", batch_size: int | None = None,
                 shuffle: bool = False, seed: int | None = None, inputs: str = "split",
                 **kwargs):
        super().__init__(**kwargs)
        _check_inputs(inputs)
        self.reader = _split(path, split).with_fields("images", "labels")
        self.batch_size = batch_size or self.reader.batch_size
        self.shuffle, self.seed, self.inputs = shuffle, seed, inputs
        self.epoch = 0
        self._order = self._draw_order()

    def _draw_order(self) -> np.ndarray | None:
        if not self.shuffle:
            return None
        seed = None if self.seed is None else [self.seed, self.epoch]
        return np.random.default_rng(seed).permutation(len(self.reader))

    def __len__(self) -> int:
        return self.reader.num_batches(self.batch_size)

    def __getitem__(self, i: int):
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} out of range for {len(self)} batches")
        start, stop = i * self.batch_size, min(len(self.reader), (i + 1) * self.batch_size)
        if self._order is None:
            images, labels = self.reader.read(start, stop)
        else:
            images, labels = self.reader.take(self._order[start:stop])
        return as_model_inputs(images, labels, self.inputs)

    def on_epoch_end(self) -> None:
        self.epoch += 1
        self._order = self._draw_order()
