"""keras's `image_dataset_from_directory` arguments: the same checks, order and wording.

Each check raises SimgenError with keras's ValueError text (one CLI line, exit 2) and
normalises the value the way keras does (e.g. an int image_size becomes a square).
"""
from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np

from .errors import SimgenError
from .imaging import COLOR_MODES, DATA_FORMATS, INTERPOLATIONS, parse_image_size
from .index import ALLOWLIST_FORMATS

LABEL_MODES = ("int", "categorical", "binary", None)
SUBSETS = ("training", "validation", "both", None)
MAX_SEED = 2**32 - 1


def read_labels_file(path: str) -> list[int]:
    """--labels-file: one integer label per line (blank lines ignored), in keras file order."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise SimgenError(f"--labels-file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SimgenError(f"--labels-file {path}: {exc}") from None
    labels = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                labels.append(int(line))
            except ValueError:
                raise SimgenError(f"--labels-file {path}: line {number} is not an integer: "
                                  f"{line.strip()!r}") from None
    return labels


def _none_word(value: Any) -> Any:
    """'none' (any case) from the CLI or a TOML preset means Python's None."""
    return None if isinstance(value, str) and value.lower() == "none" else value


def check_labels(labels: Any, class_names: Sequence[str] | None) -> Any:
    """keras check 1: 'inferred', None, or a list/tuple of integer labels."""
    labels = _none_word(labels)
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if labels in ("inferred", None):
        return labels
    if not isinstance(labels, (list, tuple)):
        raise SimgenError(
            "`labels` argument should be a list/tuple of integer labels, of the same size as "
            "the number of image files in the target directory. If you wish to infer the "
            "labels from the subdirectory names in the target directory, pass "
            '`labels="inferred"`. If you wish to get a dataset that only contains images (no '
            f"labels), pass `labels=None`. Received: labels={labels}")
    if class_names:
        raise SimgenError(
            'You can only pass `class_names` if `labels="inferred"`. '
            f"Received: labels={labels}, and class_names={list(class_names)}")
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in labels):
        raise SimgenError(f"`labels` must all be integers. Received: labels={labels}")
    return [int(v) for v in labels]


def check_label_mode(label_mode: Any) -> Any:
    """keras check 2."""
    label_mode = _none_word(label_mode)
    if label_mode not in LABEL_MODES:
        raise SimgenError('`label_mode` argument must be one of "int", "categorical", '
                          f'"binary", or None. Received: label_mode={label_mode}')
    return label_mode


def check_color_mode(color_mode: Any) -> str:
    """keras check 4 (case-sensitive, as keras)."""
    if color_mode not in COLOR_MODES:
        raise SimgenError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                          f"Received: color_mode={color_mode}")
    return color_mode


def check_interpolation(interpolation: Any) -> str:
    """keras check 6: lower-cased, then one of the eight names."""
    value = interpolation.lower() if isinstance(interpolation, str) else interpolation
    if value not in INTERPOLATIONS:
        raise SimgenError(f"Argument `interpolation` should be one of {tuple(INTERPOLATIONS)}. "
                          f"Received: interpolation={value}")
    return value


