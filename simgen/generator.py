"""`dataset_from_directory`: the paper's standalone generator — tuples streamed, nothing written.

It plans with `job.plan_job` and decodes with `imaging.decode_images`, exactly as
`simgen build` does, so batch i holds the tuples at plan positions [i*B, (i+1)*B): the
same seed gives the same tuples, pixels and labels as the shards a build writes.
"""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import Any, Iterator

import numpy as np

from .augment import shard_augmentation
from .config import make_config
from .errors import SimgenError
from .imaging import decode_images
from .job import Job, SplitPlan, plan_job
from .shards import tuple_labels
from .strategies import DEFAULT_STRATEGY


class TupleBatches:
    """One split's tuples as a sequence of (images (B,k,H,W,C) uint8, labels (B,k-1) uint8).

    `len()` batches, `[i]` random access, iteration from the start each time. When keras is
    already imported the object is also a `keras.utils.PyDataset`, so `model.fit(ds)` works
    for any number of epochs; `as_keras()` forces that.
    """

    def __init__(self, job: Job, split: str, batch_size: int | None):
        self.job = job
        self.split: SplitPlan = job.splits[split]
        self.batch_size = batch_size

    @property
    def num_tuples(self) -> int:
        return self.split.num_tuples

    @property
    def class_names(self) -> list[str]:
        return list(self.job.index.class_names)

    @property
    def file_paths(self) -> list[str]:
        """The split's source files in keras order (keras's `.file_paths`)."""
        return [os.path.join(self.split.index.root, p) for p in self.split.index.paths]

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_tuples
        return -(-self.num_tuples // self.batch_size)

    def tuples(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Images and similarity labels of plan positions [start, stop), decoded (and
        augmented, with --augment) now."""
        rows = self.split.plan.rows(start, stop)
        unique, inverse = np.unique(rows, return_inverse=True)
        index = self.split.index
        pixels = decode_images(index.root, [index.paths[i] for i in unique], self.job.image)
        images = pixels[inverse.reshape(rows.shape)]
        augment, _ = shard_augmentation(self.job.config, self.split.name, start, stop,
                                        rows.shape[1])
        augment(images, 0)  # the same per-position parameters a build draws
        return images, tuple_labels(index.class_ids[rows])

    def __getitem__(self, item: int) -> tuple[np.ndarray, np.ndarray]:
        i = int(item) + (len(self) if int(item) < 0 else 0)
        if not 0 <= i < len(self):
            raise IndexError(f"batch {item} out of range for {len(self)} batches")
        if self.batch_size is None:
            images, labels = self.tuples(i, i + 1)
            return images[0], labels[0]
        start = i * self.batch_size
        return self.tuples(start, min(self.num_tuples, start + self.batch_size))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for i in range(len(self)):
            yield self[i]

    def as_keras(self) -> "TupleBatches":
        """The same batches as a `keras.utils.PyDataset` (imports keras)."""
        if self.batch_size is None:
            raise SimgenError("a Keras dataset needs batches: pass batch_size (not None)")
        return _keras_class()(self.job, self.split.name, self.batch_size)


@lru_cache(maxsize=1)
def _keras_class() -> type:
    """TupleBatches mixed into keras.utils.PyDataset (defined on first use only)."""
    from keras.utils import PyDataset

    class KerasTupleBatches(TupleBatches, PyDataset):
        def __init__(self, job: Job, split: str, batch_size: int | None):
            TupleBatches.__init__(self, job, split, batch_size)
            PyDataset.__init__(self)

    return KerasTupleBatches


def dataset_from_directory(directory: str, learning_size: int = 3,
                           strategy: str = DEFAULT_STRATEGY, batch_size: int | None = 32,
                           verbose: bool = True, **keras_args: Any):
    """Stream k-tuples from class folders, like keras's `image_dataset_from_directory`.

    Takes every keras argument (labels, label_mode, class_names, color_mode, image_size,
    shuffle, seed, validation_split, subset, interpolation, follow_links,
    crop_to_aspect_ratio, pad_to_aspect_ratio, data_format) plus simgen's (num_tuples,
    positives, antialias, …). Returns a TupleBatches, or [train, validation] for
    subset="both" as keras does. Prints keras's "Found …" (if verbose) and "Using …" lines.
    """
    config = make_config(directory=directory, learning_size=learning_size, strategy=strategy,
                         batch_size=batch_size, **keras_args)

    def echo(line: str) -> None:
        if verbose or not line.startswith("Found "):
            print(line)

    job = plan_job(config, echo=echo)
    wrap = _keras_class() if "keras" in sys.modules and config.batch_size else TupleBatches
    parts = [wrap(job, name, config.batch_size) for name in job.splits]
    return parts if config.subset == "both" else parts[0]
