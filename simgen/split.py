"""SourceIndex → named splits. Image-level splits follow keras exactly; no image is in two splits."""
from __future__ import annotations

import numpy as np

from .index import SourceIndex

TRAIN, VALIDATION = "train", "validation"


def keras_shuffle(index: SourceIndex, seed: int) -> SourceIndex:
    """Permute files as keras does: numpy legacy RandomState(seed).permutation."""
    perm = np.random.RandomState(seed).permutation(len(index))
    return index.subset(perm)


def validation_count(n: int, validation_split: float) -> int:
    """keras: int(validation_split * n), truncation (not rounding)."""
    return int(validation_split * n)


def split_index(
    index: SourceIndex,
    validation_split: float | None,
    subset: str | None,
    shuffle: bool,
    seed: int,
    groups: np.ndarray | None = None,
) -> dict[str, SourceIndex]:
    """Return {split name: index}, in keras order; the validation set is the permuted tail.

    With `groups` (per source id), whole groups go to the side their first file falls on.
    """
    if shuffle:
        index = keras_shuffle(index, seed)
    if not validation_split:
        return {TRAIN: index}
    num_val = validation_count(len(index), validation_split)
    num_train = len(index) - num_val
    rows = np.arange(len(index))
    is_val = rows >= num_train
    if groups is not None:
        from .class_split import group_validation_rows

        is_val = group_validation_rows(groups[index.source_ids], num_train)
    parts = {TRAIN: index.subset(rows[~is_val]), VALIDATION: index.subset(rows[is_val])}
    wanted = {"training": [TRAIN], "validation": [VALIDATION], "both": [TRAIN, VALIDATION]}[subset]
    return {name: parts[name] for name in wanted}