def check_validation_split(validation_split: Any, subset: Any, shuffle: bool, seed: Any) -> None:
    """keras check 8: `dataset_utils.check_validation_split_arg`, in its order."""
    if validation_split and not 0 < validation_split < 1:
        raise SimgenError(
            f"`validation_split` must be between 0 and 1, received: {validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise SimgenError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in SUBSETS:
        raise SimgenError('`subset` must be either "training", "validation" or "both", '
                          f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise SimgenError(
            "If using `validation_split` and shuffling the data, you must provide a `seed` "
            "argument, to make sure that there is no overlap between the training and "
            "validation subset.")


def check_seed(seed: Any) -> int:
    """keras check 9: None draws np.random.randint(1e6); others must fit numpy's RandomState."""
    if seed is None:
        return int(np.random.randint(1e6))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= seed <= MAX_SEED:
        raise SimgenError(f"Seed must be between 0 and 2**32 - 1. Received: seed={seed}")
    return int(seed)


def check_batch_size(batch_size: Any) -> int | None:
    """A positive int, or None for unbatched (keras does not check; tf.data would fail)."""
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise SimgenError("`batch_size` must be a positive integer or None. "
                          f"Received: batch_size={batch_size}")
    return int(batch_size)


def check_arguments(config) -> None:
    """keras checks 1–9 on a BuildConfig, in keras's order; normalises the values in place."""
    if config.labels_file is not None:
        if _none_word(config.labels) is None:
            raise SimgenError("--labels-file gives explicit labels; it cannot be combined "
                              "with labels=None")
        config.labels = read_labels_file(config.labels_file)
    config.labels = check_labels(config.labels, config.class_names)
    config.label_mode = check_label_mode(config.label_mode)
    if config.labels is None or config.label_mode is None:  # keras's normalisation
        config.labels, config.label_mode = None, None
    config.color_mode = check_color_mode(config.color_mode)
    config.image_size = parse_image_size(config.image_size)
    config.interpolation = check_interpolation(config.interpolation)
    check_validation_split(config.validation_split, config.subset, config.shuffle, config.seed)
    config.seed = check_seed(config.seed)
    config.batch_size = check_batch_size(config.batch_size)


def check_binary(label_mode: str | None, class_names: Sequence[str]) -> None:
    """keras check 11."""
    if label_mode == "binary" and len(class_names) != 2:
        raise SimgenError('When passing `label_mode="binary"`, there must be exactly 2 '
                          f"class_names. Received: class_names={list(class_names)}")


def check_data_format(data_format: Any) -> str:
    """keras check 12: None means channels_last (simgen reads no keras.json)."""
    if data_format is None:
        return "channels_last"
    value = str(data_format).lower()
    if value not in DATA_FORMATS:
        raise SimgenError("The `data_format` argument must be one of "
                          "{'channels_first', 'channels_last'}. "
                          f"Received: data_format={data_format}")
    return value


def check_indexed(config, class_names: Sequence[str]) -> None:
    """keras checks 11–12, which keras runs after indexing the directory."""
    check_binary(config.label_mode, class_names)
    config.data_format = check_data_format(config.data_format)


def check_not_empty(directory: str, sizes: dict[str, int], subset: str | None) -> None:
    """keras check 13: a requested split without images."""
    allowed = f"Allowed formats: {ALLOWLIST_FORMATS}"
    for name, size in sizes.items():
        if size == 0:
            which = f"{'training' if name == 'train' else name} " if subset == "both" else ""
            raise SimgenError(f"No {which}images found in directory {directory}. {allowed}")


def check_crop_pad(crop_to_aspect_ratio: bool, pad_to_aspect_ratio: bool) -> None:
    """keras check 14 (keras raises it when the dataset's map is traced)."""
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise SimgenError(
            "Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set to `True`.")


def labels_digest(labels: Any) -> Any:
    """How `labels` enters the content hash: explicit lists by count and sha256, not inline."""
    if not isinstance(labels, list):
        return labels
    digest = hashlib.sha256(",".join(map(str, labels)).encode()).hexdigest()
    return {"explicit": len(labels), "sha256": digest}


def found_message(num_files: int, num_classes: int, labelled: bool) -> str:
    """keras's index message (no pluralisation, as keras)."""
    if not labelled:
        return f"Found {num_files} files."
    return f"Found {num_files} files belonging to {num_classes} classes."


def using_messages(sizes: dict[str, int], validation_split: float | None) -> list[str]:
    """keras's split messages, only when validation_split is set; training first."""
    if not validation_split:
        return []
    names = {"train": "training", "validation": "validation"}
    return [f"Using {size} files for {names.get(name, name)}." for name, size in sizes.items()]
