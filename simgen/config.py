"""BuildConfig: every option of a build, its validation, TOML presets, and the content hash."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from typing import Any

from .errors import SimgenError
from .keras_args import check_arguments, labels_digest
from .validate import DEFAULT_MAX_PIXELS

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_SHARD_SIZE = 512 * 2**20
LAYOUTS = ("dense", "indexed")  # dense: pixels per tuple; indexed: unique images + indices
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6,
          "mib": 2**20, "g": 10**9, "gb": 10**9, "gib": 2**30}


def parse_size(value: str | int) -> int:
    """'512MiB', '64MB', '1GiB' or a byte count → bytes."""
    if isinstance(value, int):
        size = value
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        if not m or m.group(2).lower() not in _UNITS:
            raise SimgenError(f"--shard-size expects a size like 512MiB or 64MB, got {value!r}")
        size = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if size < 1:
        raise SimgenError(f"--shard-size must be positive, got {value!r}")
    return size



def default_workers() -> int:
    """All the cores this process may use: the default --workers."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class BuildConfig:
    """All options of a build. Fields listed in RUNTIME_FIELDS do not change the output."""

    directory: str = ""
    learning_size: int = 2
    strategy: str = "combination"
    num_tuples: int | None = None
    positives: int = 1
    positive_ratio: float = 0.5
    allow_small_classes: bool = False
    image_size: tuple[int, int] = (256, 256)
    color_mode: str = "rgb"
    interpolation: str = "bilinear"
    class_names: tuple[str, ...] | None = None
    follow_links: bool = False
    shuffle: bool = True
    seed: int | None = None
    validation_split: float | None = None
    subset: str | None = None
    # keras image_dataset_from_directory arguments (see keras_args.py)
    labels: Any = "inferred"
    labels_file: str | None = None
    label_mode: str | None = "int"
    batch_size: int | None = 32
    crop_to_aspect_ratio: bool = False
    pad_to_aspect_ratio: bool = False
    data_format: str | None = None
    antialias: bool = True
    shard_size: int = DEFAULT_SHARD_SIZE
    compression: str | None = None
    exif_transpose: bool = False
    layout: str = "dense"
    jpeg_draft: bool = True
    # tuple spaces, class-disjoint splits, balance, augmentation (issue 4)
    distinct_negative_classes: bool = False
    tuples_per_class: int | None = None
    split_classes: float | None = None
    class_split_file: str | None = None
    group_pattern: str | None = None
    allow_same_group_positives: bool = False
    augment: tuple[str, ...] | None = None
    allow_self: bool = False
    # run-time only: never part of the content hash or the files
    out: str | None = None
    workers: int | None = None
    quiet: bool = False
    overwrite: bool = False
    resume: bool = False
    on_error: str = "fail"  # the files left out are listed in the manifest
    max_pixels: int = DEFAULT_MAX_PIXELS
    extra: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.shard_size = parse_size(self.shard_size)
        if self.class_names is not None:
            self.class_names = tuple(self.class_names)
        if isinstance(self.augment, str):
            self.augment = tuple(a.strip() for a in self.augment.split(",") if a.strip())
        if self.augment is not None:
            self.augment = tuple(self.augment) or None

    def validate(self) -> "BuildConfig":
        """Raise SimgenError for any invalid value (keras's checks first, in keras's order)."""
        check_arguments(self)
        if self.learning_size < 2:
            raise SimgenError(f"--learning-size must be at least 2, got {self.learning_size}")
        if self.learning_size == 2 and self.positives != 1:
            raise SimgenError("--positives applies to k ≥ 3 (a pair has one other element)")
        if self.workers is not None and self.workers < 1:
            raise SimgenError(f"--workers must be at least 1, got {self.workers}")
        self._validate_output()
        if self.num_tuples is not None and self.num_tuples < 1:
            raise SimgenError(f"--num-tuples must be at least 1, got {self.num_tuples}")
        if self.compression not in (None, "gzip", "lzf"):
            raise SimgenError(f"--compression must be gzip or lzf, got {self.compression!r}")
        if self.layout not in LAYOUTS:
            raise SimgenError(f"--layout must be one of {', '.join(LAYOUTS)}, got {self.layout!r}")
        if self.layout == "indexed" and self.augment:
            raise SimgenError("--layout indexed stores each image once and cannot hold "
                              "augmented copies; drop --augment or use --layout dense")
        self._validate_spaces()
        return self

    def _validate_output(self) -> None:
        """--out conflicts that need no indexing: refuse them before any work."""
        if self.resume and self.overwrite:
            raise SimgenError("--resume and --overwrite exclude each other")
        if self.out and self.directory:
            out, src = os.path.realpath(self.out), os.path.realpath(self.directory)
            if os.path.commonpath([out, src]) == src:
                raise SimgenError(f"--out {self.out} is inside DIRECTORY {self.directory}; its "
                                  "shards would become input: choose a folder outside it")

    def _validate_spaces(self) -> None:
        from .augment import check_augment

        if self.split_classes is not None and self.class_split_file:
            raise SimgenError("--split-classes and --class-split-file exclude each other")
        if (self.split_classes is not None or self.class_split_file) and self.validation_split:
            raise SimgenError("--split-classes/--class-split-file (class-disjoint) and "
                              "--validation-split (image-level) exclude each other")
        if self.tuples_per_class is not None and self.num_tuples is not None:
            raise SimgenError("--num-tuples and --tuples-per-class exclude each other")
        if self.tuples_per_class is not None and self.tuples_per_class < 1:
            raise SimgenError(f"--tuples-per-class must be at least 1, got {self.tuples_per_class}")
        check_augment(self.augment)
        if self.allow_self and not self.augment:
            raise SimgenError("--allow-self pairs an image with itself, which teaches nothing "
                              "without augmentation; pass --augment too")

    def content(self) -> dict[str, Any]:
        """The options that decide the output bytes (hashed into config_hash)."""
        out = {}
        for f in fields(self):
            if f.name in RUNTIME_FIELDS:
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        out["labels"] = labels_digest(self.labels)
        out.update(self.extra)
        return out


RUNTIME_FIELDS = frozenset({"directory", "out", "workers", "quiet", "overwrite", "extra",
                            "resume", "on_error", "max_pixels",
                            "labels_file", "batch_size"})  # batch_size: the loaders' default
FIELD_NAMES = frozenset(f.name for f in fields(BuildConfig)) - {"extra"}


def read_config_file(path: str) -> dict[str, Any]:
    """A TOML preset → {field: value}; keys may use dashes; unknown keys are an error."""
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise SimgenError(f"--config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SimgenError(f"--config {path}: {exc}") from None
    values = {key.replace("-", "_"): value for key, value in raw.items()}
    unknown = sorted(set(values) - FIELD_NAMES)
    if unknown:
        raise SimgenError(f"--config {path}: unknown key {unknown[0]!r}")
    return values


def make_config(**options: Any) -> BuildConfig:
    """BuildConfig from keyword options, with a one-line error for an unknown option."""
    unknown = sorted(set(options) - FIELD_NAMES)
    if unknown:
        raise SimgenError(f"unknown option {unknown[0]!r}")
    return BuildConfig(**options)
